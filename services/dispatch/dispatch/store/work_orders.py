"""Work orders (a JSON snapshot plus queryable columns), their log, notes, assignments and timers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import RowMapping

from dispatch import codec
from dispatch import tables as t
from dispatch.domain.calendar import WorkingCalendar
from dispatch.domain.escalation import TimerKind, timers_for
from dispatch.domain.network import counted_on
from dispatch.domain.work_orders import OPEN, WorkOrder
from dispatch.store.network import region_calendar
from kit import scheduler
from kit.db import UnitOfWork
from kit.domain import Conflict, NotFound

TIMER_PREFIX = "work_order."


def timer_kind(kind: TimerKind) -> str:
    return TIMER_PREFIX + kind.value


def _projection(order: WorkOrder, facts: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "ticket_id": order.ticket_id,
        "customer_id": order.customer_id,
        "dealer_id": order.dealer_id,
        "type": order.type.value,
        "priority": order.priority.value,
        "state": order.state.value,
        "region_id": order.site.region_id,
        "technician_id": order.technician_id,
        "appointment_start": order.appointment.start if order.appointment else None,
        "appointment_end": order.appointment.end if order.appointment else None,
        "finished_at": order.finished_at,
        "facts": facts,
        "snapshot": codec.work_order_json(order),
        "updated_at": now,
    }


async def add_work_order(uow: UnitOfWork, order: WorkOrder, *, number: str, facts: dict[str, Any]) -> None:
    values = _projection(order, facts, uow.now())
    await uow.conn.execute(
        t.work_orders.insert().values(
            id=order.id, number=number, opened_at=order.opened_at, version=1, **values
        )
    )
    await _log_transitions(uow, order, 0)
    await sync_timers(uow, order)


async def save_work_order(
    uow: UnitOfWork, order: WorkOrder, *, stored_version: int, facts: dict[str, Any]
) -> int:
    """Write the order back if nobody changed it since it was loaded; its new stored version."""
    values = _projection(order, facts, uow.now())
    values["version"] = stored_version + 1
    result = await uow.conn.execute(
        update(t.work_orders)
        .where(t.work_orders.c.id == order.id, t.work_orders.c.version == stored_version)
        .values(**values)
    )
    if result.rowcount != 1:
        raise Conflict(f"work order {order.id} was changed concurrently", code="concurrent-update")
    logged = (
        await uow.conn.execute(
            select(func.count()).select_from(t.transitions).where(t.transitions.c.work_order_id == order.id)
        )
    ).scalar_one()
    await _log_transitions(uow, order, logged)
    await _save_appointment(uow, order)
    await sync_timers(uow, order)
    return stored_version + 1


async def _log_transitions(uow: UnitOfWork, order: WorkOrder, already: int) -> None:
    for rec in order.history[already:]:
        await uow.conn.execute(
            t.transitions.insert().values(
                work_order_id=order.id,
                action=rec.action,
                from_state=rec.from_state.value,
                to_state=rec.to_state.value,
                actor_id=rec.actor.id,
                actor_role=rec.actor.role.value,
                client_update_id=rec.client_update_id,
                at=rec.at,
            )
        )


async def _save_appointment(uow: UnitOfWork, order: WorkOrder) -> None:
    if order.appointment is None:
        return
    appt = order.appointment
    values = {
        "technician_id": order.technician_id,
        "start": appt.window.start,
        "end": appt.window.end,
        "confirmed_at": appt.confirmed_at,
        "times_moved": appt.times_moved,
    }
    result = await uow.conn.execute(
        update(t.appointments).where(t.appointments.c.work_order_id == order.id).values(**values)
    )
    if result.rowcount == 0:
        await uow.conn.execute(
            t.appointments.insert().values(work_order_id=order.id, id=f"{order.id}-appt", **values)
        )


async def record_assignment(uow: UnitOfWork, order: WorkOrder, *, method: str, assigned_by: str) -> None:
    rec = order.assignment
    if rec is None:
        return
    await uow.conn.execute(
        t.assignments.insert().values(
            work_order_id=order.id,
            technician_id=rec.technician_id,
            method=method,
            reasons=list(rec.reasons),
            cost=[list(c) for c in rec.cost],
            locked=order.locked,
            assigned_by=assigned_by,
            assigned_at=rec.at,
        )
    )


async def sync_timers(uow: UnitOfWork, order: WorkOrder) -> None:
    """Keep exactly the timers the order needs now pending (one per kind)."""
    wanted = {timer.kind: timer for timer in timers_for(order)}
    for kind in TimerKind:
        key = f"{order.id}:{kind.value}"
        if kind in wanted:
            await scheduler.schedule(
                uow,
                kind=timer_kind(kind),
                key=key,
                due_at=wanted[kind].due_at,
                payload={"work_order_id": order.id},
            )
        else:
            await scheduler.cancel(uow, kind=timer_kind(kind), key=key)


async def load_row(uow: UnitOfWork, work_order_id: str, *, for_update: bool = True) -> RowMapping:
    query = select(t.work_orders).where(t.work_orders.c.id == work_order_id)
    if for_update and uow.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await uow.conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"work order {work_order_id} not found")
    return row


async def load_work_order(uow: UnitOfWork, work_order_id: str) -> tuple[WorkOrder, RowMapping]:
    """The order to act on, counting its service levels on the calendar its region's centre keeps now."""
    row = await load_row(uow, work_order_id)
    return restore(row, calendar=await region_calendar(uow, row["region_id"])), row


def restore(row: Mapping[Any, Any], *, calendar: WorkingCalendar | None = None) -> WorkOrder:
    policy, counted_calendar = counted_on(calendar)
    return codec.work_order_of(row["snapshot"], policy=policy, calendar=counted_calendar)


async def work_order_for_ticket(uow: UnitOfWork, ticket_id: str) -> str | None:
    ids = await work_orders_for_ticket(uow, ticket_id)
    return ids[0] if ids else None


async def work_orders_for_ticket(uow: UnitOfWork, ticket_id: str) -> list[str]:
    """The ticket's work orders, the first opened first (a follow-up visit is a second one)."""
    query = (
        select(t.work_orders.c.id)
        .where(t.work_orders.c.ticket_id == ticket_id)
        .order_by(t.work_orders.c.opened_at, t.work_orders.c.id)
    )
    return list((await uow.conn.execute(query)).scalars().all())


async def list_work_orders(
    uow: UnitOfWork,
    *,
    state: str | None,
    technician_id: str | None,
    dealer_id: str | None,
    after: str | None,
    limit: int,
    day_start: datetime | None = None,
    day_end: datetime | None = None,
) -> list[RowMapping]:
    c = t.work_orders.c
    by_time = day_start is not None and day_end is not None
    query = (
        select(t.work_orders).order_by(*((c.appointment_start, c.id) if by_time else (c.id,))).limit(limit)
    )
    if state:
        query = query.where(c.state == state)
    if technician_id:
        query = query.where(c.technician_id == technician_id)
    if dealer_id:
        query = query.where(c.dealer_id == dealer_id)
    if after:
        query = query.where(c.id > after)
    if day_start and day_end:
        query = query.where(c.appointment_start >= day_start, c.appointment_start < day_end)
    return list((await uow.conn.execute(query)).mappings().all())


async def transitions_of(uow: UnitOfWork, work_order_id: str) -> list[RowMapping]:
    query = (
        select(t.transitions)
        .where(t.transitions.c.work_order_id == work_order_id)
        .order_by(t.transitions.c.seq)
    )
    return list((await uow.conn.execute(query)).mappings().all())


async def add_note(uow: UnitOfWork, work_order_id: str, *, kind: str, text: str) -> None:
    await uow.conn.execute(
        t.notes.insert().values(work_order_id=work_order_id, kind=kind, text=text, at=uow.now())
    )


async def notes_of(uow: UnitOfWork, work_order_id: str) -> list[RowMapping]:
    query = select(t.notes).where(t.notes.c.work_order_id == work_order_id).order_by(t.notes.c.seq)
    return list((await uow.conn.execute(query)).mappings().all())


async def orders_in_states(
    uow: UnitOfWork,
    states: list[str],
    *,
    region_id: str | None = None,
    without_dealer: bool = False,
) -> list[RowMapping]:
    query = select(t.work_orders).where(t.work_orders.c.state.in_(states)).order_by(t.work_orders.c.id)
    if region_id:
        query = query.where(t.work_orders.c.region_id == region_id)
    if without_dealer:
        query = query.where(t.work_orders.c.dealer_id.is_(None))
    return list((await uow.conn.execute(query)).mappings().all())


async def all_orders(uow: UnitOfWork, *, opened_from: datetime, opened_until: datetime) -> list[RowMapping]:
    c = t.work_orders.c
    query = select(t.work_orders).where(c.opened_at >= opened_from, c.opened_at < opened_until)
    return list((await uow.conn.execute(query)).mappings().all())


async def finished_visits(
    uow: UnitOfWork, *, finished_from: datetime, finished_until: datetime
) -> list[RowMapping]:
    """Orders a technician finished (completed or incomplete) in the period."""
    c = t.work_orders.c
    query = select(t.work_orders).where(
        c.finished_at >= finished_from,
        c.finished_at < finished_until,
        c.technician_id.is_not(None),
        c.state.in_(["completed", "incomplete"]),
    )
    return list((await uow.conn.execute(query)).mappings().all())


async def bookings(
    uow: UnitOfWork, *, start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, datetime, str]]]:
    """Per technician, the appointments of their open orders overlapping ``[start, end)``:
    ``(start, end, work order id)``."""
    c = t.work_orders.c
    query = select(c.technician_id, c.appointment_start, c.appointment_end, c.id).where(
        c.technician_id.is_not(None),
        c.state.in_(sorted(s.value for s in OPEN)),
        c.appointment_start < end,
        c.appointment_end > start,
    )
    booked: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for technician_id, a, b, work_order_id in (await uow.conn.execute(query)).all():
        booked.setdefault(technician_id, []).append((a, b, work_order_id))
    return booked


async def lock_optimiser(uow: UnitOfWork) -> bool:
    """One batch optimisation at a time (held until the transaction ends); whether this one got it."""
    if uow.conn.dialect.name != "postgresql":
        return True
    got = await uow.conn.execute(select(func.pg_try_advisory_xact_lock(OPTIMISER_LOCK)))
    return bool(got.scalar_one())


OPTIMISER_LOCK = 0x0D15_7C4  # an arbitrary, fixed advisory lock key for the batch optimiser
