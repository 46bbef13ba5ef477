"""Inbound events -> warranty operations: entitlements for tickets, repairs and claims from work orders,
old-part returns for appraisal."""

from __future__ import annotations

import contextlib
import logging
import uuid
from decimal import Decimal

from contracts.dispatch import WorkOrderCompleted
from contracts.envelope import CloudEvent
from contracts.intake import TicketCreated
from contracts.inventory import ReturnInspected, ReturnReceived
from kit.db import UnitOfWork
from kit.domain import DomainError, Money, NotFound
from messaging.consumer import EventHandlers
from warranty import events, operations, store
from warranty.domain import RepairEvent, RepeatFailureRule, replacement_earned_by
from warranty.domain.claims import Claim, RepairRecord, ReplacedPart

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
async def record_completed_repair(uow: UnitOfWork, payload: WorkOrderCompleted, envelope: CloudEvent) -> None:
    serial = payload.product.serial_number
    if serial is None or payload.fault_code is None:
        return  # installations and maintenance are not repairs
    repaired_on = payload.completed_at.date()
    fresh = await store.add_repair(
        uow.conn,
        work_order_id=payload.work_order_id,
        serial=serial,
        model_code=payload.product.model_code,
        fault_code=payload.fault_code,
        repaired_on=repaired_on,
        dealer_id=payload.dealer_id,
        ticket_id=payload.ticket_id,
        part_numbers=[p.part_number for p in payload.parts_used],
        completed_at=payload.completed_at,
    )
    if not fresh:
        return
    await _check_repeat_failure(uow, payload, serial)
    if (
        payload.performed_by == "service_point"
        and payload.billing in ("warranty", "contract")
        and payload.dealer_id
    ):
        await _open_claim_for(uow, payload, serial)


async def _check_repeat_failure(uow: UnitOfWork, payload: WorkOrderCompleted, serial: str) -> None:
    assert payload.fault_code is not None
    conn = uow.conn
    found = await store.get_unit(conn, serial)
    unit = found[0] if found else None
    model_code = unit.model_code if unit else payload.product.model_code
    model = await store.get_model(conn, model_code) if model_code else None
    rule = RepeatFailureRule()
    if model is not None and unit is not None:
        with contextlib.suppress(NotFound):
            rule = (await store.policy_for(conn, model, unit.sold_on)).repeat_failure
    repair = RepairEvent(payload.completed_at.date(), payload.fault_code, payload.work_order_id)
    history = [r for r in await store.repairs_for(conn, serial) if r.work_order_id != payload.work_order_id]
    earned = replacement_earned_by(history, repair, rule)
    if earned is None:
        return
    since = earned.first_repair_on
    if await store.replacement_already_earned(conn, serial=serial, fault_code=earned.fault_code, since=since):
        return
    ids = [r.work_order_id for r in earned.repairs if r.work_order_id]
    await store.record_replacement(
        conn, serial=serial, fault_code=earned.fault_code, earned_on=earned.earned_on, work_order_ids=ids
    )
    times = await store.repair_times(conn, ids)
    uow.emit(
        events.replacement_eligible(
            earned,
            serial=serial,
            model=model,
            model_code=model_code or "unknown",
            customer_id=unit.customer_id if unit else payload.customer_id,
            dealer_id=unit.dealer_id if unit else payload.dealer_id,
            ticket_id=payload.ticket_id,
            window_days=rule.within_days,
            first_repair_at=min(times, default=payload.completed_at),
            latest_repair_at=payload.completed_at,
            at=uow.now(),
        )
    )


async def _open_claim_for(uow: UnitOfWork, payload: WorkOrderCompleted, serial: str) -> None:
    assert payload.dealer_id is not None
    assert payload.fault_code is not None
    conn = uow.conn
    found = await store.get_unit(conn, serial)
    unit = found[0] if found else None
    model_code = unit.model_code if unit else payload.product.model_code
    model = await store.get_model(conn, model_code) if model_code else None
    pricing = operations.STATUTORY_POLICY.pricing
    if model is not None and unit is not None:
        with contextlib.suppress(NotFound):
            pricing = (await store.policy_for(conn, model, unit.sold_on)).pricing
    standard = model.standard_repair(payload.fault_code) if model is not None else None
    costs = {p.part_number: p.unit_cost for p in standard.typical_parts} if standard else {}
    old = {p.part_number: p.serial_number for p in payload.old_parts if p.return_required}
    km = Decimal(str(payload.travel_km or 0))
    repaired_on = payload.completed_at.date()
    record = RepairRecord(
        fault_code=payload.fault_code,
        cause=events.cause_of(payload.cause),
        failed_on=repaired_on,
        repaired_on=repaired_on,
        labour_minutes=payload.labour_minutes,
        labour_amount=pricing.labour_rate_per_hour.times(Decimal(payload.labour_minutes) / 60),
        actions=tuple(payload.actions),
        travel_km=km,
        travel_amount=pricing.travel_flat + pricing.travel_per_km.times(km)
        if payload.mode == "on_site"
        else None,
        work_order_id=payload.work_order_id,
    )
    parts = [
        ReplacedPart(
            part_number=p.part_number,
            amount=costs.get(p.part_number, Money.zero(pricing.currency)).times(p.quantity),
            old_part_serial=old.get(p.part_number),
            new_part_serial=p.serial_numbers[0] if p.serial_numbers else None,
            quantity=p.quantity,
        )
        for p in payload.parts_used
    ]
    claim = Claim.open(
        claim_id=str(uuid.uuid4()),
        dealer_id=payload.dealer_id,
        serial=serial,
        record=record,
        parts=parts,
        at=uow.now(),
        actor=events.AUTOMATIC,
        model_code=model_code,
        customer_signature_ref=payload.customer_signature.attachment_id
        if payload.customer_signature
        else None,
        photo_refs=[p.attachment_id for p in payload.photos],
    )
    await store.insert_claim(conn, claim, origin="work_order", at=uow.now())
    await operations.submit_claim(
        uow,
        claim,
        version=1,
        claim_number=store.new_claim_number(claim.claim_id),
        origin="work_order",
        by=events.SYSTEM,
    )


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
