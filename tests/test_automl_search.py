"""QuboSearchCV: a scikit-learn search whose candidates come from the QUBO surrogate."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.stats
from optuna.distributions import FloatDistribution, IntDistribution
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier

from hqopt.automl import QuboSearchCV

SPACE = {
    "max_depth": IntDistribution(1, 12),
    "min_samples_leaf": IntDistribution(1, 32, log=True),
    "criterion": ["gini", "entropy"],
    "max_features": ["sqrt", "log2", None],
}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return load_breast_cancer(return_X_y=True)


def test_search_beats_the_default_tree_and_fills_cv_results(data) -> None:
    X, y = data
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    estimator = DecisionTreeClassifier(random_state=0)
    default = cross_val_score(clone(estimator), X, y, cv=folds).mean()
    searches = [QuboSearchCV(estimator, SPACE, n_iter=20, cv=folds, random_state=seed, surrogate="bocs") for seed in range(3)]
    for one in searches:
        one.fit(X, y)
    assert np.mean([one.best_score_ for one in searches]) > default + 0.005  # over seeds: one may be unlucky
    search = searches[0]
    assert len(search.cv_results_["params"]) == 20
    configs = [tuple(sorted(p.items(), key=str)) for p in search.cv_results_["params"]]
    assert len(set(map(str, configs))) == 20  # no configuration evaluated twice
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    assert search.best_estimator_.get_depth() <= search.best_params_["max_depth"]
    assert len(search.study_.trials) == 20


def test_batches_of_candidates(data) -> None:
    X, y = data
    search = QuboSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": IntDistribution(1, 8), "ccp_alpha": FloatDistribution(0.0, 0.05)},
        n_iter=9, batch_size=3, cv=3, random_state=1, refit=False,
    )
    search.fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 9 and len({(p["max_depth"], p["ccp_alpha"]) for p in params}) == 9
    assert not hasattr(search, "best_estimator_")


def test_multimetric_search_follows_the_refit_metric(data) -> None:
    X, y = data
    search = QuboSearchCV(
        DecisionTreeClassifier(random_state=0), {"max_depth": IntDistribution(1, 6)},
        n_iter=5, cv=3, scoring=["accuracy", "f1"], refit="f1", random_state=0,
    )
    search.fit(X, y)
    values = [t.value for t in search.study_.trials]
    assert values == pytest.approx(list(search.cv_results_["mean_test_f1"]))


def test_bad_space_is_a_value_error_naming_the_parameter(data) -> None:
    X, y = data
    with pytest.raises(ValueError, match=r"param_distributions\['max_depth'\]: give a non-empty list"):
        QuboSearchCV(DecisionTreeClassifier(), {"max_depth": 3}, n_iter=2).fit(X, y)
    with pytest.raises(ValueError, match=r"param_distributions\['max_depth'\]: scipy.stats.norm cannot be searched"):
        QuboSearchCV(DecisionTreeClassifier(), {"max_depth": scipy.stats.norm(3, 1)}, n_iter=2).fit(X, y)


def test_the_grids_randomized_search_takes_are_taken(data) -> None:
    X, y = data
    space = {"max_depth": range(1, 5), "min_samples_leaf": scipy.stats.randint(1, 4), "criterion": np.array(["gini", "entropy"]),
             "min_impurity_decrease": scipy.stats.uniform(0.0, 0.01), "ccp_alpha": scipy.stats.loguniform(1e-5, 1e-2)}  # fmt: skip
    search = QuboSearchCV(DecisionTreeClassifier(random_state=0), space, n_iter=6, cv=3, random_state=0).fit(X, y)
    for params in search.cv_results_["params"]:
        assert params["max_depth"] in range(1, 5) and params["min_samples_leaf"] in (1, 2, 3)
        assert params["criterion"] in ("gini", "entropy") and type(params["criterion"]) is str  # not numpy's str_
        assert 0.0 <= params["min_impurity_decrease"] <= 0.01 and 1e-5 <= params["ccp_alpha"] <= 1e-2


def test_choices_may_be_estimators_as_in_randomized_search(data) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    X, y = data
    scalers = [StandardScaler(), MinMaxScaler(), "passthrough"]
    pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))])
    search = QuboSearchCV(pipe, {"scaler": scalers, "clf__C": [0.01, 0.1, 1, 10]}, n_iter=6, cv=3, random_state=0)
    search.fit(X, y)
    tried = search.cv_results_["param_scaler"]
    assert len(tried) == 6 and all(any(s is c for c in scalers) for s in tried)  # the objects given, not copies
    assert any(s is scalers[0] or s is scalers[1] for s in tried)
    best = search.best_params_["scaler"]
    assert any(best is c for c in scalers)
    assert search.best_estimator_.named_steps["clf"].C == search.best_params_["clf__C"]


def test_a_search_inside_a_search_runs_and_another_threads_search_keeps_sklearns_failure_check(data) -> None:
    X, y = data
    inner = QuboSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": IntDistribution(1, 5)}, n_iter=3, cv=2, random_state=0)
    outer = QuboSearchCV(inner, {"cv": [2, 3]}, n_iter=2, cv=2, random_state=0)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (outer.fit(X, y), done.set()), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert done.is_set() and sorted(p["cv"] for p in outer.cv_results_["params"]) == [2, 3]
    # while a search collects its fit failures, any other search whose fits all fail raises at once: in another
    # thread, or in this one (a plain scikit-learn search nested in its fits)
    from sklearn.model_selection import GridSearchCV

    from hqopt.automl.sklearn_search import _failures_checked_once

    raised: list[BaseException] = []

    def failing_grid() -> None:
        try:
            GridSearchCV(DecisionTreeClassifier(), {"max_depth": [-1]}, cv=3).fit(X, y)
        except ValueError as exc:
            raised.append(exc)

    with _failures_checked_once(QuboSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, error_score=np.nan)):
        other = threading.Thread(target=failing_grid)
        other.start()
        other.join(timeout=60)
        failing_grid()
    assert len(raised) == 2 and all("fits failed" in str(exc) for exc in raised)
