"""Moves keep one-hot groups and permutations exact; incremental deltas equal full re-evaluation."""

from __future__ import annotations

import dimod
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hqopt.engine import build_problem
from hqopt.engine import kernels as K


def _random_cqm(seed: int, groups: int, size: int, free: int, permutation: bool) -> dimod.ConstrainedQuadraticModel:
    """Random objective over one-hot groups (or a permutation) plus free binaries, one integer and two rows."""
    rng = np.random.default_rng(seed)
    cqm = dimod.CQM()
    size = groups if permutation else size
    x = [[dimod.Binary(("x", g, v)) for v in range(size)] for g in range(groups)]
    y = [dimod.Binary(("y", k)) for k in range(free)]
    z = dimod.Integer("z", lower_bound=-2, upper_bound=4)
    flat = [v for row in x for v in row] + y
    objective = 2 * z * z - z + sum(float(rng.normal()) * v for v in flat)
    for _ in range(3 * len(flat)):
        a, b = rng.choice(len(flat), 2, replace=False)
        objective += float(rng.normal()) * flat[a] * flat[b]
    cqm.set_objective(objective + flat[0] * z)
    for g in range(groups):
        cqm.add_constraint(sum(x[g]) == 1, label=f"row{g}")
    if permutation:
        for c in range(size):
            cqm.add_constraint(sum(x[g][c] for g in range(groups)) == 1, label=f"col{c}")
    weights = rng.integers(1, 5, len(flat))
    cqm.add_constraint(sum(int(w) * v for w, v in zip(weights, flat)) + z <= int(weights.sum()) // 3, label="cap")
    cqm.add_constraint(sum(y) - z >= 1, label="cover")
    return cqm


def _check_invariants(problem, state) -> None:
    a = problem.arrays
    x = state.x
    for g in range(len(a.gptr) - 1):
        assert x[a.gvars[a.gptr[g]:a.gptr[g + 1]]].sum() == 1
        assert x[state.on[g]] == 1
    if a.perm.shape[0]:
        assert (x[a.perm].sum(axis=0) == 1).all()
    assert ((x >= a.lb) & (x <= a.ub)).all()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    groups=st.integers(2, 5),
    size=st.integers(2, 4),
    free=st.integers(0, 4),
    permutation=st.booleans(),
)
def test_random_moves_keep_structure_and_deltas_exact(seed, groups, size, free, permutation):
    cqm = _random_cqm(seed, groups, size, free, permutation)
    problem = build_problem(cqm)
    assert problem.structure.permutation == permutation
    a = problem.arrays
    state = K.new_state(a, np.clip(np.zeros(problem.num_variables, dtype=np.int64), a.lb, a.ub))
    K.seed_and_randomize(a, state, seed)
    _check_invariants(problem, state)
    vs = np.zeros(4, dtype=np.int64)
    ds = np.zeros(4, dtype=np.int64)
    np.random.seed(seed)
    for step in range(60):
        if step % 20 == 19:
            K.seed_and_randomize(a, state, seed + step)
        nv = K.propose(a, state, vs, ds)
        if nv == 0:
            continue
        before_obj = problem.objective(state.x)
        before_viol = problem.violations(state.x).sum()
        dobj, dpen, dviol = K.move_delta(a, state, vs, ds, nv)
        K.apply_move(a, state, vs, ds, nv, dobj, dpen, dviol)
        _check_invariants(problem, state)
        assert np.isclose(problem.objective(state.x) - before_obj, dobj, atol=1e-7)
        assert np.isclose(problem.violations(state.x).sum() - before_viol, dviol, atol=1e-7)
        assert np.isclose(state.scal[K.OBJ] + problem.offset, problem.objective(state.x), atol=1e-6)
    sample = dict(zip(problem.labels, state.x.tolist()))
    assert np.isclose(cqm.objective.energy(sample), problem.objective(state.x))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), permutation=st.booleans())
def test_searches_keep_structure(seed, permutation):
    cqm = _random_cqm(seed, 4, 3, 2, permutation)
    problem = build_problem(cqm)
    a = problem.arrays
    state = K.new_state(a, np.clip(np.zeros(problem.num_variables, dtype=np.int64), a.lb, a.ub))
    K.seed_and_randomize(a, state, seed)
    K.calibrate(a, state, seed)
    K.greedy(a, state, seed, 10)
    _check_invariants(problem, state)
    state.scal[K.LENGTH] = 300
    K.anneal(a, state, 1000, seed)
    _check_invariants(problem, state)
    best = state.best_x
    assert np.isclose(state.scal[K.BEST_OBJ] + problem.offset, problem.objective(best))
    assert np.isclose(state.scal[K.BEST_VIOL], problem.violations(best).sum(), atol=1e-6)
