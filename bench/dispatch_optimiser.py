"""Benchmark of the dispatch batch optimiser.

A reproducible one-day backlog (500 open jobs x 100 technicians, seeded) is planned four ways, one after
another on the same machine:

- the greedy nearest-available baseline;
- the optimiser with its default time budget (the target: under 2 s, within 5% of the 30-s solution);
- OR-Tools' routing solver on the same model with the same budget, for comparison;
- the optimiser given 30 s (the reference).

For each: wall-clock time, travel minutes, lateness minutes, unassigned jobs and the objective (weighted
travel + lateness + preferences + load balance + unassigned jobs), and every plan is checked against the
hard rules independently of the planner.

    python bench/dispatch_optimiser.py            # the full run (about 40 s)
    python bench/dispatch_optimiser.py --quick    # 150 x 30 with a 3-s reference, for a smoke run
    python bench/dispatch_optimiser.py --json results.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dispatch.domain.assignment.greedy import greedy_plan
from dispatch.domain.assignment.model import Plan, PlanningProblem
from dispatch.domain.assignment.optimiser import DEFAULT_SETTINGS, OptimiserSettings, optimise
from dispatch.domain.assignment.synthetic import synthetic_problem
from dispatch.domain.assignment.verify import hard_rule_violations

TARGET_SECONDS = 2.0
TARGET_GAP = 0.05


@dataclass
class Run:
    name: str
    seconds: float
    plan: Plan
    violations: int

    def row(self) -> dict[str, object]:
        t = self.plan.totals
        return {
            "method": self.name,
            "seconds": round(self.seconds, 3),
            "travel_minutes": t.travel_minutes,
            "lateness_minutes": t.lateness_minutes,
            "travel_plus_lateness": t.travel_minutes + t.lateness_minutes,
            "unassigned": len(self.plan.unassigned),
            "objective": round(self.plan.objective, 1),
            "hard_rule_violations": self.violations,
        }


def timed(name: str, problem: PlanningProblem, solve: Callable[[PlanningProblem], Plan]) -> Run:
    began = time.perf_counter()
    plan = solve(problem)  # includes compiling the problem: the time a caller waits
    seconds = time.perf_counter() - began
    return Run(name, seconds, plan, len(hard_rule_violations(problem, plan)))


def measure(*, quick: bool, seed: int = 7) -> dict[str, object]:
    """Plan the backlog the four ways, print the table and return the results (with ``meets_target``)."""
    jobs, technicians, reference_seconds = (150, 30, 3.0) if quick else (500, 100, 30.0)
    problem = synthetic_problem(jobs=jobs, technicians=technicians, seed=seed)
    budget = DEFAULT_SETTINGS.time_limit
    print(f"instance: {jobs} open jobs x {technicians} technicians, seed {seed}; default budget {budget} s")

    runs = [
        timed("greedy nearest-available", problem, greedy_plan),
        timed("optimiser (default budget)", problem, lambda p: optimise(p)),
        timed(
            "OR-Tools routing (same budget)",
            problem,
            lambda p: optimise(p, OptimiserSettings(time_limit=budget, engine="routing")),
        ),
        timed(
            f"optimiser ({reference_seconds:g} s reference)",
            problem,
            lambda p: optimise(p, OptimiserSettings(time_limit=reference_seconds)),
        ),
    ]
    rows = [r.row() for r in runs]
    columns = (
        ("time s", 7),
        ("travel", 7),
        ("late", 7),
        ("tr+late", 8),
        ("unasg", 5),
        ("objective", 10),
        ("viol", 4),
    )
    print(f"{'method':34} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for r in rows:
        print(
            f"{r['method']!s:34} {r['seconds']:>7} {r['travel_minutes']:>7} {r['lateness_minutes']:>7} "
            f"{r['travel_plus_lateness']:>8} {r['unassigned']:>5} {r['objective']:>10} "
            f"{r['hard_rule_violations']:>4}"
        )

    greedy, default, _, reference = runs
    gap = default.plan.objective / reference.plan.objective - 1.0
    raw_gap = (default.plan.totals.travel_minutes + default.plan.totals.lateness_minutes) / max(
        1, reference.plan.totals.travel_minutes + reference.plan.totals.lateness_minutes
    ) - 1.0
    improvement = 1.0 - default.plan.objective / greedy.plan.objective
    fast = default.seconds < TARGET_SECONDS
    close = gap <= TARGET_GAP
    valid = all(r.violations == 0 for r in runs)
    print(f"default vs greedy: objective {improvement:.1%} lower")
    print(f"gap of the default run to the reference: {gap:+.2%} objective, {raw_gap:+.2%} travel + lateness")
    met = fast and close and valid
    print(
        f"target (under {TARGET_SECONDS:g} s and within {TARGET_GAP:.0%} of the reference, no broken rule): "
        + ("met" if met else "NOT met")
        + f" (time {'ok' if fast else 'too slow'}, gap {'ok' if close else 'too large'}, "
        + f"rules {'ok' if valid else 'broken'})"
    )
    return {
        "instance": {"jobs": jobs, "technicians": technicians, "seed": seed},
        "default_budget_seconds": budget,
        "reference_seconds": reference_seconds,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "runs": rows,
        "gap_objective": gap,
        "gap_travel_plus_lateness": raw_gap,
        "improvement_over_greedy": improvement,
        "target_met": met,
        "meets_target": met,
    }


def run(quick: bool) -> dict[str, object]:
    """The entry point ``python -m bench`` calls."""
    return measure(quick=quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="150 jobs x 30 technicians, 3-s reference")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    results = measure(quick=args.quick, seed=args.seed)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
