"""The auto policy: which backends each kind of model gets, and that the choice is filtered by Capabilities."""

from __future__ import annotations

import dimod
import pytest

import hqopt
import hqopt.io
from hqopt.backends.auto import CPSAT_RACE_MAX_TERMS, LOCAL_SEARCH_MAX_TERMS, ModelFacts, choose

from conftest import REPO, fractional_assignment


def random_qubo(n: int, seed: int) -> hqopt.Model:
    return hqopt.Model.from_bqm(dimod.generators.gnp_random_bqm(n, 0.5, "BINARY", random_state=seed))


def _wide_integer_model() -> hqopt.Model:
    m = hqopt.Model()
    n = m.integer("n", 0, 10**9)
    x = m.binary("x")
    m.set_objective(-1 * n + 5 * x)
    m.add_constraint(n + 1000 * x <= 10**9, label="cap")
    return m


def test_small_models_are_enumerated():
    names, reason = choose(random_qubo(10, 1))
    assert names == ["exact"] and "enumerate" in reason


def test_linear_constrained_models_race_mip_and_cpsat():
    names, _ = choose(fractional_assignment(seed=1))
    assert names == ["mip", "cpsat"]


def test_quadratic_constrained_models_race_local_search_and_cpsat():
    names, reason = choose(hqopt.io.load(REPO / "problems" / "qap" / "chr12a.dat"))
    assert names[-1] == "cpsat" and len(names) == 2 and "CP-SAT" in reason


def _generated_placement(services: int, sites: int, seed: int) -> hqopt.Model:
    from hqopt.formulations.placement import Placement
    from hqopt.formulations.placement_generator import generate_placement

    spec = generate_placement(services, sites, seed=seed)
    spec.pop("kind")
    return Placement.from_spec(spec).to_model()


def test_placements_race_cpsat_only_while_it_can_bound_them(monkeypatch):
    import hqopt.backends.auto as auto

    small = _generated_placement(100, 10, seed=4)
    large = _generated_placement(150, 15, seed=6)
    monkeypatch.setattr(auto, "_jit_ready", lambda: True)
    assert ModelFacts.of(small).terms <= CPSAT_RACE_MAX_TERMS < ModelFacts.of(large).terms <= LOCAL_SEARCH_MAX_TERMS
    assert choose(small)[0] == ["ls", "cpsat"]
    names, reason = choose(large)
    assert names == ["ls"] and "all cores" in reason
    monkeypatch.setattr(auto, "_jit_ready", lambda: False)  # a cold engine: CP-SAT keeps a plan coming
    names, reason = choose(large)
    assert names == ["ls", "cpsat"] and "compiles" in reason


def test_quadratic_constraints_go_to_cpsat():
    m = hqopt.Model()
    x = [m.binary(i) for i in range(20)]
    m.set_objective(sum(x))
    m.add_constraint(x[0] * x[1] + x[2] >= 1, label="q")
    assert choose(m)[0] == ["cpsat"]


def test_bqm_backends_are_never_chosen_for_integers_too_wide_to_encode():
    names, _ = choose(_wide_integer_model())
    assert all(hqopt.backends.backend_class(n).capabilities.accepts == "cqm" for n in names)
    result = hqopt.solve(_wide_integer_model(), seed=0, time_limit=5)
    assert result.feasible and result.solution["n"] == 10**9 and result.status.value == "optimal"


def test_facts_are_measured_once_and_right():
    facts = ModelFacts.of(fractional_assignment(seed=1))
    assert facts.constrained and facts.linear and not facts.quadratic_constraints
    assert facts.assignments == 2 ** facts.variables


@pytest.mark.parametrize("n", [300])
def test_unconstrained_models_never_go_to_a_densifying_backend(n):
    bqm = dimod.BQM({i: 1.0 for i in range(n)}, {(i, i + 1): -2.0 for i in range(n - 1)}, 0, "BINARY")
    names, _ = choose(hqopt.Model.from_bqm(bqm))
    assert names and "tabu" not in names


def test_large_permutations_go_to_the_engine_alone(benchmarks):
    names, reason = choose(hqopt.io.load(benchmarks / "qaplib" / "nug20.dat"))
    assert names == ["ls"] and "permutation of 20" in reason


def test_while_the_engine_compiles_annealing_runs_beside_it(monkeypatch):
    import hqopt.backends.auto as auto

    model = hqopt.Model.from_bqm(dimod.BQM({i: 1.0 for i in range(300)}, {(i, i + 1): -2.0 for i in range(299)}, 0, "BINARY"))
    monkeypatch.setattr(auto, "_jit_ready", lambda: False)
    assert choose(model)[0] == ["ls", "sa"]
    monkeypatch.setattr(auto, "_jit_ready", lambda: True)
    assert choose(model)[0] == ["ls"]
