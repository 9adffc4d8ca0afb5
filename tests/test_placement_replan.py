"""Re-planning after a site failure: sites down, current plans from a Result, max moves, move cost."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import yaml

import hqopt
from hqopt.errors import SpecError
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement
from hqopt.formulations.placement_heuristic import greedy_plan

from conftest import run_cli

REPO = Path(__file__).resolve().parents[1]


def _instance(services: int = 24, sites: int = 6, seed: int = 3) -> Placement:
    spec = generate_placement(services, sites, seed=seed, migration=True)
    spec.pop("kind")
    return Placement.from_spec(spec)


def _busiest_site_without_pins(p: Placement, plan: dict[str, str]) -> str:
    """The busiest site the estate survives losing (no pin on it; the greedy re-plan finds room)."""
    pinned = {p.allowed[s.name][0] for s in p.services if len(p.allowed[s.name]) == 1}
    counts = {site.name: sum(1 for w in plan.values() if w == site.name) for site in p.sites if site.name not in pinned}
    for site in sorted(counts, key=lambda s: -counts[s]):
        if greedy_plan(p.replan(plan, down=[site], max_moves=counts[site])) is not None:
            return site
    raise AssertionError("no site can be lost")


def test_a_site_fails_and_exactly_its_services_move():
    p = _instance()
    down = _busiest_site_without_pins(p, p.current)
    displaced = {s for s, site in p.current.items() if site == down}
    q = p.replan(p.current, down=[down], max_moves=len(displaced))
    result = hqopt.solve(q, backend="cpsat", time_limit=20, seed=0, num_workers=1)
    assert result.feasible and result.status is hqopt.Status.OPTIMAL
    moves = result.decoded["moves"]
    assert {m["service"] for m in moves} == displaced
    assert all(m["from"] == down and m["to"] != down for m in moves)
    assert q.check(result.decoded["assignment"]).feasible


def test_high_move_cost_alone_moves_only_the_displaced():
    p = _instance()
    down = _busiest_site_without_pins(p, p.current)
    q = p.replan(p.current, down=[down], move_cost=10_000)
    result = hqopt.solve(q, backend="cpsat", time_limit=20, seed=0, num_workers=1)
    assert {m["service"] for m in result.decoded["moves"]} == {s for s, w in p.current.items() if w == down}


def test_max_moves_is_a_hard_constraint():
    p = _instance()
    q = p.replan(p.current, max_moves=0, move_cost=0)  # moving is free, but not allowed
    model = q.to_model()
    assert "max-moves" in model.cqm.constraints
    result = hqopt.solve(q, backend="cpsat", time_limit=20, seed=0, num_workers=1)
    assert result.decoded["moves"] == [] and result.decoded["assignment"] == p.current
    # unproven within any short limit; 4 s finds 910-913 against the capped optimum's 1139
    free = hqopt.solve(p.replan(p.current, move_cost=0), backend="cpsat", time_limit=4, seed=0, num_workers=1)
    assert free.objective <= result.objective  # the cap costs something (or nothing), never helps
    moved = dict(p.current)
    first = p.services[0].name
    moved[first] = next(s for s in q.allowed[first] if s != p.current[first])
    assert "max_moves 0" in " ".join(q.check(moved).violations)


def test_a_huge_max_moves_is_no_limit_whether_an_int_or_a_float():
    p = _instance()
    as_int, as_float = p.replan(p.current, max_moves=10**30), p.replan(p.current, max_moves=1e20)  # YAML's 1.0e+20
    assert as_int.max_moves > len(p.services) and as_float.max_moves > len(p.services)  # no limit
    assert "max-moves" not in as_int.to_model().cqm.constraints and "max-moves" not in as_float.to_model().cqm.constraints
    with pytest.raises(SpecError, match="must be an integer >= 0, got 2.5"):
        p.replan(p.current, max_moves=2.5)


def test_current_may_be_a_result_json_and_name_a_down_site():
    p = _instance()
    first = hqopt.solve(p, backend="cpsat", time_limit=10, seed=0, num_workers=1)
    saved = json.loads(first.to_json())
    down = _busiest_site_without_pins(p, first.decoded["assignment"])
    q = p.replan(saved, down=[down])
    assert q.current == first.decoded["assignment"] and q.down == (down,)
    assert all(down not in sites for sites in q.allowed.values())
    assert "is on site" in " ".join(q.check(q.current).violations)  # the old plan now breaks the down rule


def test_replan_errors_name_the_cause():
    p = _instance(12, 3, seed=1)
    pinned = next(s.name for s in p.services if len(p.allowed[s.name]) == 1)
    with pytest.raises(SpecError, match=f"{pinned}.*may only run on.*and it is down"):
        p.replan(p.current, down=[p.allowed[pinned][0]])
    with pytest.raises(SpecError, match=r"every site is down \(3 of 3\): no service can run anywhere"):
        p.replan(p.current, down=[s.name for s in p.sites])
    pinned_sites = {sites[0] for sites in p.allowed.values() if len(sites) == 1}
    down = next(s.name for s in p.sites if s.name not in pinned_sites and s.name in p.current.values())
    on_it = sum(1 for w in p.current.values() if w == down)
    with pytest.raises(SpecError, match=f"{on_it} services must move"):
        p.replan(p.current, down=[down], max_moves=on_it - 1)
    with pytest.raises(SpecError, match="unknown site"):
        p.replan(p.current, down=["nowhere"])
    with pytest.raises(SpecError, match="no feasible plan"):
        p.replan({"solution": None, "decoded": None})


def test_one_down_site_may_be_given_as_its_name():
    p = _instance(12, 3, seed=1)
    pinned = {sites[0] for sites in p.allowed.values() if len(sites) == 1}
    down = next(s.name for s in p.sites if s.name not in pinned)
    assert len(down) > 1  # a string of several letters: not a list of one-letter sites
    assert p.replan(p.current, down=down).down == p.replan(p.current, down=[down]).down == (down,)


def test_spec_fields_sites_down_and_max_moves():
    spec = generate_placement(12, 3, seed=1, migration=True)
    spec.pop("kind")
    down = spec["sites"][1]["name"]
    spec.update(sites_down=[down], max_moves=12)
    p = Placement.from_spec(spec)
    assert p.down == (down,) and p.max_moves == 12


def test_cli_replan_flags_need_a_placement(tmp_path):
    from hqopt.cli.app import main

    qubo = tmp_path / "q.yaml"
    qubo.write_text("kind: qubo\nterms: [[a, a, -1]]\n")
    assert main(["solve", str(qubo), "--site-down", "x", "-q"]) == 2


def test_moves_are_counted_only_from_a_current_placement(tmp_path):
    """--max-moves / --move-cost with no placement to move from would be ignored: they are errors."""
    from hqopt.cli.app import main

    spec = generate_placement(12, 3, seed=1)
    spec.pop("kind")
    p = Placement.from_spec(spec)
    assert not p.current
    with pytest.raises(SpecError, match="'max_moves': counts moves from a current placement"):
        p.replan(max_moves=2)
    with pytest.raises(SpecError, match="'migration_cost': counts moves from a current placement"):
        p.replan(move_cost=5.0)
    assert p.replan({s.name: p.allowed[s.name][0] for s in p.services}, max_moves=2).max_moves == 2
    path = tmp_path / "dc.yaml"
    path.write_text(yaml.safe_dump({"kind": "placement", **spec}))
    assert main(["solve", str(path), "--max-moves", "3", "-t", "1", "-q"]) == 2


def test_a_current_file_that_is_not_a_plan_is_named_with_the_reason(tmp_path):
    spec = generate_placement(12, 3, seed=1)
    path = tmp_path / "dc.yaml"
    path.write_text(yaml.safe_dump(spec))
    knapsack = tmp_path / "k.json"
    assert run_cli("solve", str(REPO / "problems" / "lp" / "knapsack.lp"), "-t", "0.5", "--output", str(knapsack), "-q")[0] == 0
    qap = tmp_path / "q.json"
    assert run_cli("solve", str(REPO / "problems" / "qap" / "chr12a.dat"), "-b", "ls", "-t", "0", "--seed", "0", "--output", str(qap), "-q")[0] == 0  # (untimed: a loaded machine still finds a plan)
    cases = ((knapsack, "the result holds no feasible plan to start from (no solution, an infeasible one, or another kind"),
             (qap, "the result is not a placement plan"), (path, "a placement spec, not a plan"))  # fmt: skip
    for current, reason in cases:
        code, _, err = run_cli("solve", str(path), "--current", str(current), "-t", "0.5", "-q")
        assert code == 2
        assert err.startswith(f"error: {current}: field 'current': {reason}"), err


def test_a_replan_of_a_replan_keeps_the_first_down_site_until_it_is_named_up(tmp_path):
    """A re-plan's result marks its down sites; re-planning from it must not move services back onto them."""
    from hqopt.errors import SitesStillDownWarning

    p = _instance()
    plan = greedy_plan(p)
    first_down = _busiest_site_without_pins(p, plan)
    first = hqopt.solve(p.replan(plan, down=[first_down]), backend="ls", time_limit=1, seed=0)
    saved = json.loads(first.to_json())
    assert first_down in {row["site"] for row in saved["decoded"]["sites"] if row["down"]}
    with pytest.warns(SitesStillDownWarning, match=f"site {first_down} is down in the current plan's result"):
        again = p.replan(saved)
    assert again.down == (first_down,) and all(first_down not in sites for sites in again.allowed.values())
    back = p.replan(saved, up=[first_down])
    assert back.down == () and any(first_down in sites for sites in back.allowed.values())
    with pytest.raises(SpecError, match="field 'up': unknown site 'nowhere'"):
        p.replan(saved, up="nowhere")
    with pytest.raises(SpecError, match="is named both down and up"):
        p.replan(saved, down=[first_down], up=[first_down])

    spec, saved_path = tmp_path / "dc.yaml", tmp_path / "replan.json"
    spec.write_text(yaml.safe_dump({"kind": "placement", **generate_placement(24, 6, seed=3, migration=True)}))
    saved_path.write_text(first.to_json())
    code, out, err = run_cli("solve", str(spec), "--current", str(saved_path), "-t", "1", "--seed", "0", "--json")
    assert code == 0 and f"note: site {first_down} is down in the current plan's result and stays down (--site-up {first_down}" in err
    decoded = json.loads(out)["decoded"]
    assert first_down not in decoded["assignment"].values() and [r["site"] for r in decoded["sites"] if r["down"]] == [first_down]
    code, out, err = run_cli("solve", str(spec), "--current", str(saved_path), "--site-up", first_down, "-t", "1", "--seed", "0", "--json")
    assert code == 0 and "note:" not in err and not [r for r in json.loads(out)["decoded"]["sites"] if r["down"]]


def test_a_site_down_in_the_spec_may_be_brought_back_up(tmp_path):
    """up= restores what pin/forbid allow on that site: the instance had dropped the down site from every
    service's choices, so a site 'back up' stayed unusable (and the result called it up)."""
    spec = {"sites": [{"name": "a", "capacity": {"cpu": 2}}, {"name": "b", "capacity": {"cpu": 4}, "price": {"cpu": 3}}],
            "services": [{"name": "s", "demand": {"cpu": 2}}, {"name": "t", "demand": {"cpu": 1}}],
            "rules": {"forbid": {"t": "a"}}, "current": {"s": "a", "t": "b"}, "sites_down": ["a"]}  # fmt: skip
    p = Placement.from_spec(spec)
    assert p.allowed == {"s": ["b"], "t": ["b"]}
    back = p.replan(up=["a"])
    assert back.down == () and back.allowed == {"s": ["a", "b"], "t": ["b"]}  # t's forbid still holds
    result = hqopt.solve(back, backend="exact")
    assert result.decoded["assignment"] == {"s": "a", "t": "b"} and result.objective == pytest.approx(3.0)
    assert back.replan(down=["a"]).allowed == p.allowed  # and down again


def test_down_sites_of_another_estate_in_a_current_result_are_not_carried():
    p = _instance(12, 3, seed=1)
    plan = greedy_plan(p)
    saved = {"solution": {}, "decoded": {"assignment": plan, "sites": [{"site": "elsewhere", "down": True}]}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no SitesStillDownWarning for a site this estate does not have
        assert p.replan(saved).down == ()


def test_a_plan_of_another_estate_names_the_unknown_service_first():
    p = _instance(12, 3, seed=1)
    with pytest.raises(SpecError, match=r"field 'current.ghost': unknown service 'ghost'"):
        p.replan({"ghost": "nowhere"})
