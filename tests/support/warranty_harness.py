"""The warranty service on real PostgreSQL and RabbitMQ, under a unique name so its queues are its own."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
from infra import AMQP_URL, create_database, delete_queues, drop_database, pg_url, wait_until
from seen_events import SeenEvents
from sqlalchemy import select

from contracts.envelope import EventPayload, new_event
from kit import migrations, scheduler
from kit.app import create_app
from kit.auth import mint_token
from kit.clock import Clock
from kit.service import ServiceDefinition
from kit.settings import Settings
from messaging.topology import EVENTS_EXCHANGE, ServiceTopology
from warranty.app import service

ROLES = {"api", "consumer", "relay", "scheduler"}


class Warranty(SeenEvents):
    """A running warranty service with an HTTP client per caller and a tap on the events exchange.

    ``restart()`` stops the service and starts it again on the same database and queues (with the
    same clock), as a redeploy would."""

    def __init__(
        self, name: str, settings: Settings, definition: ServiceDefinition, clock: Clock | None
    ) -> None:
        self.name = name
        self.settings = settings
        self.definition = definition
        self.clock = clock
        self.base = f"/{name}/v1"
        self.seen: list[dict[str, Any]] = []
        self.client: httpx.AsyncClient
        self.app: Any = None
        self._stopping = asyncio.Event()
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        app = create_app(
            self.definition, settings=self.settings, clock=self.clock, roles=ROLES, migrate_on_start=False
        )
        started, stopping = asyncio.Event(), asyncio.Event()

        async def serve() -> None:  # one task enters and leaves the lifespan, whichever task stops it
            async with app.router.lifespan_context(app):
                started.set()
                await stopping.wait()

        task = asyncio.create_task(serve())
        await asyncio.wait([task, asyncio.ensure_future(started.wait())], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # it failed to start: raise why
        self.app, self._stopping, self._serving = app, stopping, task
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://warranty")

        async def connected() -> bool:
            runtime = app.state.runtime
            return bool(runtime.transport.connected and runtime.consuming)

        await wait_until(connected, timeout=30, what="broker connection")

    async def stop(self) -> None:
        if self._serving is not None:
            await self.client.aclose()
            self._stopping.set()
            await self._serving
            self._serving = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def fire_due_timers(self) -> None:
        """Fire every timer due by the service's clock now, as its scheduler would on its next look,
        and wait for any its own scheduler loop is firing at the same moment."""
        runtime = self.app.state.runtime
        while True:
            await runtime.scheduler.run_due()
            async with runtime.db.transaction() as uow:
                due = [t for t in await scheduler.pending(uow) if t.due_at <= runtime.clock.now()]
            if not due:
                return
            await asyncio.sleep(0.05)

    def token(self, *roles: str, dealer_id: str | None = None, subject: str = "tester") -> dict[str, str]:
        token = mint_token(self.settings, subject=subject, roles=list(roles), dealer_id=dealer_id)
        return {"Authorization": f"Bearer {token}"}

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
            **self.token(*roles, dealer_id=dealer_id, subject=subject or f"{dealer_id or roles[0]}-user"),
            **kw.pop("headers", {}),
        }
        return await self.client.request(method, self.base + path, headers=headers, **kw)

    async def publish(self, payload: EventPayload) -> str:
        """Publish an event as another service would; returns its id."""
        event = new_event(payload, service="tests", time=datetime.now(UTC))
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
            )
            await exchange.publish(
                aio_pika.Message(
                    event.to_json(),
                    message_id=event.id,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=event.type,
            )
        return event.id

    async def consumed(self, event_id: str, within: float = 20) -> None:
        """Wait until the service handled (and committed) the event ``event_id``."""
        db = self.app.state.runtime.db
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
    name = "warranty_" + uuid.uuid4().hex[:8]
    definition = dataclasses.replace(service, name=name)
    topology = ServiceTopology(name, (), (0.2, 0.4))
    queues = [topology.queue, topology.dead_letter_queue, *[q for q, _ in topology.retry_queues()]]
    db_name = await create_database()
    url = pg_url(db_name)
    await migrations.upgrade(definition.migrations, url)
    settings = Settings(
        database_url=url,
        amqp_url=AMQP_URL,
        retry_delays="0.2,0.4",
        relay_poll_interval=0.2,
        environment="test",
    )
    harness = Warranty(name, settings, definition, clock)
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        tap = await channel.declare_queue(exclusive=True, auto_delete=True)
        await tap.bind(exchange, routing_key="warranty.#")

        async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                harness.seen.append(json.loads(message.body))

        await tap.consume(collect)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()
    finally:
        await connection.close()
        await asyncio.sleep(0)
        await drop_database(db_name)
        await delete_queues(name, queues)
