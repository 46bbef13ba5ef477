"""An SMTP server for mail delivered to intake directly (MX records, fax-to-email gateways).

Each accepted message's raw bytes go to an async sink. The server says ``250`` only after the sink
returned, and ``451`` (try again later) when it failed or took too long, so the sending MTA keeps the
message and retries: a message is never acknowledged and then lost. Oversized messages are refused at
the SMTP level with ``552`` before they are held in memory.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from aiosmtpd.smtp import SMTP, Envelope, Session

from kit.clock import Clock, SystemClock

_log = logging.getLogger(__name__)
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20<>\x7f]")


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message as delivered: its raw bytes (with a ``Return-Path`` line added) and its envelope."""

    raw: bytes
    mail_from: str
    recipients: tuple[str, ...]
    received_at: datetime


MessageSink = Callable[[ReceivedMessage], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SmtpReceiverSettings:
    """Listening address and limits. ``accepted_domains`` None accepts every recipient (behind an MTA)."""

    host: str = "127.0.0.1"
    port: int = 2525
    server_name: str | None = None
    max_message_bytes: int = 25 * 1024 * 1024
    max_recipients: int = 50
    accepted_domains: Collection[str] | None = None
    idle_timeout_seconds: float = 60.0
    sink_timeout_seconds: float = 120.0
    tls_context: ssl.SSLContext | None = None
    require_starttls: bool = False


class _DeliveryHandler:
    def __init__(self, sink: MessageSink, settings: SmtpReceiverSettings, clock: Clock) -> None:
        self._sink = sink
        self._settings = settings
        self._clock = clock
        self._domains = (
            None if settings.accepted_domains is None else {d.lower() for d in settings.accepted_domains}
        )

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self._settings.max_recipients:
            return "452 4.5.3 Too many recipients"
        domain = address.rpartition("@")[2].lower()
        if self._domains is not None and domain not in self._domains:
            return "550 5.1.1 Recipient not accepted here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        mail_from = _UNSAFE_IN_PATH.sub("", envelope.mail_from or "")
        message = ReceivedMessage(
            raw=b"Return-Path: <" + mail_from.encode("utf-8", "replace") + b">\r\n" + content,
            mail_from=mail_from,
            recipients=tuple(envelope.rcpt_tos),
            received_at=self._clock.now(),
        )
        try:
            async with asyncio.timeout(self._settings.sink_timeout_seconds):
                await self._sink(message)
        except Exception as exc:
            _log.warning(
                "inbound message of %d bytes not stored (%s); sender told to retry",
                len(content),
                type(exc).__name__,
            )
            return "451 4.3.0 Message not stored, please try again later"
        return "250 2.0.0 Message accepted"


class SmtpReceiver:
    """Runs the SMTP server in the current event loop; use ``async with`` or ``start``/``stop``.

    With ``port=0`` the operating system picks a free port; read it from :attr:`port` after start.
    """

    def __init__(
        self, sink: MessageSink, settings: SmtpReceiverSettings, *, clock: Clock | None = None
    ) -> None:
        self._handler = _DeliveryHandler(sink, settings, clock or SystemClock())
        self._settings = settings
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the SMTP receiver is not running")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        settings = self._settings
        server_name = settings.server_name or socket.gethostname()

        def protocol() -> SMTP:
            return SMTP(
                self._handler,
                data_size_limit=settings.max_message_bytes,
                enable_SMTPUTF8=True,
                hostname=server_name,
                ident="intake ESMTP",
                tls_context=settings.tls_context,
                require_starttls=settings.require_starttls,
                timeout=settings.idle_timeout_seconds,
                loop=loop,
            )

        self._server = await loop.create_server(protocol, host=settings.host, port=settings.port)
        _log.info("SMTP receiver listening on %s:%d", settings.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SmtpReceiver:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
