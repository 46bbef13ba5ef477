"""Inbound events -> work order operations (thin: the use cases live in ``commands`` and ``requests``)."""

from __future__ import annotations

from contracts.envelope import CloudEvent
from contracts.intake import TicketCancelled, TicketCreated, TicketMerged, TicketUpdated
from contracts.inventory import ReservationFailed, StockChanged
from contracts.warranty import EntitlementDetermined, UnitFacts, UnitRegistered, UnitUpdated
from dispatch import commands, requests, store
from dispatch.domain.values import Actor
from dispatch.domain.work_orders import WorkOrder
from kit.db import UnitOfWork
from kit.domain import NotFound
from messaging.consumer import EventHandlers

handlers: EventHandlers[UnitOfWork] = EventHandlers()


@handlers.on(TicketCreated)
async def open_work_order_for_ticket(uow: UnitOfWork, payload: TicketCreated, envelope: CloudEvent) -> None:
    await requests.ticket_changed(
        uow,
        ticket_id=payload.ticket_id,
        ticket_number=payload.ticket_number,
        version=payload.version,
        status="new",
        details=payload.details,
    )


@handlers.on(TicketUpdated)
async def update_work_order_for_ticket(uow: UnitOfWork, payload: TicketUpdated, envelope: CloudEvent) -> None:
    await requests.ticket_changed(
        uow,
        ticket_id=payload.ticket_id,
        ticket_number=payload.ticket_number,
        version=payload.version,
        status=payload.status,
        details=payload.details,
        changed_fields=payload.changed_fields,
        actor=requests.intake_event(envelope.id),
    )


@handlers.on(TicketCancelled)
async def cancel_work_orders_of_ticket(
    uow: UnitOfWork, payload: TicketCancelled, envelope: CloudEvent
) -> None:
    await requests.ticket_cancelled(
        uow, ticket_id=payload.ticket_id, version=payload.version, at=payload.cancelled_at
    )


@handlers.on(TicketMerged)
async def settle_work_orders_of_merged_ticket(
    uow: UnitOfWork, payload: TicketMerged, envelope: CloudEvent
) -> None:
    await requests.ticket_merged(
        uow,
        ticket_id=payload.ticket_id,
        into_ticket_id=payload.into_ticket_id,
        version=payload.version,
        actor=requests.intake_event(envelope.id),
    )


@handlers.on(EntitlementDetermined)
async def apply_entitlement(uow: UnitOfWork, payload: EntitlementDetermined, envelope: CloudEvent) -> None:
    if payload.ticket_id is None:
        return
    await store.lock_ticket(uow, payload.ticket_id)
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
    if billing is None:
        await store.add_note(
            uow,
            work_order_id,
            kind="not_covered",
            text=f"warranty does not cover it ({payload.billing}): the customer agrees a price first",
        )
        return
    at = uow.now()

    def act(order: WorkOrder) -> None:
        if order.is_open:
            order.apply_entitlement(billing, at=at, actor=Actor.system("warranty"))

    await commands.change_work_order(uow, work_order_id, act)


@handlers.on(UnitRegistered)
async def keep_registered_unit(uow: UnitOfWork, payload: UnitRegistered, envelope: CloudEvent) -> None:
    await store.keep_unit(uow, payload.serial_number, _unit_values(payload.version, payload.unit))


@handlers.on(UnitUpdated)
async def keep_updated_unit(uow: UnitOfWork, payload: UnitUpdated, envelope: CloudEvent) -> None:
    await store.keep_unit(uow, payload.serial_number, _unit_values(payload.version, payload.unit))


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


@handlers.on(StockChanged)
async def keep_van_stock(uow: UnitOfWork, payload: StockChanged, envelope: CloudEvent) -> None:
    if payload.location.kind != "van":
        return  # only what a technician carries changes who is sent
    await store.keep_van_stock(
        uow,
        location_id=payload.location.location_id,
        part_number=payload.part_number,
        on_hand=payload.on_hand,
        reserved=payload.reserved,
        available=payload.available,
        version=payload.sequence,
        changed_at=payload.changed_at,
    )


def _unit_values(version: int, unit: UnitFacts) -> dict[str, object]:
    return {
        "version": version,
        "model_code": unit.model_code,
        "product_line": unit.product_line,
        "model_grade": unit.model_grade,
        "customer_id": unit.customer_id,
        "installer_id": unit.installer_id,
        "warranty_starts_on": unit.warranty_starts_on,
        "repair_coverage_ends_on": unit.repair_coverage_ends_on,
    }
