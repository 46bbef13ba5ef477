"""Keeping work orders in step with the tickets behind them (intake's events, in any order).

The newest version of each ticket is kept (``store.ticket``): an event older than the copy is a duplicate
or arrived late and changes nothing; a cancellation is final whatever arrives after it. The work order is
opened by whichever of the ticket's events is seen first, so an update overtaking the creation still opens
it with the newest details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.intake import TicketDetails
from dispatch import commands, store
from dispatch.domain.values import Actor, Priority, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import WorkOrder, WorkOrderState
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


async def ticket_changed(
    uow: UnitOfWork,
    *,
    ticket_id: str,
    ticket_number: str,
    version: int,
    status: str,
    details: TicketDetails,
) -> None:
    """A ticket was opened or edited: open its work order if it needs one and has none, else bring its
    open work orders up to date (priority, site, the customer's availability)."""
    await store.lock_ticket(uow, ticket_id)
    held = await store.ticket(uow, ticket_id)
    if held is not None and (held["cancelled_at"] is not None or held["version"] >= version):
        return
    await store.keep_ticket(
        uow, ticket_id, version=version, status=status, details=details.model_dump(mode="json")
    )
    if status in _FINISHED_STATUSES:
        return
    work_order_ids = await store.work_orders_for_ticket(uow, ticket_id)
    if not work_order_ids:
        if needs_technician(details):
            await _open(uow, ticket_id, ticket_number, details)
        return
    for work_order_id in work_order_ids:
        await _update(uow, work_order_id, details)


async def ticket_cancelled(uow: UnitOfWork, *, ticket_id: str, version: int, at: datetime) -> None:
    """The ticket was withdrawn: cancel its work orders unless the visit already happened (a technician
    on site finishes the visit; it is noted for the dispatcher)."""
    await store.lock_ticket(uow, ticket_id)
    held = await store.ticket(uow, ticket_id)
    if held is not None and held["cancelled_at"] is not None:
        return
    await store.keep_ticket(
        uow,
        ticket_id,
        version=max(version, held["version"]) if held else version,
        status="cancelled",
        details=held["details"] if held else None,
        cancelled_at=at,
    )
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


async def _open(uow: UnitOfWork, ticket_id: str, ticket_number: str, details: TicketDetails) -> None:
    address = details.site_address
    await commands.open_work_order(
        uow,
        type=_TYPE_OF_TICKET.get(details.type, WorkOrderType.REPAIR),
        priority=Priority(details.priority),
        region_id=_region(details) or "unknown",
        address=address.model_dump(mode="json") if address else None,
        product_line=details.product.product_line or "general",
        actor=INTAKE,
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


async def _update(uow: UnitOfWork, work_order_id: str, details: TicketDetails) -> None:
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
                actor=INTAKE,
            )
        )

    await commands.change_work_order(
        uow,
        work_order_id,
        act,
        facts_update={"site": new_address, "region_code": region, "description": details.fault_description},
    )
    for text in attention:
        await store.add_note(uow, work_order_id, kind="ticket_updated", text=text)


def _region(details: TicketDetails) -> str | None:
    address = details.site_address
    return details.region_code or (address.region_code if address else None)
