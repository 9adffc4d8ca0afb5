"""Every built-in backend, format and formulation passes hqopt's public conformance suites
(hqopt.testing), the ones plugin authors run on theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from hqopt.formulations import FORMULATIONS, formulation_class
from hqopt.formulations.placement_generator import generate_placement
from hqopt.io import formats
from hqopt.testing import check_backend, check_format, check_formulation

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"

#: offline built-ins and the options that keep their untimed runs short in CI
BACKENDS = {
    "sa": {},
    "tabu": {"num_reads": 1, "num_restarts": 1},
    "steepest": {},
    "sqa": {},
    "exact": {},
    "cpsat": {"num_workers": 1},
    "mip": {},
    "ls": {"workers": 1},
    "lns": {},
    "portfolio": {"members": ("sa", "steepest")},
    "auto": {},
    "hybrid": {"restarts": 1, "sub_size": 4},
    "dwave-mock": {"num_reads": 20},
    "qaoa": {"maxiter": 10, "shots": 256},
}

#: read-only formats are checked on shipped files
EXAMPLES = {
    "qaplib": [PROBLEMS / "qap/chr12a.dat"],
    "orlib-cap": [PROBLEMS / "facility/cap71.txt"],
    "gset": [PROBLEMS / "maxcut/G1.txt"],
    "orlib-bqp": [PROBLEMS / "qubo/bqp50.txt"],
    "biqmac": [PROBLEMS / "qubo/gka1a.sparse"],
}

SPECS = {
    "knapsack": {"capacity": {"kg": 10, "l": 8}, "items": [
        {"name": f"i{k}", "value": 3 + 2 * k, "weight": {"kg": 1 + k % 4, "l": 2 + k % 3}} for k in range(8)
    ]},
    "maxcut": {"edges": [[0, 1, 2], [1, 2], [2, 3, 3], [3, 0], [0, 2, -1], [1, 3, 2]]},
    "qap": {"a": [[0, 3, 1, 2], [3, 0, 2, 4], [1, 2, 0, 5], [2, 4, 5, 0]], "b": [[0, 1, 4, 2], [1, 0, 3, 1], [4, 3, 0, 2], [2, 1, 2, 0]]},
    "facility": {
        "warehouses": [{"capacity": 6, "fixed_cost": 5}, {"capacity": 5, "fixed_cost": 4}, {"capacity": 9, "fixed_cost": 9}],
        "customers": [{"demand": d, "cost": c} for d, c in [(2, [3, 5, 1]), (3, [2, 2, 6]), (2, [4, 1, 3]), (4, [1, 6, 2])]],
    },
    "placement": {k: v for k, v in generate_placement(8, 3, seed=2).items() if k != "kind"},
}


def test_every_offline_builtin_backend_is_checked():
    from hqopt.backends.registry import BUILTIN_BACKENDS

    online = {"dwave", "leap-hybrid"}  # need D-Wave credentials and a network
    assert set(BACKENDS) == set(BUILTIN_BACKENDS) - online


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_backend_conformance(name):
    check_backend(name, **BACKENDS[name])


@pytest.mark.parametrize("name", sorted(formats()))
def test_format_conformance(name):
    check_format(name, EXAMPLES.get(name, ()))


def test_every_formulation_has_an_example_spec():
    assert set(SPECS) == set(FORMULATIONS)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_formulation_conformance(kind):
    check_formulation(formulation_class(kind), SPECS[kind])


def test_backend_check_catches_a_backend_that_changes_the_model():
    from hqopt.backends.exact import ExactBackend

    class Meddling(ExactBackend):
        def run(self, problem, budget, seed, *, initial=None):
            problem.objective.add_linear(next(iter(problem.variables)), 1.0)
            return super().run(problem, budget, seed, initial=initial)

    with pytest.raises(AssertionError, match="changed the model"):
        check_backend(Meddling())
