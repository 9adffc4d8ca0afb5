"""Backend contract regressions from issue 13 (each failed before its fix)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path

import dimod
import numpy as np
import pytest

import hqopt
import hqopt.budget
import hqopt.io
from hqopt.backends.exact import ExactBackend
from hqopt.cli.app import main

PROBLEMS = Path(__file__).resolve().parents[1] / "problems"


def brute_force_minimum(bqm: dimod.BinaryQuadraticModel) -> float:
    """Independent check: every assignment with NumPy."""
    labels = list(bqm.variables)
    states = np.array(list(itertools.product([0, 1], repeat=len(labels))), dtype=np.int8)
    return float(bqm.energies((states, labels)).min())


@pytest.mark.parametrize("n", [15, 16])
def test_auto_picks_exact_on_unconstrained_qubos_and_proves_the_optimum(n):
    bqm = dimod.generators.gnp_random_bqm(n, 0.5, "BINARY", random_state=n)
    result = hqopt.solve(bqm, backend="auto", seed=1)
    assert result.backend == "exact"
    assert result.status is hqopt.Status.OPTIMAL
    assert result.objective == pytest.approx(brute_force_minimum(bqm))


def test_shipped_exact_command_on_gka1b_proves_its_optimum(capsys):
    code = main(["solve", str(PROBLEMS / "qubo/gka1b.sparse"), "--backend", "exact", "--json", "--time-limit", "0"])
    out, _ = capsys.readouterr()
    assert code == 0
    result = json.loads(out)
    objective = hqopt.io.load(PROBLEMS / "qubo/gka1b.sparse").cqm.objective
    bqm = dimod.BQM(objective.linear, objective.quadratic, objective.offset, "BINARY")
    assert result["status"] == "optimal"
    assert result["objective"] == pytest.approx(brute_force_minimum(bqm))


@pytest.mark.parametrize("n", [64, 100, 1000])
def test_exact_refusal_states_the_true_size(n):
    bqm = dimod.BQM({i: 1.0 for i in range(n)}, {}, 0, "BINARY")
    with pytest.raises(hqopt.BackendError, match=rf"2\^{n} assignments"):
        ExactBackend().sample(bqm)


# -------------------------------------------------- dimod Sampler contract
SAMPLER_BACKENDS = ["sa", "tabu", "steepest", "sqa", "exact", "cpsat", "hybrid", "dwave-mock", "qaoa"]


@pytest.mark.parametrize("name", SAMPLER_BACKENDS)
def test_unknown_sample_kwargs_warn_and_are_dropped_like_dimod(name):
    backend = hqopt.get_backend(name)
    bqm = dimod.BQM({"a": -1.0, "b": 1.0}, {("a", "b"): -0.5}, 0.0, "SPIN")
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning, match="num_reads"):
        samples = backend.sample(bqm, num_reads=7, seed=1)
    assert samples.first.energy == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)


def test_hybrid_takes_a_dictbqm():
    bqm = dimod.generators.gnp_random_bqm(14, 0.4, "BINARY", random_state=4)
    d = dimod.DictBQM(bqm.linear, bqm.quadratic, bqm.offset, "BINARY")
    best = brute_force_minimum(bqm)
    assert hqopt.get_backend("hybrid", sub_size=6).sample(d, seed=2).first.energy == pytest.approx(best)
    assert hqopt.solve(d, backend="hybrid", seed=2, sub_size=6).objective == pytest.approx(best)


def test_hybrid_honours_a_stop_promptly():
    bqm = dimod.generators.gnp_random_bqm(600, 0.02, "BINARY", random_state=1)
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    t0 = time.perf_counter()
    result = hqopt.solve(bqm, backend="hybrid", seed=1, time_limit=30, stop=stop)
    elapsed = time.perf_counter() - t0
    assert elapsed < 3.0, f"stopped after {elapsed:.1f} s"
    assert result.objective is not None


# -------------------------------------------------- time limits inside backends
def test_dwave_mock_refuses_a_problem_larger_than_the_qpu_at_once():
    bqm = dimod.generators.gnp_random_bqm(400, 0.6, "BINARY", random_state=0)  # ~48k interactions
    t0 = time.perf_counter()
    with pytest.raises(hqopt.BackendError, match="cannot be embedded"):
        hqopt.get_backend("dwave-mock").sample(bqm, time_limit=1)
    assert time.perf_counter() - t0 < 0.5


def test_dwave_mock_embedding_is_held_to_the_time_limit():
    bqm = dimod.generators.gnp_random_bqm(1500, 0.004, "BINARY", random_state=0)
    backend = hqopt.get_backend("dwave-mock")
    backend.sample(dimod.BQM({"a": 1.0}, {}, 0, "BINARY"))  # dwave-system loaded: time the embedding only
    t0 = time.perf_counter()
    with pytest.warns(hqopt.errors.NotSearchedWarning, match="time limit ran out while embedding"):
        result = hqopt.solve(bqm, backend=backend, time_limit=1, seed=1)
    assert time.perf_counter() - t0 < 1.5
    assert result.solution is None and "give a larger time limit" in result.info["compile"]  # no solution: exit 1, not bad input


def test_qaoa_refuses_absurd_depth_at_once():
    bqm = dimod.generators.gnp_random_bqm(8, 0.5, "BINARY", random_state=1)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="reps must be at most"):
        hqopt.solve(bqm, backend="qaoa", reps=10**6, time_limit=2)
    assert time.perf_counter() - t0 < 1


def test_qaoa_refuses_a_simulation_that_cannot_fit_the_time_limit():
    bqm = dimod.generators.gnp_random_bqm(20, 0.5, "BINARY", random_state=1)
    t0 = time.perf_counter()
    with pytest.raises(hqopt.BackendError, match="does not fit"):
        hqopt.solve(bqm, backend="qaoa", reps=32, time_limit=1)
    assert time.perf_counter() - t0 < 1


def test_qaoa_deep_circuit_holds_the_time_limit():
    bqm = dimod.generators.gnp_random_bqm(10, 0.5, "BINARY", random_state=1)
    hqopt.solve(bqm, backend="qaoa", time_limit=1, seed=1)  # Qiskit loaded: time the run only
    t0 = time.perf_counter()
    result = hqopt.solve(bqm, backend="qaoa", reps=32, time_limit=1, seed=1)
    assert time.perf_counter() - t0 <= 1.5 and result.objective is not None


def test_hybrid_holds_a_short_time_limit_on_a_large_problem():
    import hybrid  # noqa: F401 - loaded first: time the run, not the import

    bqm = dimod.generators.gnp_random_bqm(2000, 0.005, "BINARY", random_state=3)
    t0 = time.perf_counter()
    samples = hqopt.get_backend("hybrid").sample(bqm, time_limit=1, seed=1)
    assert time.perf_counter() - t0 <= 1.5
    assert len(samples.variables) == 2000 and samples.first.energy == pytest.approx(bqm.energy(samples.first.sample))


def qap(n: int, seed: int) -> hqopt.Model:
    from hqopt.formulations.qap import QAP

    rng = np.random.default_rng(seed)
    return QAP(rng.integers(0, 10, (n, n)), rng.integers(0, 10, (n, n))).to_model()


def test_cpsat_refuses_a_model_it_cannot_build_in_time_at_once():
    cqm = qap(30, 1).minimization_cqm()
    backend = hqopt.get_backend("cpsat")
    t0 = time.perf_counter()
    with pytest.raises(hqopt.BackendError, match="building the CP-SAT model"):
        backend.run(cqm, hqopt.budget.Budget(1.0), seed=1)
    assert time.perf_counter() - t0 < 1.0


def test_portfolio_goes_on_without_a_member_that_refuses():
    result = hqopt.solve(qap(30, 2), backend="portfolio", members=("cpsat", "steepest"), time_limit=3, seed=1)
    assert "building the CP-SAT model" in result.info["members"]["cpsat"]["error"]
    assert result.solution is not None
