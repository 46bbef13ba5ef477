"""Entitlement decisions: one round trip for the unit and its history, the catalogue from memory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

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
    facts = await store.decision_facts(conn, serial)
    catalogue = await store.catalogue(conn, facts.catalogue_revision)
    unit = facts.unit
    code = unit.model_code if unit else model_code
    model = catalogue.model(code)
    policy = STATUTORY_POLICY
    if model is not None:
        try:
            policy = catalogue.policy_for(model, unit.sold_on if unit else (stated_purchase_on or at))
        except NotFound:
            policy = STATUTORY_POLICY
    fault = ReportedFault(fault_code, cause=cause, travel_km=travel_km)
    if model is not None and fault_code:
        standard = model.standard_repair(fault_code, catalogue.line_of(model))
        if standard is not None:
            fault = ReportedFault.typical_of(standard, cause=cause, travel_km=travel_km)
    entitlement = decide_entitlement(
        unit,
        policy,
        at,
        fault,
        facts.contracts,
        serial=serial,
        model_code=code,
        stated_purchase_on=stated_purchase_on,
        repairs=facts.repairs,
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
