"""Keeping work orders in step with the tickets behind them (intake's events, in any order).

The newest version of each ticket is kept (``store.ticket``): an event older than the copy is a duplicate
or arrived late and changes nothing; a cancellation or a merge is final whatever arrives after it. The work
order is opened by whichever of the ticket's events is seen first, so an update overtaking the creation
still opens it with the newest details. What each change means for the orders is decided in
``domain.ticket_changes``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from contracts.intake import TicketDetails
from dispatch import commands, store
from dispatch.domain import ticket_changes
from dispatch.domain.ticket_changes import OrderDecision, Survivor, VisitChange
from dispatch.domain.values import Actor, Priority, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import OPEN, WorkOrder, WorkOrderState
from kit.db import UnitOfWork

INTAKE = Actor.system("intake")

_TYPE_OF_TICKET = {
    "repair": WorkOrderType.REPAIR,
    "installation": WorkOrderType.INSTALLATION,
    "maintenance": WorkOrderType.PREVENTIVE_MAINTENANCE,
}
# a ticket in one of these states no longer asks for a visit
_FINISHED_STATUSES = frozenset({"resolved", "closed", "cancelled", "merged"})


def needs_technician(details: TicketDetails) -> bool:
    return details.needs_on_site or details.type in _TYPE_OF_TICKET


def intake_event(event_id: str) -> Actor:
    """The system actor for a change intake's event ``event_id`` caused (the audit log names the event)."""
    return Actor.system(f"intake:{event_id}"[:64])


async def ticket_changed(
    uow: UnitOfWork,
    *,
    ticket_id: str,
    ticket_number: str,
    version: int,
    status: str,
    details: TicketDetails,
    changed_fields: Collection[str] = (),
    actor: Actor = INTAKE,
) -> None:
    """A ticket was opened or edited: open its work order if it needs one and has none, cancel the orders
    not started when it no longer needs a visit, and bring its open orders up to date (priority, site, the
    customer's availability)."""
    await store.lock_ticket(uow, ticket_id)
    held = await store.ticket(uow, ticket_id)
    if held is not None and (_final(held) or held["version"] >= version):
        return
    await store.keep_ticket(
        uow, ticket_id, version=version, status=status, details=details.model_dump(mode="json")
    )
    if status in _FINISHED_STATUSES:
        return
    held_details = held["details"] if held is not None else None
    change = ticket_changes.visit_change(
        needs_on_site=details.needs_on_site,
        before=held_details.get("needs_on_site") if held_details else None,
        changed_fields=changed_fields,
    )
    work_order_ids = await store.work_orders_for_ticket(uow, ticket_id)
    orders = [(await store.load_work_order(uow, i))[0] for i in work_order_ids]
    if ticket_changes.opens_work_order(
        needs_technician=needs_technician(details),
        needs_on_site=details.needs_on_site,
        change=change,
        first_news=held is None,
        orders=orders,
    ):
        await _open(uow, ticket_id, ticket_number, details, actor)
        return
    for order in orders:
        if change is VisitChange.DROPPED:
            decision = ticket_changes.after_visit_dropped(order)
            await _carry_out(uow, decision, actor, note_kind="ticket_updated")
            if decision.cancel is not None or (decision.note and order.state is WorkOrderState.ON_SITE):
                continue
        await _update(uow, order.id, details, actor)


async def ticket_merged(
    uow: UnitOfWork, *, ticket_id: str, into_ticket_id: str, version: int, actor: Actor
) -> None:
    """A duplicate ticket was merged into another: its open work orders serve the surviving ticket, or are
    cancelled as duplicates of the survivor's own (see ``ticket_changes.after_merge``). Later news of the
    merged ticket, even its creation arriving late, opens nothing."""
    for held_ticket in sorted({ticket_id, into_ticket_id}):  # one order of locking, whoever merges
        await store.lock_ticket(uow, held_ticket)
    held = await store.ticket(uow, ticket_id)
    if held is not None and (
        held["cancelled_at"] is not None or (held["status"] == "merged" and held["version"] >= version)
    ):
        return
    await _keep_final(uow, ticket_id, held, version=version, status="merged")
    survivor_held = await store.ticket(uow, into_ticket_id)
    survivor_rows = [
        await store.load_row(uow, i, for_update=False)
        for i in await store.work_orders_for_ticket(uow, into_ticket_id)
    ]
    survivor = Survivor(
        ticket_id=into_ticket_id,
        label=_ticket_label(into_ticket_id, survivor_rows),
        open_work_order_ids=tuple(r["id"] for r in survivor_rows if WorkOrderState(r["state"]) in OPEN),
        cancelled=survivor_held is not None and survivor_held["cancelled_at"] is not None,
        merged=survivor_held is not None and survivor_held["status"] == "merged",
    )
    survivor_details = (
        TicketDetails.model_validate(survivor_held["details"])
        if survivor_held is not None and survivor_held["details"]
        else None
    )
    moved_facts = {"ticket_number": survivor.label if survivor.label != into_ticket_id else None}
    for work_order_id in await store.work_orders_for_ticket(uow, ticket_id):
        order, row = await store.load_work_order(uow, work_order_id)
        decision = ticket_changes.after_merge(
            order, absorbed_label=_ticket_label(ticket_id, [row]), survivor=survivor
        )
        await _carry_out(uow, decision, actor, note_kind="ticket_merged", facts_update=moved_facts)
        if decision.move_to_ticket is not None and survivor_details is not None:
            await _update(uow, work_order_id, survivor_details, actor)


async def ticket_cancelled(uow: UnitOfWork, *, ticket_id: str, version: int, at: datetime) -> None:
    """The ticket was withdrawn: cancel its work orders unless the visit already happened (a technician
    on site finishes the visit; it is noted for the dispatcher)."""
    await store.lock_ticket(uow, ticket_id)
    held = await store.ticket(uow, ticket_id)
    if held is not None and _final(held):
        return
    await _keep_final(uow, ticket_id, held, version=version, status="cancelled", cancelled_at=at)
    for work_order_id in await store.work_orders_for_ticket(uow, ticket_id):
        order, _ = await store.load_work_order(uow, work_order_id)
        if order.accepts("cancel"):
            await commands.change_work_order(
                uow,
                work_order_id,
                lambda o: o.cancel(reason="ticket_cancelled", at=uow.now(), actor=INTAKE),
            )
        elif order.state is WorkOrderState.ON_SITE:
            await store.add_note(
                uow,
                work_order_id,
                kind="ticket_cancelled",
                text="the ticket was cancelled while the technician is on site",
            )


async def _carry_out(
    uow: UnitOfWork,
    decision: OrderDecision,
    actor: Actor,
    *,
    note_kind: str,
    facts_update: dict[str, Any] | None = None,
) -> None:
    """Apply one decision through the order's own actions (state machine, events, audit) and note it."""
    if decision.changes_nothing:
        return
    at = uow.now()
    cancel, move_to = decision.cancel, decision.move_to_ticket
    if cancel is not None:
        await commands.change_work_order(
            uow,
            decision.work_order_id,
            lambda o: o.cancel(reason=cancel.reason, note=cancel.note, at=at, actor=actor),
            actor=actor,
        )
    elif move_to is not None:
        await commands.change_work_order(
            uow,
            decision.work_order_id,
            lambda o: o.move_to_ticket(move_to, at=at, actor=actor),
            facts_update=facts_update,
            actor=actor,
        )
    if decision.note:
        await store.add_note(uow, decision.work_order_id, kind=note_kind, text=decision.note)


async def _keep_final(
    uow: UnitOfWork,
    ticket_id: str,
    held: Any,
    *,
    version: int,
    status: str,
    cancelled_at: datetime | None = None,
) -> None:
    """Keep the ticket merged or cancelled (``status``), with the newest version seen and the details held."""
    await store.keep_ticket(
        uow,
        ticket_id,
        version=max(version, held["version"]) if held else version,
        status=status,
        details=held["details"] if held else None,
        cancelled_at=cancelled_at,
    )


def _final(held: Any) -> bool:
    """A cancelled or merged ticket asks for nothing more, whatever arrives after."""
    return held["cancelled_at"] is not None or held["status"] == "merged"


def _ticket_label(ticket_id: str, rows: list[Any]) -> str:
    """The ticket's number as its work orders recorded it, else its id."""
    numbers = [r["facts"].get("ticket_number") for r in rows if r["facts"].get("ticket_number")]
    return str(numbers[0]) if numbers else ticket_id


async def _open(
    uow: UnitOfWork, ticket_id: str, ticket_number: str, details: TicketDetails, actor: Actor = INTAKE
) -> None:
    address = details.site_address
    await commands.open_work_order(
        uow,
        type=_TYPE_OF_TICKET.get(details.type, WorkOrderType.REPAIR),
        priority=Priority(details.priority),
        region_id=_region(details) or "unknown",
        address=address.model_dump(mode="json") if address else None,
        product_line=details.product.product_line or "general",
        actor=actor,
        customer_id=details.customer_id,
        ticket_id=ticket_id,
        serial_number=details.product.serial_number,
        model=details.product.model_code,
        availability=[TimeWindow(w.start, w.end) for w in details.preferred_windows],
        facts={
            "product": details.product.model_dump(mode="json"),
            "description": details.fault_description,
            "ticket_number": ticket_number,
        },
    )


async def _update(uow: UnitOfWork, work_order_id: str, details: TicketDetails, actor: Actor = INTAKE) -> None:
    order, row = await store.load_work_order(uow, work_order_id)
    if not order.accepts("update_request"):
        if order.state is WorkOrderState.ON_SITE:
            await store.add_note(
                uow,
                work_order_id,
                kind="ticket_updated",
                text="the ticket changed while the technician is on site",
            )
        return
    address = details.site_address
    region = _region(details) or order.site.region_id
    new_address: dict[str, Any] | None = (
        address.model_dump(mode="json") if address else row["facts"].get("site")
    )
    site = await commands.site_of(uow, region, new_address)
    attention: list[str] = []

    def act(o: WorkOrder) -> None:
        attention.extend(
            o.update_request(
                priority=Priority(details.priority),
                site=site,
                availability=[TimeWindow(w.start, w.end) for w in details.preferred_windows],
                at=uow.now(),
                actor=actor,
            )
        )

    await commands.change_work_order(
        uow,
        work_order_id,
        act,
        actor=actor,
        facts_update={"site": new_address, "region_code": region, "description": details.fault_description},
    )
    for text in attention:
        await store.add_note(uow, work_order_id, kind="ticket_updated", text=text)


def _region(details: TicketDetails) -> str | None:
    address = details.site_address
    return details.region_code or (address.region_code if address else None)
