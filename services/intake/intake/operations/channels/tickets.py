"""What the channels ask of the ticket and customer operations, in the channels' own words.

One narrow place between the channels and :mod:`intake.operations.tickets` /
:mod:`intake.operations.customers`: a channel matches a customer, shows a caller card, opens a
ticket, threads a message, notes a contact, marks a ticket acknowledged. It also keeps the channel
records (calls, call-backs, emails, faxes) pointing at the surviving customer after a merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake.domain.common import Actor
from intake.domain.contact_history import ContactKind
from intake.domain.duplicates import MergeOutcome
from intake.domain.ticket_values import AckMethod, AttachmentRef, Channel, TicketStatus
from intake.domain.tickets import Ticket
from intake.operations import customers, tickets
from intake.operations.customers import CallerCard
from intake.operations.tickets import OpenTicket, call_ref, fax_ref, message_ref
from intake.store import channels as store
from kit.clock import Clock
from kit.db import UnitOfWork
from kit.domain import IllegalTransition, NotFound

__all__ = [
    "CallerCard",
    "OpenTicket",
    "TicketRef",
    "add_customer_message",
    "attachment_ref",
    "call_ref",
    "caller_card",
    "fax_ref",
    "find_ticket",
    "mark_acknowledged",
    "match_customer",
    "message_ref",
    "note_contact",
    "open_ticket",
    "ticket_by_id",
]


@dataclass(frozen=True)
class TicketRef:
    """The little a channel needs to know about a ticket it opened or found."""

    id: str
    number: str
    customer_id: str
    is_open: bool

    @classmethod
    def of(cls, ticket: Ticket) -> TicketRef:
        return cls(ticket.id, ticket.number, ticket.customer_id, ticket.is_open)


class _At:
    """A clock stopped at one instant: a ticket opened from a fax read later dates from its receipt."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


async def match_customer(
    uow: UnitOfWork, *, phone: str | None = None, email: str | None = None
) -> str | None:
    """The id of the customer this number or address belongs to, if any."""
    found = await customers.match_customer(uow, phone=phone, email=email)
    return found.id if found else None


async def caller_card(uow: UnitOfWork, phone: str) -> CallerCard:
    return await customers.caller_card(uow, phone)


async def open_ticket(
    uow: UnitOfWork, *, actor: Actor, command: OpenTicket, received_at: datetime | None = None
) -> TicketRef:
    """Open a ticket (an unknown sender becomes a new customer). ``received_at`` dates it, when the
    request arrived earlier than it is processed now (a fax waiting for OCR)."""
    clock: Clock | None = None
    if received_at is not None and received_at < uow.now():
        clock = _At(received_at)
    ticket = await tickets.open_ticket(uow, actor=actor, command=command, clock=clock)
    return TicketRef.of(ticket)


async def find_ticket(uow: UnitOfWork, number: str) -> TicketRef | None:
    ticket = await tickets.find_ticket_by_number(uow, number)
    return TicketRef.of(ticket) if ticket else None


async def ticket_by_id(uow: UnitOfWork, ticket_id: str) -> TicketRef | None:
    try:
        stored = await tickets.require_ticket(uow, ticket_id)
    except NotFound:
        return None
    return TicketRef.of(stored.ticket)


async def add_customer_message(
    uow: UnitOfWork,
    *,
    ticket_id: str,
    via: Channel,
    body: str,
    reference: str,
    attachments: tuple[AttachmentRef, ...] = (),
    actor: Actor | None = None,
) -> TicketRef | None:
    """Thread a message into its ticket (or the one it was merged into); None when that ticket is
    finished (closed, cancelled) and the message must open a new one."""
    try:
        recorded = await tickets.record_customer_message(
            uow,
            ticket_id=ticket_id,
            via=via,
            body=body,
            reference=reference,
            attachments=attachments,
            actor=actor,
        )
    except IllegalTransition:
        return None
    return TicketRef.of(recorded.ticket)


async def note_contact(
    uow: UnitOfWork, *, customer_id: str, kind: str, reference: str, at: datetime, summary: str
) -> None:
    """Put a call, email or fax on the customer's contact history (once per reference)."""
    await customers.record_contact(uow, customer_id, ContactKind(kind), reference, at, summary)


async def mark_acknowledged(uow: UnitOfWork, *, ticket_id: str, at: datetime, actor: Actor) -> None:
    """The acknowledgment email went out: a ticket nobody answered yet is acknowledged by it."""

    def acknowledge(ticket: Ticket) -> None:
        if ticket.status is TicketStatus.NEW:
            ticket.acknowledge(actor=actor, at=at, method=AckMethod.AUTO_EMAIL)

    try:
        await tickets.change_ticket(uow, ticket_id, acknowledge)
    except NotFound:
        return


def attachment_ref(file: store.StoredFile | Any, *, kind: str) -> AttachmentRef:
    """How a ticket refers to a stored file (an email attachment, a fax document)."""
    if isinstance(file, store.StoredFile):
        return AttachmentRef(
            attachment_id=file.id,
            kind=kind,
            filename=file.filename,
            content_type=file.content_type,
            size_bytes=file.size,
        )
    return AttachmentRef(
        attachment_id=file["id"],
        kind=kind,
        filename=file["filename"],
        content_type=file["content_type"],
        size_bytes=file["size"],
    )


async def repoint_merged_customer(uow: UnitOfWork, outcome: MergeOutcome) -> None:
    """After a merge the calls, call-backs, emails and faxes of the absorbed customer are the survivor's."""
    await store.repoint_customer(uow, absorbed_id=outcome.absorbed_id, survivor_id=outcome.survivor_id)


if repoint_merged_customer not in customers.MERGE_REPOINTERS:
    customers.MERGE_REPOINTERS.append(repoint_merged_customer)
