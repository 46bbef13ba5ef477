"""The intake service on real PostgreSQL and RabbitMQ under a unique name, with a tap on the events
exchange and an injectable clock; it can be stopped and started again on the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from seen_events import SeenEvents
from service_under_test import ALL_ROLES, ServiceUnderTest, publish_event, tap

from contracts.envelope import EventPayload, new_event
from intake.app import service
from kit.clock import ManualClock

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday morning


class Intake(ServiceUnderTest, SeenEvents):
    """A running intake with an HTTP client, the clock it reads, and the events it published."""

    def __init__(self) -> None:
        super().__init__(service)
        self.clock = ManualClock(T0)
        self.base = self.prefix
        self.seen: list[dict[str, Any]] = []
        self.running_app: FastAPI | None = None
        self.http: httpx.AsyncClient | None = None

    async def call(
        self, method: str, path: str, who: dict[str, str], *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        assert self.http is not None, "the service is not running"
        return await self.http.request(method, self.base + path, headers={**who, **(headers or {})}, **kw)

    async def publish(self, payload: EventPayload, *, at: datetime | None = None) -> str:
        """Publish an event as another service would; its id."""
        return await publish_event(new_event(payload, service="tests", time=at or self.clock.now()))

    async def fire_timers(self) -> int:
        """Run the scheduler once at the clock's now (the background loop may fire them too)."""
        assert self.running_app is not None
        fired: int = await self.running_app.state.runtime.scheduler.run_due()
        return fired

    @asynccontextmanager
    async def running(self) -> AsyncIterator[httpx.AsyncClient]:
        """Start the service (API, consumer, relay, scheduler); stopping it keeps the database."""
        app = self.app(self.clock, ALL_ROLES)
        async with self.client(app) as client:
            self.running_app, self.http = app, client
            try:
                yield client
            finally:
                self.running_app, self.http = None, None


@asynccontextmanager
async def intake_service(*, start: bool = True) -> AsyncIterator[Intake]:
    """A fresh database and uniquely named queues (dropped afterwards); running unless ``start`` is False."""
    harness = Intake()
    try:
        await harness.create_database(scheduler_interval=0.2)
        async with tap("intake.#", harness.seen):
            if start:
                async with harness.running():
                    yield harness
            else:
                yield harness
    finally:
        await harness.remove()


AGENT = ("anna", "agent")
OTHER_AGENT = ("ben", "agent")
SUPERVISOR = ("sue", "supervisor")
