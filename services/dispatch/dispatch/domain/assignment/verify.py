"""An independent check of a plan against the hard rules, from the domain objects themselves (not from
the planner's compiled arrays): a second opinion for tests, the benchmark and a dispatcher's edits."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.domain.assignment.model import Assignment, Plan, PlanningProblem
from dispatch.domain.values import TimeWindow


def hard_rule_violations(problem: PlanningProblem, plan: Plan) -> list[str]:
    """Every broken hard rule of ``plan``, in words; an empty list for a valid plan."""
    jobs = {j.id: j for j in problem.jobs}
    crews = {c.id: c for c in problem.crews}
    problems: list[str] = []
    seen: set[str] = set()
    for a in plan.assignments:
        if a.job_id in seen:
            problems.append(f"{a.job_id} is assigned twice")
        seen.add(a.job_id)
        if a.job_id not in jobs or a.technician_id not in crews:
            problems.append(f"{a.job_id} -> {a.technician_id}: unknown job or technician")
    for job in problem.jobs:
        if job.locked_technician_id and job.id in seen:
            holder = next(a.technician_id for a in plan.assignments if a.job_id == job.id)
            if holder != job.locked_technician_id:
                problems.append(f"{job.id} is locked to {job.locked_technician_id} but went to {holder}")
    for technician_id, visits in plan.routes().items():
        if technician_id in crews:
            problems.extend(
                _route_violations(problem, technician_id, [v for v in visits if v.job_id in jobs])
            )
    return problems


def _route_violations(problem: PlanningProblem, technician_id: str, visits: list[Assignment]) -> list[str]:
    crew = next(c for c in problem.crews if c.id == technician_id)
    tech = crew.technician
    jobs = {j.id: j for j in problem.jobs}
    out: list[str] = []
    horizon = problem.horizon
    day = (
        TimeWindow(max(horizon.start, crew.available_from), horizon.end)
        if crew.available_from < horizon.end
        else None
    )
    working = tech.working_windows(day, crew.busy) if day else []
    position, free_at = crew.start, crew.available_from
    work = 0
    for visit in visits:
        job = jobs[visit.job_id]
        label = f"{job.id} -> {technician_id}"
        if visit.end - visit.start != timedelta(minutes=job.duration_minutes):
            out.append(f"{label}: visit length differs from the job's duration")
        if not tech.assignable:
            out.append(f"{label}: technician is inactive")
        if tech.missing_skills(job.required_skills):
            out.append(f"{label}: missing skills")
        if not tech.covers_region(job.region_id) and job.locked_technician_id != tech.id:
            out.append(f"{label}: region {job.region_id} not covered")
        if job.required_certifications and tech.missing_certifications(
            job.required_certifications, job.product_line, horizon.start.date()
        ):
            out.append(f"{label}: missing certifications")
        if job.fixed_start is not None and visit.start != job.fixed_start:
            out.append(f"{label}: does not keep the confirmed appointment")
        if job.windows and not any(w.covers(visit.start, visit.end) for w in job.windows):
            out.append(f"{label}: outside the customer's availability")
        window = next((w for w in working if w.covers(visit.start, visit.end)), None)
        if window is None:
            out.append(f"{label}: not inside working hours free of absences and bookings")
            continue
        travel = problem.travel.minutes(position, job.location)
        depart: datetime = max(free_at, window.start)
        if visit.start < depart + timedelta(minutes=travel):
            out.append(f"{label}: cannot arrive in time ({travel} min of travel)")
        work += travel + job.duration_minutes
        position, free_at = job.location, visit.end
    if work > crew.capacity_left:
        out.append(f"{technician_id}: {work} min of work exceed the {crew.capacity_left} min left")
    return out
