"""Acceptance: sa and tabu reach the optimum of every OR-Library bqp50 instance within 2 s."""

from __future__ import annotations

import csv

import pytest

import hqopt
import hqopt.io

from conftest import BENCHMARKS

OPTIMA = {
    row["instance"]: float(row["best_known"])
    for row in csv.DictReader((BENCHMARKS / "bqp_orlib" / "best_known.csv").open())
    if row["instance"].startswith("bqp50.")
}


@pytest.mark.parametrize("backend", ["sa", "tabu"])
@pytest.mark.parametrize("k", range(1, 11))
def test_reaches_the_bqp50_optimum_within_two_seconds(backend, k):
    model = hqopt.io.load(f"{BENCHMARKS / 'bqp_orlib' / 'bqp50.txt'}#{k}")
    optimum = OPTIMA[f"bqp50.{k}"]
    result = hqopt.solve(model, backend=backend, time_limit=2.0, seed=k, target=optimum)
    assert result.feasible
    assert result.objective == optimum  # maximise: the optimum is never exceeded
    assert result.info["time_to_target"] is not None
    assert model.evaluate(result.solution).objective == optimum
