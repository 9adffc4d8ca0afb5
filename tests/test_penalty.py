"""Per-constraint penalty compilation, integer encodings and penalty tuning."""

from __future__ import annotations

import itertools

import dimod
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler

import hqopt
from hqopt.compile.encode import IntegerEncoding, binary_coefficients
from hqopt.compile.penalty import PenaltyModel

from conftest import fractional_assignment, knapsack_model


@pytest.mark.parametrize("span", [1, 2, 5, 6, 7, 8, 100])
def test_binary_coefficients_cover_exactly_the_range(span):
    coefficients = binary_coefficients(span)
    reachable = {0.0}
    for c in coefficients:
        reachable |= {r + c for r in reachable}
    assert reachable == {float(v) for v in range(span + 1)}


@pytest.mark.parametrize("method", ["binary", "unary", "one-hot", "domain-wall"])
def test_integer_encodings_solve_to_the_true_optimum(method):
    m = hqopt.Model(sense="max")
    a, b = m.integer("a", -2, 4), m.integer("b", 0, 3)
    m.set_objective(3 * a + 2 * b - a * b)
    m.add_constraint(a + b <= 5, label="sum")
    truth = hqopt.solve(m, backend="exact")
    result = hqopt.solve(m, backend="sa", seed=4, integer_encoding=method)
    assert result.feasible
    assert result.objective == truth.objective == 12.0


def test_unknown_encoding_is_an_error():
    with pytest.raises(hqopt.ModelError, match="encoding"):
        IntegerEncoding.for_variables({"i": (0, 3)}, method="gray")


def test_initial_weight_makes_a_full_step_cost_more_than_any_single_flip_gains():
    m = knapsack_model([10, 7, 3], [4, 3, 2], 5)
    pm = PenaltyModel.from_model(m)
    # the most one flip gains is 10 (item0); the largest step of the constraint is 4
    assert pm.weights["capacity"] * 4**2 > 10
    one_hot = hqopt.Model()
    y = [one_hot.binary(i) for i in range(3)]
    one_hot.set_objective(-5 * y[0] - 2 * y[1] + 3 * y[0] * y[2])
    one_hot.add_constraint(y[0] + y[1] + y[2] == 1, label="pick-one")
    assert PenaltyModel.from_model(one_hot).weights["pick-one"] > 8  # |-5| + |3|


def test_weights_override_and_validation():
    m = knapsack_model([10, 7, 3], [4, 3, 2], 5)
    assert PenaltyModel.from_model(m, weights=2.5).weights == {"capacity": 2.5}
    with pytest.raises(hqopt.ModelError, match="unknown constraint"):
        PenaltyModel.from_model(m, weights={"nope": 1.0})
    with pytest.raises(hqopt.ModelError, match="positive"):
        PenaltyModel.from_model(m, weights=-1)


def test_penalty_vanishes_exactly_on_feasible_assignments():
    m = knapsack_model([10, 7, 3], [4, 3, 2], 5)
    pm = PenaltyModel.from_model(m)
    penalty_only = pm.bqm() - pm.objective
    items = [v for v in pm.objective.variables if v in m.cqm.variables]
    slacks = [v for v in penalty_only.variables if v not in m.cqm.variables]
    for bits in itertools.product((0, 1), repeat=len(items)):
        x = dict(zip(items, bits))
        best = min(
            penalty_only.energy({**x, **dict(zip(slacks, s))})
            for s in itertools.product((0, 1), repeat=len(slacks))
        )
        assert (best == pytest.approx(0.0)) == m.evaluate(x).feasible, x


def test_tuned_weights_make_the_optimum_the_ground_state():
    m = knapsack_model([10, 7, 3], [4, 3, 2], 5)
    result = hqopt.solve(m, backend="sa", seed=0)
    pm = PenaltyModel.from_model(m, weights=result.penalty_weights)
    ground = dimod.ExactSolver().sample(pm.bqm()).truncate(1)
    best = dict(zip(pm.decoder.labels, pm.decoder.decode(ground)[0]))
    assert m.evaluate(best).feasible and m.evaluate(best).objective == 10.0


def test_quadratic_constraint_is_refused_with_advice():
    m = hqopt.Model()
    x, y = m.binary("x"), m.binary("y")
    m.set_objective(x + y)
    m.add_constraint(x * y == 1, label="both")
    with pytest.raises(hqopt.ModelError, match="cpsat"):
        hqopt.solve(m, backend="sa")
    assert hqopt.solve(m, backend="cpsat", seed=0).objective == 2.0


def test_tuning_raises_only_violated_weights():
    m = knapsack_model([10, 7, 3], [4, 3, 2], 5)
    x0, x2 = dimod.Binary("item0"), dimod.Binary("item2")
    m.add_constraint(x0 + x2 <= 1, label="not-both")  # the optimum satisfies it anyway
    start = PenaltyModel.from_model(m).weights["not-both"]
    result = hqopt.solve(m, backend="sa", seed=1, penalty={"capacity": 0.5}, num_reads=5)
    assert result.feasible and result.objective == 10.0
    assert result.penalty_weights["capacity"] > 0.5
    assert result.penalty_weights["not-both"] == start


@pytest.mark.filterwarnings("ignore:For constraints with fractional coefficients")  # dimod's, expected here
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_feasible_where_dimods_default_weight_is_not(seed):
    model = fractional_assignment(seed=seed)
    bqm, invert = dimod.cqm_to_bqm(model.minimization_cqm())
    reads = SimulatedAnnealingSampler().sample(bqm, num_reads=50, seed=1)
    default_feasible = sum(model.cqm.check_feasible(invert(s)) for s in reads.samples())
    assert default_feasible < 25  # dimod's 10*max|bias| lets most reads break capacity

    result = hqopt.solve(model, backend="sa", seed=1, num_reads=50)
    assert result.feasible
    assert model.evaluate(result.solution).feasible
    assert all(v == 0 for v in result.violations.values())


def test_spin_variables_in_constraints_decode_back_to_spins():
    m = hqopt.Model()
    s, t = m.spin("s"), m.spin("t")
    m.set_objective(s + t)
    m.add_constraint(s + t == 0, label="balanced")
    result = hqopt.solve(m, backend="sa", seed=0)
    assert result.feasible and result.objective == 0.0
    assert sorted(result.solution.values()) == [-1, 1]


def test_decoder_roundtrip_matches_model_objective():
    m = hqopt.Model()
    i = m.integer("i", 1, 6)
    m.set_objective((i - 4) * (i - 4))
    result = hqopt.solve(m, backend="tabu", seed=2)
    assert result.solution == {"i": 4} and result.objective == 0.0
    np.testing.assert_allclose(m.objective_value(result.solution), result.objective)
