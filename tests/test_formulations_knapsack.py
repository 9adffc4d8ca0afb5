"""Multi-dimensional knapsack: spec, checker vs model, proven optimum, annealing feasibility."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import hqopt
from hqopt.errors import SpecError
from hqopt.formulations import formulation_class
from hqopt.formulations.knapsack import Knapsack


def _instance(seed: int = 0, n: int = 10) -> Knapsack:
    rng = np.random.default_rng(seed)
    items = [{"name": f"i{k}", "value": int(rng.integers(1, 30)), "weight": {"kg": int(rng.integers(1, 10)), "l": int(rng.integers(1, 10))}} for k in range(n)]
    return formulation_class("knapsack").from_spec({"capacity": {"kg": 20, "l": 15}, "items": items})


def _brute(ks: Knapsack) -> float:
    best = 0.0
    for bits in itertools.product([0, 1], repeat=len(ks.names)):
        ok, value, _ = ks.check([n for n, b in zip(ks.names, bits) if b])
        if ok:
            best = max(best, value)
    return best


def test_model_and_checker_agree():
    ks = _instance(1)
    model = ks.to_model()
    for bits in itertools.islice(itertools.product([0, 1], repeat=10), 0, 1024, 13):
        chosen = [n for n, b in zip(ks.names, bits) if b]
        ok, value, _ = ks.check(chosen)
        ev = model.evaluate({("take", n): b for n, b in zip(ks.names, bits)})
        assert ev.feasible == ok and ev.objective == value


def test_cpsat_proves_brute_force_optimum():
    ks = _instance(2)
    result = hqopt.solve(ks, backend="cpsat", time_limit=20, seed=0, num_workers=1)
    assert result.status is hqopt.Status.OPTIMAL and result.decoded["feasible"]
    assert result.objective == _brute(ks) == result.decoded["value"]


def test_annealing_is_feasible_and_close():
    ks = _instance(2)
    result = hqopt.solve(ks, backend="sa", seed=3)
    ok, value, _ = ks.check(result.decoded["items"])
    assert ok and value == result.objective >= 0.8 * _brute(ks)


def test_bad_spec():
    with pytest.raises(SpecError, match=r"items\[0\].weight.m3"):
        Knapsack.from_spec({"capacity": {"kg": 1}, "items": [{"value": 1, "weight": {"m3": 1}}]})
