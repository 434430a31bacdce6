"""``/healthz`` (no key), ``/metrics``, ``/v1/me``, ``/v1/report`` and the web UI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from ragtune.errors import NotFoundError
from ragtune.service.answering import default_model
from ragtune.service.auth import admin, caller, runtime
from ragtune.service.deps import Caller, Runtime

router = APIRouter()
STATIC = Path(__file__).resolve().parents[1] / "static"
_TEXT = {"schema": {"type": "string"}}


@router.get("/healthz")
async def healthz(rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    """Liveness; the only data endpoint without a key (it reveals nothing)."""
    return {"status": "ok", "model": default_model(rt.config)}


# The 200 is text (declared here); the route keeps the JSON response class so that its
# declared error responses stay application/json.
@router.get("/metrics", responses={200: {"content": {"text/plain": _TEXT}}})
async def metrics(request: Request, who: Caller = Depends(caller)) -> Response:
    """Prometheus text format (send the key as a bearer token from the scraper)."""
    m = request.app.state.metrics
    return Response(m.render(), media_type=m.content_type)


@router.get("/v1/me")
async def me(who: Caller = Depends(caller), rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    """The key's name, groups and rights, and the served default model."""
    return {"key_id": who.key_id, "name": who.name, "groups": list(who.groups),
            "admin": who.admin, "default_model": default_model(rt.config)}  # fmt: skip


def latest_report(rt: Runtime) -> Path:
    """``serve --report`` if given, else the newest ``*.html`` under ``.ragtune/reports``."""
    if rt.config.report is not None:
        found = [rt.config.report] if rt.config.report.is_file() else []
    else:
        found = sorted(rt.project.paths.reports.rglob("*.html"),
                       key=lambda p: p.stat().st_mtime)  # fmt: skip
    if not found:
        raise NotFoundError("no pilot report yet", "run `ragtune pilot` or `ragtune advise`")
    return found[-1]


@router.get("/v1/report", responses={200: {"content": {"text/html": _TEXT}}})
async def report(who: Caller = Depends(admin), rt: Runtime = Depends(runtime)) -> FileResponse:
    """The latest pilot report (admin: it may quote any document)."""
    return FileResponse(latest_report(rt), media_type="text/html")


@router.get("/", include_in_schema=False)
async def index() -> HTMLResponse:
    """The web UI. Static and holds no data: it asks for a key and calls the API with it."""
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))
