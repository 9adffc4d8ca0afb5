"""Optuna's own sampler conformance suite (``optuna.testing.pytest_samplers``) run against QuboSampler.

Optuna ships these test cases with the package; subclassing them with a
``sampler`` fixture is how Optuna runs them on its own samplers
(``tests/samplers_tests/test_samplers.py``). The parts that do not apply are
left out: QuboSampler is single-objective (``MultiObjectiveSamplerTestCase``
does not apply; ``SingleOnlySamplerTestCase`` checks that it refuses). The
module-level tests below follow the same file's reproducibility, reseeding
and pickling checks, and the issue-13 contract breaks.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import numpy as np
import optuna
import pytest
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler
from optuna.testing.pytest_samplers import (
    BasicSamplerTestCase,
    RelativeSamplerTestCase,
    SingleOnlySamplerTestCase,
)
from optuna.trial import TrialState

from hqopt.automl import QuboSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)

FACTORIES = [
    lambda: QuboSampler(n_startup_trials=1, seed=0),
    lambda: QuboSampler(n_startup_trials=1, surrogate="fm", encoding="one-hot", seed=1),
]


class TestQuboBasic(BasicSamplerTestCase):
    @pytest.fixture(params=FACTORIES[:1])
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], BaseSampler]:
        return request.param


class TestQuboRelative(RelativeSamplerTestCase):
    @pytest.fixture(params=FACTORIES)
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], BaseSampler]:
        return request.param


class TestQuboSingleOnly(SingleOnlySamplerTestCase):
    @pytest.fixture(params=FACTORIES[:1])
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], BaseSampler]:
        return request.param


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    n = trial.suggest_int("n", 1, 64, log=True)
    k = trial.suggest_categorical("k", ["a", "b", "c"])
    return x**2 + math.log(n) + (k == "b")


def test_reproducible_with_a_seed() -> None:
    runs = []
    for _ in range(2):
        study = optuna.create_study(sampler=QuboSampler(n_startup_trials=3, seed=7))
        study.optimize(_objective, n_trials=8)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_reseed_rng_changes_sampling() -> None:
    first = optuna.create_study(sampler=QuboSampler(n_startup_trials=2, seed=1))
    first.optimize(_objective, n_trials=6)
    sampler = QuboSampler(n_startup_trials=2, seed=1)
    sampler.reseed_rng()
    second = optuna.create_study(sampler=sampler)
    second.optimize(_objective, n_trials=6)
    assert [t.params for t in first.trials] != [t.params for t in second.trials]


def test_pickled_sampler_continues_the_same_stream() -> None:
    sampler = QuboSampler(n_startup_trials=2, seed=3)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=4)
    clone = pickle.loads(pickle.dumps(sampler))
    a = optuna.create_study(sampler=sampler)
    b = optuna.create_study(sampler=clone)
    for s in (a, b):
        s.optimize(_objective, n_trials=3)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


# ------------------------------------------------------------- issue 13 contracts
def test_asked_trials_are_distinct_before_any_finishes() -> None:
    # 9 asks on a 3 x 3 grid, none told: every configuration once (pending trials count)
    study = optuna.create_study(sampler=QuboSampler(seed=0))
    space = {"x": IntDistribution(0, 2), "k": CategoricalDistribution(["a", "b", "c"])}
    trials = [study.ask(space) for _ in range(9)]
    assert len({(t.params["x"], t.params["k"]) for t in trials}) == 9


@pytest.mark.parametrize("wall", [math.inf, math.nan])
def test_infinite_or_nan_constraint_values_are_infeasible_not_a_crash(wall: float) -> None:
    def constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
        return [wall if trial.params["x"] > 5 else -1.0]

    sampler = QuboSampler(n_startup_trials=3, seed=0, constraints_func=constraints)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: -float(t.suggest_int("x", 0, 9)), n_trials=12)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    feasible = [t for t in study.trials if t.params["x"] <= 5]
    assert min(t.value for t in feasible) == -5.0  # the feasible optimum, found past the +inf walls


def test_infinite_objective_values_do_not_break_the_surrogate() -> None:
    study = optuna.create_study(sampler=QuboSampler(n_startup_trials=2, seed=0))
    study.optimize(lambda t: math.inf if t.suggest_int("x", 0, 9) == 0 else float(t.params["x"]), n_trials=8)
    assert study.best_value == 1.0 or study.best_value < math.inf


def test_multi_objective_is_refused_in_sample_independent() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=QuboSampler(seed=0))
    trial = study.ask()
    with pytest.raises(ValueError):
        study.sampler.sample_independent(study, study._storage.get_trial(trial._trial_id), "x", FloatDistribution(0, 1))


def test_parallel_batch_is_diverse() -> None:
    # four proposals from one surrogate draw, asked together: distinct, and not all neighbours of each other
    sampler = QuboSampler(n_startup_trials=6, batch_size=4, seed=0)
    study = optuna.create_study(sampler=sampler)
    space = {f"b{i}": IntDistribution(0, 1) for i in range(10)}
    for _ in range(6):
        trial = study.ask(space)
        study.tell(trial, float(sum(trial.params.values())))
    batch = [np.array([study.ask(space).params[f"b{i}"] for i in range(10)]) for _ in range(4)]
    distances = [int(np.sum(a != b)) for i, a in enumerate(batch) for b in batch[i + 1 :]]
    assert min(distances) >= 1 and max(distances) >= 2
