"""What a ticket raises when it changes; the store drains them, the event mapper turns them into contracts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intake.domain.common import Actor, DomainEvent
from intake.domain.ticket_values import (
    AckMethod,
    CancelReason,
    CloseReason,
    LinkKind,
    Resolution,
    TicketStatus,
)


@dataclass(frozen=True, kw_only=True)
class TicketEvent(DomainEvent):
    ticket_id: str
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class TicketOpened(TicketEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class TicketAcknowledged(TicketEvent):
    method: AckMethod


@dataclass(frozen=True, kw_only=True)
class TicketFirstResponse(TicketEvent):
    """A person answered the customer for the first time (a reply, or the agent on the phone)."""


@dataclass(frozen=True, kw_only=True)
class TicketStatusChanged(TicketEvent):
    action: str
    from_status: TicketStatus
    to_status: TicketStatus


@dataclass(frozen=True, kw_only=True)
class TicketResolved(TicketStatusChanged):
    resolution: Resolution
    summary: str | None = None
    work_order_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class TicketClosed(TicketStatusChanged):
    reason: CloseReason
    resolved_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class TicketReopened(TicketStatusChanged):
    reason: str
    reopen_count: int
    previously_resolved_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class TicketCancelled(TicketStatusChanged):
    reason: CancelReason
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class TicketMerged(TicketStatusChanged):
    into_ticket_id: str


@dataclass(frozen=True, kw_only=True)
class TicketReplied(TicketEvent):
    note_id: str


@dataclass(frozen=True, kw_only=True)
class CustomerResponded(TicketEvent):
    """The customer wrote or called about this ticket (an email threaded into it, say)."""

    reference: str | None


@dataclass(frozen=True, kw_only=True)
class TicketOwnerChanged(TicketEvent):
    previous_owner_id: str | None
    owner_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class TicketUpdated(TicketEvent):
    changed_fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TicketLinked(TicketEvent):
    other_ticket_id: str
    kind: LinkKind
