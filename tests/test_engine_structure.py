"""Structure detection on every formulation and on reader output."""

from __future__ import annotations

import dimod
import pytest

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
    monkeypatch.setattr(structure, "_detect", lambda cqm: calls.append(1) or detect(cqm))
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
