"""scikit-learn's estimator checks (``parametrize_with_checks``) on QuboSearchCV, and the issue-13 contract breaks.

The instances mirror those scikit-learn checks RandomizedSearchCV with
(``sklearn/utils/_test_common/instance_generator.py``), and the expected
failures are the two scikit-learn itself lists for RandomizedSearchCV.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from optuna.distributions import FloatDistribution
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from hqopt.automl import QuboSearchCV

SEARCHES = [
    QuboSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, n_iter=2, cv=2, error_score="raise", random_state=0),
    QuboSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, n_iter=2, cv=2, error_score="raise", random_state=0),
    QuboSearchCV(
        Pipeline([("pca", PCA()), ("ridge", Ridge())]), {"ridge__alpha": FloatDistribution(0.1, 1.0)},
        n_iter=3, n_startup_trials=2, cv=2, error_score="raise", random_state=0,
    ),
]
SKLEARN_XFAIL = {  # scikit-learn's own expected failures for RandomizedSearchCV
    "check_supervised_y_2d": "DataConversionWarning not caught",
    "check_requires_y_none": "Doesn't fail gracefully",
}


@parametrize_with_checks(SEARCHES, expected_failed_checks=lambda est: SKLEARN_XFAIL)
def test_sklearn_compatible_search(estimator, check) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # n_iter vs. a 2-point grid
        check(estimator)


class FailsOnC(ClassifierMixin, BaseEstimator):
    """Logistic regression that refuses C == 0.5 (a candidate that always fails)."""

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def fit(self, X, y):
        if self.C == 0.5:
            raise ValueError("C = 0.5 is refused")
        self.model_ = LogisticRegression(C=self.C, max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


@pytest.mark.parametrize("error_score", [np.nan, 0])
def test_failing_candidates_are_recorded_and_the_search_goes_on(error_score) -> None:
    X, y = load_iris(return_X_y=True)
    search = QuboSearchCV(FailsOnC(), {"C": [0.5, 0.1, 1.0, 10.0]}, n_iter=4, cv=3, error_score=error_score,
                          n_startup_trials=1, random_state=0)
    with pytest.warns(FitFailedWarning, match="fits failed"):
        search.fit(X, y)
    scores = dict(zip([p["C"] for p in search.cv_results_["params"]], search.cv_results_["mean_test_score"]))
    assert len(scores) == 4
    failed = scores[0.5]
    assert np.isnan(failed) if error_score != 0 else failed == 0
    assert search.best_params_["C"] != 0.5 and search.best_score_ > 0.9


def test_every_candidate_failing_raises_like_randomized_search() -> None:
    X, y = load_iris(return_X_y=True)
    for search in (QuboSearchCV(FailsOnC(), {"C": [0.5]}, n_iter=1, cv=3, random_state=0),
                   RandomizedSearchCV(FailsOnC(), {"C": [0.5]}, n_iter=1, cv=3, random_state=0)):
        with pytest.raises(ValueError, match="fits failed"):
            search.fit(X, y)


def test_random_state_may_be_a_numpy_random_state() -> None:
    X, y = load_iris(return_X_y=True)
    runs = []
    for _ in range(2):
        search = QuboSearchCV(LogisticRegression(max_iter=300), {"C": FloatDistribution(1e-3, 1e2, log=True)},
                              n_iter=4, cv=3, random_state=np.random.RandomState(0))
        runs.append([p["C"] for p in search.fit(X, y).cv_results_["params"]])
    assert runs[0] == runs[1]


def test_n_iter_beyond_the_grid_warns_and_runs_each_point_once() -> None:
    X, y = load_iris(return_X_y=True)
    space = {"C": [0.1, 1.0, 10.0]}
    with pytest.warns(UserWarning, match="smaller than n_iter=6") as qubo_warning:
        search = QuboSearchCV(LogisticRegression(max_iter=300), space, n_iter=6, cv=3, random_state=0).fit(X, y)
    with pytest.warns(UserWarning, match="smaller than n_iter=6") as sk_warning:
        RandomizedSearchCV(LogisticRegression(max_iter=300), space, n_iter=6, cv=3, random_state=0).fit(X, y)
    assert str(qubo_warning[0].message) == str(sk_warning[0].message)
    assert sorted(p["C"] for p in search.cv_results_["params"]) == [0.1, 1.0, 10.0]
