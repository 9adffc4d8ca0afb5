"""QAOA backend: Hamiltonian mapping, optimum on small problems, primitives, limits."""

from __future__ import annotations

import importlib.util
import json

import dimod
import networkx as nx
import numpy as np
import pytest

import hqopt
from hqopt.backends import get_backend
from hqopt.backends.qaoa import QAOABackend, cost_hamiltonian, cvar
from hqopt.errors import BackendError
from hqopt.formulations.maxcut import MaxCut

from conftest import brute_force, knapsack_model


def _maxcut(n: int, seed: int) -> hqopt.Model:
    return MaxCut.from_graph(nx.gnp_random_graph(n, 0.5, seed=seed)).to_model()


def test_cost_hamiltonian_diagonal_is_the_bqm_energy():
    bqm = dimod.generators.gnp_random_bqm(5, 0.7, "BINARY", random_state=4)
    hamiltonian, offset, scale = cost_hamiltonian(bqm)
    assert max(abs(c) for c in hamiltonian.coeffs) == pytest.approx(1.0)
    diagonal = np.real(np.diag(hamiltonian.to_matrix()))
    for index in range(2**5):  # basis index: qubit i is bit i (little-endian)
        sample = {v: (index >> i) & 1 for i, v in enumerate(bqm.variables)}
        assert scale * diagonal[index] + offset == pytest.approx(bqm.energy(sample))


def test_cvar_is_the_mean_of_the_best_share():
    energies = np.array([3.0, -1.0, 2.0, 0.0])
    probabilities = np.full(4, 0.25)
    assert cvar(energies, probabilities, 1.0) == pytest.approx(1.0)
    assert cvar(energies, probabilities, 0.25) == pytest.approx(-1.0)
    assert cvar(energies, probabilities, 0.375) == pytest.approx((-1.0 * 0.25 + 0.0 * 0.125) / 0.375)


def test_maxcut_12_nodes_optimal_with_few_shots_and_concentrated():
    """128 shots of 4096 states: uniform sampling would find a best cut ~6% of the time."""
    model = _maxcut(12, seed=5)
    result = hqopt.solve(model, backend="qaoa", seed=1, shots=128)
    assert result.objective == pytest.approx(brute_force(model))
    again = hqopt.solve(model, backend="qaoa", seed=1, shots=128)
    assert again.solution == result.solution and again.info["angles"] == result.info["angles"]
    # the tuned circuit beats a uniform guess: its CVaR is far below the uniform mean energy
    bqm = dimod.BQM(model.cqm.objective.linear, model.cqm.objective.quadratic, model.cqm.objective.offset, "BINARY") * -1
    uniform_mean = bqm.offset + sum(bqm.linear.values()) / 2 + sum(bqm.quadratic.values()) / 4
    assert result.info["qaoa_objective"] < uniform_mean - 0.25 * abs(uniform_mean)


def test_penalty_compiled_knapsack_is_feasible_and_optimal():
    model = knapsack_model([6, 5, 8, 9, 3], [2, 3, 4, 5, 1], 8)  # 5 items + 4 slack bits = 9 qubits
    result = hqopt.solve(model, backend="qaoa", seed=3, reps=2)
    assert result.feasible and model.evaluate(result.solution).feasible
    assert result.objective == pytest.approx(brute_force(model))
    assert result.info["qubits"] == 9


def test_user_primitives_are_used_unchanged():
    from qiskit.primitives import StatevectorEstimator, StatevectorSampler

    model = _maxcut(6, seed=2)
    best = brute_force(model)
    by_sampler = hqopt.solve(model, backend="qaoa", seed=0, sampler=StatevectorSampler(seed=0), shots=256, reps=1)
    assert by_sampler.info["evaluator"] == "StatevectorSampler" and by_sampler.objective == pytest.approx(best)
    by_estimator = hqopt.solve(model, backend="qaoa", seed=0, estimator=StatevectorEstimator(), reps=1, maxiter=30)
    assert by_estimator.info["evaluator"] == "StatevectorEstimator"
    assert by_estimator.info["objective_kind"] == "expectation"
    assert by_estimator.objective == pytest.approx(best)


def test_too_many_qubits_is_refused_with_a_hint():
    bqm = dimod.generators.gnp_random_bqm(8, 0.5, "BINARY", random_state=0)
    with pytest.raises(BackendError, match="hybrid"):
        hqopt.solve(bqm, backend="qaoa", seed=0, max_qubits=6)


def test_options_are_validated():
    for bad in ({"reps": 0}, {"shots": -5}, {"alpha": 0}, {"alpha": 1.5}, {"initial_angles": [0.1]}):
        with pytest.raises(BackendError):
            get_backend("qaoa", **bad)


def test_time_limit_stops_the_angle_search():
    model = _maxcut(10, seed=1)
    result = hqopt.solve(model, backend="qaoa", seed=0, time_limit=0.5, penalty_rounds=1)
    assert result.objective is not None and result.timing.total < 5.0


def test_unavailable_without_qiskit(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name.startswith("qiskit") else real(name, *a))
    status = QAOABackend.availability()
    assert not status.available and "hqopt[quantum]" in status.reason


def test_cli_solve_on_qaoa(capsys, tmp_path):
    from hqopt.cli.app import main

    spec = tmp_path / "cut.yaml"
    spec.write_text("kind: maxcut\nedges: [[0, 1, 1], [1, 2, 1], [2, 3, 1], [3, 0, 1], [0, 2, 1]]\n")
    code = main(["solve", str(spec), "--backend", "qaoa", "--seed", "2", "--time-limit", "0", "--json", "--option", "reps=1", "--option", "shots=64"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["objective"] == 4.0 and result["info"]["reps"] == 1
    assert main(["solve", str(spec), "--backend", "qaoa", "--option", "max_qubits=2"]) == 2
    assert "--backend hybrid --option sub_backend=qaoa" in capsys.readouterr().err  # the hint in the CLI's words too


def test_timed_qaoa_solves_one_after_another_do_not_crash_the_interpreter():
    # Qiskit 2.x segfaults when its extension was first imported by a thread that has ended and is
    # then used from another; every timed solve (and every lns sub-solve) runs its backend in a
    # thread that ends. Run in a fresh interpreter, where nothing imported Qiskit before.
    import subprocess
    import sys

    code = (
        "import dimod, hqopt\n"
        "m = hqopt.Model()\n"
        "x = [m.binary(i) for i in range(6)]\n"
        "m.set_objective(sum((i - 2) * x[i] for i in range(6)) + x[0] * x[1])\n"
        "m.add_constraint(sum(x) <= 3, label='three')\n"
        "r = hqopt.solve(m, backend='lns', subsolver='qaoa', time_limit=2, seed=1, k=4)\n"
        "for i in range(2):\n"
        "    hqopt.solve(dimod.generators.gnp_random_bqm(6, 0.5, 'BINARY', random_state=i), backend='qaoa', seed=1, time_limit=3)\n"
        "print('done', r.feasible)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "done True" in done.stdout, done.stderr[-3000:]
