"""QuboSampler inside real Optuna studies: optimum found, no repeats, constraints, parallel workers, fallback."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.trial import TrialState
from threadpoolctl import threadpool_limits

from hqopt.automl import QuboSampler
from hqopt.automl.encoding import SearchSpaceEncoder

optuna.logging.set_verbosity(optuna.logging.WARNING)

# a fixed sparse binary quadratic over 10 bits (12 pairs); its minimum is found by enumeration
_RNG = np.random.default_rng(42)
Q10 = np.triu(_RNG.normal(size=(10, 10)))
Q10 *= np.triu(_RNG.random((10, 10)) < 0.3, 1) | np.eye(10, dtype=bool)


def bits_objective(trial: optuna.Trial) -> float:
    x = np.array([trial.suggest_int(f"b{i}", 0, 1) for i in range(10)], dtype=float)
    return float(x @ Q10 @ x)


def bits_minimum() -> float:
    return min(float(np.array(x) @ Q10 @ np.array(x)) for x in itertools.product((0, 1), repeat=10))


def mixed_objective(trial: optuna.Trial) -> float:
    x = trial.suggest_int("x", -2, 4)  # 7 values
    y = trial.suggest_float("y", 1e-3, 1e3, log=True)  # 7 levels: 1e-3, 1e-2, ..., 1e3
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    return (x - 2) ** 2 + (np.log10(y) - 1) ** 2 + {"a": 1.0, "b": 0.0, "c": 2.0}[kind]


def grid_keys(study: optuna.Study, sampler: QuboSampler) -> list[tuple]:
    space = sampler.infer_relative_search_space(study, study.trials[-1])
    enc = SearchSpaceEncoder(space, encoding=sampler.encoding, max_levels=sampler.max_levels)
    return [enc.indices(t.params) for t in study.trials]


@pytest.mark.parametrize(("surrogate", "enumerate_limit"), [("fm", 2**20), ("bocs", 2**20), ("auto", 100)])
def test_finds_the_minimum_of_a_binary_quadratic_without_repeats(surrogate: str, enumerate_limit: int, monkeypatch) -> None:
    monkeypatch.setattr("hqopt.automl.acquisition.ENUMERATE_LIMIT", enumerate_limit)  # 100: the solver path
    sampler = QuboSampler(surrogate=surrogate, n_startup_trials=8, seed=1)
    study = optuna.create_study(sampler=sampler)
    study.optimize(bits_objective, n_trials=30)
    assert study.best_value == pytest.approx(bits_minimum())  # 30 of 1024 points
    keys = grid_keys(study, sampler)
    assert len(set(keys)) == len(keys)
    assert sampler.last_surrogate in (("bocs", "fm") if surrogate == "auto" else (surrogate,))
    if enumerate_limit < 1024:
        assert sampler.last_solve is not None and sampler.last_solve.feasible  # hqopt.solve answered, verified
    else:
        assert sampler.last_solve is None  # exact enumeration answered


@pytest.mark.parametrize("encoding", ["binary", "one-hot", "domain-wall"])
def test_mixed_space_reaches_the_optimum_on_every_encoding(encoding: str) -> None:
    sampler = QuboSampler(encoding=encoding, max_levels=7, n_startup_trials=6, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(mixed_objective, n_trials=25)
    assert study.best_value <= 1.0  # 6 of the 147 grid points score <= 1 (the optimum x=2, y=10, b and its neighbours)
    # no configuration twice (values, not coarse-grid keys: adaptive levels add values between the grid's)
    configs = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(configs)) == len(configs)


def test_seed_repeats_and_maximize_is_honoured() -> None:
    def neg(trial: optuna.Trial) -> float:
        return -mixed_objective(trial)

    runs = []
    for _ in range(2):
        study = optuna.create_study(direction="maximize", sampler=QuboSampler(n_startup_trials=5, seed=3))
        study.optimize(neg, n_trials=14)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]
    best = {}
    for name, make in (("qubo", lambda s: QuboSampler(n_startup_trials=5, seed=s)), ("random", optuna.samplers.RandomSampler)):
        values = []
        for seed in range(4):
            study = optuna.create_study(direction="maximize", sampler=make(seed))
            study.optimize(neg, n_trials=14)
            values.append(study.best_value)
        best[name] = np.mean(values)
    assert best["qubo"] > best["random"]  # maximising, not minimising


def test_constraints_func_steers_to_feasible_configurations() -> None:
    # minimise -(x + y) subject to x + y <= 5 over a 10 x 10 grid: optimum -5 on the line x + y = 5
    def objective(trial: optuna.Trial) -> float:
        return -float(trial.suggest_int("x", 0, 9) + trial.suggest_int("y", 0, 9))

    def constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
        return [trial.params["x"] + trial.params["y"] - 5.0]

    sampler = QuboSampler(n_startup_trials=6, seed=0, constraints_func=constraints)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=25)
    feasible = [t for t in study.trials if t.params["x"] + t.params["y"] <= 5]
    assert min(t.value for t in feasible) == -5.0
    assert all(t.constraints for t in study.trials)  # recorded for every trial
    later = study.trials[6:]  # proposed by the surrogates
    rate = sum(t.params["x"] + t.params["y"] <= 5 for t in later) / len(later)
    assert rate > 0.3  # 21 of the 100 grid points are feasible: random proposals hit 21 %


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_failed_trials_steer_the_model_away_from_what_fails(seed: int) -> None:
    def objective(trial: optuna.Trial) -> float:
        kind = trial.suggest_categorical("k", ["good", "ok", "bad"])
        x, y = trial.suggest_int("x", 0, 9), trial.suggest_categorical("y", [0, 1, 2])
        if kind == "bad":
            raise ValueError("the estimator rejects 'bad'")
        return (x - 6) ** 2 + y + (kind == "ok")

    study = optuna.create_study(sampler=QuboSampler(seed=seed))
    study.optimize(objective, n_trials=30, catch=(ValueError,))
    failed = sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials)
    assert failed <= 7  # 9-11 of 30 when failed trials were left out of the model (3 of the 8 design trials)
    assert study.best_value == 0


def test_parallel_workers_get_distinct_configurations() -> None:
    space_size = 6 * 2 * 3
    sampler = QuboSampler(n_startup_trials=4, seed=0)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_int("x", 0, 5)
        k = trial.suggest_categorical("k", ["a", "b"])
        m = trial.suggest_categorical("m", [1, 2, 3])
        return abs(x - 3) + (k == "a") + m

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=30, n_jobs=2)
    configs = [tuple(t.params.values()) for t in study.trials[2:]]  # the first two are random (no search space yet)
    assert len(set(configs)) == len(configs) <= space_size
    assert study.best_value == 1.0


def test_batches_of_asked_trials_are_distinct_and_come_from_one_solve(monkeypatch) -> None:
    monkeypatch.setattr("hqopt.automl.acquisition.ENUMERATE_LIMIT", 4)
    sampler = QuboSampler(n_startup_trials=4, batch_size=4, seed=0)
    study = optuna.create_study(sampler=sampler)
    space = {"x": IntDistribution(0, 7), "y": CategoricalDistribution(["p", "q", "r"])}
    for _ in range(4):
        trial = study.ask(space)
        study.tell(trial, trial.params["x"] + {"p": 0, "q": 1, "r": 2}[trial.params["y"]])
    solves = []
    batch = []
    for _ in range(4):
        batch.append(study.ask(space))
        solves.append(sampler.last_solve)
    assert len({(t.params["x"], t.params["y"]) for t in batch}) == 4
    assert solves[0] is not None and all(s is solves[0] for s in solves)  # one surrogate solve, four proposals


def test_first_modelled_proposal_is_global_under_the_mean_then_local(monkeypatch) -> None:
    from hqopt.automl.acquisition import Acquisition

    sampler = QuboSampler(n_startup_trials=6, seed=0)
    draws: list[bool] = []  # Thompson draw or posterior mean, per modelled proposal
    local: list[bool] = []  # the region of each acquisition
    make_qubo, best = sampler._surrogate_qubo, Acquisition.best

    def recorded_qubo(*args, thompson, **kwargs):
        draws.append(thompson)
        return make_qubo(*args, thompson=thompson, **kwargs)

    def recorded_best(self, Q, tried, count=1, *, region=None, **kwargs):
        local.append(bool(region and region.local))
        return best(self, Q, tried, count, region=region, **kwargs)

    monkeypatch.setattr(sampler, "_surrogate_qubo", recorded_qubo)
    monkeypatch.setattr(Acquisition, "best", recorded_best)
    optuna.create_study(sampler=sampler).optimize(bits_objective, n_trials=10)
    assert draws == [False] * 4  # trials 6-9, posterior mean
    assert local == [False, True, True, True]  # trial 6 anywhere, then inside the ball


def test_reseed_rng_changes_the_stream() -> None:
    sampler = QuboSampler(seed=0)
    before = sampler._rng.integers(2**31)
    sampler = QuboSampler(seed=0)
    sampler.reseed_rng()
    assert sampler._rng.integers(2**31) != before


def test_parameters_outside_the_relative_space_use_the_independent_sampler() -> None:
    sampler = QuboSampler(n_startup_trials=3, seed=0)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_int("x", 0, 9)
        if x % 2:  # conditional parameter: never in the intersection search space
            return x + trial.suggest_float("extra", 0.0, 1.0)
        return float(x)

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=15)
    extras = [t.params["extra"] for t in study.trials if "extra" in t.params]
    assert extras and all(0.0 <= e <= 1.0 for e in extras)
    assert study.best_params == {"x": 0}
    assert "extra" not in sampler.infer_relative_search_space(study, study.trials[-1])


def test_exhausted_grid_falls_back_to_the_independent_sampler() -> None:
    sampler = QuboSampler(n_startup_trials=2, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: float(t.suggest_int("x", 0, 3)), n_trials=7)
    assert sorted({t.params["x"] for t in study.trials}) == [0, 1, 2, 3]
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"surrogate": "gp"}, "surrogate must be one of"),
        ({"encoding": "gray"}, "encoding must be one of"),
        ({"max_levels": 1}, "max_levels must be an integer >= 2, got 1"),
        ({"max_levels": 4.5}, "max_levels must be an integer >= 2, got 4.5"),
        ({"n_startup_trials": 0}, "n_startup_trials must be an integer >= 1"),
        ({"global_every": 0}, "global_every must be an integer >= 1, got 0"),
        ({"trust_failures": 0}, "trust_failures must be an integer >= 1"),
        ({"tabu_radius": -1}, "tabu_radius must be an integer >= 0"),
        ({"trust_radius": -1}, "trust_radius must be a share of the parameters in (0, 1] or None, got -1"),
        ({"trust_radius": 2}, "trust_radius must be a share"),
        ({"time_limit": -1}, "time_limit must be a positive number of seconds or None"),
        ({"diversity": float("nan")}, "diversity must be a finite number >= 0, got nan"),
        ({"seed": "x"}, "seed must be an integer >= 0 or None, got 'x'"),
    ],
)
def test_bad_arguments_are_errors_at_once(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):  # an ArgumentError: a ValueError, as Optuna's samplers raise
        QuboSampler(**arguments)


def test_tuned_sklearn_model_beats_its_defaults() -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    folds = KFold(3, shuffle=True, random_state=0)

    def score(**params: float) -> float:
        model = make_pipeline(StandardScaler(), KernelRidge(kernel="rbf", **params))
        return float(cross_val_score(model, X, y, cv=folds, scoring="r2").mean())

    def objective(trial: optuna.Trial) -> float:
        return score(
            alpha=trial.suggest_float("alpha", 1e-4, 1e2, log=True),
            gamma=trial.suggest_float("gamma", 1e-4, 1.0, log=True),
        )

    with threadpool_limits(1):
        default = score()
        study = optuna.create_study(direction="maximize", sampler=QuboSampler(surrogate="bocs", n_startup_trials=6, seed=0))
        study.optimize(objective, n_trials=18)
    assert study.best_value > default + 0.05
    assert study.best_value > 0.4  # the best on this grid is about 0.48


def test_workers_sharing_a_storage_see_each_others_proposals(tmp_path) -> None:
    # two samplers (two "machines") on one SQLite study: handed-out configurations are never repeated
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    space = {"x": IntDistribution(0, 4), "k": CategoricalDistribution(["a", "b"])}
    workers = [
        optuna.load_study(study_name="s", storage=url, sampler=QuboSampler(n_startup_trials=2, seed=0))
        if i else optuna.create_study(study_name="s", storage=url, sampler=QuboSampler(n_startup_trials=2, seed=0))
        for i in range(2)
    ]
    first = workers[0].ask(space)
    workers[0].tell(first, 1.0)
    running = [w.ask(space) for w in workers for _ in range(3)]  # same seed, asked before any tell
    keys = [(t.params["x"], t.params["k"]) for t in running] + [(first.params["x"], first.params["k"])]
    assert len(set(keys)) == 7


def test_a_trial_the_user_stopped_is_neither_a_failure_nor_tried() -> None:
    """A failed trial marked as interrupted (``hqopt tune`` marks the one Ctrl-C stopped) was never
    measured: the sampler may propose its configuration again, and does not model it as the worst."""
    from hqopt.automl.optuna_sampler import INTERRUPTED_KEY

    space = {"kind": CategoricalDistribution(list("abcdef"))}
    study = optuna.create_study(sampler=QuboSampler(seed=0, n_startup_trials=2))
    stopped = study.ask(space)
    stopped.set_user_attr(INTERRUPTED_KEY, True)
    study.tell(stopped, state=TrialState.FAIL)
    for _ in range(6):  # every choice once, the stopped one included: none repeats while one is untried
        trial = study.ask(space)
        study.tell(trial, 1.0 + "abcdef".index(trial.params["kind"]))
    assert sorted(t.params["kind"] for t in study.trials[1:]) == list("abcdef")


def test_a_proposal_an_earlier_running_trial_already_holds_is_replaced(monkeypatch) -> None:
    # two processes sharing a storage proposed at the same moment: the later trial yields and proposes anew
    from hqopt.automl.optuna_sampler import PROPOSAL_KEY

    sampler = QuboSampler(n_startup_trials=2, seed=0)
    study = optuna.create_study(sampler=sampler)
    space = {"x": IntDistribution(0, 30), "k": CategoricalDistribution(["a", "b", "c"])}
    for _ in range(4):
        trial = study.ask(space)
        study.tell(trial, (trial.params["x"] - 17) ** 2 + "abc".index(trial.params["k"]))
    earlier = study.ask(space)  # still running
    held = json.loads(study._storage.get_trial(earlier._trial_id).system_attrs[PROPOSAL_KEY])
    real = sampler._propose
    calls = []

    def racing(*args):  # the first proposal is the one the other process just handed to the earlier trial
        calls.append(1)
        return dict(held) if len(calls) == 1 else real(*args)

    monkeypatch.setattr(sampler, "_propose", racing)
    later = study.ask(space)
    assert len(calls) == 2 and later.params != held and earlier.params == held
