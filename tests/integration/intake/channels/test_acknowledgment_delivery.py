"""The acknowledgment travels over real SMTP to a peer (an aiosmtpd server on a free loopback port)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from intake_channels_harness import SmtpPeer, smtp_peer

from intake.channels.email import (
    InboundEmail,
    MailKind,
    SmtpSettings,
    build_acknowledgment,
    classify_email,
    find_thread,
    parse_email,
    send_acknowledgment,
)

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SUPPORT = "support@service.example"


@pytest.fixture
async def peer() -> AsyncIterator[SmtpPeer]:
    async with smtp_peer() as recording:
        yield recording


def customer_mail() -> InboundEmail:
    email = parse_email(
        b"From: Anna Berg <anna@example.com>\r\nTo: support@service.example\r\nSubject: Oven broken\r\n"
        b"Message-ID: <req-1@example.com>\r\n\r\nThe oven does not heat.\r\n"
    )
    assert isinstance(email, InboundEmail)
    return email


def acknowledgment_of(email: InboundEmail) -> EmailMessage:
    return build_acknowledgment(
        email,
        ticket_number="T-2026-000123",
        from_address=SUPPORT,
        from_name="Service",
        message_id_domain="service.example",
        now=NOW,
    )


def smtp_to(port: int) -> SmtpSettings:
    return SmtpSettings(hostname="127.0.0.1", port=port, security="none", timeout_seconds=5)


async def test_the_acknowledgment_is_delivered_and_threads_back_to_its_ticket(peer: SmtpPeer) -> None:
    ack = acknowledgment_of(customer_mail())

    result = await send_acknowledgment(ack, smtp_to(peer.port))

    assert result.delivered, result
    (mail_from, recipients, raw) = peer.received[0]
    assert (mail_from, recipients) == (SUPPORT, ["anna@example.com"])
    delivered = parse_email(raw)
    assert isinstance(delivered, InboundEmail)
    assert delivered.message_id == result.message_id
    assert delivered.subject == "[#T-2026-000123] Re: Oven broken"
    assert delivered.in_reply_to == "<req-1@example.com>"
    assert delivered.header("Auto-Submitted") == "auto-replied"

    async def known(ids: object) -> dict[str, str]:
        return {result.message_id: "ticket-123"}

    async def no_number(number: str) -> None:
        return None

    # the customer's reply to the acknowledgment finds the ticket by our Message-ID
    reply = parse_email(
        b"From: anna@example.com\r\nSubject: Re: " + delivered.subject.encode() + b"\r\n"
        b"In-Reply-To: " + result.message_id.encode() + b"\r\n\r\nStill cold.\r\n"
    )
    assert isinstance(reply, InboundEmail)
    match = await find_thread(reply, tickets_by_message_id=known, ticket_by_number=no_number)
    assert match is not None
    assert match.ticket == "ticket-123"


async def test_our_own_acknowledgment_coming_back_is_never_answered(peer: SmtpPeer) -> None:
    result = await send_acknowledgment(acknowledgment_of(customer_mail()), smtp_to(peer.port))
    assert result.delivered
    bounced_back = parse_email(peer.received[0][2])
    assert isinstance(bounced_back, InboundEmail)
    classification = classify_email(bounced_back, own_addresses=[SUPPORT])
    assert classification.kind is MailKind.LOOP
    assert not classification.may_auto_respond
    assert classify_email(bounced_back).kind is MailKind.AUTO_REPLY


async def test_a_null_envelope_sender_can_be_configured(peer: SmtpPeer) -> None:
    settings = SmtpSettings(hostname="127.0.0.1", port=peer.port, security="none", envelope_sender="")
    result = await send_acknowledgment(acknowledgment_of(customer_mail()), settings)
    assert result.delivered
    assert peer.received[0][0] == "<>"  # how aiosmtpd reports MAIL FROM:<>


async def test_a_refused_recipient_is_a_permanent_failure(peer: SmtpPeer) -> None:
    peer.reply = "550 5.1.1 No such user"
    result = await send_acknowledgment(acknowledgment_of(customer_mail()), smtp_to(peer.port))
    assert not result.delivered
    assert result.permanent
    assert peer.received == []


async def test_an_unreachable_server_is_a_temporary_failure_to_retry() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = await send_acknowledgment(acknowledgment_of(customer_mail()), smtp_to(closed_port))
    assert not result.delivered
    assert not result.permanent
