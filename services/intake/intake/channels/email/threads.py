"""Which ticket a message answers: by In-Reply-To and References, else by a ticket number in the subject."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from intake.channels.email.model import InboundEmail

T = TypeVar("T")

DEFAULT_TICKET_TAG = re.compile(r"\[#(?P<number>T-\d{4}-\d{6})\]")
"""Matches the tag intake puts in every subject it sends, e.g. ``[#T-2026-000123]``."""

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|vs|antw|r|rif|ynt|odp)\s*(\[\d+\])?\s*:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ThreadMatch(Generic[T]):
    """The ticket found, how (``in-reply-to``, ``references``: strong; ``subject``: weak), and the key."""

    ticket: T
    by: Literal["in-reply-to", "references", "subject"]
    key: str


def ticket_numbers_in_subject(subject: str, pattern: re.Pattern[str] = DEFAULT_TICKET_TAG) -> tuple[str, ...]:
    """Ticket numbers tagged in ``subject``, in order (group ``number`` of ``pattern``, else group 1 or 0)."""
    numbers: list[str] = []
    for match in pattern.finditer(subject):
        groups = match.groupdict()
        if "number" in groups:
            number = groups["number"]
        else:
            number = match.group(1) if pattern.groups else match.group(0)
        if number and number not in numbers:
            numbers.append(number)
    return tuple(numbers)


async def find_thread(
    email: InboundEmail,
    *,
    tickets_by_message_id: Callable[[Sequence[str]], Awaitable[Mapping[str, T]]],
    ticket_by_number: Callable[[str], Awaitable[T | None]],
    subject_pattern: re.Pattern[str] = DEFAULT_TICKET_TAG,
) -> ThreadMatch[T] | None:
    """Find the ticket ``email`` belongs to, or None for a new request.

    ``tickets_by_message_id`` receives every message id the email refers to in one call and returns
    the ones it knows (id -> ticket). In-Reply-To wins, then References from the newest to the oldest,
    then a ticket number in the subject. A subject match is weaker — anyone can type a number — so the
    caller may want the sender to match the ticket's customer before threading by it.
    """
    candidates = [*([email.in_reply_to] if email.in_reply_to else []), *reversed(email.references)]
    candidates = list(dict.fromkeys(candidates))
    if candidates:
        known = await tickets_by_message_id(candidates)
        if email.in_reply_to and email.in_reply_to in known:
            return ThreadMatch(known[email.in_reply_to], "in-reply-to", email.in_reply_to)
        for message_id in reversed(email.references):
            if message_id in known:
                return ThreadMatch(known[message_id], "references", message_id)
    for number in ticket_numbers_in_subject(email.subject, subject_pattern):
        ticket = await ticket_by_number(number)
        if ticket is not None:
            return ThreadMatch(ticket, "subject", number)
    return None


def tag_subject(
    subject: str, ticket_number: str, *, tag_format: str = "[#{number}]", reply: bool = True
) -> str:
    """The subject of our message on a ticket: the tag once, then ``Re:`` (once) and the original subject."""
    tag = tag_format.format(number=ticket_number)
    text = subject.replace(tag, " ").strip()
    text = " ".join(text.split())
    if reply and text and not _REPLY_PREFIX.match(text):
        text = f"Re: {text}"
    return f"{tag} {text}".strip()
