"""The planning problem in whole minutes, and the one route evaluation every planner is judged by.

Times are minutes after the horizon start. Each technician works one stretch ``[shift_start, shift_end]``:
the longest part of their shift inside the horizon that is free of absences and existing bookings. A
route is feasible when every visit starts inside one of the job's start ranges (the customer's
availability, or its confirmed appointment to the minute), ends by the end of the stretch, and the
route's travel plus work fits in the technician's capacity left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from dispatch.domain.assignment.model import Crew, Job, PlanningProblem
from dispatch.domain.values import EARTH_RADIUS_KM, TimeWindow

NO_DEADLINE = 10**9


@dataclass(frozen=True)
class RouteSchedule:
    """A feasible route of one technician: when each visit starts and what the route costs."""

    jobs: tuple[int, ...]
    starts: tuple[int, ...]
    legs: tuple[int, ...]
    lateness: tuple[int, ...]
    travel_minutes: int
    work_minutes: int
    travel_cost: float
    lateness_cost: float
    preference_cost: float
    balance_cost: float

    @property
    def cost(self) -> float:
        return self.travel_cost + self.lateness_cost + self.preference_cost + self.balance_cost


class CompiledProblem:
    """``problem`` turned into arrays: travel minutes between every pair of places, start ranges, deadlines,
    each technician's working stretch, capacity and load target, and who may take which job."""

    def __init__(self, problem: PlanningProblem) -> None:
        self.problem = problem
        self.origin = problem.horizon.start
        self.horizon_minutes = int((problem.horizon.end - self.origin).total_seconds() // 60)
        jobs, crews, w = problem.jobs, problem.crews, problem.weights
        self.n_jobs, self.n_crews = len(jobs), len(crews)
        self.job_index = {j.id: i for i, j in enumerate(jobs)}
        self.crew_index = {c.id: i for i, c in enumerate(crews)}

        points = [j.location for j in jobs] + [c.start for c in crews]
        self.road_km: npt.NDArray[np.float64] = _road_km(
            np.array([p.lat for p in points]), np.array([p.lon for p in points]), problem.travel.road_factor
        )
        minutes = np.ceil(self.road_km / problem.travel.average_speed_kmh * 60.0 - 1e-9).astype(np.int64)
        self.minutes: npt.NDArray[np.int64] = minutes
        self.minutes_rows: list[list[int]] = minutes.tolist()

        self.duration = [j.duration_minutes for j in jobs]
        self.start_ranges = [self._start_ranges(j) for j in jobs]
        self.due = [NO_DEADLINE if j.due_at is None else self.to_minutes(j.due_at) for j in jobs]
        self.lateness_weight = [w.lateness_weight(j) for j in jobs]
        self.unassigned_cost = [w.unassigned_cost(j) for j in jobs]
        self.stretch = [self._stretch(c) for c in crews]
        self.capacity = [c.capacity_left for c in crews]
        self.locked = [
            self.crew_index.get(j.locked_technician_id, -1) if j.locked_technician_id else -1 for j in jobs
        ]
        self.eligible: npt.NDArray[np.bool_] = self._eligibility()
        self._eligible_rows: list[list[bool]] = self.eligible.tolist()
        self.preference = self._preferences()
        self.target = self._load_targets()

    # --- conversions ------------------------------------------------------------------------------------

    def to_minutes(self, at: datetime) -> int:
        return math.floor((at - self.origin).total_seconds() / 60)

    def to_time(self, minutes: int) -> datetime:
        return self.origin + timedelta(minutes=minutes)

    def crew_node(self, crew: int) -> int:
        return self.n_jobs + crew

    # --- the one route evaluation -----------------------------------------------------------------------

    def schedule(self, crew: int, route: list[int] | tuple[int, ...]) -> RouteSchedule | None:
        """The earliest-start schedule of ``route`` for ``crew``, or ``None`` if it breaks a hard rule."""
        stretch = self.stretch[crew]
        if stretch is None:
            return None if route else RouteSchedule((), (), (), (), 0, 0, 0.0, 0.0, 0.0, 0.0)
        time, end_of_day = stretch
        position = self.n_jobs + crew
        rows = self.minutes_rows
        starts: list[int] = []
        legs: list[int] = []
        late: list[int] = []
        travel = work = 0
        lateness_cost = preference_cost = 0.0
        prefs = self.preference[crew]
        eligible = self._eligible_rows
        for job in route:
            if not eligible[job][crew]:
                return None
            leg = rows[position][job]
            start = earliest_start(self.start_ranges[job], time + leg)
            if start is None:
                return None
            time = start + self.duration[job]
            if time > end_of_day:
                return None
            travel += leg
            work += leg + self.duration[job]
            overdue = max(0, start - self.due[job])
            lateness_cost += overdue * self.lateness_weight[job]
            preference_cost += prefs[job]
            starts.append(start)
            legs.append(leg)
            late.append(overdue)
            position = job
        if work > self.capacity[crew]:
            return None
        w = self.problem.weights
        return RouteSchedule(
            jobs=tuple(route),
            starts=tuple(starts),
            legs=tuple(legs),
            lateness=tuple(late),
            travel_minutes=travel,
            work_minutes=work,
            travel_cost=travel * w.travel_per_minute,
            lateness_cost=lateness_cost,
            preference_cost=preference_cost,
            balance_cost=max(0, work - self.target[crew]) * w.overload_per_minute,
        )

    def route_cost(self, crew: int, route: list[int]) -> float | None:
        """The cost of ``route`` for ``crew`` (``None`` if infeasible), as :meth:`schedule` computes it but
        without building the schedule: the search calls this hundreds of thousands of times. Assumes
        every job of the route is eligible for the crew."""
        stretch = self.stretch[crew]
        if stretch is None:
            return None if route else 0.0
        time, end_of_day = stretch
        position = self.n_jobs + crew
        rows, duration, ranges, due, weight = (
            self.minutes_rows,
            self.duration,
            self.start_ranges,
            self.due,
            self.lateness_weight,
        )
        preference = self.preference[crew]
        travel = work = 0
        extra = 0.0
        for job in route:
            leg = rows[position][job]
            arrive = time + leg
            for lo, hi in ranges[job]:
                if arrive <= hi:
                    start = lo if lo > arrive else arrive
                    break
            else:
                return None
            time = start + duration[job]
            if time > end_of_day:
                return None
            travel += leg
            work += leg + duration[job]
            overdue = start - due[job]
            if overdue > 0:
                extra += overdue * weight[job]
            extra += preference[job]
            position = job
        if work > self.capacity[crew]:
            return None
        w = self.problem.weights
        over = work - self.target[crew]
        return travel * w.travel_per_minute + extra + (over * w.overload_per_minute if over > 0 else 0.0)

    # --- set-up -----------------------------------------------------------------------------------------

    def _start_ranges(self, job: Job) -> list[tuple[int, int]]:
        """When the visit may start: inside the horizon, the whole visit in one availability window."""
        if job.fixed_start is not None:
            at = self.to_minutes(job.fixed_start)
            return [(at, at)] if 0 <= at <= self.horizon_minutes - job.duration_minutes else []
        windows = job.windows or (self.problem.horizon,)
        ranges = []
        for window in sorted(windows):
            lo = max(0, math.ceil((window.start - self.origin).total_seconds() / 60))
            hi = min(self.horizon_minutes, self.to_minutes(window.end)) - job.duration_minutes
            if lo <= hi:
                ranges.append((lo, hi))
        return ranges

    def _stretch(self, crew: Crew) -> tuple[int, int] | None:
        horizon = self.problem.horizon
        if not crew.technician.assignable or crew.available_from >= horizon.end:
            return None
        within = TimeWindow(max(horizon.start, crew.available_from), horizon.end)
        free = crew.technician.working_windows(within, crew.busy)
        if not free:
            return None
        longest = max(free, key=lambda w: (w.duration, -w.start.timestamp()))
        lo = math.ceil((longest.start - self.origin).total_seconds() / 60)
        return lo, self.to_minutes(longest.end)

    def _preferences(self) -> list[list[float]]:
        """Per technician and job: the preference cost of giving the job to that technician."""
        jobs, crews, w = self.problem.jobs, self.problem.crews, self.problem.weights
        # a preference only counts where it can be met: the installer may take the job, a van has the parts
        installers = []
        for j, job in enumerate(jobs):
            installer = self._installer(job)
            installers.append(
                installer if installer and self._eligible_rows[j][self.crew_index[installer]] else None
            )
        holds = [
            [c.holds_parts(job.needed_parts) if job.needed_parts else True for job in jobs] for c in crews
        ]
        parts_somewhere = [
            any(holds[t][j] and self._eligible_rows[j][t] for t in range(len(crews)))
            for j in range(len(jobs))
        ]
        table: list[list[float]] = []
        for t, crew in enumerate(crews):
            row = []
            for j, installer in enumerate(installers):
                cost = 0.0
                if installer is not None and installer != crew.id:
                    cost += w.not_installer
                if parts_somewhere[j] and not holds[t][j]:
                    cost += w.parts_not_on_van
                row.append(cost)
            table.append(row)
        return table

    def _installer(self, job: Job) -> str | None:
        """The installer of the job's unit, when they are among the technicians being planned."""
        if job.installer_id in self.crew_index:
            return job.installer_id
        if job.unit_serial:
            return next((c.id for c in self.problem.crews if c.technician.installed(job.unit_serial)), None)
        return None

    def _eligibility(self) -> npt.NDArray[np.bool_]:
        jobs, crews = self.problem.jobs, self.problem.crews
        on = self.problem.horizon.start.date()
        eligible = np.zeros((self.n_jobs, self.n_crews), dtype=bool)
        for t, crew in enumerate(crews):
            stretch = self.stretch[t]
            if stretch is None:
                continue
            tech = crew.technician
            for j, job in enumerate(jobs):
                if self.locked[j] >= 0 and self.locked[j] != t:
                    continue
                if not self.start_ranges[j] or tech.missing_skills(job.required_skills):
                    continue
                if not tech.covers_region(job.region_id) and self.locked[j] != t:
                    continue
                if job.required_certifications and tech.missing_certifications(
                    job.required_certifications, job.product_line, on
                ):
                    continue
                arrive = stretch[0] + self.minutes_rows[self.n_jobs + t][j]
                start = earliest_start(self.start_ranges[j], arrive)
                duration = self.duration[j]
                if (
                    start is None
                    or start + duration > stretch[1]
                    or arrive - stretch[0] + duration > self.capacity[t]
                ):
                    continue
                eligible[j, t] = True
        return eligible

    def _load_targets(self) -> list[int]:
        """A fair share of the day's work for each technician, with some tolerance; work above it costs."""
        w = self.problem.weights
        active = [t for t in range(self.n_crews) if self.stretch[t] is not None]
        total_capacity = sum(self.capacity[t] for t in active) or 1
        # travel is unknown before planning; a third on top of the visit time is a fair guess
        demand = sum(self.duration) * 4 / 3
        share = min(1.0, demand / total_capacity + w.balance_tolerance)
        return [round(self.capacity[t] * share) for t in range(self.n_crews)]


def earliest_start(ranges: list[tuple[int, int]], arrive: int) -> int | None:
    for lo, hi in ranges:
        if arrive <= hi:
            return max(arrive, lo)
    return None


def _road_km(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], road_factor: float
) -> npt.NDArray[np.float64]:
    p, lam = np.radians(lat), np.radians(lon)
    dp = p[:, None] - p[None, :]
    dl = lam[:, None] - lam[None, :]
    h = np.sin(dp / 2) ** 2 + np.cos(p)[:, None] * np.cos(p)[None, :] * np.sin(dl / 2) ** 2
    km: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h))) * road_factor
    return km
