"""The intake service on real PostgreSQL and RabbitMQ under a unique name, with a tap on the events
exchange and an injectable clock; it can be stopped and started again on the same database."""

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
from fastapi import FastAPI
from infra import AMQP_URL, create_database, delete_queues, drop_database, pg_url, wait_until
from seen_events import SeenEvents

from contracts.envelope import EventPayload, new_event
from intake.app import service
from kit import migrations
from kit.app import create_app
from kit.auth import mint_token
from kit.clock import ManualClock
from kit.settings import Settings
from messaging.topology import EVENTS_EXCHANGE, ServiceTopology

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday morning
ROLES = {"api", "consumer", "relay", "scheduler"}


class Intake(SeenEvents):
    """A running intake with an HTTP client, the clock it reads, and the events it published."""

    def __init__(self, name: str, settings: Settings, clock: ManualClock) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock
        self.base = f"/{name}/v1"
        self.seen: list[dict[str, Any]] = []
        self.app: FastAPI | None = None
        self.client: httpx.AsyncClient | None = None

    def auth(self, subject: str, *roles: str, dealer_id: str | None = None) -> dict[str, str]:
        token = mint_token(self.settings, subject=subject, roles=list(roles), dealer_id=dealer_id)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, who: dict[str, str], *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        assert self.client is not None, "the service is not running"
        return await self.client.request(method, self.base + path, headers={**who, **(headers or {})}, **kw)

    async def publish(self, payload: EventPayload, *, at: datetime | None = None) -> str:
        """Publish an event as another service would; its id."""
        event = new_event(payload, service="tests", time=at or self.clock.now())
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

    async def fire_timers(self) -> int:
        """Run the scheduler once at the clock's now (the background loop may fire them too)."""
        assert self.app is not None
        fired: int = await self.app.state.runtime.scheduler.run_due()
        return fired

    @asynccontextmanager
    async def running(self) -> AsyncIterator[httpx.AsyncClient]:
        """Start the service (API, consumer, relay, scheduler); stopping it keeps the database."""
        definition = dataclasses.replace(service, name=self.name)
        app = create_app(
            definition, settings=self.settings, clock=self.clock, roles=ROLES, migrate_on_start=False
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client,
        ):
            runtime = app.state.runtime

            async def connected() -> bool:
                return bool(runtime.transport.connected and runtime.consuming)

            await wait_until(connected, timeout=30, what="broker connection")
            self.app, self.client = app, client
            try:
                yield client
            finally:
                self.app, self.client = None, None


@asynccontextmanager
async def intake_service(*, start: bool = True) -> AsyncIterator[Intake]:
    """A fresh database and uniquely named queues (dropped afterwards); running unless ``start`` is False."""
    name = "intake_" + uuid.uuid4().hex[:8]
    topology = ServiceTopology(name, (), (0.2, 0.4))
    queues = [topology.queue, topology.dead_letter_queue, *[q for q, _ in topology.retry_queues()]]
    db_name = await create_database()
    url = pg_url(db_name)
    await migrations.upgrade(dataclasses.replace(service, name=name).migrations, url)
    settings = Settings(
        database_url=url,
        amqp_url=AMQP_URL,
        retry_delays="0.2,0.4",
        relay_poll_interval=0.2,
        scheduler_interval=0.2,
        environment="test",
    )
    harness = Intake(name, settings, ManualClock(T0))
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        tap = await channel.declare_queue(exclusive=True, auto_delete=True)
        await tap.bind(exchange, routing_key="intake.#")

        async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                harness.seen.append(json.loads(message.body))

        await tap.consume(collect)
        if start:
            async with harness.running():
                yield harness
        else:
            yield harness
    finally:
        await connection.close()
        await asyncio.sleep(0)
        await drop_database(db_name)
        await delete_queues(name, queues)


AGENT = ("anna", "agent")
OTHER_AGENT = ("ben", "agent")
SUPERVISOR = ("sue", "supervisor")
