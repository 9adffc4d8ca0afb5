"""Backend contract regressions from issue 13 (each failed before its fix)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import dimod
import numpy as np
import pytest

import hqopt
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
