"""Capacitated facility location, single source: open warehouses, serve each customer from one.

Minimise ``sum_i f_i y_i + sum_ij c_ij x_ij`` subject to ``sum_i x_ij = 1``
(each customer served by exactly one warehouse) and ``sum_j d_j x_ij <= s_i y_i``
(capacity, and only open warehouses serve). ``c_ij`` is the cost of serving
all of customer ``j``'s demand from warehouse ``i`` (OR-Library's convention).

Variables (binary): ``("open", i)`` and ``("serve", i, j)``, 1-based as in the
OR-Library file. Constraints: ``customer[j]``, ``capacity[i]``.

The domain answer is the set of open warehouses plus the customer ->
warehouse table; :meth:`FacilityLocation.check` recomputes feasibility and
cost from it alone. Opening a warehouse that serves nobody is allowed (and
costs its fixed cost), so the check and the model agree on every solution.

Example:
    >>> fl = FacilityLocation(capacity=[10, 10], fixed_cost=[5, 1], demand=[4, 4], cost=[[1, 1], [3, 3]])
    >>> fl.check([1, 2], {1: 1, 2: 1})    # both served by warehouse 1, both open
    (True, 8.0, [])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dimod
import numpy as np

from hqopt.errors import ModelError, SpecError
from hqopt.formulations import fields as F
from hqopt.model import Model


class FacilityLocation:
    """Warehouses ``i = 1..m`` (capacity, fixed cost), customers ``j = 1..n`` (demand), costs ``cost[i][j]``."""

    def __init__(self, capacity: Any, fixed_cost: Any, demand: Any, cost: Any, name: str = "facility") -> None:
        self.capacity = np.asarray(capacity, dtype=float)
        self.fixed_cost = np.asarray(fixed_cost, dtype=float)
        self.demand = np.asarray(demand, dtype=float)
        self.cost = np.asarray(cost, dtype=float)
        m, n = len(self.capacity), len(self.demand)
        if self.fixed_cost.shape != (m,) or self.cost.shape != (m, n):
            raise ModelError(f"facility location: expected {m} fixed costs and a {m} x {n} cost matrix, got {self.fixed_cost.shape} and {self.cost.shape}")
        self.m, self.n, self.name = m, n, name

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], source: str = "<spec>") -> FacilityLocation:
        """``{warehouses: [{capacity, fixed_cost}], customers: [{demand, cost: [per warehouse]}]}``."""
        try:
            F.no_unknown_keys(spec, ("name", "warehouses", "customers"), "")
            houses = [F.mapping(w, f"warehouses[{k}]") for k, w in enumerate(F.sequence(spec.get("warehouses"), "warehouses"))]
            customers = [F.mapping(c, f"customers[{k}]") for k, c in enumerate(F.sequence(spec.get("customers"), "customers"))]
            for k, w in enumerate(houses):
                F.no_unknown_keys(w, ("capacity", "fixed_cost"), f"warehouses[{k}]")
            for k, c in enumerate(customers):
                F.no_unknown_keys(c, ("demand", "cost"), f"customers[{k}]")
            if not houses or not customers:
                raise SpecError("warehouses" if not houses else "customers", "must not be empty")
            capacity = [F.number(w, "capacity", f"warehouses[{k}]", minimum=0) for k, w in enumerate(houses)]
            fixed = [F.number(w, "fixed_cost", f"warehouses[{k}]", default=0.0, minimum=0) for k, w in enumerate(houses)]
            demand = [F.number(c, "demand", f"customers[{k}]", minimum=0) for k, c in enumerate(customers)]
            cost = []
            for k, c in enumerate(customers):
                row = F.sequence(c.get("cost"), f"customers[{k}].cost")
                if len(row) != len(houses):
                    raise SpecError(f"customers[{k}].cost", f"must give one cost per warehouse ({len(houses)}), got {len(row)}")
                cost.append([F.to_number(x, f"customers[{k}].cost[{i}]", minimum=0) for i, x in enumerate(row)])
        except SpecError as exc:
            raise SpecError(exc.field, exc.reason, source=source) from None
        return cls(capacity, fixed, demand, np.array(cost).T, name=F.text(spec, "name", "", default="facility") or "facility")

    def to_model(self) -> Model:
        m, n = self.m, self.n
        labels = [("open", i + 1) for i in range(m)] + [("serve", i + 1, j + 1) for i in range(m) for j in range(n)]
        linear = np.concatenate([self.fixed_cost, self.cost.ravel()])
        objective = dimod.BQM.from_numpy_vectors(linear, ([], [], []), 0.0, dimod.BINARY, variable_order=labels)
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.set_objective(objective)
        for j in range(1, n + 1):
            cqm.add_constraint_from_iterable([(("serve", i, j), 1) for i in range(1, m + 1)], "==", 1, label=f"customer[{j}]")
        for i in range(1, m + 1):
            terms = [(("serve", i, j + 1), float(self.demand[j])) for j in range(n) if self.demand[j] > 0]
            terms.append((("open", i), -float(self.capacity[i - 1])))
            cqm.add_constraint_from_iterable(terms, "<=", 0, label=f"capacity[{i}]")
        return Model(cqm, sense="min", name=self.name, decoder=self.decode, metadata={"kind": "facility"})

    def decode(self, solution: Mapping[Any, float]) -> dict[str, Any]:
        """``{"open": [...], "assignment": {customer: warehouse}, "cost": ..., "feasible": ...}``."""
        opened = sorted(label[1] for label, v in solution.items() if isinstance(label, tuple) and label[0] == "open" and round(v) == 1)
        assignment: dict[int, int] = {}
        for label, v in solution.items():
            if isinstance(label, tuple) and label[0] == "serve" and round(v) == 1:
                if label[2] in assignment:
                    raise ModelError(f"customer {label[2]} is served by two warehouses")
                assignment[label[2]] = label[1]
        feasible, cost, violations = self.check(opened, assignment)
        return {"open": opened, "assignment": assignment, "cost": cost, "feasible": feasible, "violations": violations}

    def check(self, opened: Iterable[int], assignment: Mapping[int, int]) -> tuple[bool, float, list[str]]:
        """``(feasible, cost, violations)`` of open warehouses and ``{customer: warehouse}`` (1-based)."""
        opened = set(opened)
        violations = []
        load = np.zeros(self.m)
        cost = float(sum(self.fixed_cost[i - 1] for i in opened if 1 <= i <= self.m))
        for j in range(1, self.n + 1):
            i = assignment.get(j)
            if i is None or not 1 <= i <= self.m:
                violations.append(f"customer {j} is not served by a known warehouse")
                continue
            if i not in opened:
                violations.append(f"customer {j} is served by closed warehouse {i}")
            load[i - 1] += self.demand[j - 1]
            cost += float(self.cost[i - 1, j - 1])
        for i in range(self.m):
            if load[i] > self.capacity[i] + 1e-9:
                violations.append(f"warehouse {i + 1} serves {load[i]:g} of capacity {self.capacity[i]:g}")
        return not violations, cost, violations

    def solution_of(self, opened: Iterable[int], assignment: Mapping[int, int]) -> dict[tuple, int]:
        """The model's 0/1 assignment for a domain answer."""
        opened = set(opened)
        sol: dict[tuple, int] = {("open", i): int(i in opened) for i in range(1, self.m + 1)}
        sol.update({("serve", i, j): int(assignment.get(j) == i) for i in range(1, self.m + 1) for j in range(1, self.n + 1)})
        return sol
