"""Placement report, plan repr, pictures, whole-objective bound, lean encoding, warm start."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

import hqopt
import hqopt.formulations.placement as placement_module
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement
from hqopt.formulations.placement_heuristic import greedy_plan

from conftest import run_cli


def _instance(services: int, sites: int, seed: int, **kw) -> Placement:
    spec = generate_placement(services, sites, seed=seed, **kw)
    spec.pop("kind")
    return Placement.from_spec(spec)


def _optimum(p: Placement) -> float:
    names = [s.name for s in p.services]
    best = np.inf
    for combo in itertools.product(*(p.allowed[n] for n in names)):
        check = p.check(dict(zip(names, combo)))
        if check.feasible:
            best = min(best, check.objective)
    return best


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), services=st.integers(3, 7), migration=st.booleans())
@example(seed=1753, services=4, migration=False)  # two replica groups fully talking to each other
def test_lower_bound_never_exceeds_the_optimum(seed, services, migration):
    p = _instance(services, 3, seed, migration=migration)
    bound = p.lower_bound()
    assert bound.value == pytest.approx(sum(bound.parts.values()))
    assert bound.value <= _optimum(p) + 1e-6


def test_bound_covers_every_term_and_beats_the_solver_bound():
    p = _instance(60, 8, 1)
    bound = p.lower_bound()
    assert bound.method == "HiGHS LP relaxation"
    assert set(bound.covers) >= {"energy", "opening"} and any("communication" in c for c in bound.covers)
    assert bound.parts["communication (forced by anti-affinity)"] > 0
    result = hqopt.solve(p, backend="cpsat", time_limit=5, seed=0)
    assert result.bound is None or bound.value > result.bound
    assert bound.value <= result.objective


def test_hierarchical_encoding_matches_the_checker(monkeypatch):
    monkeypatch.setattr(placement_module, "DENSE_MAX_TERMS", 0)  # force zone/region variables
    p = _instance(30, 9, 2)
    model = p.to_model()
    assert model.metadata["communication_encoding"] == "hierarchy"
    assert any(label[0] == "zone" for label in model.variables)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assignment = {s.name: p.allowed[s.name][rng.integers(len(p.allowed[s.name]))] for s in p.services}
        evaluation = model.evaluate(p.solution_of(assignment))
        check = p.check(assignment)
        assert evaluation.objective == pytest.approx(check.objective)
        assert evaluation.feasible == check.feasible
    monkeypatch.setattr(placement_module, "DENSE_MAX_TERMS", 10**9)
    dense = p.to_model()
    assert dense.metadata["communication_encoding"] == "site pairs"
    assert model.cqm.objective.num_interactions < dense.cqm.objective.num_interactions / 2


def test_greedy_warm_start_is_feasible_and_solve_never_returns_worse():
    p = _instance(40, 6, 2)
    plan = greedy_plan(p)
    assert plan is not None and p.check(plan).feasible
    result = hqopt.solve(p, backend="sa", time_limit=2, seed=0)  # annealing alone rarely finds feasibility here
    assert result.feasible and result.objective <= p.check(plan).objective + 1e-9
    assert result.history[0][1] == pytest.approx(p.check(plan).objective)


@pytest.mark.parametrize("hierarchy", [False, True])
def test_the_models_warm_start_is_the_greedy_plan_on_its_own_variables(monkeypatch, hierarchy):
    """to_model hands solve a warm start over the variables it built (no second layout): the same
    values as the placement's own warm start, on every variable, zone and region ones included."""
    import hqopt.formulations.placement as placement

    if hierarchy:
        monkeypatch.setattr(placement, "DENSE_MAX_TERMS", 0)  # the zone/region encoding
    p = _instance(30, 5, 4)
    model = p.to_model()
    assert (model.metadata["communication_encoding"] == "hierarchy") == hierarchy
    given = model.metadata["warm_start"]()
    assert given == p.warm_start() and set(given) == set(model.cqm.variables)
    assert model.evaluate(given).feasible
    assert model.evaluate(given).objective == pytest.approx(p.check(greedy_plan(p)).objective)


def test_report_plan_repr_and_html():
    p = _instance(24, 6, 3, migration=True)
    result = hqopt.solve(p, backend="cpsat", time_limit=5, seed=0)
    plan = result.decoded
    text = repr(plan)
    assert text.startswith("<placement plan: 24 services on") and len(text) < 120
    assert len(repr(result)) < 600 and "('x'," not in repr(result)
    report = p.report(result)
    out = report.to_text()
    for site in p.sites:
        assert site.name in out
    for heading in ("sites (utilisation per resource)", "objective by term", "rules", "moves", "bound", "anti-affinity:"):
        assert heading in out
    assert f"{result.objective:.10g}" in out
    html = report._repr_html_()
    assert html.count("<table>") == 3 and "&lt;" not in html.split("<table>")[0][:0]
    assert plan._repr_html_().startswith("<h4>")
    from rich.console import Console

    console = Console(record=True, width=140)
    console.print(report)
    assert "objective by term" in console.export_text()


def test_report_marks_moves_and_down_sites():
    p = _instance(24, 6, 3, migration=True)
    pinned_sites = {sites[0] for sites in p.allowed.values() if len(sites) == 1}
    down = next(s.name for s in p.sites if s.name not in pinned_sites and s.name in p.current.values())
    q = p.replan(p.current, down=[down])
    result = hqopt.solve(q, backend="cpsat", time_limit=10, seed=0, num_workers=1)
    out = q.report(result, bound=False).to_text()
    assert f"{down} (down) →" in out and "sites down: no service on them" in out
    assert "down" in [row[-1] for row in q.report(result, bound=False).tables[0][2]]


#: three services of 3 cpu on sites of 4, 4 and 2: the total fits (9 of 10), no packing does
PACKS_NOT = {
    "sites": [{"name": "a", "capacity": {"cpu": 4}}, {"name": "b", "capacity": {"cpu": 4}}, {"name": "c", "capacity": {"cpu": 2}}],
    "services": [{"name": f"s{i}", "demand": {"cpu": 3}} for i in range(3)],
}


def test_an_infeasible_solution_is_reported_with_the_rules_it_breaks():
    p = Placement.from_spec(PACKS_NOT)
    proven = hqopt.solve(p, backend="exact", seed=0)
    assert proven.status.value == "infeasible" and proven.decoded is None and proven.solution is not None
    assignment, misplaced = p.partial_assignment(proven.solution)
    assert misplaced and set(assignment) | set(misplaced) == {"s0", "s1", "s2"}
    out = p.report(proven, bound=False).to_text()
    assert "feasible   no" in out
    broken = out.split("one site per service: VIOLATED:")[1].splitlines()[0]
    assert all(name in broken for name in misplaced) and not any(name in broken for name in assignment)
    # a service on two sites, and a site over its capacity: the report names both
    both = {**p.solution_of({"s0": "a", "s1": "b", "s2": "c"}), ("x", "s0", "b"): 1}
    out = p.report(dataclasses.replace(proven, solution=both), bound=False).to_text()
    assert "one site per service: VIOLATED: s0 on 2 sites (a, b)" in out
    assert "capacity: VIOLATED: site c uses 3 cpu of 2" in out


def test_the_cli_reports_an_infeasible_placement(tmp_path):
    spec = tmp_path / "packs-not.yaml"
    spec.write_text(yaml.safe_dump({"kind": "placement", **PACKS_NOT}))
    code, out, _ = run_cli("solve", str(spec), "--backend", "exact")
    assert code == 1
    assert "status     infeasible" in out and "one site per service: VIOLATED:" in out and "not placed" in out


def test_plot_writes_a_png(tmp_path):
    p = _instance(20, 5, 1, migration=True)
    down = p.sites[-1].name
    q = p.replan(p.current, down=[down])
    plan = greedy_plan(q)
    assert plan is not None
    path = q.plot(plan, tmp_path / "plan.png")
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000


def test_the_reports_bound_gets_at_most_the_solves_time_limit_and_only_a_solved_lp_is_kept(monkeypatch):
    import hqopt.formulations.placement as placement
    from hqopt.formulations.placement_bound import LP_METHOD, PlacementBound

    p = _instance(12, 3, 1)
    result = hqopt.solve(p, backend="ls", time_limit=1, seed=0)
    asked = []

    def bound(q, time_limit):
        asked.append(time_limit)
        method = LP_METHOD if len(asked) > 1 else "cheapest site per service (the LP did not finish)"
        return PlacementBound(0.0, {}, [], method)

    monkeypatch.setattr(placement, "placement_lower_bound", bound)
    p.report(result)  # a 1 s solve: the LP gets 1 s, does not finish, and its stand-in is not kept
    p.report(result)  # asked again: solved, kept
    p.report(result)
    assert asked == [1.0, 1.0]
    assert p.lower_bound().method == LP_METHOD
