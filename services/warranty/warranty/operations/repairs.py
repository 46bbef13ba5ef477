"""Completed repairs from dispatch's work orders: repeat failures that earn a replacement, and the
claims of service points for covered work."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.dispatch import WorkOrderCompleted
from kit.db import UnitOfWork
from kit.domain import Money, NotFound
from warranty import events, store
from warranty.domain import (
    Catalogue,
    ProductModel,
    RegisteredUnit,
    RepairEvent,
    WarrantyPolicy,
    replacement_earned_by,
)
from warranty.domain.claims import Claim, RepairRecord, ReplacedPart
from warranty.operations.claims import submit_claim
from warranty.operations.entitlements import STATUTORY_POLICY


async def record_completed_repair(uow: UnitOfWork, payload: WorkOrderCompleted, serial: str) -> None:
    """A completed repair (a work order with a fault code): count it for repeat failures and, for
    covered work a service point did, open the dealer's claim and submit it (counted once per work
    order, however often the event arrives)."""
    assert payload.fault_code is not None
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
    repaired = await _repaired_unit(uow.conn, payload, serial)
    await _check_repeat_failure(uow, payload, repaired)
    if (
        payload.performed_by == "service_point"
        and payload.billing in ("warranty", "contract")
        and payload.dealer_id
    ):
        await _open_claim_for(uow, payload, repaired)


@dataclass(frozen=True)
class _RepairedUnit:
    """The repaired serial as warranty knows it: its registration (if any), model and the policy it is
    under (the statutory terms when the unit or its model is unknown)."""

    serial: str
    unit: RegisteredUnit | None
    model_code: str | None
    model: ProductModel | None
    catalogue: Catalogue
    policy: WarrantyPolicy


async def _repaired_unit(conn: AsyncConnection, payload: WorkOrderCompleted, serial: str) -> _RepairedUnit:
    found = await store.get_unit(conn, serial)
    unit = found[0] if found else None
    model_code = unit.model_code if unit else payload.product.model_code
    catalogue = await store.catalogue(conn)
    model = catalogue.model(model_code)
    policy = STATUTORY_POLICY
    if model is not None and unit is not None:
        with contextlib.suppress(NotFound):
            policy = catalogue.policy_for(model, unit.sold_on)
    return _RepairedUnit(serial, unit, model_code, model, catalogue, policy)


async def _check_repeat_failure(
    uow: UnitOfWork, payload: WorkOrderCompleted, repaired: _RepairedUnit
) -> None:
    assert payload.fault_code is not None
    conn = uow.conn
    serial, unit = repaired.serial, repaired.unit
    rule = repaired.policy.repeat_failure
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
            model=repaired.model,
            model_code=repaired.model_code or "unknown",
            customer_id=unit.customer_id if unit else payload.customer_id,
            dealer_id=unit.dealer_id if unit else payload.dealer_id,
            ticket_id=payload.ticket_id,
            window_days=rule.within_days,
            first_repair_at=min(times, default=payload.completed_at),
            latest_repair_at=payload.completed_at,
            at=uow.now(),
        )
    )


async def _open_claim_for(uow: UnitOfWork, payload: WorkOrderCompleted, repaired: _RepairedUnit) -> None:
    assert payload.dealer_id is not None
    assert payload.fault_code is not None
    model, catalogue = repaired.model, repaired.catalogue
    pricing = repaired.policy.pricing
    standard = (
        model.standard_repair(payload.fault_code, catalogue.line_of(model)) if model is not None else None
    )
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
        serial=repaired.serial,
        record=record,
        parts=parts,
        at=uow.now(),
        actor=events.AUTOMATIC,
        model_code=repaired.model_code,
        customer_signature_ref=payload.customer_signature.attachment_id
        if payload.customer_signature
        else None,
        photo_refs=[p.attachment_id for p in payload.photos],
    )
    await store.insert_claim(uow.conn, claim, origin="work_order", at=uow.now())
    await submit_claim(
        uow,
        claim,
        version=1,
        claim_number=store.new_claim_number(claim.claim_id),
        origin="work_order",
        by=events.SYSTEM,
    )
