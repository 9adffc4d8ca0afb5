"""A proven lower bound on the whole placement objective.

``bound = LP + w_communication * forced`` where

* **LP** is HiGHS's optimum of the linear relaxation of the energy, opening
  and migration terms under every linear rule of the model (assignment,
  capacities with ``x <= open`` strengthening, anti-affinity, affinity,
  pins/forbids, sites down, ``max_moves``);
* **forced** is the communication the anti-affinity rules force: replicas of a
  group with at most one per domain are in different domains, so traffic
  between them costs at least the smallest latency between two domains; and a
  service talking to ``n`` replicas shares its domain with at most
  ``max_per_domain`` of them, so the other (smallest) volumes cost at least that
  latency too. The pairs of each such argument are used by it alone (which of
  them pay is left open), so no pair is counted twice.

Both parts are minimised separately, so their sum is below the minimum of the
sum: a valid bound on every cost term. Communication that only capacities
force (an application too large for one site) is not counted; this is where
the remaining gap mostly comes from.

Example:
    >>> from hqopt.formulations.placement import Placement
    >>> p = Placement.from_spec({
    ...     "sites": [{"name": "a", "capacity": {"cpu": 2}, "price": {"cpu": 1}},
    ...               {"name": "b", "capacity": {"cpu": 2}, "price": {"cpu": 3}}],
    ...     "services": [{"name": "w1", "demand": {"cpu": 2}, "group": "w"},
    ...                  {"name": "w2", "demand": {"cpu": 1}, "group": "w"}],
    ...     "traffic": [["w1", "w2", 5]], "rules": {"anti_affinity": [{"group": "w"}]}})
    >>> b = placement_lower_bound(p)
    >>> b.value, b.parts      # LP: w1 on a (2), w2 on b (3); 5 units across sites at latency 16
    (85.0, {'energy+opening+migration (LP)': 5.0, 'communication (forced by anti-affinity)': 80.0})
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

if TYPE_CHECKING:
    from hqopt.formulations.placement import Placement


@dataclass
class PlacementBound:
    """``value`` <= the objective of every feasible placement; ``parts`` add up to it."""

    value: float
    parts: dict[str, float]
    covers: list[str]
    method: str
    seconds: float = 0.0
    info: dict[str, float] = field(default_factory=dict)


#: :attr:`PlacementBound.method` when the LP relaxation was solved (else each service's cheapest site)
LP_METHOD = "HiGHS LP relaxation"
#: seconds the LP relaxation may take unless told otherwise
BOUND_SECONDS = 30.0


def placement_lower_bound(p: Placement, time_limit: float = BOUND_SECONDS) -> PlacementBound:
    """The LP + forced-communication bound of ``p`` (see the module docstring)."""
    start = time.perf_counter()
    lp, method = _lp_bound(p, time_limit)
    forced = p.weights["communication"] * forced_communication(p)
    parts = {"energy+opening+migration (LP)": lp, "communication (forced by anti-affinity)": forced}
    covers = [t for t in ("energy", "opening", "migration") if p.weights[t] > 0]
    if p.weights["communication"] > 0:
        covers.append("communication (anti-affinity part)")
    return PlacementBound(lp + forced, parts, covers, method, time.perf_counter() - start)


def _lp_bound(p: Placement, time_limit: float) -> tuple[float, str]:
    """Optimum of the LP relaxation of the linear terms; if HiGHS does not finish, each service's cheapest site."""
    n, m = len(p.services), len(p.sites)
    index = p.site_index
    x = np.full((n, m), -1)
    for i, svc in enumerate(p.services):
        for site in p.allowed[svc.name]:
            x[i, index[site]] = 0
    ok = x >= 0
    x[ok] = np.arange(ok.sum())
    nx = int(ok.sum())
    w = p.weights
    open_sites = [k for k, s in enumerate(p.sites) if w["opening"] > 0 and s.open_cost > 0]
    o = {k: nx + j for j, k in enumerate(open_sites)}
    nv = nx + len(open_sites)
    demand = np.array([[s.demand.get(r, 0.0) for r in p.resources] for s in p.services]).reshape(n, -1)
    price = np.array([[s.price.get(r, 0.0) for r in p.resources] for s in p.sites]).reshape(m, -1)
    cost = np.zeros(nv)
    cost[x[ok]] = w["energy"] * (demand @ price.T)[ok]
    for k in open_sites:
        cost[o[k]] = w["opening"] * p.sites[k].open_cost
    offset = 0.0
    stays = []
    for i, svc in enumerate(p.services):
        if svc.name in p.current:
            move = w["migration"] * p.move_cost_of(svc)
            offset += move
            k = x[i, index[p.current[svc.name]]]
            if k >= 0:
                cost[k] -= move
                stays.append(k)
    cheapest = offset + sum(float(cost[x[i][ok[i]]].min()) for i in range(n))  # no capacities, no rules

    ub = _Rows(nv)
    for k, site in enumerate(p.sites):
        guests = np.flatnonzero(ok[:, k])
        for j, r in enumerate(p.resources):
            cols = list(x[guests, k])
            vals = list(demand[guests, j])
            if k in o:
                ub.add(cols + [o[k]], vals + [-site.capacity.get(r, 0.0)], 0.0)
            else:
                ub.add(cols, vals, site.capacity.get(r, 0.0))
        if k in o:  # a site hosting a service is open
            for i in guests:
                ub.add([x[i, k], o[k]], [1.0, -1.0], 0.0)
    groups = p.groups()
    position = {s.name: i for i, s in enumerate(p.services)}
    for rule in p.anti_affinity:
        by_domain: dict[str, list[int]] = defaultdict(list)
        for name in groups[rule.group]:
            i = position[name]
            for k in np.flatnonzero(ok[i]):
                by_domain[p.sites[k].domain(rule.scope)].append(int(x[i, k]))
        for cols in by_domain.values():
            ub.add(cols, [1.0] * len(cols), rule.max_per_domain)
    if p.max_moves is not None and p.current:
        ub.add(stays, [-1.0] * len(stays), -(len(p.current) - p.max_moves))
    eq = _Rows(nv)
    for i in range(n):
        eq.add(list(x[i][ok[i]]), [1.0] * int(ok[i].sum()), 1.0)
    for rule in p.affinity:
        a = position[rule.services[0]]
        for other in rule.services[1:]:
            b = position[other]
            for domain in {s.domain(rule.scope) for s in p.sites}:
                in_domain = np.array([s.domain(rule.scope) == domain for s in p.sites])
                ka, kb = x[a][ok[a] & in_domain], x[b][ok[b] & in_domain]
                eq.add(list(ka) + list(kb), [1.0] * len(ka) + [-1.0] * len(kb), 0.0)
    res = linprog(
        cost,
        A_ub=ub.matrix(),
        b_ub=ub.rhs or None,
        A_eq=eq.matrix(),
        b_eq=eq.rhs or None,
        bounds=(0, 1),
        method="highs",
        options={"time_limit": max(time_limit, 1.0), "presolve": True},
    )
    if res.status == 0:
        # HiGHS's optimum may sit a hair above the true one: step back by a tolerance;
        # with integer costs every placement costs an integer, so round up to one
        value = float(res.fun) + offset - 1e-6 * max(1.0, abs(float(res.fun)))
        if np.all(cost == np.round(cost)) and offset == round(offset):
            value = float(np.ceil(value))
        return max(cheapest, value), LP_METHOD
    return cheapest, "cheapest site per service (the LP did not finish)"


def forced_communication(p: Placement) -> float:
    """Unweighted communication every feasible placement pays because of anti-affinity (see module docstring)."""
    if not p.traffic or not p.anti_affinity:
        return 0.0
    live = [k for k, s in enumerate(p.sites) if s.name not in p.down]
    neighbours: dict[str, dict[str, float]] = defaultdict(dict)
    for (a, b), v in p.traffic.items():
        neighbours[a][b] = v
        neighbours[b][a] = v
    groups = p.groups()
    used: set[tuple[str, str]] = set()
    total = 0.0
    for rule in p.anti_affinity:
        names = [p.sites[k].domain(rule.scope) for k in live]
        apart = [p.latency[i, j] for a, i in zip(names, live) for b, j in zip(names, live) if a != b]
        if not apart:
            continue
        latency = float(min(apart))
        members = set(groups[rule.group])
        outside: dict[str, list[tuple[float, tuple[str, str]]]] = defaultdict(list)
        for a in groups[rule.group]:
            for b, v in neighbours[a].items():
                edge = (a, b) if a < b else (b, a)
                if edge in used:
                    continue
                if b in members:
                    if rule.max_per_domain == 1:  # two replicas never share a domain
                        used.add(edge)
                        total += v * latency
                else:
                    outside[b].append((v, edge))
        for edges in outside.values():
            # which replicas share b's domain is open, so the whole group of pairs is spent on this term
            used.update(edge for _, edge in edges)
            volumes = sorted((v for v, _ in edges), reverse=True)
            total += sum(volumes[rule.max_per_domain :]) * latency
    return total


class _Rows:
    """Sparse constraint rows ``sum vals * x[cols] (<=|==) rhs`` collected for one matrix."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rhs: list[float] = []

    def add(self, cols: list[int], vals: list[float], rhs: float) -> None:
        self.rows.append(np.full(len(cols), len(self.rhs)))
        self.cols.append(np.asarray(cols, dtype=int))
        self.vals.append(np.asarray(vals, dtype=float))
        self.rhs.append(float(rhs))

    def matrix(self) -> sparse.csr_matrix | None:
        if not self.rhs:
            return None
        return sparse.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))), shape=(len(self.rhs), self.columns)
        )
