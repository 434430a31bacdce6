"""The one place where errors become HTTP responses.

Every error body has the OpenAI shape, so OpenAI clients show the message::

    {"error": {"message": "...", "type": "not_found", "code": 404, "hint": "..."}}

:class:`ragtune.errors.RagtuneError` subclasses map by class (:data:`STATUS`); the service's
own failures (auth, limits, timeouts) are :class:`ServiceError` with their status attached.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ragtune import errors

log = logging.getLogger("ragtune.service")

# Most specific first: the first matching class wins.
STATUS: tuple[tuple[type[errors.RagtuneError], int, str], ...] = (
    (errors.NotFoundError, 404, "not_found"),
    (errors.UsageError, 400, "invalid_request"),
    (errors.ConfigError, 400, "invalid_request"),
    (errors.LoadError, 422, "unreadable_document"),
    (errors.ModelUnavailableError, 503, "model_unavailable"),
    (errors.GenerationError, 502, "generation_failed"),
    (errors.RagtuneError, 500, "server_error"),
)
_HTTP_TYPES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "request_too_large", 422: "invalid_request",
               499: "client_closed_request", 504: "timeout"}  # fmt: skip


class ServiceError(HTTPException):
    """A failure of the service itself. An HTTPException, so FastAPI passes it through
    unchanged even when raised while it reads the request body."""

    def __init__(self, status: int, message: str, hint: str | None = None) -> None:
        super().__init__(status_code=status, detail=message)
        self.message = message
        self.hint = hint


def unauthorized(message: str = "missing or invalid API key") -> ServiceError:
    return ServiceError(401, message, "send 'Authorization: Bearer rt_...' (ragtune keys create)")


def forbidden(message: str = "this needs an admin key") -> ServiceError:
    return ServiceError(403, message, "ask an admin, or create one: ragtune keys create --admin")


def error_body(
    status: int, message: str, hint: str | None = None, kind: str | None = None, **extra: Any
) -> JSONResponse:
    """The JSON error response (OpenAI shape) for ``status``."""
    body: dict[str, Any] = {"message": message, "type": kind or _HTTP_TYPES.get(status, "error"),
                            "code": status, **extra}  # fmt: skip
    if hint:
        body["hint"] = hint
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def status_of(exc: errors.RagtuneError) -> tuple[int, str]:
    for cls, status, kind in STATUS:
        if isinstance(exc, cls):
            return status, kind
    return 500, "server_error"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    async def ragtune_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, errors.RagtuneError):  # never assert in an error handler
            return await unexpected(request, exc)
        status, kind = status_of(exc)
        if status >= 500:
            log.error("%s: %s", type(exc).__name__, exc)
        return error_body(status, exc.message, exc.hint, kind)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        # Starlette raises its own HTTPException (FastAPI's is a subclass) for an unknown
        # route or method: both are answered here, never asserted on.
        status = int(getattr(exc, "status_code", 500))
        hint = exc.hint if isinstance(exc, ServiceError) else None
        detail = str(getattr(exc, "detail", "") or _HTTP_TYPES.get(status, "error"))
        return error_body(status, detail, hint)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, RequestValidationError):
            return await unexpected(request, exc)
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
        message = f"{'.'.join(first['loc'])}: {first['msg']}"
        return error_body(422, message, details=problems)

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_body(500, f"internal error: {type(exc).__name__}", "see the server log")

    app.add_exception_handler(errors.RagtuneError, ragtune_error)
    app.add_exception_handler(HTTPException, http_error)
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
