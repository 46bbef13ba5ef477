"""Preventive maintenance plans: a visit every few months while the unit is covered, requested as a work
order well ahead of time so it can be planned with the customer."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from dispatch.domain.calendar import ALWAYS_OPEN, WorkingCalendar
from dispatch.domain.network import DEFAULT_SERVICE_LEVELS, ServiceLevelPolicy
from dispatch.domain.values import Actor, Priority, TimeWindow, WorkOrderType, ensure_utc
from dispatch.domain.work_orders import Site, UnitRef, WorkOrder
from kit.domain import DomainError


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MaintenancePlan:
    """Visits every ``every_months`` from ``starts_on`` (installation or sale) up to ``ends_on`` (end of
    warranty or contract). Each visit may happen ``tolerance_days`` either side of its due date and is
    requested ``lead_days`` before it."""

    id: str
    unit: UnitRef
    product_line: str
    customer_id: str
    site: Site
    starts_on: date
    ends_on: date
    every_months: int = 3
    visit_minutes: int = 45
    tolerance_days: int = 7
    lead_days: int = 30
    active: bool = True
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    def __post_init__(self) -> None:
        if self.every_months < 1:
            raise DomainError(
                "maintenance visits are at least a month apart", code="bad-maintenance-interval"
            )
        if self.ends_on <= self.starts_on:
            raise DomainError("a maintenance plan ends after it starts", code="bad-maintenance-period")
        if self.lead_days < 0 or self.tolerance_days < 0 or self.visit_minutes <= 0:
            raise DomainError(
                "lead time and tolerance cannot be negative, and a visit takes some time",
                code="bad-maintenance-timing",
            )

    def cancel(self, *, reason: str, at: datetime) -> MaintenancePlan:
        """No more visits are requested. Cancelling a cancelled plan changes nothing."""
        if not self.active:
            return self
        return replace(self, active=False, cancelled_at=ensure_utc(at), cancel_reason=reason)

    def due_dates(self) -> list[date]:
        """Every visit's due date, in order (the first one interval after the start)."""
        dates = []
        n = 1
        while (due := add_months(self.starts_on, n * self.every_months)) <= self.ends_on:
            dates.append(due)
            n += 1
        return dates


@dataclass(frozen=True)
class VisitRequest:
    """One planned visit to open as a work order. ``key`` is stable, so requesting twice opens one order."""

    plan_id: str
    sequence: int
    due_on: date
    window: TimeWindow
    overdue: bool

    @property
    def key(self) -> str:
        return f"{self.plan_id}:{self.sequence}"


def visits_to_request(
    plan: MaintenancePlan, *, today: date, already_requested: Iterable[int] = ()
) -> list[VisitRequest]:
    """The visits that should exist as work orders by ``today``: due within the lead time, not requested
    yet (by sequence number). A visit whose window has passed without a request is still requested,
    marked overdue, so a missed quarter is caught up rather than silently skipped."""
    if not plan.active:
        return []
    done = set(already_requested)
    horizon = today + timedelta(days=plan.lead_days)
    requests = []
    for sequence, due in enumerate(plan.due_dates(), start=1):
        if due > horizon:
            break
        if sequence in done:
            continue
        earliest = max(due - timedelta(days=plan.tolerance_days), today)
        latest = max(due + timedelta(days=plan.tolerance_days), earliest + timedelta(days=1))
        window = TimeWindow(
            datetime.combine(earliest, time(0), UTC),
            datetime.combine(latest, time(0), UTC) + timedelta(days=1),
        )
        overdue = due + timedelta(days=plan.tolerance_days) < today
        requests.append(VisitRequest(plan.id, sequence, due, window, overdue))
    return requests


def next_request_on(plan: MaintenancePlan, *, already_requested: Iterable[int] = ()) -> date | None:
    """The day the next visit not requested yet must be requested (its due date less the lead time), or
    ``None`` when every visit is requested or the plan is cancelled."""
    if not plan.active:
        return None
    done = set(already_requested)
    for sequence, due in enumerate(plan.due_dates(), start=1):
        if sequence not in done:
            return due - timedelta(days=plan.lead_days)
    return None


def open_visit(
    plan: MaintenancePlan,
    request: VisitRequest,
    *,
    work_order_id: str,
    at: datetime,
    actor: Actor,
    policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS,
    calendar: WorkingCalendar = ALWAYS_OPEN,
    required_certifications: Iterable[str] = (),
) -> WorkOrder:
    """The preventive maintenance work order for ``request``, available across the visit's window."""
    at = ensure_utc(at)
    window = request.window if request.window.end > at else TimeWindow(at, at + timedelta(days=2))
    return WorkOrder.open(
        id=work_order_id,
        type=WorkOrderType.PREVENTIVE_MAINTENANCE,
        priority=Priority.NORMAL if request.overdue else Priority.LOW,
        site=plan.site,
        product_line=plan.product_line,
        at=at,
        actor=actor,
        customer_id=plan.customer_id,
        unit=plan.unit,
        estimated_minutes=plan.visit_minutes,
        availability=(window,),
        planned_until=window.end,
        maintenance_plan_id=plan.id,
        required_certifications=required_certifications,
        policy=policy,
        calendar=calendar,
    )
