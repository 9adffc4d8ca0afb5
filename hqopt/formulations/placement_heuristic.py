"""A feasible starting placement, fast: greedy construction, then single-service moves.

:func:`greedy_plan` keeps every service whose current site is still usable
where it is (so after a site failure only the displaced services move), then
places the pinned ones (at most two sites allowed), then the others application by application (breadth-first over the traffic
graph, heaviest first), each on the feasible site with the smallest added cost
(energy, opening, migration, traffic to the services already placed).
:func:`improve` then moves single services to cheaper feasible sites while it
pays, keeping capacities, anti-affinity, pins, forbids, sites down and
``max_moves``. Affinity rules are not handled: with any, the result is ``None``
unless it happens to keep them (the checker decides).

It is a warm start for the solvers (``Placement.warm_start()``), not a solver.

Example:
    >>> from hqopt.formulations.placement import Placement
    >>> from hqopt.formulations.placement_generator import generate_placement
    >>> spec = generate_placement(40, 6, seed=2); _ = spec.pop("kind")
    >>> p = Placement.from_spec(spec)
    >>> plan = greedy_plan(p)
    >>> p.check(plan).feasible
    True
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hqopt.formulations.placement import Placement


class _State:
    """Usage, anti-affinity counts and cost vectors of a partial placement."""

    def __init__(self, p: Placement) -> None:
        self.p = p
        n, m = len(p.services), len(p.sites)
        self.position = {s.name: i for i, s in enumerate(p.services)}
        self.demand = np.array([[s.demand.get(r, 0.0) for r in p.resources] for s in p.services]).reshape(n, -1)
        self.capacity = np.array([[s.capacity.get(r, 0.0) for r in p.resources] for s in p.sites]).reshape(m, -1)
        price = np.array([[s.price.get(r, 0.0) for r in p.resources] for s in p.sites]).reshape(m, -1)
        w = p.weights
        self.cost = w["energy"] * self.demand @ price.T  # (services, sites)
        self.open_cost = w["opening"] * np.array([s.open_cost for s in p.sites])
        index = p.site_index
        self.allowed = np.zeros((n, m), dtype=bool)
        for i, s in enumerate(p.services):
            self.allowed[i, [index[x] for x in p.allowed[s.name]]] = True
            if s.name in p.current:
                stay = index[p.current[s.name]]
                self.cost[i] += w["migration"] * p.move_cost_of(s)
                self.cost[i, stay] -= w["migration"] * p.move_cost_of(s)
        self.neighbours: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for (a, b), v in p.traffic.items():
            ia, ib = self.position[a], self.position[b]
            self.neighbours[ia].append((ib, w["communication"] * v))
            self.neighbours[ib].append((ia, w["communication"] * v))
        groups = {s.group for s in p.services}
        # per anti-affinity rule on a group: (domain id per site, max per domain, counts per domain)
        self.rules: dict[str, list[tuple[np.ndarray, int, np.ndarray]]] = defaultdict(list)
        for rule in p.anti_affinity:
            if rule.group in groups:
                names = [s.domain(rule.scope) for s in p.sites]
                ids = np.unique(names, return_inverse=True)[1]
                self.rules[rule.group].append((ids, rule.max_per_domain, np.zeros(ids.max() + 1, int)))
        self.used = np.zeros_like(self.capacity)
        self.guests = np.zeros(m, int)
        self.where = np.full(n, -1)
        self.current = np.array([index.get(p.current.get(s.name, ""), -1) for s in p.services])

    def feasible(self, i: int) -> np.ndarray:
        ok = self.allowed[i] & np.all(self.used + self.demand[i] <= self.capacity + 1e-9, axis=1)
        for ids, most, counts in self.rules.get(self.p.services[i].group or "", []):
            ok &= counts[ids] < most
        return ok

    def added_cost(self, i: int) -> np.ndarray:
        extra = self.cost[i] + np.where(self.guests == 0, self.open_cost, 0.0)
        latency = self.p.latency
        for j, v in self.neighbours[i]:
            if self.where[j] >= 0:
                extra = extra + v * latency[:, self.where[j]]
        return extra

    def put(self, i: int, k: int) -> None:
        self.where[i] = k
        self.used[k] += self.demand[i]
        self.guests[k] += 1
        for ids, _, counts in self.rules.get(self.p.services[i].group or "", []):
            counts[ids[k]] += 1

    def take(self, i: int) -> None:
        k = self.where[i]
        self.where[i] = -1
        self.used[k] -= self.demand[i]
        self.guests[k] -= 1
        for ids, _, counts in self.rules.get(self.p.services[i].group or "", []):
            counts[ids[k]] -= 1

    def moves(self) -> int:
        placed = self.current >= 0
        return int(np.sum(self.where[placed] != self.current[placed]))

    def assignment(self) -> dict[str, str]:
        return {s.name: self.p.sites[self.where[i]].name for i, s in enumerate(self.p.services)}


def greedy_plan(p: Placement, rounds: int = 10) -> dict[str, str] | None:
    """A feasible ``{service: site}`` (greedy, then :func:`improve`), or None if every greedy order gets stuck.

    Orders tried: applications breadth-first choosing the cheapest site; then
    largest demand first choosing the cheapest; then largest first choosing the
    site with the most room left (packing-safe).
    """
    for order, roomiest in (("traffic", False), ("demand", False), ("demand", True)):
        state = _construct(p, order, roomiest)
        if state is not None:
            improve(state, rounds)
            assignment = state.assignment()
            if p.check(assignment).feasible:
                return assignment
    return None


def _construct(p: Placement, order: str, roomiest: bool) -> _State | None:
    state = _State(p)
    for i in range(len(p.services)):  # services whose site is still usable stay
        k = state.current[i]
        if k >= 0 and state.allowed[i, k] and state.feasible(i)[k]:
            state.put(i, int(k))
    pinned = sorted(np.flatnonzero(state.allowed.sum(axis=1) <= 2), key=lambda i: state.allowed[i].sum())
    rest = _order(state) if order == "traffic" else list(np.argsort(-state.demand.sum(axis=1), kind="stable"))
    for i in [*pinned, *rest]:
        if state.where[i] >= 0:
            continue
        ok = state.feasible(i)
        if not ok.any():
            return None
        score = -np.min((state.capacity - state.used - state.demand[i]) / np.maximum(state.capacity, 1), axis=1) if roomiest else state.added_cost(i)
        state.put(i, int(np.argmin(np.where(ok, score, np.inf))))
    if p.max_moves is not None and state.moves() > p.max_moves:
        return None
    return state


def improve(state: _State, rounds: int) -> None:
    """Move single services to a cheaper feasible site while that pays (first improvement, ``rounds`` sweeps)."""
    p = state.p
    for _ in range(rounds):
        changed = False
        for i in range(len(p.services)):
            k = int(state.where[i])
            state.take(i)
            ok = state.feasible(i)
            others = state.moves() - 1  # i itself counts as moved while it is taken out
            if p.max_moves is not None and state.current[i] >= 0 and others >= p.max_moves:
                ok &= np.arange(len(p.sites)) == state.current[i]  # no move left to spend
            ok[k] = True
            cost = np.where(ok, state.added_cost(i), np.inf)
            best = int(np.argmin(cost))
            if cost[best] < cost[k] - 1e-9:
                state.put(i, best)
                changed = True
            else:
                state.put(i, k)
        if not changed:
            return


def _order(state: _State) -> list[int]:
    """Services application by application: components of the traffic graph, biggest first, breadth-first by volume."""
    n = len(state.p.services)
    seen = np.zeros(n, dtype=bool)
    components = []
    for start in np.argsort(-state.demand.sum(axis=1), kind="stable"):
        if seen[start]:
            continue
        seen[start] = True
        queue, members = deque([int(start)]), []
        while queue:
            i = queue.popleft()
            members.append(i)
            for j, _ in sorted(state.neighbours[i], key=lambda jv: -jv[1]):
                if not seen[j]:
                    seen[j] = True
                    queue.append(j)
        components.append(members)
    components.sort(key=lambda c: -state.demand[c].sum())
    return [i for c in components for i in c]
