"""``QuboSearchCV``: scikit-learn hyperparameter search driven by :class:`QuboSampler`.

A drop-in sibling of ``RandomizedSearchCV``: candidates come from the QUBO
surrogate (asked from an in-memory Optuna study), scikit-learn cross-validates
them, and the mean test score is told back. ``fit``, ``best_params_``,
``best_score_``, ``cv_results_`` and ``best_estimator_`` behave as usual; the
Optuna study is kept as ``study_``.

Example:
    >>> from optuna.distributions import IntDistribution
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> search = QuboSearchCV(
    ...     DecisionTreeClassifier(random_state=0),
    ...     {"max_depth": IntDistribution(1, 8), "criterion": ["gini", "entropy"]},
    ...     n_iter=8, cv=3, random_state=0,
    ... )
    >>> bool(search.fit(*load_iris(return_X_y=True)).best_score_ > 0.9)
    True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.trial import TrialState
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils._param_validation import Interval, StrOptions

from hqopt.automl.encoding import DEFAULT_MAX_LEVELS, ENCODINGS
from hqopt.automl.optuna_sampler import SURROGATES, QuboSampler
from hqopt.errors import SpecError


def as_distributions(space: Mapping[str, Any]) -> dict[str, BaseDistribution]:
    """Optuna distributions from ``{name: distribution | list of choices}``.

    >>> as_distributions({"kernel": ["rbf", "linear"]})["kernel"].choices
    ('rbf', 'linear')
    """
    out: dict[str, BaseDistribution] = {}
    for name, value in space.items():
        if isinstance(value, BaseDistribution):
            out[name] = value
        elif isinstance(value, (list, tuple)) and value:
            out[name] = CategoricalDistribution(list(value))
        else:
            raise SpecError(
                f"param_distributions.{name}", "give an optuna distribution or a non-empty list of choices"
            )
    return out


class QuboSearchCV(BaseSearchCV):
    """Search over ``param_distributions`` with the QUBO-surrogate sampler.

    Args:
        estimator: a scikit-learn estimator.
        param_distributions: name -> Optuna distribution (``FloatDistribution``,
            ``IntDistribution``, ``CategoricalDistribution``) or a list of choices.
        n_iter: number of candidates evaluated.
        surrogate, backend, encoding, max_levels, n_startup_trials: as for
            :class:`QuboSampler` (``n_startup_trials`` defaults to a third of
            ``n_iter``, at most 10).
        batch_size: candidates proposed and cross-validated together (run in
            parallel with ``n_jobs``).
        random_state: an integer seed (or None).
        scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score,
            return_train_score: as for scikit-learn's searches.
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "surrogate": [StrOptions(set(SURROGATES))],
        "encoding": [StrOptions(set(ENCODINGS))],
        "max_levels": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_startup_trials": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "backend": [str, object],
        "random_state": [Interval(numbers.Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator: Any,
        param_distributions: dict[str, Any],
        *,
        n_iter: int = 20,
        surrogate: str = "fm",
        backend: Any = "sa",
        encoding: str = "binary",
        max_levels: int = DEFAULT_MAX_LEVELS,
        n_startup_trials: int | None = None,
        batch_size: int = 1,
        random_state: int | None = None,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        error_score: Any = np.nan,
        return_train_score: bool = False,
    ) -> None:
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.surrogate = surrogate
        self.backend = backend
        self.encoding = encoding
        self.max_levels = max_levels
        self.n_startup_trials = n_startup_trials
        self.batch_size = batch_size
        self.random_state = random_state

    def _run_search(self, evaluate_candidates: Any) -> None:
        distributions = as_distributions(self.param_distributions)
        startup = self.n_startup_trials or max(1, min(10, self.n_iter // 3))
        sampler = QuboSampler(
            surrogate=self.surrogate,
            backend=self.backend,
            encoding=self.encoding,
            max_levels=self.max_levels,
            n_startup_trials=startup,
            batch_size=self.batch_size,
            seed=self.random_state,
        )
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line
        try:
            study = optuna.create_study(direction="maximize", sampler=sampler)
        finally:
            optuna.logging.set_verbosity(verbosity)
        done = 0
        while done < self.n_iter:
            k = min(self.batch_size, self.n_iter - done)
            trials = [study.ask(distributions) for _ in range(k)]
            results = evaluate_candidates([dict(t.params) for t in trials])
            scores = results[self._score_key(results)][-k:]
            for trial, score in zip(trials, scores):
                if math.isfinite(float(score)):
                    study.tell(trial, float(score))
                else:
                    study.tell(trial, state=TrialState.FAIL)
            done += k
        self.study_ = study

    def _score_key(self, results: Mapping[str, Any]) -> str:
        """The mean test score that guides the search (the refit metric when there are several)."""
        if "mean_test_score" in results:
            return "mean_test_score"
        if isinstance(self.refit, str) and f"mean_test_{self.refit}" in results:
            return f"mean_test_{self.refit}"
        return sorted(k for k in results if k.startswith("mean_test_"))[0]


__all__ = ["QuboSearchCV", "as_distributions"]
