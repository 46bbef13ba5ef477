"""Maintenance plans: preventive visits for a unit (e.g. quarterly while under warranty), each requested
as a work order ``lead_days`` before it is due."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from contracts.common import Address
from dispatch import maintenance, store
from dispatch.api.common import Id, Short, actor_of
from dispatch.domain.maintenance import MaintenancePlan, next_request_on
from dispatch.settings import dispatch_settings
from kit.auth import Principal, Role, require
from kit.db import UnitOfWork
from kit.deps import Db
from kit.idempotency import IdempotencyKey, run_idempotent
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["maintenance plans"])
Planner = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR))]
PlanReader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.AGENT))]


class PlanIn(BaseModel):
    serial_number: Id
    customer_id: Id
    product_line: Id
    region_id: Id
    site: Address
    model_code: Id | None = None
    model_grade: Annotated[str, Field(max_length=32)] | None = None
    starts_on: date | None = Field(
        default=None, description="Default: the start of the unit's warranty, as warranty registered it"
    )
    ends_on: date | None = Field(
        default=None, description="Default: the end of the unit's repair warranty, as warranty registered it"
    )
    every_months: Annotated[int, Field(ge=1, le=24)] = 3
    visit_minutes: Annotated[int, Field(ge=5, le=8 * 60)] = 45
    tolerance_days: Annotated[int, Field(ge=0, le=60)] = 7
    lead_days: Annotated[int, Field(ge=0, le=365)] | None = Field(
        default=None, description="Days before each due date its work order is opened (default: the setting)"
    )


class CancelPlanIn(BaseModel):
    reason: Short


class VisitOut(BaseModel):
    sequence: int
    due_on: date
    work_order_id: str
    requested_at: datetime


class PlanOut(BaseModel):
    id: str
    serial_number: str
    customer_id: str
    product_line: str
    region_id: str
    site: dict[str, Any]
    starts_on: date
    ends_on: date
    every_months: int
    visit_minutes: int
    tolerance_days: int
    lead_days: int
    active: bool
    cancelled_at: datetime | None
    cancel_reason: str | None
    due_dates: list[date]
    next_request_on: date | None = Field(
        description="When the next visit not yet requested becomes a work order"
    )
    visits: list[VisitOut]


async def _plan_out(uow: UnitOfWork, plan_id: str) -> PlanOut:
    row = await store.plan(uow, plan_id)
    plan: MaintenancePlan = await maintenance.plan_of(uow, row)
    visits = await store.visits(uow, plan_id)
    return PlanOut(
        id=plan.id,
        serial_number=plan.unit.serial,
        customer_id=plan.customer_id,
        product_line=plan.product_line,
        region_id=row["region_id"],
        site=row["site"],
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        every_months=plan.every_months,
        visit_minutes=plan.visit_minutes,
        tolerance_days=plan.tolerance_days,
        lead_days=plan.lead_days,
        active=plan.active,
        cancelled_at=plan.cancelled_at,
        cancel_reason=plan.cancel_reason,
        due_dates=plan.due_dates(),
        next_request_on=next_request_on(plan, already_requested=[v["sequence"] for v in visits]),
        visits=[
            VisitOut(
                sequence=v["sequence"],
                due_on=v["due_on"],
                work_order_id=v["work_order_id"],
                requested_at=v["requested_at"],
            )
            for v in visits
        ],
    )


@router.post("/maintenance_plans", status_code=201)
async def create_plan(
    body: PlanIn, request: Request, db: Db, principal: Planner, key: IdempotencyKey = None
) -> Response:
    """A preventive maintenance plan for a unit. Each visit becomes a work order ``lead_days`` before its
    due date (once: a visit is never requested twice); visits already within the lead time are requested
    right away."""

    async def create(uow: UnitOfWork) -> PlanOut:
        plan = await maintenance.create_plan(
            uow,
            serial_number=body.serial_number,
            customer_id=body.customer_id,
            product_line=body.product_line,
            region_id=body.region_id,
            address=body.site.model_dump(mode="json"),
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            every_months=body.every_months,
            visit_minutes=body.visit_minutes,
            tolerance_days=body.tolerance_days,
            lead_days=body.lead_days
            if body.lead_days is not None
            else dispatch_settings().maintenance_lead_days,
            model_code=body.model_code,
            model_grade=body.model_grade,
            actor=actor_of(principal),
        )
        return await _plan_out(uow, plan.id)

    return await run_idempotent(request, db, key, create)


@router.get("/maintenance_plans")
async def list_plans(
    db: Db,
    _: PlanReader,
    limit: Limit = 50,
    cursor: Cursor = None,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    serial_number: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
) -> Page[PlanOut]:
    after = decode_cursor(cursor)
    async with db.transaction() as uow:
        rows = await store.list_plans(
            uow,
            customer_id=customer_id,
            serial_number=serial_number,
            active=active,
            after=str(after[0]) if after else None,
            limit=limit + 1,
        )
        plans = [await _plan_out(uow, r["id"]) for r in rows]
    return page_of(plans, limit, lambda p: (p.id,))


@router.get("/maintenance_plans/{plan_id}")
async def get_plan(plan_id: str, db: Db, _: PlanReader) -> PlanOut:
    async with db.transaction() as uow:
        return await _plan_out(uow, plan_id)


@router.post("/maintenance_plans/{plan_id}/cancel")
async def cancel_plan(plan_id: str, body: CancelPlanIn, db: Db, principal: Planner) -> PlanOut:
    """No more visits; requested visits not yet under way are cancelled (cancelling twice changes nothing)."""
    async with db.transaction() as uow:
        await maintenance.cancel_plan(uow, plan_id, reason=body.reason, actor=actor_of(principal))
        return await _plan_out(uow, plan_id)
