"""Structure detection on every formulation and on reader output."""

from __future__ import annotations

import dimod
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hqopt.io
from hqopt.engine import build_problem, detect_structure
from hqopt.formulations.facility import FacilityLocation
from hqopt.formulations.knapsack import Knapsack
from hqopt.formulations.maxcut import MaxCut
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement
from hqopt.formulations.qap import QAP


def _model(cls, spec):
    spec = dict(spec)
    spec.pop("kind", None)
    return cls.from_spec(spec).to_model()


def test_placement_has_one_hot_groups_and_capacities():
    s = detect_structure(_model(Placement, generate_placement(20, 4, seed=1)).cqm)
    assert s.kind == "constrained"
    assert len(s.groups) == 20 and not s.permutation
    assert s.capacity_rows  # cpu / memory rows
    assert all(label.startswith("assign[") for label in s.group_rows)


def test_qap_is_a_permutation():
    flow = [[0, 3, 1], [3, 0, 2], [1, 2, 0]]
    dist = [[0, 5, 2], [5, 0, 1], [2, 1, 0]]
    s = detect_structure(_model(QAP, {"flow": flow, "distance": dist}).cqm)
    assert s.kind == "permutation"
    assert s.summary()["permutation"] == 3
    assert len(s.columns) == 3 and s.free_variables == 0


def test_facility_groups_customers_and_prices_capacities():
    spec = {
        "warehouses": [{"capacity": 5, "fixed_cost": 3}, {"capacity": 5, "fixed_cost": 4}],
        "customers": [{"demand": 2, "cost": [1, 2]}, {"demand": 3, "cost": [2, 1]}],
    }
    s = detect_structure(_model(FacilityLocation, spec).cqm)
    assert len(s.groups) == 2 and s.free_variables == 2  # the open variables
    assert s.kind == "constrained"


def test_maxcut_is_unconstrained():
    s = detect_structure(_model(MaxCut, {"edges": [[0, 1], [1, 2], [2, 0]]}).cqm)
    assert s.kind == "unconstrained" and s.couplings == 3


def test_knapsack_capacity_row():
    spec = {"capacity": {"kg": 5}, "items": [{"value": 4, "weight": {"kg": 3}}, {"value": 5, "weight": {"kg": 4}}]}
    s = detect_structure(_model(Knapsack, spec).cqm)
    assert len(s.capacity_rows) == 1 and not s.groups


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("qaplib/chr12a.dat", "permutation"),
        ("facility_location/cap71.txt", "constrained"),
        ("gset/G1.txt", "unconstrained"),
        ("bqp_orlib/bqp50.txt#3", "unconstrained"),
        ("bqp_gka/gka1a.sparse", "unconstrained"),
    ],
)
def test_readers(benchmarks, path, kind):
    model = hqopt.io.load(str(benchmarks / path))
    s = detect_structure(model.cqm)
    assert s.kind == kind
    problem = build_problem(model.cqm, s)
    assert problem.num_variables == len(model.cqm.variables)


def test_integer_variables_are_counted_and_quadratic_rows_refused():
    cqm = dimod.CQM()
    i, x = dimod.Integer("i", upper_bound=5), dimod.Binary("x")
    cqm.set_objective(-i + x)
    cqm.add_constraint(i * x <= 2, label="q")
    s = detect_structure(cqm)
    assert s.integers == 1 and s.quadratic_rows == ["q"]
    with pytest.raises(hqopt.HqoptError, match="linear constraints only"):
        build_problem(cqm, s)


def test_a_solve_detects_the_structure_once_and_a_changed_model_is_detected_again(monkeypatch):
    import hqopt
    import hqopt.engine.structure as structure

    calls = []
    detect = structure._detect
    monkeypatch.setattr(structure, "_detect", lambda cqm, rows: calls.append(1) or detect(cqm, rows))
    model = _model(Placement, generate_placement(8, 3, seed=7))
    result = hqopt.solve(model, backend="auto", time_limit=2, seed=1)
    assert "ls" in result.backend.split("+")  # auto's choice and ls's search
    assert len(calls) == 1
    label = detect_structure(model.cqm).group_rows[0]
    lhs = model.cqm.constraints[label].lhs
    lhs.set_linear(next(iter(lhs.variables)), 2.0)  # no longer a one-hot row: same size, new coefficient
    hqopt.solve(model, backend="ls", time_limit=1, seed=1, initial={})
    assert len(calls) == 2
    assert label not in detect_structure(model.cqm).group_rows


def _known_structure(seed: int, groups: int, zero_terms: bool):
    """A CQM built from rows of known kinds, in shuffled order, and what each row is."""
    rng = np.random.default_rng(seed)
    cqm = dimod.CQM()
    members = [[f"x{g}_{k}" for k in range(int(rng.integers(2, 5)))] for g in range(groups)]
    cqm.add_variables("BINARY", [v for m in members for v in m] + [f"y{g}" for g in range(groups)] + ["free"])
    cqm.add_variable("INTEGER", "n", lower_bound=0, upper_bound=4)
    rows: list[tuple[str, list, str, float, str]] = []  # label, terms, sense, rhs, expected kind
    for g, m in enumerate(members):
        c = float(rng.choice([1.0, 2.0, -3.0]))
        extra = [("n", 0.0)] if zero_terms and g % 2 == 0 else []  # a zero term: absent, as in the arrays
        rows.append((f"group{g}", [(v, c) for v in m] + extra, "==", c, "group"))
        part = m[: int(rng.integers(1, len(m)))]
        rows.append((f"define{g}", [(v, c) for v in part] + [(f"y{g}", -c)], "==", 0.0, "defined"))
        rows.append((f"again{g}", [(v, 1.0) for v in part] + [(f"y{g}", -1.0)], "==", 0.0, "linear"))  # y already defined
    across = [members[0][0], members[1][0]]  # a sum over two groups defines nothing
    rows.append(("across", [(v, 1.0) for v in across] + [("free", -1.0)], "==", 0.0, "linear"))
    rows.append(("capacity", [(members[0][0], 2.0), ("n", 1.0), ("free", 0.0)], "<=", 3.0, "capacity"))
    rows.append(("mixed", [(members[1][0], 2.0), ("n", -1.0)], "<=", 1.0, "linear"))
    rows.append(("at least", [(members[1][1], 1.0), ("free", 1.0)], ">=", 1.0, "linear"))
    order = rng.permutation(len(rows))
    for k in order:
        label, terms, sense, rhs, _ = rows[k]
        cqm.add_constraint_from_iterable(terms, sense, rhs, label=label)
    later = {label: pos for pos, label in enumerate(rows[k][0] for k in order)}
    expected = {kind: sorted(label for label, *_, kind_ in rows if kind_ == kind) for kind in ("group", "capacity", "linear")}
    for g in range(groups):  # of the two rows defining y_g, the first one in the CQM defines it
        if later[f"again{g}"] < later[f"define{g}"]:
            expected["linear"].remove(f"again{g}")
            expected["linear"].append(f"define{g}")
    expected["defined"] = sorted(f"define{g}" if later[f"define{g}"] < later[f"again{g}"] else f"again{g}" for g in range(groups))
    return cqm, members, {k: sorted(v) for k, v in expected.items()}


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), groups=st.integers(2, 5), zero_terms=st.booleans())
def test_each_row_kind_is_found_whatever_the_row_order(seed, groups, zero_terms):
    cqm, members, expected = _known_structure(seed, groups, zero_terms)
    s = detect_structure(cqm)
    assert sorted(s.group_rows) == expected["group"]
    assert sorted(map(sorted, s.groups)) == sorted(map(sorted, members))
    assert sorted(s.defined_rows) == expected["defined"]
    assert sorted(s.defined) == [f"y{g}" for g in range(groups)]
    for y, summed, label in zip(s.defined, s.definitions, s.defined_rows):
        lhs = cqm.constraints[label].lhs
        assert sorted(summed) == sorted(v for v in lhs.variables if v != y)
    assert sorted(s.capacity_rows) == expected["capacity"]
    assert s.linear_rows == [label for label in cqm.constraints if label in expected["linear"]]  # in the CQM's order
    assert s.integers == 1 and s.free_variables == 2  # "free" and "n"


def test_validation_reads_a_changed_objective_afresh():
    """Model.validate (every solve calls it) rebuilds the arrays the structure is kept beside, even
    with no constraints: a changed objective of the same size is not read from before."""
    import hqopt

    model = hqopt.Model.from_bqm(dimod.BQM({"a": 1.0, "b": 1.0, "c": 1.0}, {("a", "b"): -2.0}, 0.0, "BINARY"))
    assert detect_structure(model.validate().cqm).couplings == 1
    model.cqm.objective.add_quadratic("b", "c", -1.0)
    model.cqm.objective.add_quadratic("a", "c", -1.0)
    assert detect_structure(model.validate().cqm).couplings == 3
