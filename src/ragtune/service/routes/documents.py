"""``/v1/documents``: upload (file or JSON text), list, get, delete."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from ragtune.errors import UsageError
from ragtune.service import documents as docs
from ragtune.service.auth import admin, caller, runtime
from ragtune.service.deps import Caller, Runtime
from ragtune.service.schemas import DocumentText

router = APIRouter()


_FORM = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": ".md .txt .html .pdf"},
        "id": {"type": "string", "description": "e.g. hr/leave.md (default: the file name)"},
        "metadata": {"type": "string", "description": "A JSON object of metadata."},
        "groups": {
            "type": "string",
            "description": "Comma-separated access groups (empty: public; left out: a "
            "replaced document keeps its groups). Front matter groups win.",
        },
        "title": {"type": "string", "description": "Only for .md and .txt documents."},
    },
}
# The body is parsed by hand (two content types), so FastAPI cannot infer it: declared here.
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": _FORM},
            "application/json": {"schema": DocumentText.model_json_schema()},
        },
    }
}


@router.post("/v1/documents", status_code=201, openapi_extra=_UPLOAD_BODY)
async def upload(
    request: Request, who: Caller = Depends(admin), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    """Add or replace a document (admin). Either multipart form data with ``file`` and
    optional ``id``, ``metadata`` (JSON object), ``groups`` (comma-separated), ``title``;
    or JSON ``{"id", "text", "title"?, "metadata"?, "groups"?}``. Indexed before the
    response returns. Groups in the file's front matter win; without them ``groups`` applies
    (empty: public), and when it is left out a replaced document keeps its groups."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        doc_id, data, meta, groups, title = await _from_form(request)
    elif ctype.startswith("application/json"):
        doc = _parse_text(await request.body())
        doc_id, data, meta, groups, title = (
            doc.id, doc.text.encode("utf-8"), dict(doc.metadata), doc.groups, doc.title
        )  # fmt: skip
        if "." not in doc_id.rsplit("/", 1)[-1]:
            doc_id += ".md"
    else:
        raise UsageError(f"unsupported content type {ctype!r}",
                         "send multipart/form-data with a file, or application/json")  # fmt: skip
    docs.safe_doc_id(doc_id)  # refuse before writing anything
    return await rt.run(
        rt.write, lambda: docs.ingest_upload(rt.local(), doc_id, data, meta, groups, title)
    )


def _parse_text(raw: bytes) -> DocumentText:
    try:
        return DocumentText.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


async def _from_form(
    request: Request,
) -> tuple[str, bytes, dict[str, Any], list[str] | None, str | None]:
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise UsageError("multipart upload without a 'file' part")
    doc_id = str(form.get("id") or upload.filename or "")
    try:
        meta = json.loads(str(form.get("metadata") or "{}"))
    except ValueError as exc:
        raise UsageError(f"metadata is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise UsageError("metadata must be a JSON object")
    # No "groups" field: a replaced document keeps its groups; an empty one: public.
    raw_groups = form.get("groups")
    groups = None if raw_groups is None else [g for g in str(raw_groups).split(",") if g.strip()]
    title = str(form.get("title") or "") or None
    return doc_id, await upload.read(), meta, groups, title


@router.get("/v1/documents")
async def list_documents(
    who: Caller = Depends(caller), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    """Documents the key may read (all of them for an admin key), without their text."""
    data = await rt.run(rt.read, lambda: docs.list_visible(rt.local(), who))
    return {"object": "list", "data": data}


@router.get("/v1/documents/{doc_id:path}")
async def get_document(
    doc_id: str, who: Caller = Depends(caller), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    """One document with its text and chunk offsets (404 if the key may not read it)."""
    docs.refuse_traversal(doc_id)
    return await rt.run(rt.read, lambda: docs.get_visible(rt.local(), who, doc_id))


@router.delete("/v1/documents/{doc_id:path}")
async def delete_document(
    doc_id: str, who: Caller = Depends(admin), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    """Remove a document and its chunks (admin)."""
    docs.refuse_traversal(doc_id)
    await rt.run(rt.write, lambda: docs.delete(rt.local(), doc_id))
    return {"id": doc_id, "deleted": True}
