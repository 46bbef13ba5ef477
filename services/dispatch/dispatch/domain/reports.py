"""Service-level compliance, first-time fix and utilisation, computed from plain facts (the store reads
them; nothing here queries anything)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dispatch.domain.network import RegionGrade
from dispatch.domain.values import WorkOrderType, ensure_utc
from dispatch.domain.work_orders import WorkOrder, WorkOrderState


@dataclass(frozen=True)
class JobFact:
    """What the reports need of one work order."""

    work_order_id: str
    type: WorkOrderType
    grade: RegionGrade
    state: WorkOrderState
    technician_id: str | None
    arrange_by: datetime
    arranged_at: datetime | None
    on_site_by: datetime | None
    arrived_at: datetime | None
    fix_by: datetime | None
    finished_at: datetime | None
    first_time_fix: bool | None

    @classmethod
    def of(cls, order: WorkOrder) -> JobFact:
        return cls(
            work_order_id=order.id,
            type=order.type,
            grade=order.site.grade,
            state=order.state,
            technician_id=order.technician_id,
            arrange_by=order.deadlines.arrange_by,
            arranged_at=order.arranged_at,
            on_site_by=order.deadlines.on_site_by,
            arrived_at=order.arrived_at,
            fix_by=order.deadlines.fix_by,
            finished_at=order.finished_at,
            first_time_fix=order.report.first_time_fix if order.report else None,
        )


@dataclass(frozen=True)
class Rate:
    """``met`` of ``measured``; ``rate`` is ``None`` when nothing was measured."""

    measured: int = 0
    met: int = 0

    @property
    def rate(self) -> float | None:
        return self.met / self.measured if self.measured else None

    def add(self, met: bool) -> Rate:
        return Rate(self.measured + 1, self.met + int(met))


@dataclass(frozen=True)
class GradeCompliance:
    grade: RegionGrade
    arranged_in_time: Rate
    on_site_in_time: Rate
    fixed_in_time: Rate


def _judge(due: datetime | None, done: datetime | None, now: datetime) -> bool | None:
    """Met (done by the deadline), missed (done late, or not done and the deadline passed), or not yet
    measurable (``None``)."""
    if due is None:
        return None
    if done is not None:
        return done <= due
    return False if now > due else None


def compliance_by_grade(facts: Iterable[JobFact], *, now: datetime) -> dict[RegionGrade, GradeCompliance]:
    """Per region grade: arranged, on site and fixed within their deadlines. A job counts once its
    deadline has passed or the step is done; cancelled jobs do not count."""
    now = ensure_utc(now)
    rates = {g: [Rate(), Rate(), Rate()] for g in RegionGrade}
    for fact in facts:
        if fact.state is WorkOrderState.CANCELLED:
            continue
        fixed_at = fact.finished_at if fact.state is WorkOrderState.COMPLETED else None
        outcomes = (
            _judge(fact.arrange_by, fact.arranged_at, now),
            _judge(fact.on_site_by, fact.arrived_at, now),
            _judge(fact.fix_by, fixed_at, now),
        )
        row = rates[fact.grade]
        for i, outcome in enumerate(outcomes):
            if outcome is not None:
                row[i] = row[i].add(outcome)
    return {g: GradeCompliance(g, *r) for g, r in rates.items()}


def first_time_fix_rate(facts: Iterable[JobFact]) -> Rate:
    """Completed repairs fixed at the first visit, of all completed or incomplete repair visits."""
    rate = Rate()
    for fact in facts:
        if fact.type is not WorkOrderType.REPAIR:
            continue
        if fact.state is WorkOrderState.COMPLETED:
            rate = rate.add(bool(fact.first_time_fix))
        elif fact.state is WorkOrderState.INCOMPLETE:
            rate = rate.add(False)
    return rate


@dataclass(frozen=True)
class ShiftFact:
    """Minutes a technician was available on a day (shift less absences)."""

    technician_id: str
    day: date
    available_minutes: int


@dataclass(frozen=True)
class VisitFact:
    """Minutes a technician spent travelling to and working at one visit."""

    technician_id: str
    day: date
    travel_minutes: int
    on_site_minutes: int


@dataclass(frozen=True)
class Utilisation:
    technician_id: str
    available_minutes: int
    travel_minutes: int
    on_site_minutes: int

    @property
    def rate(self) -> float | None:
        """Share of the available time spent travelling or on site."""
        if self.available_minutes <= 0:
            return None
        return (self.travel_minutes + self.on_site_minutes) / self.available_minutes

    @property
    def on_site_rate(self) -> float | None:
        return self.on_site_minutes / self.available_minutes if self.available_minutes > 0 else None


def visit_fact(order: WorkOrder, timezone: str = "UTC") -> VisitFact | None:
    """The travel and on-site minutes of a finished visit (none for a visit nobody arrived at), on the
    technician's local day of arrival."""
    if order.technician_id is None or order.arrived_at is None or order.finished_at is None:
        return None
    departed = next((r.at for r in reversed(order.history) if r.action == "start_travel"), order.arrived_at)
    return VisitFact(
        technician_id=order.technician_id,
        day=order.arrived_at.astimezone(ZoneInfo(timezone)).date(),
        travel_minutes=max(0, int((order.arrived_at - departed).total_seconds() // 60)),
        on_site_minutes=max(0, int((order.finished_at - order.arrived_at).total_seconds() // 60)),
    )


def utilisation(shifts: Iterable[ShiftFact], visits: Iterable[VisitFact]) -> dict[str, Utilisation]:
    """Per technician over the facts given (one day, a week, a month)."""
    available: dict[str, int] = {}
    travel: dict[str, int] = {}
    on_site: dict[str, int] = {}
    for shift in shifts:
        available[shift.technician_id] = available.get(shift.technician_id, 0) + shift.available_minutes
    for visit in visits:
        travel[visit.technician_id] = travel.get(visit.technician_id, 0) + visit.travel_minutes
        on_site[visit.technician_id] = on_site.get(visit.technician_id, 0) + visit.on_site_minutes
    ids = sorted(set(available) | set(travel))
    return {t: Utilisation(t, available.get(t, 0), travel.get(t, 0), on_site.get(t, 0)) for t in ids}
