"""The warranty service on real PostgreSQL and RabbitMQ, under a unique name so its queues are its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from infra import wait_until
from seen_events import SeenEvents
from service_under_test import ALL_ROLES, ServiceUnderTest, consuming, publish_event, tap
from sqlalchemy import select

from contracts.envelope import EventPayload, new_event
from kit import scheduler
from kit.clock import Clock
from warranty.app import service


class Warranty(ServiceUnderTest, SeenEvents):
    """A running warranty service with an HTTP client per caller and a tap on the events exchange.

    ``restart()`` stops the service and starts it again on the same database and queues (with the
    same clock), as a redeploy would."""

    def __init__(self, clock: Clock | None) -> None:
        super().__init__(service)
        self.clock = clock
        self.base = self.prefix
        self.seen: list[dict[str, Any]] = []
        self.http: httpx.AsyncClient
        self.running_app: FastAPI
        self._stopping = asyncio.Event()
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        app = self.app(self.clock, ALL_ROLES)
        started, stopping = asyncio.Event(), asyncio.Event()

        async def serve() -> None:  # one task enters and leaves the lifespan, whichever task stops it
            async with app.router.lifespan_context(app):
                started.set()
                await stopping.wait()

        task = asyncio.create_task(serve())
        await asyncio.wait([task, asyncio.ensure_future(started.wait())], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # it failed to start: raise why
        self.running_app, self._stopping, self._serving = app, stopping, task
        self.http = self.http_client(app)
        await consuming(app)

    async def stop(self) -> None:
        if self._serving is not None:
            await self.http.aclose()
            self._stopping.set()
            await self._serving
            self._serving = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def fire_due_timers(self) -> None:
        """Fire every timer due by the service's clock now, as its scheduler would on its next look,
        and wait for any its own scheduler loop is firing at the same moment."""
        runtime = self.running_app.state.runtime
        while True:
            await runtime.scheduler.run_due()
            async with runtime.db.transaction() as uow:
                due = [t for t in await scheduler.pending(uow) if t.due_at <= runtime.clock.now()]
            if not due:
                return
            await asyncio.sleep(0.05)

    async def call(
        self,
        method: str,
        path: str,
        *roles: str,
        dealer_id: str | None = None,
        subject: str | None = None,
        **kw: Any,
    ) -> httpx.Response:
        headers = {
            **self.auth(subject or f"{dealer_id or roles[0]}-user", *roles, dealer_id=dealer_id),
            **kw.pop("headers", {}),
        }
        return await self.http.request(method, self.base + path, headers=headers, **kw)

    async def publish(self, payload: EventPayload) -> str:
        """Publish an event as another service would; returns its id."""
        return await publish_event(new_event(payload, service="tests", time=datetime.now(UTC)))

    async def consumed(self, event_id: str, within: float = 20) -> None:
        """Wait until the service handled (and committed) the event ``event_id``."""
        db = self.running_app.state.runtime.db
        inbox = db.tables.inbox

        async def handled() -> bool:
            async with db.engine.connect() as conn:
                query = select(inbox.c.event_id).where(inbox.c.event_id == event_id)
                return (await conn.execute(query)).first() is not None

        await wait_until(handled, timeout=within, what=f"event {event_id} consumed")


@asynccontextmanager
async def running_warranty(clock: Clock | None = None) -> AsyncIterator[Warranty]:
    """A fresh database and uniquely named queues; both are dropped afterwards. ``clock`` (e.g. a
    ``ManualClock``) is the service's time; the system clock when None."""
    harness = Warranty(clock)
    try:
        await harness.create_database()
        async with tap("warranty.#", harness.seen):
            await harness.start()
            try:
                yield harness
            finally:
                await harness.stop()
    finally:
        await harness.remove()


async def register_water_heater(warranty: Warranty, serial: str, sold_on: str) -> None:
    """The WH line, the WH-80 model and the WH-STD policy in the catalogue, and unit ``serial`` of that
    model sold on ``sold_on`` registered by dealer D-E2E."""
    line = {"code": "WH", "name": "Water heaters"}
    assert (
        await warranty.call("PUT", "/product-lines/WH", "warranty_reviewer", json=line)
    ).status_code == 200
    model = {"code": "WH-80", "name": "Water heater 80 l", "line_code": "WH", "grade": "B"}
    assert (
        await warranty.call("PUT", "/product-models/WH-80", "warranty_reviewer", json=model)
    ).status_code == 200
    policy = {"policy_id": "WH-STD", "version": 1, "effective_from": "2020-01-01", "line_code": "WH"}
    assert (await warranty.call("POST", "/policies", "admin", json=policy)).status_code == 201
    unit = {"serial": serial, "model_code": "WH-80", "customer_id": "cust-1", "sold_on": sold_on}
    registered = await warranty.call("POST", "/units", "dealer", dealer_id="D-E2E", json=unit)
    assert registered.status_code == 201, registered.text
