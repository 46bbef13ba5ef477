"""The SMTP receiver on loopback, fed by a real SMTP client (aiosmtplib)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiosmtplib
import pytest

from intake.channels.email import (
    InboundEmail,
    ReceivedMessage,
    SmtpReceiver,
    SmtpReceiverSettings,
    classify_email,
    parse_email,
)
from kit.clock import ManualClock

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MESSAGE = (
    b"From: Anna <anna@example.com>\r\nTo: support@service.example\r\nSubject: Oven broken\r\n"
    b"Message-ID: <smtp-1@example.com>\r\n\r\nThe oven does not heat.\r\n"
)


def settings(**overrides: object) -> SmtpReceiverSettings:
    values: dict[str, object] = {"host": "127.0.0.1", "port": 0, "server_name": "mx.service.example"}
    values.update(overrides)
    return SmtpReceiverSettings(**values)  # type: ignore[arg-type]


async def send(
    receiver: SmtpReceiver, message: bytes = MESSAGE, *, to: str = "support@service.example"
) -> tuple[Any, str]:
    """``message`` from anna@example.com to ``to`` through the receiver, as a real SMTP client sends it."""
    return await aiosmtplib.send(
        message,
        sender="anna@example.com",
        recipients=[to],
        hostname="127.0.0.1",
        port=receiver.port,
        timeout=10,
    )


async def test_a_delivered_message_reaches_the_sink_with_its_envelope() -> None:
    received: list[ReceivedMessage] = []

    async def sink(message: ReceivedMessage) -> None:
        received.append(message)

    async with SmtpReceiver(sink, settings(), clock=ManualClock(NOW)) as receiver:
        _, response = await send(receiver)

    assert response.startswith("2.0.0")
    (message,) = received
    assert message.mail_from == "anna@example.com"
    assert message.recipients == ("support@service.example",)
    assert message.received_at == NOW
    assert message.raw.startswith(b"Return-Path: <anna@example.com>\r\n")
    email = parse_email(message.raw)
    assert isinstance(email, InboundEmail)
    assert email.subject == "Oven broken"
    assert email.text == "The oven does not heat."


async def test_when_the_sink_fails_the_sender_is_told_to_retry_so_nothing_is_lost() -> None:
    async def broken_sink(message: ReceivedMessage) -> None:
        raise ConnectionError("database down")

    async with SmtpReceiver(broken_sink, settings()) as receiver:
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await send(receiver)
    assert refused.value.code == 451


async def test_a_message_over_the_size_limit_is_refused_with_552() -> None:
    received: list[ReceivedMessage] = []

    async def sink(message: ReceivedMessage) -> None:
        received.append(message)

    big = MESSAGE + b"x" * 70 * 1000 + b"\r\n"
    async with SmtpReceiver(sink, settings(max_message_bytes=10_000)) as receiver:
        with pytest.raises((aiosmtplib.SMTPDataError, aiosmtplib.SMTPSenderRefused)) as refused:
            await send(receiver, big)
    assert refused.value.code == 552
    assert received == []


async def test_recipients_outside_our_domains_are_refused() -> None:
    async def sink(message: ReceivedMessage) -> None:
        raise AssertionError("nothing should arrive")

    async with SmtpReceiver(sink, settings(accepted_domains={"service.example"})) as receiver:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await send(receiver, to="someone@elsewhere.example")
    assert refused.value.recipients[0].code == 550


async def test_a_bounce_with_a_null_sender_is_never_answered() -> None:
    received: list[ReceivedMessage] = []

    async def sink(message: ReceivedMessage) -> None:
        received.append(message)

    bounce = b"From: someone@example.net\r\nSubject: Your message\r\n\r\nNot delivered.\r\n"
    async with SmtpReceiver(sink, settings()) as receiver:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=receiver.port, timeout=10)
        async with client:
            await client.sendmail("", ["support@service.example"], bounce)

    assert received[0].raw.startswith(b"Return-Path: <>\r\n")
    email = parse_email(received[0].raw)
    assert isinstance(email, InboundEmail)
    assert not classify_email(email).may_auto_respond
