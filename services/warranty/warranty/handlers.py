"""Inbound events -> warranty operations: entitlements for tickets; installations, repairs and claims
from completed work orders; old-part returns for appraisal."""

from __future__ import annotations

import logging

from contracts.dispatch import WorkOrderCompleted
from contracts.envelope import CloudEvent
from contracts.intake import TicketCreated
from contracts.inventory import ReturnInspected, ReturnReceived
from kit.db import UnitOfWork
from kit.domain import DomainError
from messaging.consumer import EventHandlers
from warranty import operations, store

log = logging.getLogger(__name__)

handlers: EventHandlers[UnitOfWork] = EventHandlers()


@handlers.on(TicketCreated)
async def determine_entitlement_for_ticket(
    uow: UnitOfWork, payload: TicketCreated, envelope: CloudEvent
) -> None:
    details = payload.details
    try:
        decision = await operations.decide(
            uow.conn,
            serial=details.product.serial_number,
            model_code=details.product.model_code,
            at=payload.opened_at.date(),
            fault_code=None,
            stated_purchase_on=details.purchase_date,
        )
    except DomainError as exc:
        log.warning("no entitlement for ticket %s: %s", payload.ticket_id, exc)
        return
    await operations.record_decision(
        uow,
        decision,
        ticket_id=payload.ticket_id,
        customer_id=details.customer_id,
        dealer_id=payload.dealer_id,
    )


@handlers.on(WorkOrderCompleted)
async def record_completed_work(uow: UnitOfWork, payload: WorkOrderCompleted, envelope: CloudEvent) -> None:
    serial = payload.product.serial_number
    if serial is None:
        return
    if payload.type == "installation":
        await operations.record_installation_from_work_order(
            uow,
            serial=serial,
            model_code=payload.product.model_code,
            customer_id=payload.customer_id,
            dealer_id=payload.dealer_id,
            installed_on=payload.completed_at.date(),
            installer_id=payload.technician_id,
            work_order_id=payload.work_order_id,
        )
    if payload.fault_code is not None:
        await operations.record_completed_repair(uow, payload, serial)


@handlers.on(ReturnReceived)
async def record_old_part_received(uow: UnitOfWork, payload: ReturnReceived, envelope: CloudEvent) -> None:
    if payload.part_serial is None:
        return
    await store.record_part_return(
        uow.conn,
        old_part_serial=payload.part_serial,
        return_id=payload.return_id,
        part_number=payload.part_number,
        claim_id=payload.claim_id,
        work_order_id=payload.work_order_id,
        received_on=payload.received_at.date(),
    )


@handlers.on(ReturnInspected)
async def record_old_part_inspected(uow: UnitOfWork, payload: ReturnInspected, envelope: CloudEvent) -> None:
    if payload.part_serial is None:
        return
    await store.record_part_return(
        uow.conn,
        old_part_serial=payload.part_serial,
        return_id=payload.return_id,
        part_number=payload.part_number,
        claim_id=payload.claim_id,
        work_order_id=payload.work_order_id,
        inspected_on=payload.inspected_at.date(),
        outcome=payload.outcome,
        fault_confirmed=payload.fault_confirmed,
    )
