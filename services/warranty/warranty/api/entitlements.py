"""Entitlement decisions: what the warranty covers for a unit on a day, and which remedies are open."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts import warranty as c
from kit.auth import Principal
from kit.dealers import ensure_visible
from kit.deps import Db
from warranty import events, operations
from warranty.api.common import AnyStaff
from warranty.domain import FaultCause

router = APIRouter(tags=["entitlements"])


class EntitlementOut(c.EntitlementDetermined):
    """The decision; ``entitlement_id`` is set when it was recorded (and announced)."""

    entitlement_id: str | None = None  # type: ignore[assignment]


class EntitlementIn(BaseModel):
    serial: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    model_code: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    purchase_date: date | None = Field(
        default=None, description="As stated, for a unit that is not registered"
    )
    at: date = Field(description="The failure or report date the decision is for")
    fault_code: Annotated[str, Field(max_length=40)] | None = None
    cause: FaultCause = FaultCause.UNKNOWN
    travel_km: Annotated[Decimal, Field(ge=0, le=10_000)] = Decimal(0)
    ticket_id: Annotated[str, Field(max_length=64)] | None = None
    customer_id: Annotated[str, Field(max_length=64)] | None = None


def _visible(decision: operations.Decision, principal: Principal, serial: str | None) -> None:
    if decision.unit is not None:
        ensure_visible(principal, decision.unit.dealer_id, f"unit {serial}")


@router.post("/entitlements", status_code=201)
async def determine_entitlement(body: EntitlementIn, db: Db, principal: AnyStaff) -> EntitlementOut:
    """Decide, record and announce (``warranty.entitlement.determined.v1``) an entitlement."""
    async with db.transaction() as uow:
        decision = await operations.decide(
            uow.conn,
            serial=body.serial,
            model_code=body.model_code,
            at=body.at,
            fault_code=body.fault_code,
            cause=body.cause,
            stated_purchase_on=body.purchase_date,
            travel_km=body.travel_km,
        )
        _visible(decision, principal, body.serial)
        recorded = await operations.record_decision(
            uow,
            decision,
            ticket_id=body.ticket_id,
            customer_id=body.customer_id,
            dealer_id=principal.dealer_id if principal.is_partner else None,
        )
    return EntitlementOut.model_validate(recorded.model_dump())


@router.get("/units/{serial}/entitlement", response_model=EntitlementOut)
async def entitlement_of_unit(
    serial: str,
    db: Db,
    principal: AnyStaff,
    at: Annotated[date, Query(description="The failure or report date")],
    fault: Annotated[str | None, Query(max_length=40, description="The fault code reported")] = None,
    cause: FaultCause = FaultCause.UNKNOWN,
) -> JSONResponse:
    """The decision for ``serial`` on ``at``, without recording it."""
    async with db.engine.connect() as conn:
        decision = await operations.decide(
            conn, serial=serial, model_code=None, at=at, fault_code=fault, cause=cause
        )
    _visible(decision, principal, serial)
    unit = decision.unit
    payload = events.entitlement_determined(
        decision.entitlement,
        entitlement_id="-",
        policy=decision.policy,
        cause=cause,
        ticket_id=None,
        customer_id=unit.customer_id if unit else None,
        dealer_id=unit.dealer_id if unit else None,
        at=db.clock.now(),
    )
    # validated once, as the event it would be (no second pass through the response model)
    return JSONResponse({**payload.model_dump(mode="json"), "entitlement_id": None})
