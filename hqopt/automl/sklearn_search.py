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

import contextlib
import math
import numbers
import sys
import warnings
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState
from sklearn.model_selection import _search as sk_search
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from hqopt.automl.encoding import DEFAULT_MAX_LEVELS, ENCODINGS
from hqopt.automl.optuna_sampler import SURROGATES, QuboSampler
from hqopt.errors import ArgumentError


def as_distributions(space: Mapping[str, Any]) -> dict[str, BaseDistribution]:
    """Optuna distributions from what ``RandomizedSearchCV`` takes, ``{name: choices | distribution}``.

    Choices: a list, tuple, range or 1-D array. Distributions: an Optuna one, or
    SciPy's ``loguniform``, ``uniform`` and ``randint`` (bounded, so a QUBO can
    hold them: other SciPy distributions are refused, naming the parameter).

    >>> as_distributions({"kernel": ["rbf", "linear"]})["kernel"].choices
    ('rbf', 'linear')
    >>> import numpy as np, scipy.stats
    >>> space = as_distributions({"C": scipy.stats.loguniform(1e-3, 10), "n": range(1, 4), "a": np.array([0.5, 1.0])})
    >>> space["C"], space["n"].choices, space["a"].choices
    (FloatDistribution(high=10.0, log=True, low=0.001, step=None), (1, 2, 3), (0.5, 1.0))
    """
    out: dict[str, BaseDistribution] = {}
    for name, value in space.items():
        if isinstance(value, BaseDistribution):
            out[name] = value
        elif hasattr(value, "dist") and hasattr(value, "support"):  # a frozen SciPy distribution
            out[name] = _from_scipy(name, value)
        elif isinstance(value, (list, tuple, range)) and len(value) or isinstance(value, np.ndarray) and value.ndim == 1 and value.size:
            out[name] = CategoricalDistribution(_choices(value))
        else:
            raise ArgumentError(
                f"param_distributions[{name!r}]: give a non-empty list (or array, range) of choices, an Optuna "
                f"distribution, or scipy.stats.loguniform / uniform / randint; got {type(value).__name__}"
            )
    return out


def _choices(value: Any) -> list[Any]:
    """A list, tuple, range or 1-D array of choices as a list, numpy scalars as Python ones (as Optuna stores them)."""
    return [v.item() if isinstance(v, np.generic) else v for v in value]


#: SciPy distributions :func:`as_distributions` takes, and whether their scale is logarithmic
_SCIPY_KINDS = {"loguniform": True, "reciprocal": True, "uniform": False, "randint": False}


def _from_scipy(name: str, frozen: Any) -> BaseDistribution:
    """The Optuna distribution of a frozen SciPy ``loguniform``, ``uniform`` or ``randint``."""
    kind = frozen.dist.name
    if kind not in _SCIPY_KINDS:
        raise ArgumentError(f"param_distributions[{name!r}]: scipy.stats.{kind} cannot be searched here (a QUBO needs "
                            "bounds): give loguniform, uniform or randint, an Optuna distribution or a list of choices")  # fmt: skip
    low, high = (v.item() for v in np.asarray(frozen.support(), dtype=float))
    if kind == "randint":
        return IntDistribution(int(low), int(high))
    return FloatDistribution(low, high, log=_SCIPY_KINDS[kind])


class QuboSearchCV(BaseSearchCV):
    """Search over ``param_distributions`` with the QUBO-surrogate sampler.

    Args:
        estimator: a scikit-learn estimator.
        param_distributions: name -> Optuna distribution (``FloatDistribution``,
            ``IntDistribution``, ``CategoricalDistribution``), SciPy ``loguniform``,
            ``uniform`` or ``randint``, or choices (a list, tuple, range or 1-D array);
            see :func:`as_distributions`.
        n_iter: number of candidates evaluated.
        surrogate, backend, encoding, max_levels, n_startup_trials: as for
            :class:`QuboSampler` (``n_startup_trials`` defaults to a third of
            ``n_iter``, at most 10).
        batch_size: candidates proposed and cross-validated together (run in
            parallel with ``n_jobs``); the startup design is always one batch.
        random_state: an integer seed, a ``numpy.random.RandomState`` or None.
        scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score,
            return_train_score: as for scikit-learn's searches.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "surrogate": [StrOptions(set(SURROGATES))],
        "encoding": [StrOptions(set(ENCODINGS))],
        "max_levels": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_startup_trials": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "backend": [str, object],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        param_distributions: dict[str, Any],
        *,
        n_iter: int = 20,
        surrogate: str = "bocs",
        backend: Any = None,
        encoding: str = "domain-wall",
        max_levels: int = DEFAULT_MAX_LEVELS,
        n_startup_trials: int | None = None,
        batch_size: int = 1,
        random_state: Any = None,
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
        # choices that are objects (estimators, scalers, 'passthrough' beside them): Optuna stores deep
        # copies, which compare unequal to the originals, so the study sees their positions instead
        space = dict(self.param_distributions)
        objects: dict[str, list[Any]] = {}
        for name, value in space.items():
            choices = value.choices if isinstance(value, CategoricalDistribution) else value
            if isinstance(choices, np.ndarray) and choices.ndim == 1:
                choices = _choices(choices)
            if isinstance(choices, (list, tuple)) and choices and not all(_is_plain(c) for c in choices):
                objects[name] = list(choices)
                space[name] = list(range(len(choices)))
        distributions = as_distributions(space)

        def candidate(params: Mapping[str, Any]) -> dict[str, Any]:
            return {name: objects[name][value] if name in objects else value for name, value in params.items()}

        n_iter = self.n_iter
        size = grid_size(distributions)
        if size < n_iter:  # as RandomizedSearchCV does for a list-only space
            warnings.warn(
                f"The total space of parameters {size} is smaller than n_iter={n_iter}. Running {size} iterations. "
                "For exhaustive searches, use GridSearchCV.",
                UserWarning,
                stacklevel=2,
            )
            n_iter = size
        startup = min(n_iter, self.n_startup_trials or max(1, min(10, n_iter // 3)))
        seed = self.random_state
        if seed is not None and not isinstance(seed, numbers.Integral):
            seed = int(check_random_state(seed).randint(2**31 - 1))
        sampler = QuboSampler(
            surrogate=self.surrogate,
            backend=self.backend,
            encoding=self.encoding,
            max_levels=self.max_levels,
            n_startup_trials=startup,
            batch_size=self.batch_size,
            seed=seed,
        )
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line
        try:
            study = optuna.create_study(direction="maximize", sampler=sampler)
        finally:
            optuna.logging.set_verbosity(verbosity)
        done = 0
        with _failures_checked_once(self):
            while done < n_iter:
                k = min(startup if done == 0 else self.batch_size, n_iter - done)  # the design: one batch
                trials = [study.ask(distributions) for _ in range(k)]
                results = evaluate_candidates([candidate(t.params) for t in trials])
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
        return min(k for k in results if k.startswith("mean_test_"))


def _is_plain(choice: Any) -> bool:
    """A choice Optuna stores as it is (None, bool, int, float, str)."""
    return choice is None or isinstance(choice, (bool, int, float, str))


def grid_size(distributions: Mapping[str, BaseDistribution]) -> float:
    """Number of distinct configurations (``inf`` when a parameter is continuous).

    >>> from optuna.distributions import FloatDistribution, IntDistribution
    >>> grid_size({"k": CategoricalDistribution(["a", "b"]), "n": IntDistribution(1, 3)})
    6
    >>> grid_size({"x": FloatDistribution(0.0, 1.0)})
    inf
    """
    total: float = 1
    for dist in distributions.values():
        if isinstance(dist, CategoricalDistribution):
            total *= len(dist.choices)
        elif getattr(dist, "step", None) is not None:
            total *= round((dist.high - dist.low) / dist.step) + 1  # type: ignore[attr-defined]
        else:
            return math.inf
    return total


#: the fit failures each running QuboSearchCV collects, by the search's id (with the search, so an id is never reused)
_COLLECTING: dict[int, tuple[Any, list[Any]]] = {}
#: scikit-learn's own check, which :func:`_failures_checked_once` replaces by one that collects where asked
_SKLEARN_CHECK = sk_search._warn_or_raise_about_fit_failures


def _check_or_collect(out: list[Any], error_score: Any) -> None:
    """scikit-learn's check, except for a search inside :func:`_failures_checked_once`: its failures are collected.

    The search is the ``self`` of the caller, scikit-learn's ``evaluate_candidates``
    (a closure in ``BaseSearchCV.fit``); any other search (nested in this one's
    fits, or in another thread) keeps scikit-learn's check.
    """
    caller = sys._getframe(1).f_locals.get("self")
    entry = _COLLECTING.get(id(caller))
    if entry is not None and entry[0] is caller:
        entry[1].extend(out)
    else:
        _SKLEARN_CHECK(out, error_score)


@contextlib.contextmanager
def _failures_checked_once(search: BaseSearchCV) -> Iterator[None]:
    """Fit failures judged over the whole search, as Grid/RandomizedSearchCV do, not per batch.

    scikit-learn raises "All the N fits failed" when every fit of one
    ``evaluate_candidates`` call fails; a sequential search calls it once per
    batch, so one failing candidate would end it. Inside this block the check
    only collects, for ``search`` only; on exit it runs once over everything collected.
    """
    if search.error_score == "raise":
        yield
        return
    sk_search._warn_or_raise_about_fit_failures = _check_or_collect  # the same check for every other search
    collected: list[Any] = []
    _COLLECTING[id(search)] = (search, collected)
    try:
        yield
    finally:
        del _COLLECTING[id(search)]
    if collected:
        _SKLEARN_CHECK(collected, search.error_score)


__all__ = ["QuboSearchCV", "as_distributions", "grid_size"]
