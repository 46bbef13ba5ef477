"""Batch optimisation of the open backlog, and the service-level reports."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dispatch import commands, store
from dispatch.api.common import Dispatcher, actor_of
from dispatch.domain.appointments import Appointment
from dispatch.domain.assignment import Assignment, OptimiserSettings, PlanningProblem, optimise
from dispatch.domain.reports import (
    JobFact,
    Rate,
    ShiftFact,
    compliance_by_grade,
    first_time_fix_rate,
    utilisation,
    visit_fact,
)
from dispatch.domain.values import TimeWindow
from dispatch.domain.work_orders import WorkOrder
from dispatch.planning import crews_of, job_of, technician_of
from kit.deps import Db
from kit.domain import Conflict, DomainError

router = APIRouter(tags=["planning"])
_PLANNABLE = ["new", "scheduled", "assigned", "accepted"]


class OptimiseIn(BaseModel):
    day: date | None = Field(default=None, description="The day to plan (default: the rest of today)")
    region_id: Annotated[str, Field(max_length=64)] | None = None
    time_limit_seconds: Annotated[float, Field(gt=0, le=30)] = 1.7
    apply: bool = Field(default=True, description="Assign the plan's jobs (false: only propose)")


class PlannedVisit(BaseModel):
    work_order_id: str
    technician_id: str
    start: datetime
    end: datetime
    reasons: list[str]
    locked: bool


class OptimiseOut(BaseModel):
    assignments: list[PlannedVisit]
    unassigned: dict[str, list[str]]
    objective: float
    travel_minutes: int
    lateness_minutes: int
    applied: int


@router.post("/assignments/optimise")
async def optimise_backlog(body: OptimiseIn, db: Db, principal: Dispatcher) -> OptimiseOut:
    """Plan the open backlog; assignments a dispatcher locked stay with their technician."""
    actor = actor_of(principal)
    async with db.transaction() as uow:
        if not await store.lock_optimiser(uow):
            raise Conflict("another optimisation is running; try again shortly", code="optimiser-busy")
        now = uow.now()
        start = max(now, datetime.combine(body.day, time(0), tzinfo=UTC)) if body.day else now
        horizon = TimeWindow(start, datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=UTC))
        rows = await store.orders_in_states(uow, _PLANNABLE, region_id=body.region_id, without_dealer=True)
        # unassigned and locked jobs are planned; unlocked assigned ones keep their booking
        orders = [o for o in map(store.restore, rows) if o.technician_id is None or o.locked]
        own = await store.technicians(uow, own_only=True)
        crews = crews_of(
            own,
            at=start,
            absences=await store.absences(uow, start=horizon.start, end=horizon.end),
            bookings=await store.bookings(uow, start=horizon.start, end=horizon.end),
            planned=frozenset(o.id for o in orders),
            van_stock=await store.van_stock(uow, (r["van_location_id"] for r in own if r["van_location_id"])),
        )
        problem = PlanningProblem(horizon=horizon, jobs=tuple(job_of(o) for o in orders), crews=tuple(crews))
        settings = OptimiserSettings(time_limit=body.time_limit_seconds)
        plan = await asyncio.to_thread(optimise, problem, settings)
        by_id = {o.id: o for o in orders}
        applied = 0
        if body.apply:
            for visit in plan.assignments:
                order = by_id[visit.job_id]
                if order.technician_id == visit.technician_id:
                    continue

                def act(o: WorkOrder, v: Assignment = visit) -> None:
                    o.assign(
                        v.technician_id,
                        Appointment(TimeWindow(v.start, v.end)),
                        at=now,
                        actor=actor,
                        reasons=v.reasons,
                        cost=v.cost.as_pairs(),
                    )

                await commands.change_work_order(
                    uow, order.id, act, assignment_method="optimiser", actor=actor
                )
                applied += 1
    return OptimiseOut(
        assignments=[
            PlannedVisit(
                work_order_id=a.job_id,
                technician_id=a.technician_id,
                start=a.start,
                end=a.end,
                reasons=list(a.reasons),
                locked=a.locked,
            )
            for a in plan.assignments
        ],
        unassigned={k: list(v) for k, v in plan.unassigned.items()},
        objective=plan.objective,
        travel_minutes=plan.totals.travel_minutes,
        lateness_minutes=plan.totals.lateness_minutes,
        applied=applied,
    )


class RateOut(BaseModel):
    measured: int
    met: int
    rate: float | None


class GradeComplianceOut(BaseModel):
    grade: str
    arranged_in_time: RateOut
    on_site_in_time: RateOut
    fixed_in_time: RateOut


class ComplianceReport(BaseModel):
    period_from: date
    period_until: date
    by_grade: list[GradeComplianceOut]
    first_time_fix: RateOut


def _utc_days(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC days ``first``..``last``: from the start of the first to the start of the day after the last."""
    return (
        datetime.combine(first, time(0), tzinfo=UTC),
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC),
    )


@router.get("/reports/service_levels")
async def service_level_report(
    db: Db,
    _: Dispatcher,
    period_from: Annotated[date, Query(alias="from")],
    period_until: Annotated[date, Query(alias="until")],
) -> ComplianceReport:
    """Per region grade: arranged, on site and fixed in time; and the first-time-fix rate of repairs."""
    begin, end = _utc_days(period_from, period_until)
    async with db.transaction() as uow:
        now = uow.now()
        facts = [
            JobFact.of(store.restore(r))
            for r in await store.all_orders(uow, opened_from=begin, opened_until=end)
        ]

    def rate(r: Rate) -> RateOut:
        return RateOut(measured=r.measured, met=r.met, rate=r.rate)

    return ComplianceReport(
        period_from=period_from,
        period_until=period_until,
        by_grade=[
            GradeComplianceOut(
                grade=g.value,
                arranged_in_time=rate(c.arranged_in_time),
                on_site_in_time=rate(c.on_site_in_time),
                fixed_in_time=rate(c.fixed_in_time),
            )
            for g, c in compliance_by_grade(facts, now=now).items()
        ],
        first_time_fix=rate(first_time_fix_rate(facts)),
    )


class UtilisationOut(BaseModel):
    technician_id: str
    available_minutes: int = Field(description="Shift time less absences in the period")
    travel_minutes: int
    on_site_minutes: int
    rate: float | None = Field(description="Share of the available time spent travelling or on site")
    on_site_rate: float | None


class UtilisationReport(BaseModel):
    period_from: date
    period_until: date
    technicians: list[UtilisationOut]


@router.get("/reports/utilisation")
async def utilisation_report(
    db: Db,
    _: Dispatcher,
    period_from: Annotated[date, Query(alias="from")],
    period_until: Annotated[date, Query(alias="until")],
) -> UtilisationReport:
    """Per active technician over the days ``from``..``until`` (UTC days, at most 92): the time they could
    work, and how much of it went to travelling to and working at the visits they finished."""
    if period_until < period_from or (period_until - period_from).days > 92:
        raise DomainError("the period runs forward, 93 days at most", code="bad-period")
    period = TimeWindow(*_utc_days(period_from, period_until))
    async with db.transaction() as uow:
        absences = await store.absences(uow, start=period.start, end=period.end)
        technicians = [
            technician_of(r, [a for a in absences if a["technician_id"] == r["id"]])
            for r in await store.technicians(uow)
            if r["active"]
        ]
        finished = [
            store.restore(r)
            for r in await store.finished_visits(uow, finished_from=period.start, finished_until=period.end)
        ]
    zones = {tech.id: tech.timezone for tech in technicians}
    shifts = [
        ShiftFact(
            tech.id,
            period_from,
            sum(int(w.duration.total_seconds() // 60) for w in tech.working_windows(period)),
        )
        for tech in technicians
    ]
    visits = [v for o in finished if (v := visit_fact(o, zones.get(o.technician_id or "", "UTC")))]
    return UtilisationReport(
        period_from=period_from,
        period_until=period_until,
        technicians=[
            UtilisationOut(
                technician_id=u.technician_id,
                available_minutes=u.available_minutes,
                travel_minutes=u.travel_minutes,
                on_site_minutes=u.on_site_minutes,
                rate=u.rate,
                on_site_rate=u.on_site_rate,
            )
            for u in utilisation(shifts, visits).values()
        ],
    )
