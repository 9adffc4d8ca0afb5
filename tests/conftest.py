"""Shared fixtures: benchmark locations and small model builders used by several tests."""

from __future__ import annotations

import contextlib
import io
import itertools
from pathlib import Path

import dimod
import numpy as np
import pytest

import hqopt
from hqopt.cli.app import main

#: helper scripts the tests run (external bench anchors, ...), not test modules
collect_ignore = ["data"]

REPO = Path(__file__).resolve().parents[1]
#: ../shared/benchmarks beside the repository (CI clones main with shared/ beside it)
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
DATA = Path(__file__).resolve().parent / "data"


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``hqopt ARGV`` run in this process: its exit code, stdout and stderr (just that run's)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    if not BENCHMARKS.is_dir():
        pytest.fail(f"benchmark data not found at {BENCHMARKS}")
    return BENCHMARKS


def fractional_assignment(n: int = 12, m: int = 4, seed: int = 0) -> hqopt.Model:
    """Services to sites with fractional CPU demands: dimod's default penalty fails here."""
    rng = np.random.default_rng(seed)
    demand = rng.choice([0.1, 0.2, 0.3, 0.4, 0.5], n)
    cost = rng.integers(1, 11, (n, m)).astype(float)
    cost[:, 0] = 1.0  # one site is cheapest for everybody, so capacity binds
    capacity = round(demand.sum() / m * 1.2, 1)
    model = hqopt.Model(name="fractional-assignment")
    x = {(i, j): model.binary(f"x[{i},{j}]") for i in range(n) for j in range(m)}
    model.set_objective(dimod.quicksum(cost[i, j] * x[i, j] for i in range(n) for j in range(m)))
    for i in range(n):
        model.add_constraint(dimod.quicksum(x[i, j] for j in range(m)) == 1, label=f"one-site[{i}]")
    for j in range(m):
        model.add_constraint(dimod.quicksum(float(demand[i]) * x[i, j] for i in range(n)) <= capacity, label=f"cpu[{j}]")
    return model


def knapsack_model(values: list[int], weights: list[int], capacity: int) -> hqopt.Model:
    model = hqopt.Model(sense="max", name="knapsack")
    x = [model.binary(f"item{i}") for i in range(len(values))]
    model.set_objective(dimod.quicksum(v * xi for v, xi in zip(values, x)))
    model.add_constraint(dimod.quicksum(w * xi for w, xi in zip(weights, x)) <= capacity, label="capacity")
    return model


def brute_force(model: hqopt.Model) -> float | None:
    """Best feasible objective by plain enumeration (binary variables only)."""
    labels = model.variables
    best = None
    for bits in itertools.product((0, 1), repeat=len(labels)):
        sample = dict(zip(labels, bits))
        ev = model.evaluate(sample)
        if ev.feasible and (best is None or model.sense.sign * ev.objective < model.sense.sign * best):
            best = ev.objective
    return best
