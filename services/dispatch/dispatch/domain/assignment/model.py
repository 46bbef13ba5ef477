"""What assignment works on (jobs, crews, weights) and what it returns (assignments with reasons)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from dispatch.domain.technicians import Technician
from dispatch.domain.values import GeoPoint, PartNeed, Priority, Skill, TimeWindow, TravelModel, ensure_utc
from dispatch.domain.work_orders import WorkOrder
from kit.domain import DomainError


@dataclass(frozen=True)
class Job:
    """One open work order as the planner sees it.

    ``windows`` are the customer's availability (the whole visit fits in one; none means any time);
    ``due_at`` is the on-site deadline, after which every minute counts as lateness; ``fixed_start`` is a
    confirmed appointment the plan must keep to the minute; ``locked_technician_id`` a dispatcher's lock.
    """

    id: str
    location: GeoPoint
    region_id: str
    required_skills: frozenset[Skill]
    duration_minutes: int
    product_line: str = ""
    required_certifications: frozenset[str] = frozenset()
    windows: tuple[TimeWindow, ...] = ()
    due_at: datetime | None = None
    priority: Priority = Priority.NORMAL
    premium: bool = False
    unit_serial: str | None = None
    installer_id: str | None = None
    needed_parts: tuple[PartNeed, ...] = ()
    locked_technician_id: str | None = None
    fixed_start: datetime | None = None

    def __post_init__(self) -> None:
        if self.duration_minutes <= 0:
            raise DomainError(f"job {self.id} needs a positive duration", code="bad-duration")
        if self.due_at is not None:
            object.__setattr__(self, "due_at", ensure_utc(self.due_at))
        if self.fixed_start is not None:
            object.__setattr__(self, "fixed_start", ensure_utc(self.fixed_start))

    @classmethod
    def from_work_order(cls, order: WorkOrder, *, keep_appointment: bool | None = None) -> Job:
        """The planner's view of ``order``. A locked order keeps its technician; a confirmed appointment
        (or ``keep_appointment=True``) keeps its time."""
        appointment = order.appointment
        keep = appointment is not None and (
            appointment.confirmed if keep_appointment is None else keep_appointment
        )
        return cls(
            id=order.id,
            location=order.site.location,
            region_id=order.site.region_id,
            required_skills=order.required_skills,
            duration_minutes=order.estimated_minutes,
            product_line=order.product_line,
            required_certifications=order.required_certifications,
            windows=order.availability,
            due_at=order.deadlines.on_site_by,
            priority=order.priority,
            premium=order.premium,
            unit_serial=order.unit.serial if order.unit else None,
            installer_id=order.installer_technician_id,
            needed_parts=order.needed_parts,
            locked_technician_id=order.technician_id if order.locked else None,
            fixed_start=appointment.start if keep and appointment is not None else None,
        )


@dataclass(frozen=True)
class Crew:
    """A technician as the planner sees them now: where the next trip starts and from when, what is
    already booked, and what the van holds (a local copy of the inventory service's van stock)."""

    technician: Technician
    start: GeoPoint
    available_from: datetime
    busy: tuple[TimeWindow, ...] = ()
    booked_minutes: int = 0
    van_stock: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "available_from", ensure_utc(self.available_from))

    @classmethod
    def of(
        cls,
        technician: Technician,
        *,
        at: datetime,
        booked_minutes: int = 0,
        busy: tuple[TimeWindow, ...] = (),
        van_stock: Mapping[str, int] | None = None,
    ) -> Crew:
        """A crew starting from the technician's last known position (or home) at ``at``."""
        start = technician.position
        if start is None:
            raise DomainError(f"technician {technician.id} has no known position", code="position-unknown")
        return cls(technician, start, at, busy, booked_minutes, MappingProxyType(dict(van_stock or {})))

    @property
    def id(self) -> str:
        return self.technician.id

    @property
    def capacity_left(self) -> int:
        return max(0, self.technician.daily_capacity_minutes - self.booked_minutes)

    def holds_parts(self, needed: tuple[PartNeed, ...]) -> bool:
        return all(self.van_stock.get(p.part_number, 0) >= p.quantity for p in needed)


@dataclass(frozen=True)
class Weights:
    """How the objective trades things off, in minute-equivalents.

    Travel and lateness are the core; the preferences and the balance term are small nudges. A job left
    out of the plan waits for the next one: it costs a fixed amount plus a day (``unassigned_delay_minutes``)
    of its lateness, far more than any plan could save by leaving it out; a locked job left out costs more.
    """

    travel_per_minute: float = 1.0
    lateness_per_minute: float = 1.0
    priority_lateness_factor: float = 2.0
    premium_lateness_factor: float = 2.0
    not_installer: float = 20.0
    parts_not_on_van: float = 15.0
    overload_per_minute: float = 0.5
    balance_tolerance: float = 0.1
    unassigned: float = 600.0
    unassigned_delay_minutes: int = 1440
    locked_unassigned: float = 50_000.0

    def lateness_weight(self, job: Job) -> float:
        weight = self.lateness_per_minute
        if job.priority.is_priority:
            weight *= self.priority_lateness_factor
        if job.premium:
            weight *= self.premium_lateness_factor
        return weight

    def unassigned_cost(self, job: Job) -> float:
        if job.locked_technician_id:
            return self.locked_unassigned
        return self.unassigned + self.unassigned_delay_minutes * self.lateness_weight(job)


@dataclass(frozen=True)
class PlanningProblem:
    """A backlog to plan within ``horizon`` (one working day is the intended size)."""

    horizon: TimeWindow
    jobs: tuple[Job, ...]
    crews: tuple[Crew, ...]
    weights: Weights = field(default_factory=Weights)
    travel: TravelModel = field(default_factory=TravelModel)

    def __post_init__(self) -> None:
        for what, ids in (("job", [j.id for j in self.jobs]), ("technician", [c.id for c in self.crews])):
            if len(set(ids)) != len(ids):
                raise DomainError(f"each {what} appears once in a planning problem", code="duplicate-id")


@dataclass(frozen=True)
class CostBreakdown:
    """What one assignment costs, in the objective's minute-equivalents, and the raw figures."""

    travel_minutes: int
    travel_km: float
    lateness_minutes: int
    travel_cost: float
    lateness_cost: float
    preference_cost: float

    @property
    def total(self) -> float:
        return self.travel_cost + self.lateness_cost + self.preference_cost

    def as_pairs(self) -> tuple[tuple[str, float], ...]:
        """Name/value pairs to record on the work order (``WorkOrder.assign(cost=...)``)."""
        return (
            ("travel_minutes", float(self.travel_minutes)),
            ("travel_km", round(self.travel_km, 1)),
            ("lateness_minutes", float(self.lateness_minutes)),
            ("travel_cost", round(self.travel_cost, 2)),
            ("lateness_cost", round(self.lateness_cost, 2)),
            ("preference_cost", round(self.preference_cost, 2)),
            ("total", round(self.total, 2)),
        )


@dataclass(frozen=True)
class Assignment:
    """One job given to one technician at a planned time, with why and at what cost."""

    job_id: str
    technician_id: str
    start: datetime
    end: datetime
    cost: CostBreakdown
    reasons: tuple[str, ...]
    slack_minutes: int | None = None
    locked: bool = False

    @property
    def window(self) -> TimeWindow:
        return TimeWindow(self.start, self.end)


@dataclass(frozen=True)
class PlanTotals:
    travel_minutes: int
    travel_km: float
    lateness_minutes: int
    travel_cost: float
    lateness_cost: float
    preference_cost: float
    balance_cost: float
    unassigned_cost: float

    @property
    def objective(self) -> float:
        return (
            self.travel_cost
            + self.lateness_cost
            + self.preference_cost
            + self.balance_cost
            + self.unassigned_cost
        )


@dataclass(frozen=True)
class Plan:
    """A batch plan: the assignments (each technician's visits in order), the jobs left out and why."""

    method: str
    assignments: tuple[Assignment, ...]
    unassigned: Mapping[str, tuple[str, ...]]
    totals: PlanTotals
    solve_seconds: float

    @property
    def objective(self) -> float:
        return self.totals.objective

    def for_job(self, job_id: str) -> Assignment | None:
        return next((a for a in self.assignments if a.job_id == job_id), None)

    def routes(self) -> dict[str, list[Assignment]]:
        """Each technician's visits in time order."""
        routes: dict[str, list[Assignment]] = {}
        for a in sorted(self.assignments, key=lambda a: (a.technician_id, a.start)):
            routes.setdefault(a.technician_id, []).append(a)
        return routes
