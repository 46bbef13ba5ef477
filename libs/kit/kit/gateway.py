"""The embedded mode's single origin: routes ``/<service>/...`` to that service's app in-process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send


class Gateway:
    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.apps = apps

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for app in self.apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope.get("path", "/")
        first = path.strip("/").split("/", 1)[0]
        app = self.apps.get(first)
        if app is not None:
            await app(scope, receive, send)
            return
        if path in ("/", "/healthz"):
            body = {"status": "ok", "services": {n: f"/{n}/v1/docs" for n in self.apps}}
            await _json(send, 200, body)
            return
        await _json(
            send,
            404,
            {
                "type": "urn:aftersales:problem:not-found",
                "title": "Not found",
                "status": 404,
                "detail": f"No service serves {path}.",
            },
            content_type=b"application/problem+json",
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        stack = AsyncExitStack()
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await stack.enter_async_context(self.lifespan())
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _json(send: Send, status: int, body: object, content_type: bytes = b"application/json") -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
