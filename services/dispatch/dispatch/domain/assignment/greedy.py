"""The baseline a dispatcher would do by hand: most urgent job first, to the nearest technician who can
still fit it at the end of their day so far."""

from __future__ import annotations

import time

from dispatch.domain.assignment.model import Plan, PlanningProblem
from dispatch.domain.assignment.plans import build_plan
from dispatch.domain.assignment.schedule import CompiledProblem, earliest_start


def greedy_plan(problem: PlanningProblem, compiled: CompiledProblem | None = None) -> Plan:
    """Locked and appointed jobs first, then by on-site deadline; each goes to the nearest eligible
    technician who can append it to their route (ties: the earlier start)."""
    began = time.perf_counter()
    c = compiled or CompiledProblem(problem)
    return build_plan(c, greedy_routes(c), method="greedy", solve_seconds=time.perf_counter() - began)


def greedy_routes(c: CompiledProblem) -> list[list[int]]:
    routes: list[list[int]] = [[] for _ in range(c.n_crews)]
    clock = [s[0] if s else 0 for s in c.stretch]
    position = [c.crew_node(t) for t in range(c.n_crews)]
    work = [0] * c.n_crews
    jobs = c.problem.jobs

    def urgency(j: int) -> tuple[int, int, int, int]:
        job = jobs[j]
        return (c.locked[j] < 0, job.fixed_start is None, c.due[j], -int(job.priority.is_priority))

    for j in sorted(range(c.n_jobs), key=urgency):
        best: tuple[int, int, int] | None = None
        for t in c.eligible[j].nonzero()[0].tolist():
            stretch = c.stretch[t]
            assert stretch is not None
            leg = c.minutes_rows[position[t]][j]
            start = earliest_start(c.start_ranges[j], clock[t] + leg)
            if start is None or start + c.duration[j] > stretch[1]:
                continue
            if work[t] + leg + c.duration[j] > c.capacity[t]:
                continue
            if best is None or (leg, start) < best[:2]:
                best = (leg, start, t)
        if best is None:
            continue
        leg, start, t = best
        routes[t].append(j)
        clock[t] = start + c.duration[j]
        work[t] += leg + c.duration[j]
        position[t] = j
    return routes
