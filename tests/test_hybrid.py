"""``hybrid`` decomposition: classical, QAOA and dwave-mock sub-backends."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import dimod
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hqopt
from hqopt.backends import get_backend
from hqopt.backends.hybrid import HybridBackend
from hqopt.errors import BackendError

from conftest import brute_force, knapsack_model


def _bqp50(benchmarks: Path, k: int) -> tuple[dimod.BinaryQuadraticModel, float]:
    """OR-Library bqp50.k as a minimisation BQM, and its proven optimum (as a minimum)."""
    tokens = (benchmarks / "bqp_orlib" / "bqp50.txt").read_text().split()
    pos = 1
    for index in range(1, k + 1):
        n, m = int(tokens[pos]), int(tokens[pos + 1])
        entries = tokens[pos + 2 : pos + 2 + 3 * m]
        pos += 2 + 3 * m
    bqm = dimod.BQM(dimod.BINARY)
    bqm.add_variables_from((i, 0.0) for i in range(n))
    for i, j, q in zip(entries[0::3], entries[1::3], entries[2::3]):
        i, j, q = int(i) - 1, int(j) - 1, float(q)
        if i == j:
            bqm.add_linear(i, -q)
        else:
            bqm.add_quadratic(i, j, -2 * q)  # maximise x'Qx with symmetric Q
    with open(benchmarks / "bqp_orlib" / "best_known.csv") as f:
        best = {row["instance"]: float(row["best_known"]) for row in csv.DictReader(f)}
    return bqm, -best[f"bqp50.{k}"]


def test_classical_sub_backend_on_bqp50(benchmarks):
    """Measured: 14 of 18 runs (bqp50.1-3, seeds 0-5, 5 restarts) reach the proven optimum."""
    bqm, optimum = _bqp50(benchmarks, 3)
    result = hqopt.solve(bqm, backend="hybrid", seed=1, sub_size=20)
    assert result.objective == pytest.approx(optimum)
    assert result.info["sub_backend"] == "sa" and result.info["subproblems"] >= 3 and result.info["restarts"] == 5
    again = hqopt.solve(bqm, backend="hybrid", seed=1, sub_size=20)
    assert again.solution == result.solution


def test_qaoa_sub_backend_solves_a_problem_too_big_for_qaoa():
    bqm = dimod.generators.gnp_random_bqm(16, 0.4, "BINARY", random_state=7)
    with pytest.raises(BackendError, match="hybrid"):
        hqopt.solve(bqm, backend="qaoa", seed=0, max_qubits=8)
    result = hqopt.solve(bqm, backend="hybrid", seed=1, sub_backend="qaoa", sub_size=8, restarts=2, sub_options={"reps": 1, "max_qubits": 8})
    assert result.objective == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)
    assert result.info["sub_backend"] == "qaoa" and result.info["sub_optimize_time"] > 0
    again = hqopt.solve(bqm, backend="hybrid", seed=1, sub_backend="qaoa", sub_size=8, restarts=2, sub_options={"reps": 1, "max_qubits": 8})
    assert again.solution == result.solution


def test_dwave_mock_sub_backend_on_a_constrained_problem():
    model = knapsack_model([6, 5, 8, 9, 3, 7, 4], [2, 3, 4, 5, 1, 4, 2], 10)
    result = hqopt.solve(model, backend="hybrid", seed=0, sub_backend="dwave-mock", sub_size=6, restarts=2)
    assert result.feasible and model.evaluate(result.solution).feasible
    assert result.objective == pytest.approx(brute_force(model))
    assert result.info["sub_qpu_access_time"] > 0


def test_bad_configurations_are_refused():
    with pytest.raises(BackendError, match="sub_size"):
        get_backend("hybrid", sub_backend="qaoa", sub_size=40)
    with pytest.raises(BackendError, match="itself"):
        get_backend("hybrid", sub_backend="hybrid")
    with pytest.raises(BackendError, match="BQMs"):
        get_backend("hybrid", sub_backend="cpsat")
    with pytest.raises(BackendError, match="sub_size"):
        get_backend("hybrid", sub_size=0)
    with pytest.raises(BackendError, match="unknown backend"):
        get_backend("hybrid", sub_backend="nope")


def test_unavailable_without_dwave_hybrid(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hybrid" else real(name, *a))
    status = HybridBackend.availability()
    assert not status.available and "dwave-hybrid" in status.reason


@given(st.integers(0, 10_000), st.integers(1, 12))
@settings(max_examples=30, deadline=None)
def test_array_decomposer_subproblem_energy_equals_full_energy(seed, size):
    """Sub-BQM energy + the energy of the fixed rest = full energy, for any values of the chosen variables."""
    import hybrid

    from hqopt.backends.hybrid_decomposer import ArrayImpactDecomposer

    rng = np.random.default_rng(seed)
    bqm = dimod.generators.gnp_random_bqm(15, 0.3, "BINARY", random_state=seed)
    start = {v: int(b) for v, b in zip(bqm.variables, rng.integers(0, 2, 15))}
    sub = ArrayImpactDecomposer(bqm, size).run(hybrid.State.from_sample(start, bqm)).result().subproblem
    assert 1 <= sub.num_variables <= size
    fixed_energy = None
    for _ in range(5):
        values = {v: int(rng.integers(0, 2)) for v in sub.variables}
        full = bqm.energy({**start, **values})
        if fixed_energy is None:
            fixed_energy = full - sub.energy(values)
        assert full - sub.energy(values) == pytest.approx(fixed_energy)


def test_array_decomposer_rolls_over_every_variable_before_repeating():
    import hybrid

    from hqopt.backends.hybrid_decomposer import ArrayImpactDecomposer

    bqm = dimod.generators.gnp_random_bqm(20, 0.5, "BINARY", random_state=3)
    state = hybrid.State.from_sample({v: 0 for v in bqm.variables}, bqm)
    decomposer = ArrayImpactDecomposer(bqm, 6)
    seen = [set(decomposer.run(state).result().subproblem.variables) for _ in range(4)]
    assert set().union(*seen) == set(bqm.variables)  # 6 + 6 + 6 + 2: each variable once
    assert sum(len(s) for s in seen) == 20
