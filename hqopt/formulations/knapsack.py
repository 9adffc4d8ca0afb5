"""Multi-dimensional 0/1 knapsack: pick items of most total value within every capacity.

Maximise ``sum_i v_i x_i`` subject to ``sum_i w_ki x_i <= C_k`` for each
dimension ``k`` (weight, volume, ...). Variables ``("take", item)``;
constraints ``capacity[dimension]``.

Example:
    >>> ks = Knapsack.from_spec({"capacity": {"kg": 5},
    ...     "items": [{"name": "a", "value": 6, "weight": {"kg": 4}},
    ...               {"name": "b", "value": 5, "weight": {"kg": 3}},
    ...               {"name": "c", "value": 4, "weight": {"kg": 2}}]})
    >>> ks.check(["b", "c"])
    (True, 9.0, [])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dimod
import numpy as np

from hqopt.errors import SpecError
from hqopt.formulations import fields as F
from hqopt.model import Model


class Knapsack:
    """Items (name, value, weight per dimension) and a capacity per dimension."""

    def __init__(self, names: list[str], values: Any, weights: Any, capacity: Mapping[str, float], name: str = "knapsack") -> None:
        self.names = list(names)
        self.values = np.asarray(values, dtype=float)
        self.dimensions = list(capacity)
        self.capacity = np.array([capacity[d] for d in self.dimensions], dtype=float)
        self.weights = np.asarray(weights, dtype=float).reshape(len(self.names), len(self.dimensions))
        self.name = name

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], source: str = "<spec>") -> Knapsack:
        """``{capacity: {dim: C}, items: [{name, value, weight: {dim: w}}]}``."""
        try:
            F.no_unknown_keys(spec, ("name", "capacity", "items"), "")
            if "capacity" not in spec:
                raise SpecError("capacity", "is required")
            capacity = F.number_map(spec["capacity"], "capacity", minimum=0)
            if not capacity:
                raise SpecError("capacity", "must name at least one dimension")
            items = F.sequence(spec.get("items"), "items")
            if not items:
                raise SpecError("items", "must not be empty")
            names, values, weights = [], [], []
            for k, item in enumerate(items):
                where = f"items[{k}]"
                item = F.mapping(item, where)
                F.no_unknown_keys(item, ("name", "value", "weight"), where)
                item_name = F.text(item, "name", where, default=str(k + 1)) or str(k + 1)
                if item_name in names:
                    raise SpecError(f"{where}.name", f"duplicate item {item_name!r}")
                names.append(item_name)
                values.append(F.number(item, "value", where, minimum=0))
                w = F.number_map(item.get("weight", {}) or {}, f"{where}.weight", minimum=0)
                for d in w:
                    F.known(d, capacity, f"{where}.weight.{d}", "dimension")
                weights.append([w.get(d, 0.0) for d in capacity])
        except SpecError as exc:
            raise SpecError(exc.field, exc.reason, source=source) from None
        return cls(names, values, weights, capacity, name=F.text(spec, "name", "", default="knapsack") or "knapsack")

    def to_model(self) -> Model:
        labels = [("take", n) for n in self.names]
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.set_objective(dimod.BQM.from_numpy_vectors(self.values, ([], [], []), 0.0, dimod.BINARY, variable_order=labels))
        for k, d in enumerate(self.dimensions):
            terms = [(lab, float(w)) for lab, w in zip(labels, self.weights[:, k]) if w > 0]
            if terms:
                cqm.add_constraint_from_iterable(terms, "<=", float(self.capacity[k]), label=f"capacity[{d}]")
        return Model(cqm, sense="max", name=self.name, decoder=self.decode, metadata={"kind": "knapsack"})

    def decode(self, solution: Mapping[Any, float]) -> dict[str, Any]:
        """``{"items": [...], "value": ..., "load": {dim: used}, "feasible": ...}``."""
        chosen = [n for n in self.names if round(solution[("take", n)]) == 1]
        feasible, value, violations = self.check(chosen)
        load = {d: float(sum(self.weights[self.names.index(n), k] for n in chosen)) for k, d in enumerate(self.dimensions)}
        return {"items": chosen, "value": value, "load": load, "feasible": feasible, "violations": violations}

    def check(self, chosen: Iterable[str]) -> tuple[bool, float, list[str]]:
        """``(feasible, value, violations)`` of a set of item names, from the data alone."""
        chosen = list(chosen)
        position = {n: k for k, n in enumerate(self.names)}
        violations = [f"unknown item {n}" for n in chosen if n not in position]
        if len(set(chosen)) != len(chosen):
            violations.append("an item is taken twice")
        rows = [position[n] for n in set(chosen) if n in position]
        value = float(sum(self.values[r] for r in rows))
        for k, d in enumerate(self.dimensions):
            used = float(sum(self.weights[r, k] for r in rows))
            if used > self.capacity[k] + 1e-9:
                violations.append(f"{d}: {used:g} of capacity {self.capacity[k]:g}")
        return not violations, value, violations
