"""Use cases shared by the API and the event handlers: load the facts, apply the rules, save, emit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.common import Actor
from contracts.warranty import EntitlementDetermined
from kit.db import UnitOfWork
from kit.domain import NotFound
from warranty import events, store
from warranty.domain import (
    Entitlement,
    FaultCause,
    ProductModel,
    RegisteredUnit,
    ReportedFault,
    WarrantyPolicy,
    decide_entitlement,
)
from warranty.domain.claims import AppraisalContext, Claim, ClaimState, appraise

#: the statutory rules (15/30 days, 24 months) for a product the catalogue does not know
STATUTORY_POLICY = WarrantyPolicy(
    policy_id="statutory", version=1, effective_from=date(1970, 1, 1), line_code="unknown"
)


@dataclass(frozen=True)
class Decision:
    entitlement: Entitlement
    policy: WarrantyPolicy
    unit: RegisteredUnit | None
    model: ProductModel | None
    cause: FaultCause


async def decide(
    conn: AsyncConnection,
    *,
    serial: str | None,
    model_code: str | None,
    at: date,
    fault_code: str | None,
    cause: FaultCause = FaultCause.UNKNOWN,
    stated_purchase_on: date | None = None,
    travel_km: Decimal = Decimal(0),
) -> Decision:
    """The entitlement for a serial (or a model and a stated purchase date) on ``at``."""
    found = await store.get_unit(conn, serial) if serial else None
    unit = found[0] if found else None
    code = unit.model_code if unit else model_code
    model = await store.get_model(conn, code) if code else None
    policy = STATUTORY_POLICY
    if model is not None:
        try:
            policy = await store.policy_for(conn, model, unit.sold_on if unit else (stated_purchase_on or at))
        except NotFound:
            policy = STATUTORY_POLICY
    fault = ReportedFault(fault_code, cause=cause, travel_km=travel_km)
    if model is not None and fault_code:
        line = await store.get_line(conn, model.line_code)
        standard = model.standard_repair(fault_code, line)
        if standard is not None:
            fault = ReportedFault.typical_of(standard, cause=cause, travel_km=travel_km)
    contracts = await store.contracts_for(conn, unit.serial) if unit else []
    repairs = await store.repairs_for(conn, unit.serial) if unit else []
    entitlement = decide_entitlement(
        unit,
        policy,
        at,
        fault,
        contracts,
        serial=serial,
        model_code=code,
        stated_purchase_on=stated_purchase_on,
        repairs=repairs,
    )
    return Decision(entitlement, policy, unit, model, cause)


async def record_decision(
    uow: UnitOfWork,
    decision: Decision,
    *,
    ticket_id: str | None,
    customer_id: str | None,
    dealer_id: str | None,
) -> EntitlementDetermined:
    """Keep the decision and emit ``warranty.entitlement.determined.v1`` (returned)."""
    entitlement_id = str(uuid.uuid4())
    unit = decision.unit
    payload = events.entitlement_determined(
        decision.entitlement,
        entitlement_id=entitlement_id,
        policy=decision.policy,
        cause=decision.cause,
        ticket_id=ticket_id,
        customer_id=unit.customer_id if unit else customer_id,
        dealer_id=unit.dealer_id if unit else dealer_id,
        at=uow.now(),
    )
    await store.record_entitlement(
        uow.conn,
        entitlement_id=entitlement_id,
        ticket_id=ticket_id,
        serial=decision.entitlement.serial,
        decided_on=decision.entitlement.decided_on,
        coverage=payload.coverage,
        decision=payload.model_dump(mode="json"),
        at=uow.now(),
    )
    uow.emit(payload)
    return payload


async def submit_claim(
    uow: UnitOfWork, claim: Claim, *, version: int, claim_number: str, origin: str, by: Actor
) -> int:
    """Submit (or resubmit) a claim, appraise it at once, save it and emit its events."""
    now = uow.now()
    if claim.state is ClaimState.RETURNED_FOR_INFORMATION:
        claim.resubmit(at=now, actor=by.id or by.kind)
    else:
        claim.submit(at=now, actor=by.id or by.kind)
    model_code = await appraise_claim(uow, claim)
    version = await store.update_claim(uow.conn, claim, version=version, at=now)
    for payload in events.claim_events(
        claim, claim_number=claim_number, version=version, origin=origin, by=by, model_code=model_code
    ):
        uow.emit(payload)
    return version


async def appraise_claim(uow: UnitOfWork, claim: Claim) -> str:
    """Run the automatic appraisal on a submitted claim; returns the unit's model code."""
    conn = uow.conn
    found = await store.get_unit(conn, claim.serial)
    unit = found[0] if found else None
    model_code = unit.model_code if unit else (claim.model_code or "unknown")
    model = await store.get_model(conn, model_code)
    policy: WarrantyPolicy | None = None
    line = None
    if model is not None and unit is not None:
        line = await store.get_line(conn, model.line_code)
        try:
            policy = await store.policy_for(conn, model, unit.sold_on)
        except NotFound:
            policy = None
    old_serials = [p.old_part_serial for p in claim.parts if p.old_part_serial]
    context = AppraisalContext(
        on=uow.now().date(),
        unit=unit,
        policy=policy,
        model=model,
        line=line,
        contracts=await store.contracts_for(conn, claim.serial),
        other_claims=[
            c for c in await store.claims_for_serial(conn, claim.serial) if c.claim_id != claim.claim_id
        ],
        returns=await store.part_returns_for(conn, old_serials),
    )
    claim.apply_appraisal(appraise(claim, context), at=uow.now(), actor=events.AUTOMATIC)
    return model_code
