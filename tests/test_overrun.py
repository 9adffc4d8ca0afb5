"""Time limits hold inside every offline backend (issue 11 item 4): a cheaper subset of
benchmarks/bench_overrun.py -- a 2000-variable sparse QUBO at 1 s, libraries loaded first."""

from __future__ import annotations

import time

import dimod
import numpy as np
import pytest

import hqopt
from hqopt.testing import allowed_overrun

OFFLINE = ["sa", "tabu", "steepest", "sqa", "exact", "cpsat", "mip", "ls", "lns", "portfolio", "auto", "hybrid", "dwave-mock", "qaoa"]


@pytest.fixture(scope="module")
def qubo2000() -> hqopt.Model:
    rng = np.random.default_rng(2000)
    n = 2000
    edges = {tuple(sorted(map(int, rng.choice(n, 2, replace=False)))) for _ in range(5 * n)}
    bqm = dimod.BQM({i: float(rng.integers(-100, 101)) for i in range(n)}, {e: float(rng.integers(-100, 101)) for e in edges}, 0.0, "BINARY")
    return hqopt.Model.from_bqm(bqm, name="qubo2000")


@pytest.mark.slow
@pytest.mark.parametrize("name", OFFLINE)
def test_one_second_limit_holds_or_is_refused_at_once(name, qubo2000):
    hqopt.solve(hqopt.Model.from_qubo({(0, 0): -1.0, (0, 1): 2.0}), backend=name, seed=1)  # imports, JIT
    t0 = time.perf_counter()
    try:
        result = hqopt.solve(qubo2000, backend=name, time_limit=1.0, seed=1)
    except hqopt.HqoptError:
        result = None
    elapsed = time.perf_counter() - t0
    assert elapsed <= 1.0 + allowed_overrun(1.0), f"{name}: {elapsed:.2f} s for a 1 s limit"
    if result is not None and result.solution:  # exact solvers may have nothing yet at 1 s: time is what is checked
        assert result.feasible and result.objective == pytest.approx(qubo2000.evaluate(result.solution).objective)
