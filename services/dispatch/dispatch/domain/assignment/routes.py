"""Technicians' routes during the search: where each job is, what each route costs, and how to price and
make an insertion quickly (each route keeps a trace of its state before every visit).

Every candidate route is priced by the same rules ``CompiledProblem`` judges a plan by.
"""

from __future__ import annotations

import heapq
import random

from dispatch.domain.assignment.schedule import CompiledProblem, earliest_start

# per visit of a route: time free, position, travel, work and extra cost so far, then the visit's start
_Trace = tuple[list[int], list[int], list[int], list[int], list[float], list[int]]


class RouteState:
    """Routes of every crew for one compiled problem, the jobs left out, and insertion."""

    def __init__(self, c: CompiledProblem, routes: list[list[int]], *, seed: int = 0) -> None:
        self.c = c
        self.rng = random.Random(seed)
        self.crews_of = [[int(t) for t in c.eligible[j].nonzero()[0]] for j in range(c.n_jobs)]
        self.penalty = c.unassigned_cost
        self.routes = [list(r) for r in routes]
        self.cost = []
        for t, route in enumerate(self.routes):
            cost = c.route_cost(t, route)
            if cost is None:
                raise ValueError(f"initial route of crew {t} breaks a hard rule")
            self.cost.append(cost)
        self.where = [-1] * c.n_jobs
        self.unrouted = set(range(c.n_jobs))
        self.unrouted_penalty = sum(self.penalty)
        for t, route in enumerate(self.routes):
            for j in route:
                self._route(j, t)
        self.trace = [self._trace(t) for t in range(c.n_crews)]
        # the routes as they were before the current ruin-and-recreate step, to undo it
        self._undo: dict[int, tuple[list[int], float]] | None = None
        # the nearest other jobs of each job, for ruin-and-recreate clusters
        order = c.minutes[: c.n_jobs, : c.n_jobs].argsort(axis=1, kind="stable")[:, 1:31]
        self.neighbours: list[list[int]] = order.tolist()

    # --- bookkeeping ------------------------------------------------------------------------------------

    @property
    def objective(self) -> float:
        return sum(self.cost) + self.unrouted_penalty

    def snapshot(self) -> list[list[int]]:
        return [list(r) for r in self.routes]

    def _route(self, job: int, crew: int) -> None:
        if self.where[job] < 0:
            self.unrouted.discard(job)
            self.unrouted_penalty -= self.penalty[job]
        self.where[job] = crew

    def _unroute(self, job: int) -> None:
        if self.where[job] >= 0:
            self.unrouted.add(job)
            self.unrouted_penalty += self.penalty[job]
        self.where[job] = -1

    def set_route(self, crew: int, route: list[int], cost: float) -> None:
        """Replace a crew's route (routes are never changed in place, so old lists can be kept)."""
        if self._undo is not None and crew not in self._undo:
            self._undo[crew] = (self.routes[crew], self.cost[crew])
        for j in self.routes[crew]:
            if self.where[j] == crew:
                self._unroute(j)
        self.routes[crew] = route
        self.cost[crew] = cost
        for j in route:
            self._route(j, crew)
        self.trace[crew] = self._trace(crew)

    def begin(self) -> None:
        self._undo = {}

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        undo, self._undo = self._undo or {}, None
        for crew in undo:
            for j in self.routes[crew]:
                if self.where[j] == crew:
                    self._unroute(j)
        for crew, (route, cost) in undo.items():
            self.routes[crew] = route
            self.cost[crew] = cost
            for j in route:
                self._route(j, crew)
            self.trace[crew] = self._trace(crew)

    def _trace(self, crew: int) -> _Trace:
        """The state before each visit of the crew's route (and at its end), for quick insertion pricing."""
        c = self.c
        route = self.routes[crew]
        stretch = c.stretch[crew]
        time = stretch[0] if stretch else 0
        position = c.n_jobs + crew
        travel = work = 0
        extra = 0.0
        trace: _Trace = ([], [], [], [], [], [])
        times, positions, travels, works, extras, starts = trace
        for job in route:
            times.append(time)
            positions.append(position)
            travels.append(travel)
            works.append(work)
            extras.append(extra)
            leg = c.minutes_rows[position][job]
            start = earliest_start(c.start_ranges[job], time + leg)
            assert start is not None, "a route in the search is always feasible"
            starts.append(start)
            time = start + c.duration[job]
            travel += leg
            work += leg + c.duration[job]
            extra += max(0, start - c.due[job]) * c.lateness_weight[job] + c.preference[crew][job]
            position = job
        times.append(time)
        positions.append(position)
        travels.append(travel)
        works.append(work)
        extras.append(extra)
        return trace

    def insertion_cost(self, crew: int, job: int, p: int) -> float | None:
        """The cost of the crew's route with ``job`` inserted at position ``p`` (``None`` if infeasible).
        Starts from the traced state before ``p`` and stops as soon as a later visit keeps its old start."""
        c = self.c
        stretch = c.stretch[crew]
        if stretch is None:
            return None
        end_of_day = stretch[1]
        times, positions, travels, works, extras, starts = self.trace[crew]
        route = self.routes[crew]
        rows, duration, ranges, due, weight = (
            c.minutes_rows,
            c.duration,
            c.start_ranges,
            c.due,
            c.lateness_weight,
        )
        preference = c.preference[crew]
        time, position, travel, work, extra = times[p], positions[p], travels[p], works[p], extras[p]
        n = len(route)
        visit = job
        k = p - 1
        while True:
            leg = rows[position][visit]
            arrive = time + leg
            for lo, hi in ranges[visit]:
                if arrive <= hi:
                    start = lo if lo > arrive else arrive
                    break
            else:
                return None
            if k >= p and start == starts[k]:
                # from here on the route is as it was
                old_leg = rows[positions[k]][visit]
                travel += leg - old_leg + travels[n] - travels[k]
                work += leg - old_leg + works[n] - works[k]
                extra += extras[n] - extras[k]
                break
            time = start + duration[visit]
            if time > end_of_day:
                return None
            travel += leg
            work += leg + duration[visit]
            overdue = start - due[visit]
            if overdue > 0:
                extra += overdue * weight[visit]
            extra += preference[visit]
            position = visit
            k += 1
            if k >= n:
                break
            visit = route[k]
        if work > c.capacity[crew]:
            return None
        w = c.problem.weights
        over = work - c.target[crew]
        return travel * w.travel_per_minute + extra + (over * w.overload_per_minute if over > 0 else 0.0)

    def best_insertion(
        self, job: int, *, skip: int = -1, blink: float = 0.0
    ) -> tuple[float, int, int, float] | None:
        """The cheapest place for an unrouted ``job``: (cost increase, crew, position, new route cost)."""
        best: tuple[float, int, int, float] | None = None
        insertion_cost = self.insertion_cost
        rng = self.rng
        c = self.c
        rows = c.minutes_rows
        per_minute = c.problem.weights.travel_per_minute
        ranges = c.start_ranges[job]
        if not ranges:
            return None
        earliest, latest = ranges[0][0], ranges[-1][1]
        duration, due, weight = c.duration[job], c.due[job], c.lateness_weight[job]
        for crew in self.crews_of[job]:
            if crew == skip:
                continue
            stretch = c.stretch[crew]
            if stretch is None:
                continue
            base = self.cost[crew]
            route = self.routes[crew]
            times, positions, _, works, _, _ = self.trace[crew]
            floor = c.preference[crew][job]
            room = c.capacity[crew] - works[-1] - duration
            n = len(route)
            for p in range(n + 1):
                before = positions[p]
                arrive = times[p] + rows[before][job]
                if arrive > latest or arrive + duration > stretch[1]:
                    break  # later positions start later still
                # what the insertion costs at least: the detour (never shorter than the direct leg, give or
                # take a rounded minute) and the job's own lateness
                detour = rows[before][job] + (
                    rows[job][route[p]] - rows[before][route[p]] - 1 if p < n else 0
                )
                if detour > room:
                    continue
                if best is not None:
                    overdue = (arrive if arrive > earliest else earliest) - due
                    bound = detour * per_minute + floor + (overdue * weight if overdue > 0 else 0.0)
                    if bound >= best[0]:
                        continue
                if blink and rng.random() < blink:
                    continue
                new = insertion_cost(crew, job, p)
                if new is not None and (best is None or new - base < best[0]):
                    best = (new - base, crew, p, new)
        return best

    def insert(self, job: int, crew: int, position: int, new_cost: float) -> None:
        route = self.routes[crew]
        self.set_route(crew, [*route[:position], job, *route[position:]], new_cost)

    def remove(self, jobs: set[int]) -> bool:
        """Take ``jobs`` out of their routes. Refused (``False``, nothing changed) in the rare case where
        the shortcut is a minute longer than the detour it replaces (travel minutes are rounded up)."""
        changed = []
        for crew in {self.where[j] for j in jobs}:
            route = [j for j in self.routes[crew] if j not in jobs]
            cost = self.c.route_cost(crew, route)
            if cost is None:
                return False
            changed.append((crew, route, cost))
        for crew, route, cost in changed:
            self.set_route(crew, route, cost)
        return True

    def restore(self, routes: list[list[int]], costs: list[float]) -> None:
        changed = [t for t in range(self.c.n_crews) if routes[t] != self.routes[t]]
        self.routes = [list(r) for r in routes]
        self.cost = list(costs)
        self.where = [-1] * self.c.n_jobs
        self.unrouted = set(range(self.c.n_jobs))
        self.unrouted_penalty = sum(self.penalty)
        for t, route in enumerate(self.routes):
            for j in route:
                self._route(j, t)
        for t in changed:
            self.trace[t] = self._trace(t)

    # --- building ---------------------------------------------------------------------------------------

    def insert_all(self, jobs: list[int], *, blink: float = 0.0) -> None:
        """Insert ``jobs`` one after another, each where it costs least (if anywhere)."""
        for job in jobs:
            best = self.best_insertion(job, blink=blink)
            if best is not None:
                self.insert(job, best[1], best[2], best[3])

    def regret_insert_all(self, jobs: list[int]) -> None:
        """Insert ``jobs`` hardest first: always the job that would lose most by not getting its best place
        (the gap between its best and second-best technician; a job with one option goes first)."""
        c = self.c
        best_per_crew: dict[int, dict[int, tuple[float, int, float]]] = {}
        for job in jobs:
            options = {}
            for crew in self.crews_of[job]:
                found = self._best_in_route(crew, job)
                if found is not None:
                    options[crew] = found
            best_per_crew[job] = options
        version = dict.fromkeys(jobs, 0)
        heap: list[tuple[float, float, int, int]] = []

        def push(job: int) -> None:
            options = sorted(d for d, _, _ in best_per_crew[job].values())
            if not options:
                return
            regret = (options[1] - options[0]) if len(options) > 1 else c.unassigned_cost[job]
            heapq.heappush(heap, (-regret, options[0], job, version[job]))

        for job in jobs:
            push(job)
        pending = set(jobs)
        while heap:
            _, _, job, seen = heapq.heappop(heap)
            if job not in pending or seen != version[job]:
                continue
            crew, (_delta, position, new_cost) = min(
                best_per_crew[job].items(), key=lambda kv: (kv[1][0], kv[0])
            )
            self.insert(job, crew, position, new_cost)
            pending.discard(job)
            for other in pending:
                if crew in best_per_crew[other]:
                    found = self._best_in_route(crew, other)
                    if found is None:
                        del best_per_crew[other][crew]
                    else:
                        best_per_crew[other][crew] = found
                    version[other] += 1
                    push(other)

    def _best_in_route(self, crew: int, job: int) -> tuple[float, int, float] | None:
        """The cheapest position for ``job`` in the crew's route: (cost increase, position, new cost)."""
        best: tuple[float, int, float] | None = None
        base = self.cost[crew]
        for p in range(len(self.routes[crew]) + 1):
            new = self.insertion_cost(crew, job, p)
            if new is not None and (best is None or new - base < best[0]):
                best = (new - base, p, new)
        return best

    def construction_order(self) -> list[int]:
        """Locked and appointed jobs first, then the hardest to place (fewest technicians), then by due."""
        c = self.c
        jobs = c.problem.jobs
        return sorted(
            (j for j in range(c.n_jobs) if self.where[j] < 0),
            key=lambda j: (c.locked[j] < 0, jobs[j].fixed_start is None, len(self.crews_of[j]), c.due[j]),
        )
