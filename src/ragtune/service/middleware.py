"""Edge middleware: the request-body limit and per-request Prometheus metrics.

Pure ASGI (no BaseHTTPMiddleware), so streamed responses pass through untouched. A body
over the limit is refused with 413 from its Content-Length before anything is read, and a
chunked body is counted as it arrives and cut off at the limit.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragtune.service.errors import ServiceError, error_body
from ragtune.service.metrics import Metrics


def too_large(limit: int) -> ServiceError:
    return ServiceError(
        413, f"request body is over the {limit} byte limit", "send a smaller file or request"
    )


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.limit = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            if self._declared_size(scope) > self.limit:
                exc = too_large(self.limit)
                await error_body(413, exc.message, exc.hint)(scope, receive, send_status)
                return
            await self.app(scope, self._counting(receive), send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], path, status[0], time.perf_counter() - started)

    @staticmethod
    def _declared_size(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    def _counting(self, receive: Receive) -> Receive:
        seen = [0]

        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.limit:
                    raise too_large(self.limit)
            return message

        return counted
