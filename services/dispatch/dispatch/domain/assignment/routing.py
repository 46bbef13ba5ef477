"""OR-Tools' routing solver as an engine for the batch optimiser: the backlog as a vehicle-routing problem
with time windows, mirroring :class:`CompiledProblem` (same whole-minute travel matrix, start ranges,
working stretches, capacities, load targets and preference costs).

Measured on the 500 x 100 benchmark it converges too slowly for the default budget (its cumulative-cost
filters dominate), so the optimiser uses local search by default; this engine stays selectable
(``OptimiserSettings(engine="routing")``) and the benchmark reports it side by side.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]

from dispatch.domain.assignment.schedule import NO_DEADLINE, CompiledProblem

SCALE = 10  # objective units per minute-equivalent: OR-Tools costs are integers


def solve_with_routing(
    c: CompiledProblem, initial: Sequence[Sequence[int]], time_limit: float
) -> list[list[int]]:
    """Routes per crew found by OR-Tools within ``time_limit`` seconds, part by independent part."""
    routes: list[list[int]] = [list(r) for r in initial]
    parts = independent_parts(c)
    total = sum(len(jobs) for jobs, _ in parts) or 1
    for jobs, crews in parts:
        solved = _solve_part(c, jobs, crews, time_limit * len(jobs) / total)
        if solved is not None:
            for t, route in zip(crews, solved, strict=True):
                routes[t] = route
    return routes


def independent_parts(c: CompiledProblem) -> list[tuple[list[int], list[int]]]:
    """Jobs and technicians linked by eligibility; no job of one group fits a technician of another."""
    parent = list(range(c.n_jobs + c.n_crews))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for j, t in zip(*c.eligible.nonzero(), strict=True):
        a, b = find(int(j)), find(c.n_jobs + int(t))
        if a != b:
            parent[a] = b
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for j in range(c.n_jobs):
        groups.setdefault(find(j), ([], []))[0].append(j)
    for t in range(c.n_crews):
        groups.setdefault(find(c.n_jobs + t), ([], []))[1].append(t)
    parts = [g for g in groups.values() if g[0] and g[1]]
    return sorted(parts, key=lambda g: -len(g[0]))


def _solve_part(
    c: CompiledProblem,
    jobs: list[int],
    crews: list[int],
    time_limit: float,
) -> list[list[int]] | None:
    """Solve one independent part; returns a route per crew of ``crews`` (global job indices)."""
    w = c.problem.weights
    n, m = len(jobs), len(crews)
    # nodes: the part's jobs, then each crew's start, then one shared end (open routes end anywhere)
    nodes = jobs + [c.crew_node(t) for t in crews]
    end = n + m
    travel = [[*row, 0] for row in c.minutes[np.ix_(nodes, nodes)].tolist()]
    travel.append([0] * (end + 1))
    duration = [c.duration[j] for j in jobs] + [0] * (m + 1)
    busy = [[duration[i] + travel[i][k] for k in range(end + 1)] for i in range(end + 1)]
    for i in range(end + 1):
        busy[i][end] = duration[i]

    manager = pywrapcp.RoutingIndexManager(end + 1, m, [n + v for v in range(m)], [end] * m)
    model = pywrapcp.RoutingModel(manager)
    cost_matrix = [[round(x * w.travel_per_minute * SCALE) for x in row] for row in travel]
    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitMatrix(cost_matrix))
    busy_index = model.RegisterTransitMatrix(busy)

    horizon = c.horizon_minutes
    model.AddDimension(busy_index, horizon, horizon, False, "time")
    time_dim = model.GetDimensionOrDie("time")
    model.AddDimensionWithVehicleCapacity(busy_index, 0, [max(0, c.capacity[t]) for t in crews], True, "work")
    work_dim = model.GetDimensionOrDie("work")

    preference_index = [
        model.RegisterUnaryTransitVector([round(c.preference[t][j] * SCALE) for j in jobs] + [0] * (m + 1))
        for t in crews
    ]
    model.AddDimensionWithVehicleTransits(preference_index, 0, 10**9, True, "preference")
    model.GetDimensionOrDie("preference").SetSpanCostCoefficientForAllVehicles(1)

    for v, t in enumerate(crews):
        stretch = c.stretch[t]
        lo, hi = stretch if stretch is not None else (0, 0)
        time_dim.CumulVar(model.Start(v)).SetRange(lo, hi)
        time_dim.CumulVar(model.End(v)).SetRange(lo, hi)
        work_dim.SetCumulVarSoftUpperBound(model.End(v), c.target[t], round(w.overload_per_minute * SCALE))

    crew_position = {t: v for v, t in enumerate(crews)}
    for i, j in enumerate(jobs):
        index = manager.NodeToIndex(i)
        ranges = c.start_ranges[j]
        cumul = time_dim.CumulVar(index)
        cumul.SetRange(ranges[0][0], ranges[-1][1])
        for (_, gap_start), (gap_end, _) in itertools.pairwise(ranges):
            if gap_end - gap_start > 1:
                cumul.RemoveInterval(gap_start + 1, gap_end - 1)
        allowed = [crew_position[int(t)] for t in c.eligible[j].nonzero()[0] if int(t) in crew_position]
        model.VehicleVar(index).SetValues([-1, *allowed])
        if c.due[j] != NO_DEADLINE:
            time_dim.SetCumulVarSoftUpperBound(index, max(0, c.due[j]), round(c.lateness_weight[j] * SCALE))
        model.AddDisjunction([index], round(c.unassigned_cost[j] * SCALE))

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(10, int(time_limit * 1000)))
    solution = model.SolveWithParameters(params)
    if solution is None:
        return None
    routes = []
    for v in range(m):
        route = []
        index = solution.Value(model.NextVar(model.Start(v)))
        while not model.IsEnd(index):
            route.append(jobs[manager.IndexToNode(index)])
            index = solution.Value(model.NextVar(index))
        routes.append(route)
    return routes
