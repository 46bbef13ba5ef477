"""Instant assignment of one urgent job: score every technician, explain the best and the runners-up,
and say why each of the others cannot take it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dispatch.domain.appointments import Appointment
from dispatch.domain.assignment.fitness import qualification_problems, status_problems
from dispatch.domain.assignment.model import CostBreakdown, Crew, Job, Weights
from dispatch.domain.values import Actor, TimeWindow, TravelModel, ensure_utc
from dispatch.domain.work_orders import WorkOrder
from kit.domain import DomainError

LOOK_AHEAD = timedelta(days=2)
# an urgent job goes preferably to someone whose day is not already this full
COMFORTABLE_LOAD = 0.8


@dataclass(frozen=True)
class Candidate:
    """A technician who can take the job, when, and what it costs (minute-equivalents)."""

    technician_id: str
    start: datetime
    end: datetime
    cost: CostBreakdown
    load_cost: float
    slack_minutes: int | None
    load_after: float
    reasons: tuple[str, ...]

    @property
    def total(self) -> float:
        return self.cost.total + self.load_cost

    def appointment(self) -> Appointment:
        return Appointment(TimeWindow(self.start, self.end))

    def cost_pairs(self) -> tuple[tuple[str, float], ...]:
        return (
            *self.cost.as_pairs()[:-1],
            ("load_cost", round(self.load_cost, 2)),
            ("total", round(self.total, 2)),
        )


@dataclass(frozen=True)
class Rejection:
    technician_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class InstantAssignment:
    job_id: str
    best: Candidate | None
    runners_up: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...]

    def apply_to(self, order: WorkOrder, *, at: datetime, actor: Actor) -> None:
        """Assign ``order`` to the best candidate, recording the reasons and the cost breakdown."""
        if self.best is None:
            raise DomainError(f"no technician can take job {self.job_id}", code="no-technician-available")
        order.assign(
            self.best.technician_id,
            self.best.appointment(),
            at=at,
            actor=actor,
            reasons=self.best.reasons,
            cost=self.best.cost_pairs(),
        )


def assign_now(
    job: Job,
    crews: Sequence[Crew],
    *,
    now: datetime,
    weights: Weights | None = None,
    travel: TravelModel | None = None,
    look_ahead: timedelta = LOOK_AHEAD,
    runners_up: int = 3,
) -> InstantAssignment:
    """The best technician for ``job`` from ``now``: qualified, covering the region, working and not
    absent for the whole visit (inside the customer's availability), with capacity left; cheapest in
    travel, lateness against the on-site deadline, preferences (the unit's installer, parts on the van)
    and load."""
    now = ensure_utc(now)
    w = weights or Weights()
    model = travel or TravelModel()
    fits: list[tuple[Crew, datetime, int, float]] = []
    rejected: list[Rejection] = []
    for crew in sorted(crews, key=lambda c: c.id):
        problems = _hard_rule_problems(job, crew, now)
        if problems:
            rejected.append(Rejection(crew.id, problems))
            continue
        km = model.road_km(crew.start, job.location)
        minutes = model.minutes_for_km(km)
        slot = _first_slot(job, crew, now, minutes, now + look_ahead)
        if isinstance(slot, str):
            rejected.append(Rejection(crew.id, (slot,)))
            continue
        lapsed = _certifications_lapsed(job, crew, slot)
        if lapsed:
            rejected.append(Rejection(crew.id, (lapsed,)))
            continue
        fits.append((crew, slot, minutes, km))

    installer_fits = any(_installed(job, crew) for crew, *_ in fits)
    parts_somewhere = bool(job.needed_parts) and any(crew.holds_parts(job.needed_parts) for crew, *_ in fits)
    candidates = [
        _candidate(job, crew, start, minutes, km, now, w, installer_fits, parts_somewhere)
        for crew, start, minutes, km in fits
    ]
    candidates.sort(key=lambda c: (c.total, c.start, c.technician_id))
    if not candidates:
        return InstantAssignment(job.id, None, (), tuple(rejected))
    best, *rest = candidates
    why = f"lowest cost of {len(candidates)} able technician(s): {best.total:.1f}"
    if rest:
        why += f" against {rest[0].total:.1f} for {rest[0].technician_id}"
    best = replace(best, reasons=(*best.reasons, why))
    return InstantAssignment(job.id, best, tuple(rest[:runners_up]), tuple(rejected))


def _hard_rule_problems(job: Job, crew: Crew, now: datetime) -> tuple[str, ...]:
    tech = crew.technician
    # an urgent job goes to someone on duty now, even if they would be free again tomorrow
    problems = list(status_problems(tech))
    if job.locked_technician_id and job.locked_technician_id != tech.id:
        problems.append(f"job is locked to {job.locked_technician_id}")
    problems.extend(qualification_problems(job, tech, on=tech.local_date(now)))
    return tuple(problems)


def _certifications_lapsed(job: Job, crew: Crew, start: datetime) -> str | None:
    """Why the technician's certifications do not cover the day of the visit (they expire before it)."""
    if not job.required_certifications:
        return None
    day = crew.technician.local_date(start)
    lapsed = crew.technician.missing_certifications(job.required_certifications, job.product_line, day)
    if not lapsed:
        return None
    return f"certification(s) {', '.join(sorted(lapsed))} for {job.product_line} not valid on {day}"


def _first_slot(job: Job, crew: Crew, now: datetime, travel: int, until: datetime) -> datetime | str:
    """The earliest whole-minute start at which the visit fits, or why there is none."""
    tech = crew.technician
    ready = max(now, crew.available_from)
    if ready >= until:
        return "not free before the look-ahead ends"
    duration = timedelta(minutes=job.duration_minutes)
    customer = job.windows or (TimeWindow(ready, until),)
    working = tech.working_windows(TimeWindow(ready, until), crew.busy)
    if not working:
        absence = tech.absent_during(TimeWindow(ready, until))
        return f"absent ({absence.reason})" if absence else "no working hours free in the look-ahead"
    short_of_capacity = False
    for window in working:
        depart = max(ready, window.start)
        earliest = _whole_minute(depart + timedelta(minutes=travel))
        for available in customer:
            start = max(earliest, _whole_minute(available.start))
            if job.fixed_start is not None:
                if job.fixed_start < start:
                    continue
                start = job.fixed_start
            end = start + duration
            if end > window.end or end > available.end:
                continue
            needed = travel + job.duration_minutes
            booked = crew.booked_minutes if tech.local_date(start) == tech.local_date(now) else 0
            if booked + needed > tech.daily_capacity_minutes:
                short_of_capacity = True
                continue
            return start
    if short_of_capacity:
        needed = travel + job.duration_minutes
        return f"capacity left {crew.capacity_left} min is less than the {needed} min needed"
    return "no shift time free of absences and bookings fits the visit and the customer's availability"


def _candidate(
    job: Job,
    crew: Crew,
    start: datetime,
    travel_minutes: int,
    km: float,
    now: datetime,
    w: Weights,
    installer_fits: bool,
    parts_somewhere: bool,
) -> Candidate:
    tech = crew.technician
    end = start + timedelta(minutes=job.duration_minutes)
    lateness = 0 if job.due_at is None else max(0, math.ceil((start - job.due_at).total_seconds() / 60))
    slack = None if job.due_at is None else math.floor((job.due_at - start).total_seconds() / 60)
    installed = _installed(job, crew)
    holds = crew.holds_parts(job.needed_parts) if job.needed_parts else False
    preference = 0.0
    if installer_fits and not installed:
        preference += w.not_installer
    if parts_somewhere and not holds:
        preference += w.parts_not_on_van
    booked = crew.booked_minutes if tech.local_date(start) == tech.local_date(now) else 0
    work_after = booked + travel_minutes + job.duration_minutes
    capacity = max(1, tech.daily_capacity_minutes)
    load_cost = max(0.0, work_after - COMFORTABLE_LOAD * capacity) * w.overload_per_minute
    cost = CostBreakdown(
        travel_minutes=travel_minutes,
        travel_km=km,
        lateness_minutes=lateness,
        travel_cost=travel_minutes * w.travel_per_minute,
        lateness_cost=lateness * w.lateness_weight(job),
        preference_cost=preference,
    )
    reasons = [
        f"qualified: {', '.join(sorted(map(str, job.required_skills)))}",
        *(
            [f"certified for {job.product_line}: {', '.join(sorted(job.required_certifications))}"]
            if job.required_certifications
            else []
        ),
        f"covers region {job.region_id}",
        f"working and not absent {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC",
        f"travel {travel_minutes} min ({km:.1f} km) from the last known position",
        f"day {round(100 * work_after / capacity)}% full with this job",
    ]
    if slack is not None:
        reasons.append(
            f"{slack} min before the on-site deadline"
            if slack >= 0
            else f"{-slack} min after the on-site deadline"
        )
    if installed:
        reasons.append("installed this unit")
    if job.needed_parts:
        reasons.append("van holds the needed parts" if holds else "needed parts are not on the van")
    return Candidate(
        technician_id=tech.id,
        start=start,
        end=end,
        cost=cost,
        load_cost=load_cost,
        slack_minutes=slack,
        load_after=work_after / capacity,
        reasons=tuple(reasons),
    )


def _installed(job: Job, crew: Crew) -> bool:
    return crew.technician.installed(job.unit_serial) or (
        job.installer_id is not None and job.installer_id == crew.id
    )


def _whole_minute(at: datetime) -> datetime:
    rounded = at.replace(second=0, microsecond=0)
    return rounded if rounded == at else rounded + timedelta(minutes=1)
