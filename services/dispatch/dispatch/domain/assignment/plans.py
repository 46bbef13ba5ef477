"""Turning routes into a :class:`Plan` whose every assignment says why and what it cost."""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.domain.assignment.model import Assignment, CostBreakdown, Plan, PlanTotals
from dispatch.domain.assignment.schedule import NO_DEADLINE, CompiledProblem, RouteSchedule


def build_plan(
    compiled: CompiledProblem, routes: Sequence[Sequence[int]], *, method: str, solve_seconds: float
) -> Plan:
    """The plan of ``routes`` (one list of job indices per technician, in visiting order). A route that
    breaks a hard rule is cut back to its longest feasible beginning, and the rest left unassigned."""
    schedules: list[RouteSchedule] = []
    cut: set[int] = set()
    for crew, route in enumerate(routes):
        keep = list(route)
        schedule = compiled.schedule(crew, keep)
        while schedule is None:
            cut.add(keep.pop())
            schedule = compiled.schedule(crew, keep)
        schedules.append(schedule)

    assignments = [a for crew, s in enumerate(schedules) for a in _assignments(compiled, crew, s)]
    assigned = {a.job_id for a in assignments}
    unassigned: dict[str, tuple[str, ...]] = {}
    unassigned_cost = 0.0
    for j, job in enumerate(compiled.problem.jobs):
        if job.id in assigned:
            continue
        unassigned[job.id] = unassigned_reasons(compiled, j, cut_from_route=j in cut)
        unassigned_cost += compiled.unassigned_cost[j]

    totals = PlanTotals(
        travel_minutes=sum(s.travel_minutes for s in schedules),
        travel_km=round(sum(a.cost.travel_km for a in assignments), 1),
        lateness_minutes=sum(sum(s.lateness) for s in schedules),
        travel_cost=sum(s.travel_cost for s in schedules),
        lateness_cost=sum(s.lateness_cost for s in schedules),
        preference_cost=sum(s.preference_cost for s in schedules),
        balance_cost=sum(s.balance_cost for s in schedules),
        unassigned_cost=unassigned_cost,
    )
    return Plan(method, tuple(assignments), unassigned, totals, solve_seconds)


def objective_of(compiled: CompiledProblem, routes: Sequence[Sequence[int]]) -> float:
    """The objective of feasible ``routes`` (infinite if any route breaks a hard rule)."""
    total = 0.0
    served: set[int] = set()
    for crew, route in enumerate(routes):
        schedule = compiled.schedule(crew, list(route))
        if schedule is None:
            return float("inf")
        total += schedule.cost
        served.update(route)
    return total + sum(compiled.unassigned_cost[j] for j in range(compiled.n_jobs) if j not in served)


def unassigned_reasons(
    compiled: CompiledProblem, job: int, *, cut_from_route: bool = False
) -> tuple[str, ...]:
    """Why ``job`` is not in the plan, in terms a dispatcher can act on."""
    spec = compiled.problem.jobs[job]
    if not compiled.start_ranges[job]:
        return (
            "the customer's availability (or the appointment) leaves no time for the visit in the horizon",
        )
    eligible = int(compiled.eligible[job].sum())
    if eligible == 0:
        crews = compiled.problem.crews
        skilled = [c for c in crews if not c.technician.missing_skills(spec.required_skills)]
        in_region = [c for c in skilled if c.technician.covers_region(spec.region_id)]
        working = [c for c in in_region if compiled.stretch[compiled.crew_index[c.id]] is not None]
        if spec.locked_technician_id and spec.locked_technician_id not in compiled.crew_index:
            return (f"locked to technician {spec.locked_technician_id}, who is not being planned",)
        if not skilled:
            return (f"no technician has the skills {', '.join(sorted(map(str, spec.required_skills)))}",)
        if not in_region:
            return (f"no qualified technician covers region {spec.region_id}",)
        if not working:
            return ("every qualified technician in the region is off shift, absent or fully booked",)
        return ("no qualified technician's working hours, travel and capacity fit the visit",)
    reason = f"{eligible} technician(s) could take it, but none has room left in their day"
    if cut_from_route:
        reason += " (the solver's route broke a rule and was cut)"
    return (reason,)


def _assignments(compiled: CompiledProblem, crew: int, schedule: RouteSchedule) -> list[Assignment]:
    problem = compiled.problem
    crew_spec = problem.crews[crew]
    w = problem.weights
    out = []
    previous = compiled.crew_node(crew)
    for i, j in enumerate(schedule.jobs):
        job = problem.jobs[j]
        start = schedule.starts[i]
        leg = schedule.legs[i]
        km = float(compiled.road_km[previous, j])
        cost = CostBreakdown(
            travel_minutes=leg,
            travel_km=km,
            lateness_minutes=schedule.lateness[i],
            travel_cost=leg * w.travel_per_minute,
            lateness_cost=schedule.lateness[i] * compiled.lateness_weight[j],
            preference_cost=compiled.preference[crew][j],
        )
        due = compiled.due[j]
        slack = None if due == NO_DEADLINE else due - start
        reasons = [
            f"qualified: {', '.join(sorted(map(str, job.required_skills)))}",
            f"covers region {job.region_id}",
            f"travel {leg} min ({km:.1f} km) from {'the day start' if i == 0 else 'the previous visit'}",
            _timing(compiled, j, start, slack),
        ]
        if compiled.locked[j] == crew:
            reasons.append("kept: locked by the dispatcher")
        if job.fixed_start is not None:
            reasons.append("keeps the confirmed appointment to the minute")
        if crew_spec.technician.installed(job.unit_serial) or job.installer_id == crew_spec.id:
            reasons.append("installed this unit")
        if job.needed_parts:
            held = crew_spec.holds_parts(job.needed_parts)
            reasons.append("van holds the needed parts" if held else "needed parts are not on the van")
        out.append(
            Assignment(
                job_id=job.id,
                technician_id=crew_spec.id,
                start=compiled.to_time(start),
                end=compiled.to_time(start + job.duration_minutes),
                cost=cost,
                reasons=tuple(reasons),
                slack_minutes=slack,
                locked=compiled.locked[j] == crew,
            )
        )
        previous = j
    return out


def _timing(compiled: CompiledProblem, job: int, start: int, slack: int | None) -> str:
    at = compiled.to_time(start)
    when = f"visit at {at:%Y-%m-%d %H:%M} UTC, within shift and customer availability"
    if slack is None:
        return when
    if slack >= 0:
        return f"{when}; {slack} min before the on-site deadline"
    return f"{when}; {-slack} min after the on-site deadline"
