"""The intake service with its channels on real PostgreSQL and RabbitMQ under a unique name, with a tap
on the events exchange, its own channel settings (webhook secrets, limits, SMTP peer, IMAP mailbox),
a recording SMTP peer on loopback for the acknowledgments it sends, and fax pages drawn to be read."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import io
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI
from PIL import Image, ImageDraw, ImageFont
from service_under_test import ServiceUnderTest

from intake.app import service
from intake.channels.settings import ChannelSettings, configure_channels
from kit.clock import ManualClock

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


class IntakeUnderTest(ServiceUnderTest):
    def __init__(self) -> None:
        super().__init__(service)
        self.channels = ChannelSettings()

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
        await self.create_database(scheduler_interval=0.2)
        await self.observe()

    async def teardown(self) -> None:
        configure_channels(self.name, None)
        await self.remove()

    @asynccontextmanager
    async def serve(self, start: datetime = T0) -> AsyncIterator[Served]:
        """The service running with every role, its clock at ``start``."""
        clock = ManualClock(start)
        app = self.app(clock)
        async with self.client(app, timeout=60) as client:
            yield Served(client, clock, app)


@asynccontextmanager
async def running_intake() -> AsyncIterator[IntakeUnderTest]:
    """Intake with its channels set up on its own database and queues, torn down afterwards."""
    under_test = IntakeUnderTest()
    await under_test.setup()
    try:
        yield under_test
    finally:
        await under_test.teardown()


def of_type(event_type: str, **data: Any) -> Callable[[dict[str, Any]], bool]:
    """Matches an event of ``event_type`` whose data has these values."""

    def matches(event: dict[str, Any]) -> bool:
        return event["type"] == event_type and all(event["data"].get(k) == v for k, v in data.items())

    return matches


def fax_page(*lines: str) -> Image.Image:
    """An A4 page at 200 dpi with the lines typed in 40-pixel letters, as a fax machine sends it."""
    page = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=40)
    for number, line in enumerate(lines):
        draw.text((120, 200 + number * 90), line, fill=0, font=font)
    return page.convert("1")


def as_tiff(page: Image.Image) -> bytes:
    """The page as a fax machine's G4-compressed TIFF."""
    buffer = io.BytesIO()
    page.save(buffer, format="TIFF", compression="group4", dpi=(200, 200))
    return buffer.getvalue()


def as_pdf(*pages: Image.Image) -> bytes:
    """The pages as one PDF at 200 dpi."""
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", resolution=200.0, save_all=True, append_images=list(pages[1:]))
    return buffer.getvalue()


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
