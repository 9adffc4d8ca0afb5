"""Model builders, sense handling and verification on the original model."""

from __future__ import annotations

import dimod
import numpy as np
import pytest

import hqopt
from hqopt.model import Sense, as_model


def test_from_qubo_dict_and_matrix_agree():
    Q = np.array([[-1.0, 2.0], [0.0, -1.0]])
    a = hqopt.Model.from_qubo(Q)
    b = hqopt.Model.from_qubo({(0, 0): -1, (0, 1): 2, (1, 1): -1})
    for sample in ({0: 0, 1: 0}, {0: 1, 1: 0}, {0: 1, 1: 1}):
        assert a.objective_value(sample) == b.objective_value(sample)
    assert a.objective_value({0: 1, 1: 1}) == 0.0


def test_from_qubo_rejects_non_square():
    with pytest.raises(hqopt.ModelError, match="square"):
        hqopt.Model.from_qubo(np.zeros((2, 3)))


def test_spin_model_keeps_spin_values():
    m = hqopt.Model.from_ising({"a": 1.0}, {("a", "b"): -1.0})
    assert m.variable_counts() == {"SPIN": 2}
    assert m.objective_value({"a": -1, "b": -1}) == -2.0
    result = hqopt.solve(m, backend="exact")
    assert result.objective == -2.0
    assert set(result.solution.values()) <= {-1, 1}


def test_expression_api_with_integers_and_constraints():
    m = hqopt.Model(sense="max", name="mix")
    i = m.integer("i", 0, 5)
    x = m.binary("x")
    m.set_objective(2 * i + 3 * x)
    m.add_constraint(i + 4 * x <= 6, label="budget")
    assert m.variable_counts() == {"INTEGER": 1, "BINARY": 1}
    ev = m.evaluate({"i": 5, "x": 1})
    assert not ev.feasible and ev.violations["budget"] == 3.0
    ev = m.evaluate({"i": 2, "x": 1})
    assert ev.feasible and ev.objective == 7.0


def test_integer_with_inverted_bounds_is_an_error():
    with pytest.raises(hqopt.ModelError, match="upper bound"):
        hqopt.Model.integer("i", 3, 1)


def test_evaluate_rejects_out_of_domain_and_missing_values():
    m = hqopt.Model.from_qubo({(0, 0): 1})
    assert not m.evaluate({0: 2}).feasible
    with pytest.raises(hqopt.ModelError, match="lacks"):
        m.evaluate({})


def test_sense_parsing():
    assert Sense.parse("Maximise") is Sense.MAX
    assert Sense.parse("min") is Sense.MIN
    with pytest.raises(hqopt.ModelError):
        Sense.parse("sideways")


def test_as_model_accepts_dimod_models_and_to_model_objects():
    bqm = dimod.BQM({"a": 1}, {}, 0, "BINARY")
    assert as_model(bqm).num_variables == 1
    assert as_model(dimod.CQM.from_bqm(bqm)).num_variables == 1

    class Wrapper:
        def to_model(self):
            return hqopt.Model.from_bqm(bqm, name="wrapped")

    assert as_model(Wrapper()).name == "wrapped"
    with pytest.raises(hqopt.ModelError, match="cannot solve"):
        as_model(42)


def test_minimization_cqm_negates_max_objective_only():
    m = hqopt.Model(sense="max")
    x = m.binary("x")
    m.set_objective(5 * x)
    m.add_constraint(x <= 1, label="c")
    cqm = m.minimization_cqm()
    assert cqm.objective.energy({"x": 1}) == -5.0
    assert m.cqm.objective.energy({"x": 1}) == 5.0
    assert list(cqm.constraints) == ["c"]
