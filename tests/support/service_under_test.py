"""What every service under test shares: a unique name, a fresh database at head, settings for the test
broker, tokens, the app served in-process, and events published to or observed on the events exchange.
The database and the service's queues are removed afterwards."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
import httpx
from fastapi import FastAPI
from infra import AMQP_URL, create_database, delete_queues, drop_database, pg_url, wait_until

from contracts.envelope import CloudEvent
from kit import migrations
from kit.app import create_app
from kit.auth import mint_token
from kit.clock import Clock
from kit.service import ServiceDefinition
from kit.settings import Settings
from messaging.topology import EVENTS_EXCHANGE, ServiceTopology

ALL_ROLES = frozenset({"api", "consumer", "relay", "scheduler"})
RETRY_DELAYS = (0.2, 0.4)


class ServiceUnderTest:
    """``service`` under a unique name (``<service>_<8 hex>``), so its database and queues are its own."""

    keeps_unmatched = False

    def __init__(self, service: ServiceDefinition) -> None:
        self.kind = service.name
        self.definition: ServiceDefinition = dataclasses.replace(
            service, name=f"{service.name}_{uuid.uuid4().hex[:8]}"
        )
        self.db_name = ""
        self.settings = Settings(environment="test")
        self._observed: aio_pika.abc.AbstractQueue | None = None
        self._unmatched: list[dict[str, Any]] = []
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def prefix(self) -> str:
        return self.definition.prefix

    async def create_database(self, **settings: Any) -> None:
        """A fresh database migrated to head; the settings (``settings``: more of them) point at it and
        at the test broker."""
        self.db_name = await create_database()
        url = pg_url(self.db_name)
        await migrations.upgrade(self.definition.migrations, url)
        self.settings = Settings(
            database_url=url,
            amqp_url=AMQP_URL,
            retry_delays=",".join(map(str, RETRY_DELAYS)),
            relay_poll_interval=0.2,
            environment="test",
            **settings,
        )

    async def observe(self) -> None:
        """Keep the service's events in a queue of their own (``<name>.test-observer``) for ``next_event``."""
        self._connection = await aio_pika.connect_robust(AMQP_URL)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        self._observed = await channel.declare_queue(f"{self.name}.test-observer", auto_delete=True)
        await self._observed.bind(exchange, routing_key=f"{self.kind}.#")

    async def remove(self) -> None:
        """Drop the database and delete the service's queues."""
        if self._connection is not None:
            await self._connection.close()
        if self.db_name:
            await drop_database(self.db_name)
        topology = ServiceTopology(self.name, (), RETRY_DELAYS)
        await delete_queues(
            self.name, [topology.queue, topology.dead_letter_queue, *[q for q, _ in topology.retry_queues()]]
        )

    def auth(self, subject: str, *roles: str, dealer_id: str | None = None) -> dict[str, str]:
        token = mint_token(self.settings, subject=subject, roles=list(roles), dealer_id=dealer_id)
        return {"Authorization": "Bearer " + token}

    def app(self, clock: Clock | None, roles: set[str] | frozenset[str] = ALL_ROLES) -> FastAPI:
        return create_app(
            self.definition, settings=self.settings, clock=clock, roles=set(roles), migrate_on_start=False
        )

    def http_client(self, app: FastAPI, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{self.kind}", **options
        )

    @asynccontextmanager
    async def client(self, app: FastAPI, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
        """``app`` started, consuming, and a client to it (``options``: the client's)."""
        async with app.router.lifespan_context(app):
            await consuming(app)
            async with self.http_client(app, **options) as client:
                yield client

    async def next_event(
        self, matches: Callable[[dict[str, Any]], bool], *, within: float = 15.0
    ) -> dict[str, Any]:
        """The first event observed that ``matches``. Those observed while waiting are kept for a later
        call when ``keeps_unmatched`` (so the order of waiting need not be the order of publishing),
        dropped otherwise."""
        assert self._observed is not None
        for i, seen in enumerate(self._unmatched):
            if matches(seen):
                return self._unmatched.pop(i)
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            message = await self._observed.get(fail=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            event: dict[str, Any] = json.loads(message.body)
            if matches(event):
                return event
            if self.keeps_unmatched:
                self._unmatched.append(event)
        raise AssertionError("no matching event arrived")


async def consuming(app: FastAPI) -> None:
    """Wait until the started ``app`` is connected to the broker and has declared its queues."""
    runtime = app.state.runtime

    async def connected() -> bool:
        return bool(runtime.transport.connected and runtime.consuming)

    await wait_until(connected, timeout=30, what="broker connection")


async def publish(message: aio_pika.Message, routing_key: str) -> None:
    """Publish on the events exchange as another service would."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(message, routing_key=routing_key)


async def publish_event(event: CloudEvent) -> str:
    """Publish ``event`` (persistent) as another service would; its id."""
    message = aio_pika.Message(
        event.to_json(),
        message_id=event.id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
    await publish(message, event.type)
    return event.id


@asynccontextmanager
async def tap(routing_key: str, into: list[dict[str, Any]]) -> AsyncIterator[None]:
    """Every event routed by ``routing_key`` is appended to ``into`` while inside."""
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=routing_key)

        async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                into.append(json.loads(message.body))

        await queue.consume(collect)
        yield
    finally:
        await connection.close()
        await asyncio.sleep(0)
