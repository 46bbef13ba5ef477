"""Maintenance plans: create and cancel them, and the durable timer that requests each visit as a work
order ahead of time (once per visit, whatever the timer or a retry does)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from dispatch import commands, store
from dispatch.domain.maintenance import MaintenancePlan, next_request_on, open_visit, visits_to_request
from dispatch.domain.network import counted_on
from dispatch.domain.technicians import certifications_required
from dispatch.domain.values import Actor
from dispatch.domain.work_orders import UnitRef, WorkOrder, WorkOrderState
from dispatch.settings import dispatch_settings
from kit.db import UnitOfWork
from kit.domain import DomainError
from kit.scheduler import Timer

PLANNER = Actor.system("maintenance-plans")
_NOT_UNDER_WAY = frozenset(
    {WorkOrderState.NEW, WorkOrderState.SCHEDULED, WorkOrderState.ASSIGNED, WorkOrderState.ACCEPTED}
)
_VISIT_IDS = uuid.UUID("5b0f4c59-7f4e-4d1c-9a55-0d4be1c9e3a7")


def visit_work_order_id(plan_id: str, sequence: int) -> str:
    """The same visit always gets the same work order id."""
    return str(uuid.uuid5(_VISIT_IDS, f"{plan_id}:{sequence}"))


async def plan_of(uow: UnitOfWork, row: Mapping[Any, Any]) -> MaintenancePlan:
    site = await commands.site_of(uow, row["region_id"], row["site"])
    return MaintenancePlan(
        id=row["id"],
        unit=UnitRef(row["serial_number"], row["model_code"], row["model_grade"], row["installer_id"]),
        product_line=row["product_line"],
        customer_id=row["customer_id"],
        site=site,
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        every_months=row["every_months"],
        visit_minutes=row["visit_minutes"],
        tolerance_days=row["tolerance_days"],
        lead_days=row["lead_days"],
        active=bool(row["active"]),
        cancelled_at=row["cancelled_at"],
        cancel_reason=row["cancel_reason"],
    )


async def create_plan(
    uow: UnitOfWork,
    *,
    serial_number: str,
    customer_id: str,
    product_line: str,
    region_id: str,
    address: dict[str, Any],
    starts_on: date | None,
    ends_on: date | None,
    every_months: int,
    visit_minutes: int,
    tolerance_days: int,
    lead_days: int,
    model_code: str | None,
    model_grade: str | None,
    actor: Actor,
) -> MaintenancePlan:
    """A plan for a unit. The period defaults to the unit's warranty as warranty registered it; the first
    visits due within the lead time are requested at once (by the plan's timer, due now)."""
    unit = await commands.unit_of(uow, serial_number, model=model_code, model_grade=model_grade)
    registered = await store.unit(uow, serial_number)
    starts_on = starts_on or (registered["warranty_starts_on"] if registered else None)
    ends_on = ends_on or (registered["repair_coverage_ends_on"] if registered else None)
    if starts_on is None or ends_on is None:
        raise DomainError(
            "give the plan's period: warranty has not told dispatch this unit's warranty period",
            code="maintenance-period-unknown",
        )
    unit = unit or UnitRef(serial_number, model_code, model_grade)
    plan = MaintenancePlan(
        id=str(uuid.uuid4()),
        unit=unit,
        product_line=product_line,
        customer_id=customer_id,
        site=await commands.site_of(uow, region_id, address),
        starts_on=starts_on,
        ends_on=ends_on,
        every_months=every_months,
        visit_minutes=visit_minutes,
        tolerance_days=tolerance_days,
        lead_days=lead_days,
    )
    await store.add_plan(
        uow,
        {
            "id": plan.id,
            "customer_id": customer_id,
            "serial_number": serial_number,
            "model_code": unit.model,
            "model_grade": unit.model_grade,
            "installer_id": unit.installer_technician_id,
            "product_line": product_line,
            "region_id": region_id,
            "site": address,
            "starts_on": plan.starts_on,
            "ends_on": plan.ends_on,
            "every_months": plan.every_months,
            "visit_minutes": plan.visit_minutes,
            "tolerance_days": plan.tolerance_days,
            "lead_days": plan.lead_days,
            "active": True,
            "created_at": uow.now(),
            "created_by": actor.id,
        },
    )
    uow.audit(actor=actor.id, action="create", entity_type="maintenance_plan", entity_id=plan.id)
    await _set_timer(uow, plan, requested=())
    return plan


async def cancel_plan(uow: UnitOfWork, plan_id: str, *, reason: str, actor: Actor) -> MaintenancePlan:
    """No more visits; the visits requested but not yet under way are cancelled with it."""
    row = await store.plan(uow, plan_id, for_update=True)
    plan = await plan_of(uow, row)
    if not plan.active:
        return plan
    now = uow.now()
    plan = plan.cancel(reason=reason, at=now)
    await store.save_plan(
        uow, plan_id, {"active": False, "cancelled_at": plan.cancelled_at, "cancel_reason": reason}
    )
    await store.set_plan_timer(uow, plan_id, None)
    for visit in await store.visits(uow, plan_id):
        order, _ = await store.load_work_order(uow, visit["work_order_id"])
        if order.state in _NOT_UNDER_WAY:
            await commands.change_work_order(
                uow,
                order.id,
                lambda o: o.cancel(reason=f"maintenance plan cancelled: {reason}", at=now, actor=actor),
            )
    uow.audit(
        actor=actor.id, action="cancel", entity_type="maintenance_plan", entity_id=plan_id, reason=reason
    )
    return plan


async def request_due_visits(uow: UnitOfWork, timer: Timer) -> None:
    """The plan's timer: open a work order for every visit due within the lead time and not requested
    yet, then set the timer for the next one."""
    plan_id = str(timer.payload.get("plan_id") or timer.key)
    row = await store.plan(uow, plan_id, for_update=True)
    plan = await plan_of(uow, row)
    now = uow.now()
    requested = {v["sequence"] for v in await store.visits(uow, plan_id)}
    for request in visits_to_request(plan, today=now.date(), already_requested=requested):
        work_order_id = visit_work_order_id(plan.id, request.sequence)
        if not await store.add_visit(
            uow,
            plan_id=plan.id,
            sequence=request.sequence,
            due_on=request.due_on,
            work_order_id=work_order_id,
        ):
            continue
        policy, calendar = counted_on(await store.region_calendar(uow, plan.site.region_id))
        order: WorkOrder = open_visit(
            plan,
            request,
            work_order_id=work_order_id,
            at=now,
            actor=PLANNER,
            policy=policy,
            calendar=calendar,
            required_certifications=certifications_required(
                plan.product_line, (), dispatch_settings().required_certifications
            ),
        )
        await commands.add_opened(
            uow,
            order,
            address=row["site"],
            facts={"maintenance_visit": request.sequence, "due_on": request.due_on.isoformat()},
        )
        requested.add(request.sequence)
    await _set_timer(uow, plan, requested=requested)


async def _set_timer(uow: UnitOfWork, plan: MaintenancePlan, *, requested: Iterable[int]) -> None:
    day = next_request_on(plan, already_requested=requested)
    due = None if day is None else max(uow.now(), datetime.combine(day, time(0), UTC))
    await store.set_plan_timer(uow, plan.id, due)
