"""Local search over technicians' routes: relocate, swap and ejection to descend; ruin-and-recreate
(remove a cluster of nearby visits, or a technician's day, and re-insert cheapest-first) to escape.

Randomness comes from one seeded generator, so the same problem, seed and iteration count give the same
routes; the time limit only decides how many iterations there are.
"""

from __future__ import annotations

import math
import time

from dispatch.domain.assignment.routes import RouteState

_EPS = 1e-6
# ruin-and-recreate: how many visits one step removes, and how much worse a step may be and still be
# accepted at the start (as a share of the average cost per job; the allowance shrinks to nothing)
RUIN_SIZE = (3, 12)
START_ALLOWANCE = 0.2


class RouteSearch(RouteState):
    """Routes of every crew with the moves that improve them."""

    # --- descending -------------------------------------------------------------------------------------

    def relocate_pass(self, deadline: float) -> bool:
        """Move each job (and try each unassigned one) to its cheapest place; whether anything improved."""
        improved = False
        order = list(range(self.c.n_jobs))
        self.rng.shuffle(order)
        route_cost = self.c.route_cost
        for job in order:
            if time.perf_counter() > deadline:
                break
            crew = self.where[job]
            if crew < 0:
                best = self.best_insertion(job)
                if best is not None and best[0] < self.penalty[job] - _EPS:
                    self.insert(job, best[1], best[2], best[3])
                    improved = True
                continue
            route = self.routes[crew]
            without = [j for j in route if j != job]
            cost_without = route_cost(crew, without)
            if cost_without is None:
                continue
            saving = self.cost[crew] - cost_without
            best = self.best_insertion(job, skip=crew)
            # the same route, another position
            for p in range(len(without) + 1):
                new = route_cost(crew, [*without[:p], job, *without[p:]])
                if new is not None and (best is None or new - cost_without < best[0]):
                    best = (new - cost_without, crew, p, new)
            if best is None or best[0] >= saving - _EPS:
                continue
            _, target, position, new_cost = best
            if target == crew:
                self.set_route(crew, [*without[:position], job, *without[position:]], new_cost)
            else:
                self.set_route(crew, without, cost_without)
                self.insert(job, target, position, new_cost)
            improved = True
        return improved

    def swap_pass(self, deadline: float) -> bool:
        """Exchange two jobs of different technicians, each taking the other's place."""
        improved = False
        c = self.c
        route_cost = c.route_cost
        eligible = c.eligible
        order = [j for j in range(c.n_jobs) if self.where[j] >= 0]
        self.rng.shuffle(order)
        for a_job in order:
            if time.perf_counter() > deadline:
                break
            a = self.where[a_job]
            if a < 0 or c.locked[a_job] >= 0:
                continue
            allowed = self.crews_of[a_job]
            # only nearby visits are worth exchanging
            for b_job in self.neighbours[a_job][:15]:
                b = self.where[b_job]
                if b < 0 or b == a or b not in allowed or c.locked[b_job] >= 0 or not eligible[b_job, a]:
                    continue
                ra = [b_job if j == a_job else j for j in self.routes[a]]
                new_a = route_cost(a, ra)
                if new_a is None:
                    continue
                rb = [a_job if j == b_job else j for j in self.routes[b]]
                new_b = route_cost(b, rb)
                if new_b is None or new_a + new_b >= self.cost[a] + self.cost[b] - _EPS:
                    continue
                self.set_route(a, ra, new_a)
                self.set_route(b, rb, new_b)
                improved = True
                break
        return improved

    def ejection_pass(self, deadline: float) -> bool:
        """For each job nobody took: make room by moving one visit of an eligible technician elsewhere
        (or, for a more important job, leaving that visit out). Whether anything improved."""
        c = self.c
        improved = False
        route_cost = c.route_cost
        waiting = sorted((j for j in range(c.n_jobs) if self.where[j] < 0), key=lambda j: -self.penalty[j])
        for job in waiting:
            if time.perf_counter() > deadline:
                break
            done = False
            for crew in self.crews_of[job]:
                route, old_cost = self.routes[crew], self.cost[crew]
                for i, out in enumerate(route):
                    if c.locked[out] >= 0:
                        continue
                    without = route[:i] + route[i + 1 :]
                    fitted = None
                    for p in range(len(without) + 1):
                        candidate = [*without[:p], job, *without[p:]]
                        new = route_cost(crew, candidate)
                        if new is not None and (fitted is None or new < fitted[0]):
                            fitted = (new, candidate)
                    if fitted is None:
                        continue
                    self.set_route(crew, fitted[1], fitted[0])
                    elsewhere = self.best_insertion(out)
                    out_cost = self.penalty[out] if elsewhere is None else elsewhere[0]
                    if self.penalty[job] - (fitted[0] - old_cost) - out_cost > _EPS:
                        if elsewhere is not None:
                            self.insert(out, elsewhere[1], elsewhere[2], elsewhere[3])
                        improved = done = True
                        break
                    self.set_route(crew, route, old_cost)
                if done:
                    break
        return improved

    def descend(self, deadline: float) -> None:
        """Relocate, swap and eject until none improves (or time is up)."""
        while time.perf_counter() < deadline:
            moved = self.relocate_pass(deadline)
            moved = self.swap_pass(deadline) or moved
            moved = self.ejection_pass(deadline) or moved
            if not moved:
                return

    # --- escaping ---------------------------------------------------------------------------------------

    def ruin_and_recreate(self, deadline: float, *, max_iterations: int | None = None) -> int:
        """Remove a cluster of nearby visits and re-insert them (with the unassigned) cheapest-first; keep
        the result if it is better, or slightly worse early on (a cooling acceptance threshold). Ends on
        the best routes seen. Returns the number of iterations done."""
        c = self.c
        best_routes, best_cost = self.snapshot(), self.objective
        current = best_cost
        started = time.perf_counter()
        span = max(1e-3, deadline - started)
        iterations = 0
        start_threshold = START_ALLOWANCE * best_cost / max(1, c.n_jobs)
        last_ejected: frozenset[int] = frozenset()
        movable = [j for j in range(c.n_jobs) if c.locked[j] < 0 and self.crews_of[j]]
        while (
            movable
            and time.perf_counter() < deadline
            and (max_iterations is None or iterations < max_iterations)
        ):
            iterations += 1
            unassigned = sorted(self.unrouted)
            size = self.rng.randint(*RUIN_SIZE)
            first: list[int] = []
            if unassigned and self.rng.random() < 0.5:
                # make room around a job nobody could take yet, and try it first
                centre = self.rng.choice(unassigned)
                first = [centre]
            else:
                centre = self.rng.choice(movable)
                while self.where[centre] < 0:
                    centre = self.rng.choice(movable)
            if first and self.rng.random() < 0.5:
                # clear one or two of its technicians' days and rebuild them around it
                crews = self.rng.sample(
                    self.crews_of[centre], min(len(self.crews_of[centre]), self.rng.randint(1, 2))
                )
                removed = [j for t in crews for j in self.routes[t] if c.locked[j] < 0]
            else:
                room = set(self.crews_of[centre]) if first else None
                removed = ([] if first else [centre]) + [
                    j
                    for j in self.neighbours[centre][: size * 3]
                    if self.where[j] >= 0 and c.locked[j] < 0 and (room is None or self.where[j] in room)
                ][: size - (0 if first else 1)]
            self.begin()
            if not self.remove(set(removed)):
                self.rollback()
                continue
            pending = removed + [j for j in unassigned if j not in first]
            how = self.rng.random()
            if how < 0.3:
                self.rng.shuffle(pending)
            elif how < 0.55:
                pending.sort(key=lambda j: c.due[j])
            elif how < 0.8:
                pending.sort(key=lambda j: len(self.crews_of[j]))
            else:
                pending.sort(key=lambda j: -c.duration[j])
            self.insert_all(first + pending, blink=0.01)
            if iterations % 200 == 0 and self.unrouted and frozenset(self.unrouted) != last_ejected:
                last_ejected = frozenset(self.unrouted)
                self.ejection_pass(deadline)
            candidate = self.objective
            progress = (time.perf_counter() - started) / span
            threshold = start_threshold * (1.0 - progress)
            if candidate < current + threshold:
                self.commit()
                current = candidate
                if candidate < best_cost - _EPS:
                    best_cost, best_routes = candidate, self.snapshot()
            else:
                self.rollback()
        costs = [c.route_cost(t, route) for t, route in enumerate(best_routes)]
        self.restore(best_routes, [math.inf if x is None else x for x in costs])
        return iterations
