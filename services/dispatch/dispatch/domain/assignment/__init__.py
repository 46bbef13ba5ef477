"""Choosing technicians: instant assignment of one urgent job, the batch optimiser for the backlog, and
the greedy nearest-available baseline. Every assignment carries its reasons and cost breakdown.

- ``assign_now(job, crews, now=...)`` -> ``InstantAssignment`` (best, runners-up, rejected with reasons)
- ``optimise(problem, OptimiserSettings(...))`` -> ``Plan`` (assignments in route order, unassigned + why)
- ``greedy_plan(problem)`` -> ``Plan``
- ``hard_rule_violations(problem, plan)`` -> an independent check of any plan
- ``manual.reasons_for_choice(job, technician, visit, ...)`` -> a dispatcher's own choice, checked with
  the planner's rules (``fitness``): refused, or the reasons to record (with what an override overrides)
"""

from dispatch.domain.assignment.greedy import greedy_plan
from dispatch.domain.assignment.instant import Candidate, InstantAssignment, Rejection, assign_now
from dispatch.domain.assignment.model import (
    Assignment,
    CostBreakdown,
    Crew,
    Job,
    Plan,
    PlanningProblem,
    PlanTotals,
    Weights,
)
from dispatch.domain.assignment.optimiser import DEFAULT_SETTINGS, OptimiserSettings, optimise
from dispatch.domain.assignment.verify import hard_rule_violations

__all__ = [
    "DEFAULT_SETTINGS",
    "Assignment",
    "Candidate",
    "CostBreakdown",
    "Crew",
    "InstantAssignment",
    "Job",
    "OptimiserSettings",
    "Plan",
    "PlanTotals",
    "PlanningProblem",
    "Rejection",
    "Weights",
    "assign_now",
    "greedy_plan",
    "hard_rule_violations",
    "optimise",
]
