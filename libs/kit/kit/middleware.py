"""One pure-ASGI middleware for every request: correlation id, trace context, body limit, metrics."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import problem_response
from kit.metrics import HTTP_REQUESTS
from messaging import context

CORRELATION_HEADER = b"x-correlation-id"


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        max_body_bytes: int,
        route_body_bytes: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.service = service
        self.max_body = max_body_bytes
        self.route_body = dict(route_body_bytes or {})  # exact paths that take files: their own limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        correlation = headers.get(CORRELATION_HEADER, b"").decode("latin-1")[:200] or None
        traceparent = headers.get(b"traceparent", b"").decode("latin-1")[:200] or None
        started = time.perf_counter()
        status = 500
        limit = self.route_body.get(scope["path"], self.max_body) if self.route_body else self.max_body
        with context.bind(correlation_id=correlation, traceparent=traceparent) as ctx:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _too_large(limit)(scope, receive, send)
                self._observe(scope, 413, started)
                return
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise _TooLarge
                return message

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [
                        *message.get("headers", []),
                        (CORRELATION_HEADER, (ctx.correlation_id or "").encode("latin-1")),
                    ]
                await send(message)

            try:
                await self.app(scope, limited_receive, send_with_id)
            except _TooLarge:
                status = 413
                await _too_large(limit)(scope, receive, send)
            finally:
                self._observe(scope, status, started)

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        route: Any = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        HTTP_REQUESTS.labels(self.service, scope.get("method", "?"), path, str(status)).observe(
            time.perf_counter() - started
        )


class _TooLarge(Exception):
    pass


def _too_large(limit: int) -> ASGIApp:
    return problem_response(
        None, status=413, code="payload-too-large", detail=f"The request body exceeds {limit} bytes."
    )
