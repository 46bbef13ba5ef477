"""The intake service with its channels on real PostgreSQL and RabbitMQ under a unique name, with a tap
on the events exchange, its own channel settings (webhook secrets, limits, SMTP peer, IMAP mailbox),
and a recording SMTP peer on loopback for the acknowledgments it sends."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI
from infra import AMQP_URL, create_database, delete_queues, drop_database, pg_url

from intake.app import service
from intake.channels.settings import ChannelSettings, configure_channels
from kit import migrations
from kit.app import create_app
from kit.auth import mint_token
from kit.clock import ManualClock
from kit.service import ServiceDefinition
from kit.settings import Settings
from messaging.topology import EVENTS_EXCHANGE, ServiceTopology

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday, 09:00
CTI_TOKEN = "cti-token-" + uuid.uuid4().hex
FAX_TOKEN = "fax-token-" + uuid.uuid4().hex
SUPPORT = "support@service.example"
AGENT = ("agent-anna", "agent")
SUPERVISOR = ("super-sam", "supervisor")


@dataclasses.dataclass
class SmtpPeer:
    """An SMTP server on loopback that records what it is sent, or answers RCPT with ``reply``."""

    port: int = 0
    reply: str = "250 OK"
    received: list[tuple[str, list[str], bytes]] = dataclasses.field(default_factory=list)

    async def handle_RCPT(  # the hook name aiosmtpd looks up
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(
            (envelope.mail_from or "", list(envelope.rcpt_tos), envelope.original_content or b"")
        )
        return "250 2.0.0 Queued"


@asynccontextmanager
async def smtp_peer() -> AsyncIterator[SmtpPeer]:
    peer = SmtpPeer()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(peer, hostname="peer.example", loop=loop), "127.0.0.1", 0)
    peer.port = server.sockets[0].getsockname()[1]
    try:
        yield peer
    finally:
        server.close()
        await server.wait_closed()


@dataclasses.dataclass
class Served:
    """A running service: its HTTP client, the clock it reads, and its runtime (scheduler, database)."""

    client: httpx.AsyncClient
    clock: ManualClock
    app: FastAPI

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime


class IntakeUnderTest:
    def __init__(self) -> None:
        self.definition: ServiceDefinition = dataclasses.replace(
            service, name="intake_" + uuid.uuid4().hex[:8]
        )
        self.db_name = ""
        self.settings = Settings(environment="test")
        self.channels = ChannelSettings()
        self.events: aio_pika.abc.AbstractQueue | None = None
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def prefix(self) -> str:
        return self.definition.prefix

    def configure(self, **channel_settings: Any) -> ChannelSettings:
        """Give the service these channel settings (on top of the test defaults) from now on."""
        defaults: dict[str, Any] = {
            "cti_tokens": (CTI_TOKEN,),
            "fax_webhook_tokens": (FAX_TOKEN,),
            "support_addresses": (SUPPORT,),
            "message_id_domain": "service.example",
            "channel_poll_interval": 0.2,
        }
        self.channels = ChannelSettings(**{**defaults, **channel_settings})
        configure_channels(self.name, self.channels)
        return self.channels

    async def setup(self) -> None:
        self.configure()
        self.db_name = await create_database()
        url = pg_url(self.db_name)
        await migrations.upgrade(self.definition.migrations, url)
        self.settings = Settings(
            database_url=url,
            amqp_url=AMQP_URL,
            retry_delays="0.2,0.4",
            relay_poll_interval=0.2,
            scheduler_interval=0.2,
            environment="test",
            max_body_bytes=4 * 1024 * 1024,
        )
        self._connection = await aio_pika.connect_robust(AMQP_URL)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        self.events = await channel.declare_queue(f"{self.name}.test-observer", auto_delete=True)
        await self.events.bind(exchange, routing_key="intake.#")

    async def teardown(self) -> None:
        configure_channels(self.name, None)
        if self._connection is not None:
            await self._connection.close()
        await drop_database(self.db_name)
        topology = ServiceTopology(self.name, (), (0.2, 0.4))
        await delete_queues(
            self.name, [topology.queue, topology.dead_letter_queue, *[q for q, _ in topology.retry_queues()]]
        )

    def app(self, clock: ManualClock, roles: set[str] | None = None) -> FastAPI:
        return create_app(
            self.definition,
            settings=self.settings,
            clock=clock,
            roles=roles or {"api", "consumer", "relay", "scheduler"},
            migrate_on_start=False,
        )

    @asynccontextmanager
    async def client(self, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        async with app.router.lifespan_context(app):
            for _ in range(100):  # the topology is declared once the runtime consumes
                if app.state.runtime.consuming:
                    break
                await asyncio.sleep(0.1)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake", timeout=60) as client:
                yield client

    @asynccontextmanager
    async def serve(self, start: datetime = T0) -> AsyncIterator[Served]:
        """The service running with every role, its clock at ``start``."""
        clock = ManualClock(start)
        app = self.app(clock)
        async with self.client(app) as client:
            yield Served(client, clock, app)

    def auth(self, subject: str, *roles: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.settings, subject=subject, roles=list(roles))}

    async def next_event(
        self, matches: Callable[[dict[str, Any]], bool], *, within: float = 15.0
    ) -> dict[str, Any]:
        """The first event seen on the exchange that ``matches`` (others are consumed and dropped)."""
        assert self.events is not None
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            message = await self.events.get(fail=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            event: dict[str, Any] = json.loads(message.body)
            if matches(event):
                return event
        raise AssertionError("no matching event arrived")


def of_type(event_type: str, **data: Any) -> Callable[[dict[str, Any]], bool]:
    """Matches an event of ``event_type`` whose data has these values."""

    def matches(event: dict[str, Any]) -> bool:
        return event["type"] == event_type and all(event["data"].get(k) == v for k, v in data.items())

    return matches


async def eventually(
    probe: Callable[[], Any], *, until: Callable[[Any], Any], within: float = 20.0, what: str = "a result"
) -> Any:
    """Call ``probe`` (sync or async) until ``until(result)`` is true; the result."""
    deadline = asyncio.get_running_loop().time() + within
    result: Any = None
    while asyncio.get_running_loop().time() < deadline:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
        if until(result):
            return result
        await asyncio.sleep(0.1)
    if isinstance(result, httpx.Response):
        result = result.text
    raise AssertionError(f"timed out waiting for {what}; last: {result!r}")
