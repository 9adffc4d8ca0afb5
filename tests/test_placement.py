"""Placement: spec parsing, model vs independent checker, proven optima, generator, CLI."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import hqopt
from hqopt.errors import ModelError, SpecError
from hqopt.formulations import formulation_class
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement

PROBLEMS = Path(__file__).resolve().parents[1] / "problems" / "placement"


def _spec(**extra):
    spec = {
        "sites": [
            {"name": "a", "zone": "z1", "region": "eu", "capacity": {"cpu": 6, "mem": 8}, "price": {"cpu": 1}, "open_cost": 5},
            {"name": "b", "zone": "z1", "region": "eu", "capacity": {"cpu": 4, "mem": 8}, "price": {"cpu": 2}},
            {"name": "c", "zone": "z2", "region": "us", "capacity": {"cpu": 8, "mem": 4}, "price": {"cpu": 1}},
        ],
        "services": [
            {"name": "web-1", "demand": {"cpu": 2, "mem": 2}, "group": "web"},
            {"name": "web-2", "demand": {"cpu": 2, "mem": 2}, "group": "web"},
            {"name": "db", "demand": {"cpu": 3, "mem": 4}},
        ],
        "traffic": [["web-1", "db", 3], {"between": ["web-2", "db"], "volume": 2}],
    }
    spec.update(extra)
    return spec


def _load(path: Path) -> Placement:
    spec = yaml.safe_load(path.read_text())
    assert spec.pop("kind") == "placement"
    return formulation_class("placement").from_spec(spec, str(path))


def _brute_force(p: Placement) -> float:
    best = np.inf
    names = [s.name for s in p.services]
    for combo in itertools.product(*(p.allowed[n] for n in names)):
        check = p.check(dict(zip(names, combo)))
        if check.feasible:
            best = min(best, check.objective)
    return best


def test_checker_costs_by_hand():
    p = Placement.from_spec(_spec(current={"db": "c"}, migration_cost=7, objective={"communication": 2}))
    check = p.check({"web-1": "a", "web-2": "b", "db": "a"})
    assert check.feasible
    # traffic: web-1/db same site (0), web-2/db same zone (default latency 1) -> 2
    assert check.costs == {"communication": 2.0, "energy": 5.0 + 4.0, "opening": 5.0, "migration": 7.0}
    assert check.objective == 2 * 2.0 + 9.0 + 5.0 + 7.0
    assert check.usage["a"] == {"cpu": 5.0, "mem": 6.0}
    assert check.moves == ["db"]


def test_checker_finds_every_violation():
    rules = {"anti_affinity": [{"group": "web", "scope": "zone"}], "affinity": [{"services": ["web-1", "db"]}], "forbid": {"db": "b"}}
    p = Placement.from_spec(_spec(rules=rules))
    check = p.check({"web-1": "a", "web-2": "b", "db": "b"})
    text = " | ".join(check.violations)
    assert not check.feasible
    assert "may not run on b" in text and "group web has 2 replicas in zone z1" in text and "spread over" in text
    assert "site b uses 5 cpu of 4" in text
    assert not p.check({"web-1": "a"}).feasible  # services missing


def test_model_and_checker_agree_on_random_assignments():
    spec = generate_placement(10, 3, seed=4, migration=True)
    spec.pop("kind")
    p = Placement.from_spec(spec)
    model = p.to_model()
    rng = np.random.default_rng(0)
    agreed_feasible = 0
    for _ in range(300):
        assignment = {s.name: p.allowed[s.name][rng.integers(len(p.allowed[s.name]))] for s in p.services}
        check = p.check(assignment)
        evaluation = model.evaluate(p.solution_of(assignment))
        assert evaluation.feasible == check.feasible, check.violations
        assert evaluation.objective == pytest.approx(check.objective)
        agreed_feasible += check.feasible
    assert 0 < agreed_feasible < 300  # both kinds were exercised


@pytest.mark.parametrize("backend", ["cpsat"])
def test_proven_optimum_equals_brute_force(backend):
    spec = _spec(rules={"anti_affinity": [{"group": "web"}]}, current={"web-1": "c"}, migration_cost=3)
    p = Placement.from_spec(spec)
    result = hqopt.solve(p, backend=backend, time_limit=20, seed=0, num_workers=1)
    assert result.status is hqopt.Status.OPTIMAL
    assert result.objective == pytest.approx(_brute_force(p))
    check = p.check(result.decoded["assignment"])
    assert check.feasible and check.objective == pytest.approx(result.objective)


def test_small_problem_file_optimum_proven():
    p = _load(PROBLEMS / "small.yaml")
    result = hqopt.solve(p, backend="cpsat", time_limit=30, seed=0, num_workers=1)
    assert result.status is hqopt.Status.OPTIMAL
    assert result.objective == pytest.approx(_brute_force(p))
    json.dumps(result.decoded)  # JSON-friendly


def test_latency_forms():
    base = _spec()
    sites = ["a", "b", "c"]
    matrix = Placement.from_spec(dict(base, latency={"sites": ["c", "a", "b"], "matrix": [[0, 7, 9], [7, 0, 2], [9, 2, 0]]}))
    assert matrix.latency[0, 1] == 2 and matrix.latency[0, 2] == 7 and matrix.latency[1, 2] == 9
    hier = Placement.from_spec(dict(base, latency={"hierarchy": {"same_zone": 3, "other": 50}, "pairs": [["a", "c", 11]]}))
    assert [hier.latency[0, 1], hier.latency[0, 2], hier.latency[1, 2], hier.latency[2, 2]] == [3, 11, 50, 0]
    assert sites == [s.name for s in hier.sites]


def test_a_traffic_matrix_means_what_the_pair_list_means():
    pairs = Placement.from_spec(_spec())
    matrix = Placement.from_spec(_spec(traffic={"services": ["web-1", "web-2", "db"], "matrix": [[0, 0, 3], [0, 0, 2], [3, 2, 0]]}))
    assert matrix.traffic == pairs.traffic == {("db", "web-1"): 3, ("db", "web-2"): 2}
    plan = {"web-1": "a", "web-2": "c", "db": "b"}
    assert matrix.check(plan).objective == pairs.check(plan).objective


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"traffic": {"services": ["web-1", "db"], "matrix": [[0, 3], [1, 0]]}}, "traffic.matrix[1][0]",
         "is 1 but [0][1] is 3: the matrix is symmetric"),
        ({"latency": {"matrix": [[0, 1, 2], [1, 0, 2], [5, 2, 0]]}}, "latency.matrix[2][0]", "is 5 but [0][2] is 2"),
    ],
)  # fmt: skip
def test_an_asymmetric_matrix_is_refused(change, field, message):
    with pytest.raises(SpecError, match=re.escape(message)) as info:
        Placement.from_spec(_spec(**change), "dc.yaml")
    assert info.value.field == field


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"services": [{"name": "huge", "demand": {"cpu": 9, "mem": 1}}], "traffic": []}, "services[0].demand",
         "'huge' fits on no site: needs cpu 9, more than any site has (at most 8)"),
        ({"services": [{"name": "db", "demand": {"cpu": 7, "mem": 1}}], "traffic": [], "rules": {"pin": {"db": ["a", "b"]}}},
         "services[0].demand", "'db' fits on no site: needs cpu 7, more than any site it may run on has (at most 6)"),
        ({"services": [{"name": "both", "demand": {"cpu": 7, "mem": 7}}], "traffic": []}, "services[0].demand",
         "'both' fits on no site: needs more of its resources together than any one site has"),
    ],
)  # fmt: skip
def test_a_service_that_fits_on_no_site_is_named(change, field, message):
    with pytest.raises(SpecError, match=re.escape(message)) as info:
        Placement.from_spec(_spec(**change), "dc.yaml")
    assert info.value.field == field


def test_a_service_that_fits_on_no_site_left_up_is_named():
    message = "'db' fits on no site: needs cpu 3, more than any site that is up has (at most 2)"
    sites = [{"name": "a", "capacity": {"cpu": 8, "mem": 8}}, {"name": "b", "capacity": {"cpu": 2, "mem": 8}}]
    with pytest.raises(SpecError, match=re.escape(message)) as info:
        Placement.from_spec(_spec(sites=sites, sites_down=["a"]), "dc.yaml")
    assert info.value.field == "sites_down"
    p = Placement.from_spec(_spec(sites=sites))
    with pytest.raises(SpecError, match=re.escape(message)):
        p.replan({}, down="a")


def test_demand_beyond_the_sites_together_is_refused():
    # cpu: the services need 2 + 2 + 3 + 8 = 15, the sites have 6 + 4 + 8 = 18, and 12 with site a down
    big = _spec()["services"] + [{"name": "batch", "demand": {"cpu": 8, "mem": 1}}]
    p = Placement.from_spec(_spec(services=big))  # 15 of 18 cpu: may still be packed
    message = "the services need cpu 15 in all, more than the sites that are up have together (12)"
    with pytest.raises(SpecError, match=re.escape(message)) as info:
        Placement.from_spec(_spec(services=big, sites_down=["a"]), "dc.yaml")
    assert info.value.field == "sites_down"
    with pytest.raises(SpecError, match=re.escape(message)):
        p.replan({}, down="a")
    more = big + [{"name": "etl", "demand": {"cpu": 4, "mem": 1}}]
    with pytest.raises(SpecError, match=re.escape("the services need cpu 19 in all, more than the sites have together (18)")) as info:
        Placement.from_spec(_spec(services=more), "dc.yaml")
    assert info.value.field == "services"
    mib = [{"name": "a", "capacity": {"cpu": 9, "mem": 1048576}}]  # large amounts are shown whole, not rounded alike
    with pytest.raises(SpecError, match=re.escape("need mem 1048577 in all, more than the sites have together (1048576)")):
        Placement.from_spec(_spec(sites=mib, services=[{"name": "s", "demand": {"mem": 1048576}}, {"name": "t", "demand": {"mem": 1}}], traffic=[]))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": 1}, "colour"),
        ({"services": [{"name": "x", "demand": {"disk": 1}}]}, "services[0].demand.disk"),
        ({"traffic": [["web-1", "nope", 1]]}, "traffic[0]"),
        ({"rules": {"pin": {"db": "zzz"}}}, "rules.pin.db"),
        ({"rules": {"pin": {"db": "a"}, "forbid": {"db": "a"}}}, "rules.forbid.db"),
        ({"rules": {"anti_affinity": [{"group": "nope"}]}}, "rules.anti_affinity[0].group"),
        ({"sites": [{"name": "a", "capacity": {"cpu": -1}}]}, "sites[0].capacity.cpu"),
        ({"sites": [{"name": "a", "capacity": {"cpu": 10**400}}]}, "sites[0].capacity.cpu"),  # no float holds it
        ({"resources": ["cpu", "cpu", "mem"]}, "resources[1]"),
        ({"latency": {"matrix": [[0, 1]]}}, "latency.matrix"),
    ],
)
def test_bad_specs_name_the_field(change, field):
    with pytest.raises(SpecError) as info:
        Placement.from_spec(_spec(**change), "dc.yaml")
    assert info.value.field == field
    assert str(info.value).startswith("dc.yaml: ")


def test_decode_refuses_broken_one_hot():
    p = Placement.from_spec(_spec())
    solution = p.solution_of({"web-1": "a", "web-2": "b", "db": "c"})
    solution[("x", "db", "a")] = 1
    with pytest.raises(ModelError, match="db"):
        p.decode(solution)


def test_generator_is_seeded_and_feasible_by_construction():
    a = generate_placement(40, 6, seed=9, migration=True)
    assert a == generate_placement(40, 6, seed=9, migration=True)
    assert a != generate_placement(40, 6, seed=10, migration=True)
    a.pop("kind")
    p = Placement.from_spec(a)
    check = p.check(a["current"])  # the witness placement keeps every rule
    assert check.feasible, check.violations
    assert p.anti_affinity and len({s.zone for s in p.sites}) > 1
    assert check.costs["migration"] == 0


def test_problem_files_are_valid():
    for name, (n_services, n_sites) in {"small": (8, 3), "medium": (30, 6), "large": (200, 20)}.items():
        p = _load(PROBLEMS / f"{name}.yaml")
        assert (len(p.services), len(p.sites)) == (n_services, n_sites)
    medium = _load(PROBLEMS / "medium.yaml")
    assert medium.anti_affinity and medium.current
    assert medium.check(medium.current).feasible


def test_cli_generate_writes_a_loadable_spec(tmp_path):
    from hqopt.cli.app import main

    out = tmp_path / "gen.yaml"
    assert main(["generate", "placement", "--services", "12", "--sites", "3", "--seed", "2", "-o", str(out)]) == 0
    p = _load(out)
    assert len(p.services) == 12 and len(p.sites) == 3
    spec = yaml.safe_load(out.read_text())
    assert spec == yaml.safe_load(yaml.safe_dump(generate_placement(12, 3, seed=2)))



def test_generate_refuses_a_size_the_readers_would_refuse(tmp_path, capsys):
    from hqopt.cli.app import main
    from hqopt.io.limits import overridden

    out = tmp_path / "big.yaml"
    with overridden(max_variables=100):
        assert main(["generate", "placement", "--services", "30", "--sites", "4", "-o", str(out)]) == 2
        assert "120 assignment variables, more than the readers' limit of 100" in capsys.readouterr().err
        assert not out.exists()
        assert main(["generate", "placement", "--services", "25", "--sites", "4", "-o", str(out)]) == 0

def test_documented_example_parses_and_solves():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "placement.md").read_text()
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = yaml.safe_load(block)
    spec.pop("kind")
    p = Placement.from_spec(spec, "docs/placement.md")
    assert p.latency[0, 2] == 9 and p.allowed["train"] == ["fra-b-1"]
    result = hqopt.solve(p, backend="cpsat", time_limit=20, seed=0, num_workers=1)
    assert result.status is hqopt.Status.OPTIMAL
    assert result.objective == pytest.approx(_brute_force(p))
    assert p.check(result.decoded["assignment"]).feasible


def test_the_size_checks_layout_is_reused_only_for_an_unchanged_placement():
    """model_size() leaves its layout for the to_model() after it; a placement changed in between gets a new one."""
    spec = {"sites": [{"name": "a", "capacity": {"cpu": 2}, "open_cost": 5}, {"name": "b", "capacity": {"cpu": 2}, "open_cost": 5}],
            "services": [{"name": "s", "demand": {"cpu": 1}}], "objective": {"opening": 0}}
    p = Placement.from_spec(spec)
    assert p.model_size() == (2, 0)
    p.weights["opening"] = 1.0  # now the sites' opening variables belong in the model
    model = p.to_model()
    assert model.num_variables == 4 and ("open", "a") in model.variables
    p.weights["opening"] = 0.0
    assert p.to_model().num_variables == 2


def test_a_zone_name_reused_in_another_region_is_another_zone():
    """Zone `a` of region eu and zone `a` of region us: two fault domains, charged cross-region latency."""
    p = Placement.from_spec({
        "sites": [{"name": "eu-a-1", "zone": "a", "region": "eu", "capacity": {"cpu": 8}},
                  {"name": "us-a-1", "zone": "a", "region": "us", "capacity": {"cpu": 8}},
                  {"name": "eu-b-1", "zone": "b", "region": "eu", "capacity": {"cpu": 8}}],
        "services": [{"name": "db-1", "demand": {"cpu": 5}, "group": "db"}, {"name": "db-2", "demand": {"cpu": 5}, "group": "db"}],
        "traffic": [["db-1", "db-2", 3]],
        "rules": {"anti_affinity": [{"group": "db", "scope": "zone"}], "pin": {"db-1": "eu-a-1", "db-2": "us-a-1"}},
    })  # fmt: skip
    assert [s.zone for s in p.sites] == ["eu/a", "us/a", "b"]
    check = p.check({"db-1": "eu-a-1", "db-2": "us-a-1"})
    assert check.feasible, check.violations  # they were one zone: the pins broke the anti-affinity rule
    assert p.latency[0, 1] == 16.0 and p.latency[0, 2] == 4.0  # other region; same region, other zone
    assert check.costs["communication"] == 3 * 16.0
    result = hqopt.solve(p, backend="exact")
    assert result.feasible and result.objective == pytest.approx(48.0)


@pytest.mark.parametrize(
    "together, apart, refused",
    [("site", "site", True), ("site", "zone", True), ("zone", "region", True), ("zone", "site", False), ("region", "zone", False)],
)
def test_affinity_that_contradicts_anti_affinity_is_refused_up_front(together, apart, refused):
    """Together on one `together` domain implies together on every wider one: more of a group there than
    the anti-affinity rule allows has no plan (the solvers searched in vain, then said 'unknown')."""
    spec = {
        "sites": [{"name": f"s{i}", "zone": f"z{i // 2}", "region": f"r{i // 4}", "capacity": {"cpu": 8}} for i in range(8)],
        "services": [{"name": f"db-{i}", "demand": {"cpu": 1}, "group": "db"} for i in range(3)],
        "rules": {"anti_affinity": [{"group": "db", "scope": apart}], "affinity": [{"services": ["db-0", "db-1"], "scope": together}]},
    }
    if refused:
        with pytest.raises(SpecError, match=rf"'rules.affinity\[0\]': puts db-0, db-1 on one {together}, but rules.anti_affinity\[0\] allows at most 1"):
            Placement.from_spec(spec)
    else:
        p = Placement.from_spec(spec)
        result = hqopt.solve(p, backend="exact" if len(p.to_model().variables) <= 20 else "cpsat", time_limit=5, seed=0)
        assert result.feasible and p.check(result.decoded["assignment"]).feasible
    spec["rules"]["anti_affinity"][0]["max_per_domain"] = 2  # two of the group may share: no contradiction
    assert Placement.from_spec(spec).affinity


def test_an_affinity_rule_naming_a_service_twice_is_refused():
    spec = {"sites": [{"name": "a", "capacity": {"cpu": 4}}],
            "services": [{"name": "x", "demand": {"cpu": 1}}, {"name": "y", "demand": {"cpu": 1}}],
            "rules": {"affinity": [{"services": ["x", "y", "x"]}]}}  # fmt: skip
    with pytest.raises(SpecError, match=r"'rules.affinity\[0\].services': names 'x' twice"):
        Placement.from_spec(spec)


def test_a_scoped_zone_name_that_is_another_zone_is_refused():
    sites = [{"name": "x", "zone": "a", "region": "eu", "capacity": {"cpu": 4}}, {"name": "y", "zone": "a", "region": "us", "capacity": {"cpu": 4}},
             {"name": "z", "zone": "eu/a", "region": "eu", "capacity": {"cpu": 4}}]  # fmt: skip
    with pytest.raises(SpecError, match=r"'sites\[0\].zone': zone 'a' is in several regions, and 'eu/a', its name within 'eu', is another zone's"):
        Placement.from_spec({"sites": sites, "services": [{"name": "s", "demand": {"cpu": 1}}]})
