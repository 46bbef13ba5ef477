"""The vocabulary of tickets: channels, types, priorities, states, numbers and small value objects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from intake.domain.common import utc
from kit.domain import DomainError


class Channel(StrEnum):
    """Where a request came in."""

    PHONE = "phone"
    EMAIL = "email"
    FAX = "fax"
    WEB = "web"
    PARTNER = "partner"
    API = "api"
    SURVEY = "survey"


class TicketType(StrEnum):
    REPAIR = "repair"
    INSTALLATION = "installation"
    CONSULTATION = "consultation"
    COMPLAINT = "complaint"
    RETURN_EXCHANGE = "return_exchange"
    MAINTENANCE = "maintenance"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_PARTS = "waiting_parts"
    WAITING_THIRD_PARTY = "waiting_third_party"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    MERGED = "merged"


WAITING = frozenset(
    {TicketStatus.WAITING_CUSTOMER, TicketStatus.WAITING_PARTS, TicketStatus.WAITING_THIRD_PARTY}
)
OPEN = frozenset({TicketStatus.NEW, TicketStatus.ACKNOWLEDGED, TicketStatus.IN_PROGRESS}) | WAITING
FINISHED = frozenset({TicketStatus.CLOSED, TicketStatus.CANCELLED, TicketStatus.MERGED})


class AckMethod(StrEnum):
    """How the customer learned their request was received."""

    AUTO_EMAIL = "auto_email"
    AUTO_FAX = "auto_fax"
    AGENT_REPLY = "agent_reply"
    PHONE = "phone"
    SMS = "sms"
    PORTAL = "portal"


class Resolution(StrEnum):
    REPAIRED = "repaired"
    REPLACED = "replaced"
    REFUNDED = "refunded"
    INSTALLED = "installed"
    MAINTAINED = "maintained"
    ANSWERED = "answered"
    REMOTE_FIX = "remote_fix"
    COMPLAINT_RESOLVED = "complaint_resolved"
    NO_FAULT_FOUND = "no_fault_found"
    OTHER = "other"


class CloseReason(StrEnum):
    CONFIRMED_BY_CUSTOMER = "confirmed_by_customer"
    NO_REPLY = "no_reply"
    AUTO_AFTER_RESOLUTION = "auto_after_resolution"
    AGENT = "agent"


class CancelReason(StrEnum):
    CUSTOMER_WITHDREW = "customer_withdrew"
    DUPLICATE = "duplicate"
    RAISED_IN_ERROR = "raised_in_error"
    NOT_SERVICEABLE = "not_serviceable"
    OTHER = "other"


class NoteVisibility(StrEnum):
    INTERNAL = "internal"
    CUSTOMER = "customer"


class LinkKind(StrEnum):
    COMPLAINT_ABOUT = "complaint_about"
    HAS_COMPLAINT = "has_complaint"
    MERGED_INTO = "merged_into"
    MERGED_FROM = "merged_from"
    RELATED = "related"


# --- ticket numbers ----------------------------------------------------------------------------

TICKET_NUMBER_PATTERN = re.compile(r"\bT-(\d{4})-(\d{6,})\b")


def format_ticket_number(year: int, sequence: int) -> str:
    """``T-2026-000123``: the year the ticket was opened and a sequence value the store hands out.

    Unique as long as the sequence never repeats within a year; it grows past six digits if needed.
    """
    if not 2000 <= year <= 9999 or sequence < 1:
        raise DomainError(
            "a ticket number needs a four-digit year and a positive sequence", code="bad-number"
        )
    return f"T-{year:04d}-{sequence:06d}"


def find_ticket_numbers(text: str) -> list[str]:
    """Ticket numbers mentioned in ``text`` (an email subject, a fax page), first mention first."""
    seen: dict[str, None] = {}
    for match in TICKET_NUMBER_PATTERN.finditer(text):
        seen.setdefault(match.group(0), None)
    return list(seen)


# --- value objects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRef:
    """The unit a request is about, as far as it is known."""

    model_code: str | None = None
    serial_number: str | None = None
    product_line: str | None = None


@dataclass(frozen=True)
class TimeWindow:
    """A span ``[start, end)`` in UTC, e.g. when the customer is at home."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start, "start"))
        object.__setattr__(self, "end", utc(self.end, "end"))
        if self.end <= self.start:
            raise DomainError("a time window ends after it starts", code="bad-window")


@dataclass(frozen=True)
class AttachmentRef:
    """A stored file (fax image, photo, email) the ticket refers to; the bytes live elsewhere."""

    attachment_id: str
    kind: str = "document"
    filename: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class Note:
    """Something written on the ticket: an internal note, or a reply the customer receives."""

    id: str
    at: datetime
    author_ref: str
    body: str
    visibility: NoteVisibility
    via: Channel | None = None


@dataclass(frozen=True)
class TimelineEntry:
    """One step in the ticket's life, with when and who; ``reference`` makes a replay a no-op."""

    at: datetime
    actor_ref: str
    kind: str
    detail: str = ""
    reference: str | None = None


@dataclass(frozen=True)
class TicketLink:
    ticket_id: str
    kind: LinkKind
