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

from contracts.envelope import EventPayload, new_event
from kit import migrations
from kit.app import create_app
from kit.auth import mint_token
from kit.settings import Settings
from messaging.topology import EVENTS_EXCHANGE, ServiceTopology
from warranty.app import service

ROLES = {"api", "consumer", "relay", "scheduler"}


class Warranty:
    """A running warranty service with an HTTP client per caller and a tap on the events exchange."""

    def __init__(self, name: str, settings: Settings, client: httpx.AsyncClient) -> None:
        self.name = name
        self.settings = settings
        self.client = client
        self.base = f"/{name}/v1"
        self.seen: list[dict[str, Any]] = []

    def token(self, *roles: str, dealer_id: str | None = None, subject: str = "tester") -> dict[str, str]:
        token = mint_token(self.settings, subject=subject, roles=list(roles), dealer_id=dealer_id)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, *roles: str, dealer_id: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = self.token(*roles, dealer_id=dealer_id, subject=f"{dealer_id or roles[0]}-user")
        return await self.client.request(method, self.base + path, headers=headers, **kw)

    async def publish(self, payload: EventPayload) -> None:
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

    async def event(self, event_type: str, within: float = 20, **match: Any) -> dict[str, Any]:
        """The data of the first event of ``event_type`` (from this service) whose fields match."""

        async def found() -> bool:
            return any(self._matches(e, event_type, match) for e in self.seen)

        await wait_until(found, timeout=within, interval=0.1, what=f"{event_type} {match}")
        return next(e["data"] for e in self.seen if self._matches(e, event_type, match))

    def events(self, event_type: str, **match: Any) -> list[dict[str, Any]]:
        return [e["data"] for e in self.seen if self._matches(e, event_type, match)]

    def _matches(self, event: dict[str, Any], event_type: str, match: dict[str, Any]) -> bool:
        return (
            event["type"] == event_type
            and event["source"].endswith("/" + self.name)
            and all(event["data"].get(k) == v for k, v in match.items())
        )


@asynccontextmanager
async def running_warranty() -> AsyncIterator[Warranty]:
    """A fresh database and uniquely named queues; both are dropped afterwards."""
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
    app = create_app(definition, settings=settings, roles=ROLES, migrate_on_start=False)
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        tap = await channel.declare_queue(exclusive=True, auto_delete=True)
        await tap.bind(exchange, routing_key="warranty.#")
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://warranty") as client,
        ):
            harness = Warranty(name, settings, client)

            async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                async with message.process():
                    harness.seen.append(json.loads(message.body))

            await tap.consume(collect)

            async def connected() -> bool:
                runtime = app.state.runtime
                return bool(runtime.transport.connected and runtime.consuming)

            await wait_until(connected, timeout=30, what="broker connection")
            yield harness
    finally:
        await connection.close()
        await asyncio.sleep(0)
        await drop_database(db_name)
        await delete_queues(name, queues)
