"""cqm_samples builds the SampleSet dimod's from_samples_cqm builds (energies, satisfied rows, feasibility)."""

from __future__ import annotations

import dimod
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hqopt.samples as S


class _Forbidden:
    """While active, dimod's from_samples_cqm raises: the fast path must not fall back to it."""

    def __enter__(self):
        self.saved = dimod.SampleSet.__dict__["from_samples_cqm"]
        dimod.SampleSet.from_samples_cqm = classmethod(lambda *a, **k: (_ for _ in ()).throw(AssertionError("fell back")))

    def __exit__(self, *exc):
        dimod.SampleSet.from_samples_cqm = self.saved


def _random_cqm(seed: int, rows: int) -> dimod.ConstrainedQuadraticModel:
    rng = np.random.default_rng(seed)
    cqm = dimod.CQM()
    z = "z" if seed % 2 else ("z", 0)  # labels of unlike types (unsortable) or all tuples (sorted)
    x = [dimod.Binary(("x", i)) for i in range(6)] + [dimod.Integer(z, lower_bound=-3, upper_bound=3)]
    cqm.set_objective(sum(float(rng.normal()) * v for v in x) + float(rng.normal()) * x[0] * x[6] + 1.5)
    for j in range(rows):
        picked = rng.choice(len(x), int(rng.integers(1, 5)), replace=False)
        lhs = sum(int(rng.integers(-3, 4)) * x[int(i)] for i in picked) + int(rng.integers(-1, 2))
        if j % 7 == 3:  # a quadratic row now and then
            lhs = lhs + x[int(picked[0])] * x[6]
        rhs = int(rng.integers(-2, 3))
        sense = ("<=", ">=", "==")[j % 3]
        cqm.add_constraint(lhs <= rhs if sense == "<=" else lhs >= rhs if sense == ">=" else lhs == rhs, label=f"c{j}")
    return cqm


def assert_same_sampleset(got: dimod.SampleSet, expected: dimod.SampleSet) -> None:
    """Same variables, constraint labels, samples, energies, is_satisfied and is_feasible."""
    assert list(got.variables) == list(expected.variables)
    assert got.info["constraint_labels"] == expected.info["constraint_labels"]
    np.testing.assert_array_equal(got.record.sample, expected.record.sample)
    np.testing.assert_allclose(got.record.energy, expected.record.energy)
    np.testing.assert_array_equal(got.record.is_satisfied, expected.record.is_satisfied)
    np.testing.assert_array_equal(got.record.is_feasible, expected.record.is_feasible)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), rows=st.integers(1, 12), samples=st.integers(1, 4), shuffle=st.booleans())
def test_same_sampleset_as_dimod(seed, rows, samples, shuffle):
    cqm = _random_cqm(seed, rows)
    rng = np.random.default_rng(seed + 1)
    labels = list(cqm.variables)
    values = np.column_stack([rng.integers(0, 2, (samples, 6)), rng.integers(-3, 4, (samples, 1))])
    if shuffle:
        order = rng.permutation(len(labels))
        labels, values = [labels[i] for i in order], values[:, order]
    expected = dimod.SampleSet.from_samples_cqm((values, labels), cqm)
    before = S.MIN_CONSTRAINTS
    S.MIN_CONSTRAINTS = 0  # the fast path even on a few rows
    try:
        with _Forbidden():
            got = S.cqm_samples((values, labels), cqm)
            again = S.cqm_samples((values, labels), cqm)  # from the cache
    finally:
        S.MIN_CONSTRAINTS = before
    for ss in (got, again):
        assert_same_sampleset(ss, expected)


def test_a_changed_cqm_is_re_read(monkeypatch):
    monkeypatch.setattr(S, "MIN_CONSTRAINTS", 0)
    cqm = _random_cqm(1, 3)
    x0 = dimod.Binary(("x", 0))
    S.cqm_samples(([[0] * 7], list(cqm.variables)), cqm)
    cqm.add_constraint(x0 >= 1, label="new")
    ss = S.cqm_samples(([[0] * 7], list(cqm.variables)), cqm)
    assert ss.info["constraint_labels"][-1] == "new" and not ss.record.is_feasible[0]


def test_missing_variables_are_dimods_error(monkeypatch):
    monkeypatch.setattr(S, "MIN_CONSTRAINTS", 0)
    cqm = _random_cqm(2, 3)
    with pytest.raises(ValueError):
        S.cqm_samples(([[0, 1]], [("x", 0), ("x", 1)]), cqm)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), rows=st.integers(1, 12), samples=st.integers(1, 4))
def test_verifier_sampleset_is_dimods(seed, rows, samples):
    from hqopt import Model
    from hqopt.verify import Verifier

    cqm = _random_cqm(seed, rows)
    verifier = Verifier(Model.from_cqm(cqm))
    rng = np.random.default_rng(seed + 2)
    values = np.column_stack([rng.integers(0, 2, (samples, 6)), rng.integers(-3, 4, (samples, 1))]).astype(float)
    order = [list(cqm.variables).index(v) for v in verifier.labels]
    values = values[:, order]
    expected = dimod.SampleSet.from_samples_cqm((values, verifier.labels), cqm)
    with _Forbidden():
        got = verifier.sampleset(values)
    assert_same_sampleset(got, expected)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), rows=st.integers(1, 12))
def test_constraint_rows_hold_each_rows_linear_terms(seed, rows):
    """The matrix built from dimod's arrays equals the one read term by term (zero coefficients left out)."""
    cqm = _random_cqm(seed, rows)
    built = S.constraint_rows(cqm)
    expected = np.zeros((len(cqm.constraints), len(cqm.variables)))
    for j, con in enumerate(cqm.constraints.values()):
        if con.lhs.is_linear():
            for v, b in con.lhs.iter_linear():
                expected[j, cqm.variables.index(v)] = b
            plain = dimod.QuadraticModel()  # no array accessors: the term-by-term path
            plain.update(con.lhs)
            cols, coefs = S.linear_terms(plain, cqm)
            fast = S.linear_terms(con.lhs, cqm)
            assert sorted(zip(cols.tolist(), coefs.tolist())) == sorted(zip(fast[0].tolist(), fast[1].tolist()))
    np.testing.assert_array_equal(built.matrix.toarray(), expected)
    assert 0 not in built.matrix.data


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), terms=st.integers(0, 15))
def test_quadratic_terms_are_the_objectives_terms(seed, terms):
    """The array path (dimod's accessors, positions mapped to the CQM's) and the term-by-term one agree."""
    rng = np.random.default_rng(seed)
    cqm = dimod.CQM()
    labels = [("v", int(i)) for i in rng.permutation(8)]
    cqm.add_variables("BINARY", labels)
    objective = dimod.QuadraticModel()
    objective.add_variables_from("BINARY", labels)
    for _ in range(terms):
        u, v = rng.choice(8, 2, replace=False)
        objective.add_quadratic(labels[u], labels[v], float(rng.integers(-5, 6)))
    cqm.set_objective(objective)
    expected = sorted((cqm.variables.index(u), cqm.variables.index(v), b) for u, v, b in cqm.objective.iter_quadratic())
    plain = dimod.QuadraticModel()
    plain.update(cqm.objective)
    for us, vs, bs in (S.quadratic_terms(cqm.objective, cqm), S.quadratic_terms(plain, cqm)):
        assert sorted(zip(us.tolist(), vs.tolist(), bs.tolist())) == expected


@pytest.mark.parametrize("backend", ["ls", "auto"])
def test_a_solve_reads_the_constraints_into_arrays_once(monkeypatch, backend):
    """Validation builds them; the verifier, auto's rules and the engine read those."""
    import hqopt
    import hqopt.engine.structure
    from hqopt.formulations.placement import Placement
    from hqopt.formulations.placement_generator import generate_placement

    spec = generate_placement(90, 5, seed=2)
    spec.pop("kind")
    model = Placement.from_spec(spec).to_model()
    assert len(model.cqm.constraints) >= S.MIN_CONSTRAINTS  # samples are checked with the arrays too
    built = []
    arrays = S.constraint_arrays
    counting = lambda cqm: built.append(cqm) or arrays(cqm)  # noqa: E731
    monkeypatch.setattr(S, "constraint_arrays", counting)
    monkeypatch.setattr(hqopt.engine.structure, "constraint_arrays", counting)
    result = hqopt.solve(model, backend=backend, time_limit=1, seed=0)
    assert result.feasible and "ls" in result.backend.split("+")
    assert built == [model.cqm]


def test_variable_arrays_match_dimods_per_variable_answers(monkeypatch):
    rng = np.random.default_rng(3)
    cqm = dimod.CQM()
    for i in range(40):
        kind = ("BINARY", "SPIN", "INTEGER", "REAL")[int(rng.integers(4))]
        if kind in ("INTEGER", "REAL"):
            lower = float(rng.integers(-5, 5))
            cqm.add_variable(kind, ("v", i), lower_bound=lower, upper_bound=lower + float(rng.integers(0, 9)))
        else:
            cqm.add_variable(kind, ("v", i))
    expected = (
        [cqm.vartype(v) for v in cqm.variables],
        [cqm.lower_bound(v) for v in cqm.variables],
        [cqm.upper_bound(v) for v in cqm.variables],
    )
    fast = S.variable_arrays(cqm)
    monkeypatch.setattr(S, "_vartype_codes", lambda: None)  # dimod without the array accessor: read one by one
    slow = S.variable_arrays(cqm)
    for got in (fast, slow):
        assert got[0].tolist() == expected[0]
        assert got[1].tolist() == expected[1] and got[2].tolist() == expected[2]
