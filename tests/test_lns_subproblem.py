"""LNS sub-problems are exact: fixed variables folded into objective and right-hand sides."""

from __future__ import annotations

import dimod
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hqopt.lns.arrays import ArrayCQM
from hqopt.lns.subproblem import restrict


def random_cqm(rng: np.random.Generator) -> dimod.ConstrainedQuadraticModel:
    """Binaries and integers, quadratic objective, linear and quadratic constraints of each sense."""
    cqm = dimod.ConstrainedQuadraticModel()
    nb, ni = int(rng.integers(2, 8)), int(rng.integers(0, 3))
    xs = [dimod.Binary(("b", i)) for i in range(nb)]
    xs += [dimod.Integer(("i", i), lower_bound=int(rng.integers(-3, 1)), upper_bound=int(rng.integers(1, 4))) for i in range(ni)]
    n = len(xs)
    objective = 0.5 + sum(float(rng.normal()) * x for x in xs)
    for _ in range(int(rng.integers(0, 2 * n))):
        a, b = (int(k) for k in rng.integers(0, n, 2))
        if a == b and a < nb:
            continue
        objective += float(rng.normal()) * xs[a] * xs[b]
    cqm.set_objective(objective)
    for r in range(int(rng.integers(1, 5))):
        picked = rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)
        scale = float(rng.choice([1, 2, 3]))  # common factors: rows divided by their gcd
        lhs = sum(scale * float(rng.integers(-3, 4)) * xs[j] for j in picked)
        if rng.random() < 0.3 and len(picked) > 1:
            lhs += float(rng.integers(-2, 3)) * xs[picked[0]] * xs[picked[1]]
        sense = ["<=", ">=", "=="][int(rng.integers(0, 3))]
        cqm.add_constraint_from_model(lhs + 0.0, sense, float(rng.integers(-2, 4)), label=f"c{r}")
    return cqm


def random_point(model: ArrayCQM, rng: np.random.Generator) -> np.ndarray:
    return np.array([rng.integers(int(lo), int(hi) + 1) for lo, hi in zip(model.lower, model.upper)], dtype=float)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_subproblem_energy_and_feasibility_match_the_full_model(seed):
    rng = np.random.default_rng(seed)
    cqm = random_cqm(rng)
    model = ArrayCQM.from_cqm(cqm)
    x = random_point(model, rng)
    free = rng.choice(model.num_variables, size=int(rng.integers(1, model.num_variables + 1)), replace=False)
    sub = restrict(model, x, free)
    assert set(sub.cqm.variables) == {model.labels[i] for i in free}
    at_x = cqm.violations(dict(zip(model.labels, x)), skip_satisfied=False)
    for _ in range(10):  # random completions of the free part
        y = x.copy()
        y[free] = random_point(model, rng)[free]
        full = dict(zip(model.labels, y))
        part = {model.labels[i]: y[i] for i in free}
        assert np.isclose(sub.energy(part), cqm.objective.energy(full), atol=1e-9)
        assert np.isclose(model.objective(y), cqm.objective.energy(full), atol=1e-9)
        in_full = cqm.violations(full, skip_satisfied=False)
        in_sub = sub.cqm.violations(part, skip_satisfied=False)
        for label, violation in in_full.items():
            if label in in_sub:  # kept: violated exactly when the full row is (rows may be divided by a gcd)
                assert (in_sub[label] > 1e-9) == (violation > 1e-9)
            else:  # left out: constant (no free variable) or never binding
                assert np.isclose(violation, at_x[label], atol=1e-9) or violation <= 1e-9


def test_only_touched_non_redundant_constraints_are_kept():
    cqm = dimod.ConstrainedQuadraticModel()
    x = [dimod.Binary(i) for i in range(4)]
    cqm.set_objective(sum(x))
    cqm.add_constraint(x[0] + x[1] <= 5, label="never-binding")
    cqm.add_constraint(x[2] + x[3] <= 1, label="untouched")
    cqm.add_constraint(x[0] + x[2] <= 1, label="binding")
    sub = restrict(ArrayCQM.from_cqm(cqm), [0, 0, 1, 0], [0, 1])
    assert list(sub.cqm.constraints) == ["binding"]
    assert float(sub.cqm.constraints["binding"].rhs) == 0.0
