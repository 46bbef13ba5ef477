from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.appointments import Appointment
from dispatch.domain.assignment.greedy import greedy_plan
from dispatch.domain.assignment.model import Crew, Job, Plan, PlanningProblem
from dispatch.domain.assignment.optimiser import OptimiserSettings, optimise
from dispatch.domain.assignment.schedule import CompiledProblem
from dispatch.domain.assignment.synthetic import synthetic_problem
from dispatch.domain.assignment.verify import hard_rule_violations
from dispatch.domain.technicians import Technician
from dispatch.domain.values import Actor, Role, TimeWindow
from dispatch.domain.work_orders import WorkOrder

QUICK = OptimiserSettings(time_limit=0.6, seed=1)


@pytest.fixture(scope="module")
def problem() -> PlanningProblem:
    return synthetic_problem(jobs=80, technicians=16, regions=4, seed=3)


@pytest.fixture(scope="module")
def plan(problem: PlanningProblem) -> Plan:
    return optimise(problem, QUICK)


def test_the_optimiser_never_breaks_a_hard_rule(problem: PlanningProblem, plan: Plan) -> None:
    assert plan.assignments
    assert hard_rule_violations(problem, plan) == []


def test_the_greedy_baseline_never_breaks_a_hard_rule(problem: PlanningProblem) -> None:
    assert hard_rule_violations(problem, greedy_plan(problem)) == []


def test_the_optimiser_beats_the_greedy_baseline(problem: PlanningProblem, plan: Plan) -> None:
    greedy = greedy_plan(problem)
    assert plan.objective < greedy.objective
    assert len(plan.unassigned) <= len(greedy.unassigned)


def test_every_assignment_says_why_and_what_it_cost(plan: Plan) -> None:
    for a in plan.assignments:
        assert any(r.startswith("qualified:") for r in a.reasons)
        assert any(r.startswith("travel") for r in a.reasons)
        assert a.cost.travel_km >= 0
        assert a.cost.total >= a.cost.travel_cost
    for reasons in plan.unassigned.values():
        assert reasons


def test_every_visit_is_counted_in_the_totals(plan: Plan) -> None:
    assert plan.totals.travel_minutes == sum(a.cost.travel_minutes for a in plan.assignments)
    assert plan.totals.lateness_minutes == sum(a.cost.lateness_minutes for a in plan.assignments)


def test_the_ortools_routing_engine_keeps_the_hard_rules_too(problem: PlanningProblem) -> None:
    routed = optimise(problem, OptimiserSettings(time_limit=0.5, engine="routing"))
    assert hard_rule_violations(problem, routed) == []


def test_same_seed_and_iteration_budget_give_the_same_plan(problem: PlanningProblem) -> None:
    settings = OptimiserSettings(time_limit=30, seed=5, max_iterations=150)
    first, second = optimise(problem, settings), optimise(problem, settings)
    assert [(a.job_id, a.technician_id, a.start) for a in first.assignments] == [
        (a.job_id, a.technician_id, a.start) for a in second.assignments
    ]


def test_locked_jobs_keep_their_technician(problem: PlanningProblem, plan: Plan) -> None:
    # lock a few jobs, each to a different technician than the optimiser chose (and one lock each, so
    # the locks can all be kept)
    compiled = CompiledProblem(problem)
    locks: dict[str, str] = {}
    for a in plan.assignments[::5]:
        j = compiled.job_index[a.job_id]
        taken = set(locks.values()) | {a.technician_id}
        others = [
            problem.crews[t].id for t in compiled.eligible[j].nonzero()[0] if problem.crews[t].id not in taken
        ]
        if others:
            locks[a.job_id] = others[0]
    assert len(locks) >= 3
    locked = replace(
        problem,
        jobs=tuple(replace(j, locked_technician_id=locks.get(j.id)) for j in problem.jobs),
    )
    relocked = optimise(locked, QUICK)
    assert hard_rule_violations(locked, relocked) == []
    for job_id, technician_id in locks.items():
        held = relocked.for_job(job_id)
        assert held is not None
        assert held.technician_id == technician_id
        assert held.locked
        assert "kept: locked by the dispatcher" in held.reasons


def test_a_lock_to_a_technician_who_cannot_take_the_job_is_reported_not_broken(
    problem: PlanningProblem,
) -> None:
    job = problem.jobs[0]
    unskilled = next(c.id for c in problem.crews if c.technician.missing_skills(job.required_skills))
    locked = replace(problem, jobs=(replace(job, locked_technician_id=unskilled), *problem.jobs[1:]))
    result = optimise(locked, QUICK)
    assert result.for_job(job.id) is None
    assert job.id in result.unassigned


def test_a_locked_work_order_with_a_confirmed_appointment_keeps_both(
    new_order: Callable[..., WorkOrder], technician: Callable[..., Technician]
) -> None:
    t0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    dispatcher = Actor("dispatcher-1", Role.DISPATCHER)
    order = new_order(at=t0 - timedelta(hours=20))
    order.assign("tech-2", Appointment.at(t0 + timedelta(hours=3), 60), at=t0, actor=dispatcher)
    order.confirm_appointment(via="phone", at=t0, actor=dispatcher)
    order.lock(at=t0, actor=dispatcher)
    job = Job.from_work_order(order)
    assert job.locked_technician_id == "tech-2"
    assert job.fixed_start == t0 + timedelta(hours=3)

    crews = [Crew.of(technician("tech-1"), at=t0), Crew.of(technician("tech-2"), at=t0)]
    day = TimeWindow(t0, t0 + timedelta(hours=10))
    result = optimise(PlanningProblem(day, (job,), tuple(crews)), QUICK)
    kept = result.for_job(order.id)
    assert kept is not None
    assert kept.technician_id == "tech-2"
    assert kept.start == t0 + timedelta(hours=3)


def test_the_independent_check_catches_a_broken_plan(problem: PlanningProblem, plan: Plan) -> None:
    first = plan.assignments[0]
    job = next(j for j in problem.jobs if j.id == first.job_id)
    unskilled = next(c.id for c in problem.crews if c.technician.missing_skills(job.required_skills))
    moved = replace(first, technician_id=unskilled)
    doubled = replace(plan.assignments[1], start=first.start, end=first.start + (first.end - first.start))
    broken = replace(plan, assignments=(moved, doubled, *plan.assignments[1:]))
    problems = hard_rule_violations(problem, broken)
    assert any("missing skills" in p for p in problems)
    assert any("assigned twice" in p for p in problems)
