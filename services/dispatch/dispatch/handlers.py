"""Inbound events -> work order operations."""

from __future__ import annotations

from contracts.envelope import CloudEvent
from contracts.intake import TicketCreated
from contracts.inventory import ReservationFailed
from contracts.warranty import EntitlementDetermined
from dispatch import commands, store
from dispatch.domain.values import Actor, Priority, TimeWindow, WorkOrderType
from dispatch.domain.work_orders import WorkOrder
from kit.db import UnitOfWork
from kit.domain import NotFound
from messaging.consumer import EventHandlers

handlers: EventHandlers[UnitOfWork] = EventHandlers()

_TYPE_OF_TICKET = {
    "repair": WorkOrderType.REPAIR,
    "installation": WorkOrderType.INSTALLATION,
    "maintenance": WorkOrderType.PREVENTIVE_MAINTENANCE,
}


@handlers.on(TicketCreated)
async def open_work_order_for_ticket(uow: UnitOfWork, payload: TicketCreated, envelope: CloudEvent) -> None:
    details = payload.details
    if not details.needs_on_site and details.type not in _TYPE_OF_TICKET:
        return
    if await store.work_order_for_ticket(uow, payload.ticket_id) is not None:
        return
    address = details.site_address
    region = details.region_code or (address.region_code if address else None) or "unknown"
    await commands.open_work_order(
        uow,
        type=_TYPE_OF_TICKET.get(details.type, WorkOrderType.REPAIR),
        priority=Priority(details.priority),
        region_id=region,
        address=address.model_dump(mode="json") if address else None,
        product_line=details.product.product_line or "general",
        actor=Actor.system("intake"),
        customer_id=details.customer_id,
        ticket_id=payload.ticket_id,
        serial_number=details.product.serial_number,
        model=details.product.model_code,
        availability=[TimeWindow(w.start, w.end) for w in details.preferred_windows],
        facts={
            "product": details.product.model_dump(mode="json"),
            "description": details.fault_description,
            "ticket_number": payload.ticket_number,
        },
    )


@handlers.on(EntitlementDetermined)
async def apply_entitlement(uow: UnitOfWork, payload: EntitlementDetermined, envelope: CloudEvent) -> None:
    if payload.ticket_id is None:
        return
    kept = {
        "ticket_id": payload.ticket_id,
        "entitlement_id": payload.entitlement_id,
        "billing": payload.billing,
        "contract_id": payload.contract_id,
        # warranty's decision does not tell premium contracts apart; the contract stays standard here
        "premium_contract": False,
        "expires_on": payload.expires_on.isoformat() if payload.expires_on else None,
        "determined_at": payload.determined_at,
    }
    await store.keep_entitlement(uow, kept)
    work_order_id = await store.work_order_for_ticket(uow, payload.ticket_id)
    if work_order_id is None:
        return  # the ticket's work order picks the copy up when it opens
    billing = commands.billing_from(kept)
    at = uow.now()

    def act(order: WorkOrder) -> None:
        if order.is_open:
            order.apply_entitlement(billing, at=at, actor=Actor.system("warranty"))

    await commands.change_work_order(uow, work_order_id, act)


@handlers.on(ReservationFailed)
async def note_reservation_failed(uow: UnitOfWork, payload: ReservationFailed, envelope: CloudEvent) -> None:
    try:
        await store.load_row(uow, payload.work_order_id, for_update=False)
    except NotFound:
        return
    short = ", ".join(f"{s.part_number}" for s in payload.shortages)
    when = f"; earliest {payload.earliest_available_at.isoformat()}" if payload.earliest_available_at else ""
    await store.add_note(
        uow, payload.work_order_id, kind="reservation_failed", text=f"{payload.reason}: {short}{when}"
    )
