"""A reply finds its ticket by In-Reply-To, then References, then the ticket number in the subject."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from intake.channels.email import (
    InboundEmail,
    find_thread,
    parse_email,
    tag_subject,
    ticket_numbers_in_subject,
)

KNOWN_MESSAGES = {"<ack-1@service.example>": "ticket-1", "<first@example.com>": "ticket-2"}
KNOWN_NUMBERS = {"T-2026-000123": "ticket-123"}


async def by_message_id(ids: Sequence[str]) -> Mapping[str, str]:
    return {message_id: KNOWN_MESSAGES[message_id] for message_id in ids if message_id in KNOWN_MESSAGES}


async def by_number(number: str) -> str | None:
    return KNOWN_NUMBERS.get(number)


def mail(headers: bytes) -> InboundEmail:
    outcome = parse_email(
        b"From: a@example.com\r\nMessage-ID: <new@example.com>\r\n" + headers + b"\r\nx\r\n"
    )
    assert isinstance(outcome, InboundEmail)
    return outcome


async def test_in_reply_to_a_known_message_threads_into_its_ticket() -> None:
    email = mail(
        b"Subject: Re: x\r\nIn-Reply-To: <ack-1@service.example>\r\nReferences: <first@example.com>\r\n"
    )
    match = await find_thread(email, tickets_by_message_id=by_message_id, ticket_by_number=by_number)
    assert match is not None
    assert (match.ticket, match.by, match.key) == ("ticket-1", "in-reply-to", "<ack-1@service.example>")


async def test_the_newest_known_reference_wins_when_in_reply_to_is_unknown() -> None:
    email = mail(
        b"Subject: Re: x\r\nIn-Reply-To: <unknown@example.com>\r\n"
        b"References: <first@example.com> <ack-1@service.example> <unknown@example.com>\r\n"
    )
    match = await find_thread(email, tickets_by_message_id=by_message_id, ticket_by_number=by_number)
    assert match is not None
    assert (match.ticket, match.by) == ("ticket-1", "references")


async def test_the_ticket_number_in_the_subject_threads_a_message_without_references() -> None:
    email = mail(b"Subject: AW: [#T-2026-000123] Oven still broken\r\n")
    match = await find_thread(email, tickets_by_message_id=by_message_id, ticket_by_number=by_number)
    assert match is not None
    assert (match.ticket, match.by, match.key) == ("ticket-123", "subject", "T-2026-000123")


async def test_an_unknown_ticket_number_and_unknown_references_mean_a_new_request() -> None:
    email = mail(b"Subject: [#T-2026-999999] x\r\nIn-Reply-To: <elsewhere@example.com>\r\n")
    assert await find_thread(email, tickets_by_message_id=by_message_id, ticket_by_number=by_number) is None


async def test_the_lookup_is_asked_once_for_all_referenced_ids() -> None:
    asked: list[Sequence[str]] = []

    async def recording(ids: Sequence[str]) -> Mapping[str, str]:
        asked.append(list(ids))
        return {}

    email = mail(b"Subject: x\r\nIn-Reply-To: <c@x>\r\nReferences: <a@x> <b@x> <c@x>\r\n")
    await find_thread(email, tickets_by_message_id=recording, ticket_by_number=by_number)
    assert asked == [["<c@x>", "<b@x>", "<a@x>"]]


def test_the_subject_pattern_is_configurable() -> None:
    pattern = re.compile(r"\[Case (\d{6})\]")
    assert ticket_numbers_in_subject("Re: [Case 004711] Fridge [Case 004711]", pattern) == ("004711",)
    assert ticket_numbers_in_subject("Re: [#T-2026-000001] and [#T-2026-000002]") == (
        "T-2026-000001",
        "T-2026-000002",
    )


def test_our_subject_carries_the_tag_once_and_re_once() -> None:
    assert tag_subject("Oven broken", "T-2026-000123") == "[#T-2026-000123] Re: Oven broken"
    assert (
        tag_subject("Re: [#T-2026-000123] Oven broken", "T-2026-000123") == "[#T-2026-000123] Re: Oven broken"
    )
    assert tag_subject("", "T-2026-000123") == "[#T-2026-000123]"
