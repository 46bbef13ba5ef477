"""Tickets: open (Idempotency-Key), list with filters, read (ETag), timeline, notes, edits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from intake.api.common import AttachmentDto, Id, Staff, TicketCreator, TicketReader, actor_of
from intake.api.ticket_models import (
    ClaimCopyOut,
    ClockOut,
    CustomerMessageIn,
    DetailsIn,
    EntitlementOut,
    LinkIn,
    NoteIn,
    NoteOut,
    ReplyIn,
    TicketDetailOut,
    TicketIn,
    TicketOut,
    TimelineEntryOut,
    WatchIn,
    WorkOrderCopyOut,
)
from intake.domain.common import Actor
from intake.domain.ticket_values import Channel, Priority, TicketStatus, TicketType
from intake.domain.tickets import Ticket
from intake.operations import customers as customer_ops
from intake.operations import sla as sla_ops
from intake.operations import tickets as ops
from intake.store import tickets as store
from kit.auth import Principal
from kit.concurrency import IfMatch, etag
from kit.db import Database, UnitOfWork
from kit.dealers import acting_dealer, dealer_scope, ensure_visible
from kit.deps import Db
from kit.idempotency import IdempotencyKey, run_idempotent
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["tickets"])

TicketId = Annotated[str, Field(min_length=1, max_length=64)]


def respond(saved: ops.SavedTicket | store.StoredTicket, response: Response) -> TicketOut:
    response.headers["ETag"] = etag(saved.version)
    return TicketOut.of(saved.ticket, saved.version)


async def visible_ticket(uow: UnitOfWork, principal: Principal, ticket_id: str) -> store.StoredTicket:
    """The ticket, if the caller may see it (another dealer's is not found)."""
    stored = await ops.require_ticket(uow, ticket_id)
    ensure_visible(principal, stored.ticket.dealer_id, "ticket")
    return stored


TicketAction = Callable[[Ticket, Actor, datetime], object]
"""One domain action on a ticket, given the acting caller and the time."""


@dataclass(frozen=True)
class TicketChange:
    """What a request that changes a ticket carries besides the ticket and the caller: the database,
    the ``If-Match`` sent, and the response that gets the new ETag."""

    db: Database
    response: Response
    if_match: str | None

    async def apply(self, ticket_id: str, principal: Principal, act: TicketAction) -> TicketOut:
        """Apply ``act`` to a ticket the caller may see, in one transaction; the new ticket."""
        actor = actor_of(principal)
        async with self.db.transaction() as uow:
            await visible_ticket(uow, principal, ticket_id)
            saved = await ops.change_ticket(
                uow,
                ticket_id,
                lambda t: act(t, actor, self.db.clock.now()),
                if_match=self.if_match,
                actor=actor,
            )
        return respond(saved, self.response)


async def _ticket_change(db: Db, response: Response, if_match: IfMatch = None) -> TicketChange:
    return TicketChange(db, response, if_match)


ChangeTicket = Annotated[TicketChange, Depends(_ticket_change)]


# --- open, list, read ------------------------------------------------------------------------------------


@router.post(
    "/tickets",
    status_code=201,
    response_model=TicketOut,
    summary="Open a ticket",
    responses={
        201: {"headers": {"ETag": {"description": "The ticket's version", "schema": {"type": "string"}}}}
    },
)
async def open_ticket(
    body: TicketIn, request: Request, db: Db, principal: TicketCreator, key: IdempotencyKey = None
) -> Response:
    """Open a request from any channel: the customer is matched (or registered), the number handed
    out, the SLA clocks started and ``intake.ticket.created.v1`` published. A staff member who opens
    it owns it; on the phone it is acknowledged and answered in the same breath."""
    dealer_id = acting_dealer(principal, body.dealer_id)
    actor = actor_of(principal)

    async def create(uow: UnitOfWork) -> TicketOut:
        if body.customer_id is not None and principal.is_partner:
            customer = await customer_ops.require_customer(uow, body.customer_id)
            ensure_visible(principal, customer.customer.dealer_id, "customer")
        ticket = await ops.open_ticket(uow, actor=actor, command=body.command(dealer_id=dealer_id))
        return TicketOut.of(ticket, 1)

    return await run_idempotent(request, db, key, create, headers=lambda out: {"ETag": etag(1)})


@router.get("/tickets", summary="List tickets, newest first")
async def list_tickets(
    db: Db,
    principal: TicketReader,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[list[TicketStatus] | None, Query(max_length=10)] = None,
    owner_id: Annotated[str | None, Query(max_length=64)] = None,
    unowned: bool | None = None,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    channel: Channel | None = None,
    type: TicketType | None = None,
    priority: Priority | None = None,
    serial_number: Annotated[str | None, Query(max_length=64)] = None,
    related_ticket_id: Annotated[
        str | None, Query(max_length=64, description="Complaints about a ticket")
    ] = None,
    breached: Annotated[bool | None, Query(description="Any SLA target missed")] = None,
    opened_from: datetime | None = None,
    opened_until: datetime | None = None,
) -> Page[TicketOut]:
    """Filter by status (repeatable), owner, customer, channel, type, priority, serial, breached SLA
    and opening time. Dealers and partners see their own tickets only."""
    after = decode_cursor(cursor)
    where = store.TicketFilter(
        statuses=[s.value for s in status or ()],
        owner_id=owner_id,
        unowned=unowned,
        customer_ids=[customer_id] if customer_id else [],
        channel=channel.value if channel else None,
        type=type.value if type else None,
        priority=priority.value if priority else None,
        dealer_id=dealer_scope(principal),
        serial_number=serial_number,
        related_ticket_id=related_ticket_id,
        breached=breached,
        opened_from=opened_from,
        opened_until=opened_until,
    )
    async with db.transaction() as uow:
        found = await store.list_tickets(uow, where, after=after, limit=limit + 1)
    items = [TicketOut.of(s.ticket, s.version) for s in found]
    return page_of(items, limit, lambda t: (t.opened_at, t.id))


@router.get("/tickets/by-number/{number}", summary="Find a ticket by its number")
async def ticket_by_number(
    number: Annotated[str, Field(max_length=32)], db: Db, principal: TicketReader, response: Response
) -> TicketOut:
    async with db.transaction() as uow:
        ticket_id = await store.ticket_id_by_number(uow, number)
        stored = await visible_ticket(uow, principal, ticket_id or "-")
    return respond(stored, response)


@router.get("/tickets/{ticket_id}", summary="Read a ticket with its SLA clocks and related work")
async def get_ticket(
    ticket_id: TicketId, db: Db, principal: TicketReader, response: Response
) -> TicketDetailOut:
    async with db.transaction() as uow:
        stored = await visible_ticket(uow, principal, ticket_id)
        sla = await sla_ops.clocks_of(uow, ticket_id)
        entitlement = await store.entitlement_of(uow, ticket_id)
        work_orders = await store.work_orders_of(uow, ticket_id)
        claims = await store.claims_of(uow, ticket_id)
        now = uow.now()
    response.headers["ETag"] = etag(stored.version)
    base = TicketOut.of(stored.ticket, stored.version)
    return TicketDetailOut(
        **base.model_dump(),
        sla=[ClockOut.of(r) for r in sla.report(now)] if sla else [],
        entitlement=EntitlementOut.of(entitlement) if entitlement else None,
        work_orders=[WorkOrderCopyOut.of(w) for w in work_orders],
        claims=[ClaimCopyOut.of(c) for c in claims],
    )


@router.get("/tickets/{ticket_id}/sla", summary="The ticket's SLA clocks now")
async def get_ticket_sla(ticket_id: TicketId, db: Db, principal: TicketReader) -> list[ClockOut]:
    async with db.transaction() as uow:
        await visible_ticket(uow, principal, ticket_id)
        sla = await sla_ops.clocks_of(uow, ticket_id)
        now = uow.now()
    return [ClockOut.of(r) for r in sla.report(now)] if sla else []


@router.get("/tickets/{ticket_id}/timeline", summary="Every step of the ticket, with time and actor")
async def get_timeline(
    ticket_id: TicketId, db: Db, principal: TicketReader, limit: Limit = 100, cursor: Cursor = None
) -> Page[TimelineEntryOut]:
    after = decode_cursor(cursor)
    async with db.transaction() as uow:
        stored = await visible_ticket(uow, principal, ticket_id)
    ordered = sorted(enumerate(stored.ticket.timeline), key=lambda item: (item[1].at, item[0]))
    entries = [
        TimelineEntryOut(
            seq=seq, at=e.at, actor=e.actor_ref, kind=e.kind, detail=e.detail, reference=e.reference
        )
        for seq, (_, e) in enumerate(ordered)
    ]
    start = int(after[0]) + 1 if after else 0
    return page_of(entries[start : start + limit + 1], limit, lambda e: (e.seq,))


@router.get("/tickets/{ticket_id}/notes", summary="Internal notes and customer replies")
async def get_notes(ticket_id: TicketId, db: Db, principal: TicketReader) -> list[NoteOut]:
    """Dealers and partners see the replies to the customer, never the internal notes."""
    async with db.transaction() as uow:
        stored = await visible_ticket(uow, principal, ticket_id)
    notes = stored.ticket.customer_notes if principal.is_partner else stored.ticket.notes
    return [
        NoteOut(id=n.id, at=n.at, author=n.author_ref, body=n.body, visibility=n.visibility, via=n.via)
        for n in notes
    ]


# --- conversation ----------------------------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/notes", summary="Add an internal note (never shown to the customer)")
async def add_note(
    ticket_id: TicketId, body: NoteIn, change: ChangeTicket, principal: TicketCreator
) -> TicketOut:
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.add_internal_note(actor=actor, at=at, body=body.body)
    )


@router.post(
    "/tickets/{ticket_id}/replies", summary="Reply to the customer (the first is the first response)"
)
async def reply(ticket_id: TicketId, body: ReplyIn, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(
        ticket_id,
        principal,
        lambda t, actor, at: t.reply_to_customer(actor=actor, at=at, body=body.body, via=body.via),
    )


@router.post("/tickets/{ticket_id}/customer_messages", summary="Record what the customer said about it")
async def customer_message(
    ticket_id: TicketId, body: CustomerMessageIn, db: Db, principal: TicketCreator, response: Response
) -> TicketOut:
    """A letter, a portal message or a call about the ticket; a ticket waiting on the customer carries on."""
    async with db.transaction() as uow:
        await visible_ticket(uow, principal, ticket_id)
        done = await ops.record_customer_message(
            uow,
            ticket_id=ticket_id,
            via=body.via,
            body=body.body,
            actor=actor_of(principal),
            reference=body.reference,
        )
    response.headers["ETag"] = etag(done.version)
    return TicketOut.of(done.ticket, done.version)


# --- details, attachments, watchers, links ---------------------------------------------------------------


@router.patch("/tickets/{ticket_id}", summary="Change the ticket's details")
async def update_details(
    ticket_id: TicketId, body: DetailsIn, change: ChangeTicket, principal: Staff
) -> TicketOut:
    def act(ticket: Ticket, actor: Actor, at: datetime) -> None:
        ticket.update_details(
            actor=actor,
            at=at,
            product=body.product.domain() if body.product else None,
            fault_description=body.fault_description,
            site_address=body.site_address.domain() if body.site_address else None,
            needs_on_site=body.needs_on_site,
            preferred_windows=[w.domain() for w in body.preferred_windows]
            if body.preferred_windows is not None
            else None,
            customer_tier=body.customer_tier,
        )

    return await change.apply(ticket_id, principal, act)


@router.post("/tickets/{ticket_id}/attachments", summary="Attach a stored file to the ticket")
async def attach(
    ticket_id: TicketId, body: AttachmentDto, change: ChangeTicket, principal: TicketCreator
) -> TicketOut:
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.attach(body.domain(), actor=actor, at=at)
    )


@router.post("/tickets/{ticket_id}/watchers", summary="Watch the ticket (yourself, or a colleague)")
async def watch(ticket_id: TicketId, body: WatchIn, change: ChangeTicket, principal: Staff) -> TicketOut:
    user_id = body.user_id or principal.subject
    return await change.apply(ticket_id, principal, lambda t, actor, at: t.watch(user_id, actor=actor, at=at))


@router.delete("/tickets/{ticket_id}/watchers/{user_id}", summary="Stop watching the ticket")
async def unwatch(ticket_id: TicketId, user_id: Id, change: ChangeTicket, principal: Staff) -> TicketOut:
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.unwatch(user_id, actor=actor, at=at)
    )


@router.post("/tickets/{ticket_id}/links", summary="Link another ticket")
async def link(ticket_id: TicketId, body: LinkIn, change: ChangeTicket, principal: Staff) -> TicketOut:
    async with change.db.transaction() as uow:
        await ops.require_ticket(uow, body.ticket_id)
    return await change.apply(
        ticket_id, principal, lambda t, actor, at: t.link(body.ticket_id, body.kind, actor=actor, at=at)
    )


__all__ = ["ChangeTicket", "respond", "router", "visible_ticket"]
