"""The acknowledgment threads into the customer's conversation and declares itself automatic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.channels.email import InboundEmail, build_acknowledgment, parse_email

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def original(headers: bytes) -> InboundEmail:
    outcome = parse_email(headers + b"\r\nMy oven is broken.\r\n")
    assert isinstance(outcome, InboundEmail)
    return outcome


def test_acknowledgment_carries_ticket_number_threading_headers_and_auto_submitted() -> None:
    email = original(
        b"From: Anna <anna@example.com>\r\nSubject: Oven broken\r\nMessage-ID: <m2@example.com>\r\n"
        b"References: <m1@example.com>\r\n"
    )
    ack = build_acknowledgment(
        email,
        ticket_number="T-2026-000123",
        from_address="support@service.example",
        from_name="Service",
        message_id_domain="service.example",
        now=NOW,
    )
    assert ack["To"] == "anna@example.com"
    assert ack["From"] == "Service <support@service.example>"
    assert ack["Subject"] == "[#T-2026-000123] Re: Oven broken"
    assert ack["In-Reply-To"] == "<m2@example.com>"
    assert ack["References"] == "<m1@example.com> <m2@example.com>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Auto-Response-Suppress"] == "All"
    assert str(ack["Message-ID"]).endswith("@service.example>")
    assert ack["Date"] == "Mon, 05 Jan 2026 09:30:00 +0000"
    assert "T-2026-000123" in ack.get_content()


def test_each_acknowledgment_has_its_own_message_id() -> None:
    email = original(b"From: anna@example.com\r\nSubject: x\r\nMessage-ID: <m@example.com>\r\n")
    first, second = (
        build_acknowledgment(
            email,
            ticket_number="T-1",
            from_address="s@service.example",
            message_id_domain="service.example",
            now=NOW,
        )
        for _ in range(2)
    )
    assert first["Message-ID"] != second["Message-ID"]


def test_a_subject_with_injected_line_breaks_cannot_add_headers_to_the_acknowledgment() -> None:
    email = original(b"From: anna@example.com\r\nSubject: =?utf-8?q?Hi=0D=0ABcc:_victim@example.org?=\r\n")
    ack = build_acknowledgment(
        email,
        ticket_number="T-1",
        from_address="s@service.example",
        message_id_domain="service.example",
        now=NOW,
    )
    assert ack["Bcc"] is None
    assert b"\r\nBcc:" not in ack.as_bytes()


def test_a_message_without_an_address_to_answer_cannot_be_acknowledged() -> None:
    email = original(b"Subject: x\r\nMessage-ID: <m@example.com>\r\n")
    with pytest.raises(ValueError, match="no From or Reply-To"):
        build_acknowledgment(
            email,
            ticket_number="T-1",
            from_address="s@service.example",
            message_id_domain="service.example",
            now=NOW,
        )
