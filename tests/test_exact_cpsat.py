"""CP-SAT and exhaustive search: proven optima, infeasibility, bounds, scaling."""

from __future__ import annotations

import dimod
import numpy as np
import pytest

import hqopt
from hqopt.io.qaplib import read_qap

from conftest import brute_force, knapsack_model


def random_constrained(seed: int) -> hqopt.Model:
    """A small random model with binaries, an integer and mixed constraints."""
    rng = np.random.default_rng(seed)
    m = hqopt.Model(sense="max" if seed % 2 else "min", name=f"random-{seed}")
    x = [m.binary(f"x{i}") for i in range(6)]
    k = m.integer("k", -1, 3)
    objective = dimod.quicksum(float(rng.integers(-5, 6)) * xi for xi in x)
    objective += float(rng.integers(-3, 4)) * k
    for i in range(5):
        objective += float(rng.integers(-4, 5)) * x[i] * x[i + 1]
    objective += float(rng.integers(-2, 3)) * k * x[0]
    m.set_objective(objective)
    m.add_constraint(dimod.quicksum(x) + k <= int(rng.integers(2, 6)), label="cap")
    m.add_constraint(x[0] + x[1] + x[2] >= 1, label="cover")
    m.add_constraint(x[3] - x[4] + k == int(rng.integers(0, 3)), label="link")
    return m


@pytest.mark.parametrize("seed", range(8))
def test_exact_and_cpsat_agree_on_random_small_models(seed):
    model = random_constrained(seed)
    exact = hqopt.solve(model, backend="exact")
    cpsat = hqopt.solve(model, backend="cpsat", seed=0, num_workers=1)
    assert exact.status is cpsat.status
    if exact.feasible:
        assert exact.status is hqopt.Status.OPTIMAL
        assert exact.objective == pytest.approx(cpsat.objective)
        assert cpsat.gap == 0.0 and cpsat.bound == pytest.approx(cpsat.objective)
        assert model.evaluate(cpsat.solution).feasible


def test_cpsat_proves_a_knapsack_optimum():
    values, weights = [15, 10, 9, 5, 8, 11, 3], [1, 5, 3, 4, 6, 7, 2]
    model = knapsack_model(values, weights, 12)
    result = hqopt.solve(model, backend="cpsat", seed=1)
    assert result.status is hqopt.Status.OPTIMAL
    assert result.objective == brute_force(model)
    assert result.bound == result.objective and result.gap == 0.0


def test_cpsat_proves_chr12a(benchmarks):
    model = read_qap(benchmarks / "qaplib" / "chr12a.dat").to_model()
    result = hqopt.solve(model, backend="cpsat", seed=0, time_limit=120)
    assert result.status is hqopt.Status.OPTIMAL
    assert result.objective == 9552  # QAPLIB optimum
    assert result.feasible


def test_infeasible_models_are_reported_infeasible():
    m = hqopt.Model()
    x = [m.binary(i) for i in range(3)]
    m.set_objective(dimod.quicksum(x))
    m.add_constraint(dimod.quicksum(x) >= 4, label="impossible")
    for backend in ("cpsat", "exact"):
        result = hqopt.solve(m, backend=backend, seed=0)
        assert result.status is hqopt.Status.INFEASIBLE and not result.feasible
    # exact also reports the least-violating assignment; CP-SAT has none to give
    assert hqopt.solve(m, backend="exact").violations == {"impossible": 1.0}
    annealed = hqopt.solve(m, backend="sa", seed=0)
    assert annealed.status is hqopt.Status.UNKNOWN and not annealed.feasible
    assert annealed.violations["impossible"] == 1.0


def test_fractional_coefficients_are_scaled_exactly():
    m = hqopt.Model()
    x, y = m.binary("x"), m.binary("y")
    m.set_objective(0.25 * x - 0.5 * y + 0.125 * x * y)
    m.add_constraint(0.3 * x + 0.7 * y >= 0.3, label="c")
    result = hqopt.solve(m, backend="cpsat", seed=0)
    assert result.objective == -0.5 and result.status is hqopt.Status.OPTIMAL
    assert result.info["objective_scaling_error"] == 0.0


def test_inexact_scaling_is_reported_and_not_called_optimal():
    m = hqopt.Model()
    x, y = m.binary("x"), m.binary("y")
    m.set_objective(1 / 3 * x - 2 / 7 * y)
    result = hqopt.solve(m, backend="cpsat", seed=0)
    assert result.objective == pytest.approx(-2 / 7)
    assert result.info["objective_scaling_error"] > 0
    assert result.status is hqopt.Status.FEASIBLE
    assert result.bound <= result.objective


def test_quadratic_constraints_and_integer_products():
    m = hqopt.Model(sense="max")
    a, b = m.integer("a", 0, 4), m.integer("b", 0, 4)
    m.set_objective(a + b)
    m.add_constraint(a * b <= 3, label="product")
    cpsat = hqopt.solve(m, backend="cpsat", seed=0)
    exact = hqopt.solve(m, backend="exact")
    assert cpsat.objective == exact.objective == 4.0  # e.g. (3, 1) or (4, 0); (4, 1) breaks a*b <= 3
    assert cpsat.status is hqopt.Status.OPTIMAL


def test_warm_start_is_accepted():
    model = knapsack_model([15, 10, 9, 5], [1, 5, 3, 4], 8)
    hint = {"item0": 1, "item1": 0, "item2": 1, "item3": 1}
    result = hqopt.solve(model, backend="cpsat", seed=0, initial=hint)
    assert result.objective == 29.0
    annealed = hqopt.solve(model, backend="sa", seed=0, initial=hint)
    assert annealed.objective == 29.0


def test_a_short_limit_shortens_presolve_probing_and_the_option_overrides_it():
    from hqopt.backends.cpsat import PROBING_DTIME_PER_SECOND

    model = knapsack_model([15, 10, 9, 5], [1, 5, 3, 4], 8)
    short = hqopt.solve(model, backend="cpsat", seed=0, time_limit=5)
    assert short.info["probing_deterministic_time_limit"] == pytest.approx(PROBING_DTIME_PER_SECOND * 5, rel=0.05)
    long = hqopt.solve(model, backend="cpsat", seed=0, time_limit=500)
    assert long.info["probing_deterministic_time_limit"] == 1.0  # CP-SAT's own default
    chosen = hqopt.solve(model, backend="cpsat", seed=0, time_limit=5, probing_deterministic_time_limit=0.5)
    assert chosen.info["probing_deterministic_time_limit"] == 0.5
    assert short.objective == long.objective == chosen.objective == 29.0


def test_a_time_limit_spent_while_building_still_gets_an_answer_not_a_rejected_model(monkeypatch):
    import hqopt.backends.cpsat as cpsat_backend

    monkeypatch.setattr(cpsat_backend, "finish_margin", lambda problem, budget: 1e3)  # nothing left once built
    model = knapsack_model([15, 10, 9, 5], [1, 5, 3, 4], 8)
    result = hqopt.solve(model, backend="cpsat", seed=0, time_limit=5)
    assert result.info["probing_deterministic_time_limit"] > 0  # was negative: "CP-SAT rejected the model"
    assert result.feasible or result.solution is None
