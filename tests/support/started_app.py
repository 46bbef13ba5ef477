"""An app run in the test's own process: its lifespan started and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def started(
    app: FastAPI, *, token: str | None = None, base_url: str = "http://embedded"
) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` with its lifespan running, and a client to it sending ``token`` as its bearer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url, headers=headers
        ) as client:
            yield client
