"""Moves keep one-hot groups, permutations and defined binaries exact; incremental deltas equal full re-evaluation."""

from __future__ import annotations

import dimod
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hqopt.engine import build_problem
from hqopt.engine import kernels as K


def _random_cqm(seed: int, groups: int, size: int, free: int, permutation: bool, defined: int = 0) -> dimod.ConstrainedQuadraticModel:
    """Random objective over one-hot groups (or a permutation) plus free binaries, one integer and two rows;
    ``defined`` binaries per group each equal to the sum of a random part of the group (rows ``def[g,j]``)."""
    rng = np.random.default_rng(seed)
    cqm = dimod.CQM()
    size = groups if permutation else size
    x = [[dimod.Binary(("x", g, v)) for v in range(size)] for g in range(groups)]
    y = [dimod.Binary(("y", k)) for k in range(free)]
    z = dimod.Integer("z", lower_bound=-2, upper_bound=4)
    d = [dimod.Binary(("d", g, j)) for g in range(groups) for j in range(defined)]
    flat = [v for row in x for v in row] + y + d
    objective = 2 * z * z - z + sum(float(rng.normal()) * v for v in flat)
    for _ in range(3 * len(flat)):
        a, b = rng.choice(len(flat), 2, replace=False)
        objective += float(rng.normal()) * flat[a] * flat[b]
    cqm.set_objective(objective + flat[0] * z)
    for g in range(groups):
        cqm.add_constraint(sum(x[g]) == 1, label=f"row{g}")
        for j in range(defined):
            part = rng.choice(size, int(rng.integers(1, size + 1)), replace=False)
            cqm.add_constraint(sum(x[g][int(v)] for v in part) - d[g * defined + j] == 0, label=f"def[{g},{j}]")
    if permutation:
        for c in range(size):
            cqm.add_constraint(sum(x[g][c] for g in range(groups)) == 1, label=f"col{c}")
    weights = rng.integers(1, 5, len(flat))
    cqm.add_constraint(sum(int(w) * v for w, v in zip(weights, flat)) + z <= int(weights.sum()) // 3, label="cap")
    cqm.add_constraint(sum(y) - z >= 1, label="cover")
    return cqm


def _check_invariants(problem, state, cqm=None) -> None:
    a = problem.arrays
    x = state.x
    assert problem.consistent(x)
    if cqm is not None:  # the defining rows hold on the original model
        sample = dict(zip(problem.labels, x.tolist()))
        for label in problem.structure.defined_rows:
            assert cqm.constraints[label].lhs.energy(sample) == 0
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
    defined=st.integers(0, 2),
)
def test_random_moves_keep_structure_and_deltas_exact(seed, groups, size, free, permutation, defined):
    cqm = _random_cqm(seed, groups, size, free, permutation, defined)
    problem = build_problem(cqm)
    assert problem.structure.permutation == permutation
    assert len(problem.structure.defined) == groups * defined
    a = problem.arrays
    state = K.new_state(a, np.clip(np.zeros(problem.num_variables, dtype=np.int64), a.lb, a.ub))
    K.seed_and_randomize(a, state, seed)
    _check_invariants(problem, state, cqm)
    vs, ds = K.move_buffers(a)
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
        _check_invariants(problem, state, cqm)
        assert np.isclose(problem.objective(state.x) - before_obj, dobj, atol=1e-7)
        assert np.isclose(problem.violations(state.x).sum() - before_viol, dviol, atol=1e-7)
        assert np.isclose(state.scal[K.OBJ] + problem.offset, problem.objective(state.x), atol=1e-6)
    sample = dict(zip(problem.labels, state.x.tolist()))
    assert np.isclose(cqm.objective.energy(sample), problem.objective(state.x))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), permutation=st.booleans(), defined=st.integers(0, 2))
def test_searches_keep_structure(seed, permutation, defined):
    cqm = _random_cqm(seed, 4, 3, 2, permutation, defined)
    problem = build_problem(cqm)
    a = problem.arrays
    state = K.new_state(a, np.clip(np.zeros(problem.num_variables, dtype=np.int64), a.lb, a.ub))
    K.seed_and_randomize(a, state, seed)
    K.calibrate(a, state, seed)
    K.greedy(a, state, seed, 10)
    _check_invariants(problem, state, cqm)
    state.scal[K.LENGTH] = 300
    K.anneal(a, state, 1000, seed)
    _check_invariants(problem, state, cqm)
    best = state.best_x
    assert np.isclose(state.scal[K.BEST_OBJ] + problem.offset, problem.objective(best))
    assert np.isclose(state.scal[K.BEST_VIOL], problem.violations(best).sum(), atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), defined=st.integers(0, 2), cold=st.booleans())
def test_an_anneal_keeps_the_best_state_it_visits(seed, defined, cold):
    """Its best is the best of every state on its way (feasible first, then the objective), restarts
    included: the states are the start and the ends of the same anneal cut after 1, 2, ... moves;
    hot (the chain's own temperatures) or cold (a descent between restarts)."""
    cqm = _random_cqm(seed, 4, 3, 2, False, defined)
    cqm.add_constraint_from_iterable([(v, 1.0) for v in list(cqm.variables)[::2]], "<=", 3.0, label="some")
    problem = build_problem(cqm)
    a = problem.arrays
    start = K.new_state(a, np.clip(np.zeros(problem.num_variables, dtype=np.int64), a.lb, a.ub))
    K.seed_and_randomize(a, start, seed)
    K.calibrate(a, start, seed)
    start.scal[K.LENGTH] = 40  # restarts within the run
    if cold:
        start.scal[K.T0] = start.scal[K.T1] = start.scal[K.TEMP] = 1e-12

    def copy(state):
        return type(state)(*(field.copy() for field in state))

    visited = [(float(start.scal[K.VIOL]), float(start.scal[K.OBJ]))]
    for moves in range(1, 121):
        state = copy(start)
        K.anneal(a, state, moves, seed)
        visited.append((float(state.scal[K.VIOL]), float(state.scal[K.OBJ])))
    best = min(visited, key=lambda vo: (vo[0] > K.TOL, vo[0] if vo[0] > K.TOL else 0.0, vo[1]))
    assert state.scal[K.BEST_VIOL] == pytest.approx(best[0] if best[0] > K.TOL else 0.0, abs=1e-9)
    assert state.scal[K.BEST_OBJ] == pytest.approx(best[1], abs=1e-9)
    assert np.isclose(state.scal[K.BEST_OBJ] + problem.offset, problem.objective(state.best_x))


def test_a_shift_moves_the_defined_binaries_with_it():
    """Shifting a group's 1 into another part flips the part's defined binary on and the old one off, in one move."""
    cqm = dimod.CQM()
    x = [dimod.Binary(("x", v)) for v in range(4)]
    zone = [dimod.Binary(("zone", z)) for z in range(2)]
    cqm.set_objective(3 * zone[0] + x[1])
    cqm.add_constraint(sum(x) == 1, label="assign")
    cqm.add_constraint(x[0] + x[1] - zone[0] == 0, label="in-zone[0]")
    cqm.add_constraint(x[2] + x[3] - zone[1] == 0, label="in-zone[1]")
    problem = build_problem(cqm)
    s = problem.structure
    assert s.defined == [("zone", 0), ("zone", 1)] and s.defined_rows == ["in-zone[0]", "in-zone[1]"]
    assert not s.linear_rows and s.free_variables == 0 and s.summary()["defined_variables"] == 2
    a = problem.arrays
    index = {v: i for i, v in enumerate(problem.labels)}
    start = np.zeros(problem.num_variables, dtype=np.int64)
    start[[index[("x", 0)], index[("zone", 0)]]] = 1
    state = K.new_state(a, start)
    vs, ds = K.move_buffers(a)
    vs[:2] = index[("x", 0)], index[("x", 2)]
    ds[:2] = -1, 1
    nv = K.with_dependents(a, vs, ds, 2)
    moved = dict(zip((problem.labels[v] for v in vs[:nv]), ds[:nv].tolist()))
    assert moved == {("x", 0): -1, ("x", 2): 1, ("zone", 0): -1, ("zone", 1): 1}
    dobj, _, _ = K.move_delta(a, state, vs, ds, nv)
    assert dobj == -3.0
    vs[:2] = index[("x", 0)], index[("x", 1)]  # inside zone 0: the zone variables stay
    ds[:2] = -1, 1
    assert K.with_dependents(a, vs, ds, 2) == 2
