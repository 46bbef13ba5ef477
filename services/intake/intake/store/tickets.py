"""All SQL of tickets: numbers, the ticket rows (document + list columns), outside references, and the
local copies of work orders, entitlements and claims other services told us about."""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from intake.domain.ticket_values import OPEN, LinkKind, TicketType
from intake.domain.tickets import Ticket
from intake.store.documents import ticket_doc, ticket_of
from intake.tables.tickets import (
    sla_clocks,
    ticket_claims,
    ticket_entitlements,
    ticket_numbers,
    ticket_refs,
    ticket_work_orders,
    tickets,
)
from kit.copies import keep_newest
from kit.db import Database, UnitOfWork
from kit.domain import Conflict, NotFound
from kit.pagination import after_row

MAX_MERGE_HOPS = 10


@dataclass(frozen=True)
class StoredTicket:
    ticket: Ticket
    version: int


#: Sequence values one API process takes at a time on PostgreSQL (``INTAKE_TICKET_NUMBER_BLOCK``).
_blocks: weakref.WeakKeyDictionary[Database, deque[int]] = weakref.WeakKeyDictionary()


async def allocate_number(uow: UnitOfWork, year: int, *, block: int = 1) -> int:
    """The next ticket sequence value; concurrent creates never wait on each other for it.

    On PostgreSQL a process takes ``block`` values of the sequence at once and hands them out one by one,
    so most tickets cost no round trip for their number; numbers stay unique, rise within a process and
    may interleave between processes (a restart skips what was left of a block). Sequence values are
    never rolled back, so taking them needs no transaction either.
    """
    if uow.conn.dialect.name != "postgresql":
        result = await uow.conn.execute(
            insert(ticket_numbers).values(year=year, allocated_at=uow.now()).returning(ticket_numbers.c.seq)
        )
        return int(result.scalar_one())
    left = _blocks.setdefault(uow.db, deque())
    if not left:
        taken = await uow.conn.execute(
            select(func.nextval(func.pg_get_serial_sequence("ticket_numbers", "seq"))).select_from(
                func.generate_series(1, max(1, block))
            )
        )
        left.extend(sorted(int(v) for v in taken.scalars()))
    return left.popleft()


def _columns(ticket: Ticket, now: datetime) -> dict[str, Any]:
    complaint_about = ticket.linked(LinkKind.COMPLAINT_ABOUT)
    return {
        "channel": ticket.channel.value,
        "type": ticket.type.value,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "customer_id": ticket.customer_id,
        "customer_tier": ticket.customer_tier.value if ticket.customer_tier else None,
        "owner_id": ticket.owner_id,
        "dealer_id": ticket.dealer_id,
        "serial_number": ticket.product.serial_number,
        "region_code": ticket.region_code,
        "needs_on_site": ticket.needs_on_site,
        "source_reference": ticket.source_reference,
        "merged_into": ticket.merged_into,
        "related_ticket_id": complaint_about[0] if complaint_about else None,
        "updated_at": now,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "doc": ticket_doc(ticket),
    }


def _refs(ticket: Ticket) -> set[str]:
    refs = set(ticket.external_refs)
    if ticket.source_reference:
        refs.add(ticket.source_reference)
    return {ref for ref in refs if ref}


async def add_ticket(uow: UnitOfWork, ticket: Ticket) -> int:
    uow.insert(
        tickets,
        {
            "id": ticket.id,
            "number": ticket.number,
            "opened_at": ticket.opened_at,
            "version": 1,
            **_columns(ticket, uow.now()),
        },
    )
    await _add_refs(uow, ticket.id, _refs(ticket))
    return 1


async def save_ticket(uow: UnitOfWork, ticket: Ticket, *, stored_version: int) -> int:
    """Write the ticket back if nobody saved it since it was loaded; its new stored version."""
    done = await uow.conn.execute(
        update(tickets)
        .where(tickets.c.id == ticket.id, tickets.c.version == stored_version)
        .values(version=stored_version + 1, **_columns(ticket, uow.now()))
    )
    if done.rowcount != 1:
        raise Conflict(f"ticket {ticket.number} was changed concurrently", code="concurrent-update")
    wanted = _refs(ticket)
    if wanted:
        known = await uow.conn.execute(select(ticket_refs.c.ref).where(ticket_refs.c.ticket_id == ticket.id))
        await _add_refs(uow, ticket.id, wanted - set(known.scalars().all()))
    return stored_version + 1


async def _add_refs(uow: UnitOfWork, ticket_id: str, refs: Iterable[str]) -> None:
    """Remember outside keys; one already held by another ticket (a merged duplicate) stays there."""
    fresh = sorted(ref[:300] for ref in refs)
    if not fresh:
        return
    taken = await uow.conn.execute(select(ticket_refs.c.ref).where(ticket_refs.c.ref.in_(fresh)))
    free = sorted(set(fresh) - set(taken.scalars().all()))
    if free:
        uow.insert(ticket_refs, [{"ref": ref, "ticket_id": ticket_id} for ref in free])


async def load_ticket(uow: UnitOfWork, ticket_id: str, *, for_update: bool = True) -> StoredTicket:
    query = select(tickets.c.doc, tickets.c.version, tickets.c.customer_id).where(tickets.c.id == ticket_id)
    if for_update and uow.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await uow.conn.execute(query)).first()
    if row is None:
        raise NotFound(f"ticket {ticket_id} not found", code="ticket-not-found")
    return StoredTicket(ticket_of(row.doc), row.version)


async def find_ticket(uow: UnitOfWork, ticket_id: str, *, for_update: bool = False) -> StoredTicket | None:
    try:
        return await load_ticket(uow, ticket_id, for_update=for_update)
    except NotFound:
        return None


async def ticket_id_by_number(uow: UnitOfWork, number: str) -> str | None:
    query = select(tickets.c.id).where(tickets.c.number == number.strip().upper())
    return (await uow.conn.execute(query)).scalar_one_or_none()


async def ticket_id_by_ref(uow: UnitOfWork, ref: str) -> str | None:
    query = select(ticket_refs.c.ticket_id).where(ticket_refs.c.ref == ref[:300])
    return (await uow.conn.execute(query)).scalar_one_or_none()


async def surviving_ticket_id(uow: UnitOfWork, ticket_id: str) -> str:
    """Follow merges: the ticket that carries on for ``ticket_id``."""
    current = ticket_id
    for _ in range(MAX_MERGE_HOPS):
        query = select(tickets.c.merged_into).where(tickets.c.id == current)
        merged_into = (await uow.conn.execute(query)).scalar_one_or_none()
        if merged_into is None:
            return current
        current = merged_into
    return current


@dataclass(frozen=True)
class TicketFilter:
    """What a ticket list may be narrowed by; every criterion given must hold."""

    statuses: Sequence[str] = ()
    owner_id: str | None = None
    unowned: bool | None = None
    customer_ids: Sequence[str] = ()
    channel: str | None = None
    type: str | None = None
    priority: str | None = None
    dealer_id: str | None = None
    serial_number: str | None = None
    related_ticket_id: str | None = None
    breached: bool | None = None
    opened_from: datetime | None = None
    opened_until: datetime | None = None
    now: datetime | None = None


async def list_tickets(
    uow: UnitOfWork, where: TicketFilter, *, after: Sequence[Any] | None = None, limit: int = 50
) -> list[StoredTicket]:
    """Tickets newest first; ``after`` is the (opened_at, id) of the last one of the previous page."""
    c = tickets.c
    query = select(c.doc, c.version).order_by(c.opened_at.desc(), c.id.desc()).limit(limit)
    if where.statuses:
        query = query.where(c.status.in_(list(where.statuses)))
    if where.owner_id is not None:
        query = query.where(c.owner_id == where.owner_id)
    if where.unowned is not None:
        query = query.where(c.owner_id.is_(None) if where.unowned else c.owner_id.is_not(None))
    if where.customer_ids:
        query = query.where(c.customer_id.in_(list(where.customer_ids)))
    for column, value in (
        (c.channel, where.channel),
        (c.type, where.type),
        (c.priority, where.priority),
        (c.dealer_id, where.dealer_id),
        (c.serial_number, where.serial_number),
        (c.related_ticket_id, where.related_ticket_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.opened_from is not None:
        query = query.where(c.opened_at >= where.opened_from)
    if where.opened_until is not None:
        query = query.where(c.opened_at < where.opened_until)
    if where.breached is not None:
        s = sla_clocks.c
        now = where.now or uow.now()
        overdue = or_(s.breached.is_(True), and_(s.state == "running", s.due_at <= now))
        any_breach = exists().where(s.ticket_id == c.id, overdue)
        query = query.where(any_breach if where.breached else ~any_breach)
    if after:
        at, last_id = datetime.fromisoformat(str(after[0])), str(after[1])
        query = query.where(after_row(c.opened_at, c.id, (at, last_id), descending=True))
    return [StoredTicket(ticket_of(r.doc), r.version) for r in await uow.conn.execute(query)]


async def open_tickets_of(uow: UnitOfWork, customer_ids: Sequence[str], *, limit: int = 20) -> list[Ticket]:
    found = await list_tickets(
        uow, TicketFilter(statuses=[s.value for s in OPEN], customer_ids=customer_ids), limit=limit
    )
    return [stored.ticket for stored in found]


async def ticket_ids_of_customer(uow: UnitOfWork, customer_id: str) -> list[str]:
    query = select(tickets.c.id).where(tickets.c.customer_id == customer_id).order_by(tickets.c.opened_at)
    return list((await uow.conn.execute(query)).scalars().all())


async def open_complaint_about(uow: UnitOfWork, original_ticket_id: str) -> str | None:
    """An open complaint about ``original_ticket_id``, the oldest if there are several."""
    c = tickets.c
    query = (
        select(c.id)
        .where(
            c.related_ticket_id == original_ticket_id,
            c.type == TicketType.COMPLAINT.value,
            c.status.in_([s.value for s in OPEN]),
        )
        .order_by(c.opened_at)
        .limit(1)
    )
    return (await uow.conn.execute(query)).scalar_one_or_none()


async def units_of_customers(
    uow: UnitOfWork, customer_ids: Sequence[str], *, limit: int = 50
) -> list[RowMapping]:
    """The units intake has seen for these customers (serial, model, last ticket), newest first."""
    c = tickets.c
    query = (
        select(c.serial_number, c.doc, c.opened_at, c.number)
        .where(c.customer_id.in_(list(customer_ids)), c.serial_number.is_not(None))
        .order_by(c.opened_at.desc())
        .limit(limit * 4)
    )
    return list((await uow.conn.execute(query)).mappings().all())


# --- local copies -----------------------------------------------------------------------------------


_FILLED_FROM_OLDER = ("number", "technician_id", "technician_name", "appointment_start", "appointment_end")


async def keep_work_order(uow: UnitOfWork, values: dict[str, Any]) -> bool:
    """Keep the newest copy of a work order; False when the one held is newer (an event out of order).

    An older fact still fills in what the held copy does not know yet (the technician's name from an
    "assigned" that arrived after "completed"), without moving its state back.
    """
    if await keep_newest(uow, ticket_work_orders, values, order_by="version", replace_equal=True):
        return True
    w = ticket_work_orders.c
    missing = {k: func.coalesce(w[k], values[k]) for k in _FILLED_FROM_OLDER if values.get(k) is not None}
    if missing:
        await uow.conn.execute(
            update(ticket_work_orders).where(w.work_order_id == values["work_order_id"]).values(**missing)
        )
    return False


async def work_order_copy(uow: UnitOfWork, work_order_id: str) -> RowMapping | None:
    query = select(ticket_work_orders).where(ticket_work_orders.c.work_order_id == work_order_id)
    return (await uow.conn.execute(query)).mappings().first()


async def work_orders_of(uow: UnitOfWork, ticket_id: str) -> list[RowMapping]:
    w = ticket_work_orders.c
    query = select(ticket_work_orders).where(w.ticket_id == ticket_id).order_by(w.updated_at)
    return list((await uow.conn.execute(query)).mappings().all())


async def keep_entitlement(uow: UnitOfWork, values: dict[str, Any]) -> bool:
    """Keep the latest decision for the ticket; False when a later one is already held."""
    return await keep_newest(uow, ticket_entitlements, values, order_by="determined_at", replace_equal=True)


async def entitlement_of(uow: UnitOfWork, ticket_id: str) -> RowMapping | None:
    query = select(ticket_entitlements).where(ticket_entitlements.c.ticket_id == ticket_id)
    return (await uow.conn.execute(query)).mappings().first()


async def keep_claim(uow: UnitOfWork, values: dict[str, Any]) -> bool:
    """Keep the newest copy of a claim; False when the one held is newer."""
    return await keep_newest(uow, ticket_claims, values, order_by="version", replace_equal=True)


async def claims_of(uow: UnitOfWork, ticket_id: str) -> list[RowMapping]:
    k = ticket_claims.c
    query = select(ticket_claims).where(k.ticket_id == ticket_id).order_by(k.updated_at)
    return list((await uow.conn.execute(query)).mappings().all())


async def claim_copy(uow: UnitOfWork, claim_id: str) -> RowMapping | None:
    query = select(ticket_claims).where(ticket_claims.c.claim_id == claim_id)
    return (await uow.conn.execute(query)).mappings().first()
