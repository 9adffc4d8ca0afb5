"""Tuning specs: a YAML file that names an estimator, a dataset and a search space.

:func:`load_spec` checks a spec (bad YAML is a
:class:`~hqopt.errors.FormatError` with the file and line, every bad field a
:class:`SpecError` naming it) and :func:`run_tune` runs the Optuna study it
describes, stored in an Optuna storage (a local SQLite file by default), so
a stopped study resumes and several machines can share one RDB study.

A spec is data, not code: the estimator's import path must name an
estimator class of an allowed library (:func:`allowed_estimator`, checked
before anything outside scikit-learn is imported) unless the caller passes
``allow_import=True``.

A CSV dataset is read by pandas and fed through a scikit-learn pipeline:
numeric columns get median imputation (and a StandardScaler with
``scale: true``), text/categorical columns most-frequent imputation and
one-hot encoding (``ColumnTransformer``), then the optional ``pipeline``
steps, then the estimator. A row with more or fewer fields than the header is
refused (``FILE:LINE: expected 6 fields, saw 7``) before pandas could pad or
cut it. Error messages name the spec field, never the dataset's folder or its
contents (only the file's name, a line number and the column names the spec
asks for), and storage URLs appear with their password replaced by ``***``.
When no trial can be fitted, the error quotes the first fit error as
scikit-learn reported it.

Spec fields (``problems/hpo/*.yaml`` are examples)::

    name: svm-digits                 # study name (default: the file's stem)
    estimator: sklearn.svm.SVC       # import path of the estimator class
    estimator_params: {kernel: rbf}  # fixed constructor arguments (optional)
    scale: false                     # put a StandardScaler in front (optional)
    dataset: {loader: load_digits}   # or {csv: data.csv, target: label, columns: [a, b]}
    pipeline: [sklearn.decomposition.PCA]  # steps between preprocessing and the model (optional)
    cv: 5                            # folds (shuffled with `seed`)
    scoring: accuracy                # any scikit-learn scorer name (optional)
    search_space:
      C: {type: float, low: 0.01, high: 1000, log: true}
      kernel: {type: categorical, choices: [rbf, sigmoid]}
      degree: {type: int, low: 2, high: 5}
    trials: 30
    sampler: {name: qubo, surrogate: bocs, encoding: domain-wall, max_levels: 16, startup_trials: 8}
    backend: sa                      # hqopt backend of the QUBO sampler
    storage: sqlite:///svm-digits.db # any Optuna RDB URL (optional)
    seed: 0

Example:
    >>> spec = parse_spec({
    ...     "estimator": "sklearn.tree.DecisionTreeClassifier",
    ...     "dataset": {"loader": "load_iris"},
    ...     "search_space": {"max_depth": {"type": "int", "low": 1, "high": 6}},
    ...     "trials": 5,
    ... }, source="inline")
    >>> spec.name, spec.sampler["name"], spec.storage
    ('inline', 'qubo', 'sqlite:///inline.optuna.db')
    >>> redact("postgresql://ana:s3cret@db.example/hpo")
    'postgresql://ana:***@db.example/hpo'
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import inspect
import json
import math
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, TrialState

from hqopt.automl.encoding import DEFAULT_MAX_LEVELS, ENCODINGS
from hqopt.automl.optuna_sampler import INTERRUPTED_KEY, SURROGATES, QuboSampler
from hqopt.backends.registry import backend_name
from hqopt.errors import FormatError, HqoptError, SpecError, UnknownBackendError
from hqopt.formulations.fields import to_number
from hqopt.io import csv_rows
from hqopt.io.base import read_text, shorten, write_atomic
from hqopt.io.spec import parse

#: libraries whose estimators are allowed without ``--allow-import``
ALLOWED_PREFIXES = ("sklearn.", "xgboost.", "lightgbm.", "catboost.")
#: estimator classes of the non-scikit-learn allowed libraries (scikit-learn's come from ``all_estimators()``)
OTHER_ESTIMATORS = frozenset({
    "xgboost.XGBClassifier", "xgboost.XGBRegressor", "xgboost.XGBRanker", "xgboost.XGBRFClassifier",
    "xgboost.XGBRFRegressor", "lightgbm.LGBMClassifier", "lightgbm.LGBMRegressor", "lightgbm.LGBMRanker",
    "catboost.CatBoostClassifier", "catboost.CatBoostRegressor", "catboost.CatBoostRanker",
})  # fmt: skip
SAMPLERS = ("qubo", "tpe", "random", "gp")
TOP_FIELDS = {
    "name", "estimator", "estimator_params", "scale", "dataset", "pipeline", "cv", "scoring",
    "search_space", "trials", "sampler", "backend", "storage", "seed",
}  # fmt: skip
#: largest CSV dataset read (bytes): a bigger file is refused before pandas allocates anything
MAX_CSV_BYTES = 1 << 30
#: what to do when a resumed study was created with another search space
SPACE_CHANGED = ("stop", "continue", "new")
#: study attribute holding the search space the study was created with
SPACE_ATTR = "hqopt:search_space"
#: study attribute holding how the study scores a configuration (data, estimator, scoring, folds)
SETUP_ATTR = "hqopt:setup"
#: the study's user attribute with the default configuration's CV score (None: to be scored)
DEFAULT_SCORE_ATTR = "default_score"
#: a run stops once this many of its trials failed before any finished with a score
FAILURES_BEFORE_GIVING_UP = 5  # (only when the default configuration failed too)
#: trial attribute holding why the trial's configuration could not be fitted or scored (one line)
FIT_ERROR_ATTR = "hqopt:fit_error"
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<at>@)")
SAMPLER_FIELDS = {"name", "surrogate", "encoding", "max_levels", "startup_trials"}
#: SQLite and every server URL Optuna's RDB storage understands
_STORAGE_SCHEMES = re.compile(r"^(sqlite|postgresql|postgres|mysql|mariadb|oracle|mssql)(\+\w+)?://")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


@dataclass
class TuneSpec:
    """A checked tuning spec (see the module docstring for the fields)."""

    name: str
    estimator: str
    dataset: dict[str, Any]
    search_space: dict[str, BaseDistribution]
    trials: int
    estimator_params: dict[str, Any] = field(default_factory=dict)
    scale: bool = False
    pipeline: list[str] = field(default_factory=list)
    cv: int = 5
    scoring: str | None = None
    sampler: dict[str, Any] = field(default_factory=lambda: {"name": "qubo"})
    backend: str = "sa"
    storage: str = ""
    seed: int = 0
    base_dir: Path = Path(".")
    source: str = "<spec>"


@dataclass
class TuneReport:
    """What a tuning run found."""

    study_name: str
    storage: str
    best_params: dict[str, Any]
    best_score: float
    default_score: float
    n_complete: int
    n_new: int
    plot_path: str | None = None
    #: trials of this run that failed (their ``hqopt:fit_error`` says why)
    n_failed: int = 0
    interrupted: bool = False
    #: the timeout came before the trials wanted were complete
    timed_out: bool = False


# ------------------------------------------------------------------- loading
def load_spec(path: str | Path) -> TuneSpec:
    """Read and check a YAML tuning spec (FormatError on unreadable files and bad YAML, SpecError on bad fields)."""
    path = Path(path)
    data = parse(read_text(path), str(path))  # as problem specs: file:line on bad syntax, repeated keys refused
    spec = parse_spec(data, source=str(path), base_dir=path.parent, default_name=path.stem)
    return spec


def parse_spec(
    data: Any, *, source: str = "<spec>", base_dir: Path = Path("."), default_name: str | None = None
) -> TuneSpec:
    """Check a spec given as a mapping (as read from YAML)."""

    def bad(field_name: str, reason: str) -> SpecError:
        return SpecError(field_name, reason, source=source)

    if not isinstance(data, Mapping):
        raise bad("spec", "the top level must be a mapping of fields")
    if "kind" in data:  # a problem spec (placement, knapsack, qubo, ...)
        raise bad("kind", f"this is a problem spec (kind: {shorten(str(data['kind']))[1:-1]}) for 'hqopt solve'; 'hqopt tune' "
                          "takes a tuning spec: estimator, dataset, search_space, trials (docs/automl.md)")
    unknown = sorted(set(data) - TOP_FIELDS)
    if unknown:
        raise bad(unknown[0], f"unknown field (known: {', '.join(sorted(TOP_FIELDS))})")
    for required in ("estimator", "dataset", "search_space", "trials"):
        if required not in data:
            raise bad(required, "missing")
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise bad("name", "use letters, digits, '.', '_' and '-' only")
    else:  # the file's stem, made a valid name ("my spec" -> "my-spec")
        name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", default_name or source).strip("-") or "study"
    estimator = data["estimator"]
    if not isinstance(estimator, str) or not _DOTTED.match(estimator):
        raise bad("estimator", "give a dotted import path such as sklearn.svm.SVC")
    trials = data["trials"]
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise bad("trials", f"must be a positive integer, got {trials!r}")
    cv = data.get("cv", 5)
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
        raise bad("cv", f"must be an integer >= 2, got {cv!r}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise bad("seed", f"must be a non-negative integer, got {seed!r}")
    scoring = data.get("scoring")
    if scoring is not None:
        from sklearn.metrics import get_scorer_names

        if not isinstance(scoring, str):
            raise bad("scoring", f"give one scikit-learn scorer name (the study maximises one score), got {scoring!r}")
        if scoring not in get_scorer_names():
            close = difflib.get_close_matches(scoring, get_scorer_names(), n=1)
            raise bad("scoring", f"unknown scikit-learn scorer {scoring!r}" + (f"; did you mean {close[0]!r}?" if close else ""))
    params = data.get("estimator_params", {}) or {}
    if not isinstance(params, Mapping):
        raise bad("estimator_params", "must be a mapping of constructor arguments")
    scale = data.get("scale", False)
    if not isinstance(scale, bool):
        raise bad("scale", "must be true or false")
    pipeline = data.get("pipeline", []) or []
    if not isinstance(pipeline, list) or not all(isinstance(p, str) and _DOTTED.match(p) for p in pipeline):
        raise bad("pipeline", "must be a list of dotted import paths such as sklearn.decomposition.PCA")
    backend = data.get("backend", "sa")
    if not isinstance(backend, str):
        raise bad("backend", "must be a backend name")
    try:
        backend = backend_name(backend)
    except UnknownBackendError as exc:
        raise bad("backend", str(exc)) from None
    storage = data.get("storage", f"sqlite:///{name}.optuna.db")
    if not isinstance(storage, str) or "://" not in storage:
        raise bad("storage", "must be an Optuna storage URL such as sqlite:///study.db")
    storage = str(storage)
    return TuneSpec(
        name=name,
        estimator=estimator,
        dataset=_check_dataset(data["dataset"], bad),
        search_space=_check_space(data["search_space"], bad),
        trials=trials,
        estimator_params=dict(params),
        scale=scale,
        pipeline=list(pipeline),
        cv=cv,
        scoring=scoring,
        sampler=_check_sampler(data.get("sampler", {"name": "qubo"}), bad),
        backend=backend,
        storage=storage,
        seed=seed,
        base_dir=Path(base_dir),
        source=source,
    )


def _check_dataset(value: Any, bad: Callable[[str, str], SpecError]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise bad("dataset", "must be {loader: load_...} or {csv: file, target: column}")
    if "loader" in value:
        loader = value["loader"]
        if set(value) != {"loader"}:
            raise bad("dataset", "a loader dataset takes only the 'loader' field")
        if not isinstance(loader, str) or not loader.startswith("load_"):
            raise bad("dataset.loader", "must name a bundled scikit-learn loader such as load_digits")
        import sklearn.datasets

        function = getattr(sklearn.datasets, loader, None)
        if not callable(function):
            raise bad("dataset.loader", f"sklearn.datasets has no loader {loader!r}")
        params = inspect.signature(function).parameters
        needs = [p.name for p in params.values() if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if "return_X_y" not in params or needs:
            why = f"it needs {', '.join(needs)}" if needs else "it has no return_X_y"
            raise bad("dataset.loader", f"{loader} does not give (X, y) by itself ({why}); use one such as load_digits, or a CSV")
        return {"loader": loader}
    if "csv" in value:
        if not {"csv", "target"} <= set(value) <= {"csv", "target", "columns"}:
            raise bad("dataset", "a CSV dataset takes the fields 'csv' and 'target' (and optionally 'columns')")
        for key, what in (("csv", "a path"), ("target", "a column name")):
            if not isinstance(value[key], str):
                raise bad(f"dataset.{key}", f"must be text ({what}), got {value[key]!r}")
        out = {"csv": value["csv"], "target": value["target"]}
        if "columns" in value:
            columns = value["columns"]
            if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
                raise bad("dataset.columns", "must be a non-empty list of column names")
            out["columns"] = list(columns)
        return out
    raise bad("dataset", "give either 'loader' or 'csv' and 'target'")


def _check_space(value: Any, bad: Callable[[str, str], SpecError]) -> dict[str, BaseDistribution]:
    if not isinstance(value, Mapping) or not value:
        raise bad("search_space", "must be a non-empty mapping of parameter -> {type: ...}")
    space: dict[str, BaseDistribution] = {}
    for pname, desc in value.items():
        where = f"search_space.{pname}"
        if not isinstance(desc, Mapping) or "type" not in desc:
            raise bad(where, "must be a mapping with a 'type' (float, int or categorical)")
        kind = desc["type"]
        try:
            if kind == "categorical":
                if set(desc) != {"type", "choices"} or not isinstance(desc["choices"], list) or not desc["choices"]:
                    raise bad(where, "a categorical parameter takes a non-empty 'choices' list (and nothing else)")
                odd = [c for c in desc["choices"] if c is not None and not isinstance(c, (bool, int, float, str))]
                if odd:  # Optuna would take it with a warning per trial, and store it as its repr
                    raise bad(f"{where}.choices", f"each choice must be a number, text, true/false or null, got {odd[0]!r}")
                space[pname] = CategoricalDistribution(desc["choices"])
            elif kind in ("float", "int"):
                extra = set(desc) - {"type", "low", "high", "log", "step"}
                if extra or "low" not in desc or "high" not in desc:
                    raise bad(where, f"a {kind} parameter takes low, high and optionally log, step")
                log = desc.get("log", False)
                if not isinstance(log, bool):
                    raise bad(f"{where}.log", "must be true or false")
                low, high = (_space_number(desc[key], f"{where}.{key}", kind == "int", bad) for key in ("low", "high"))
                step = desc.get("step", 1 if kind == "int" else None)
                if kind == "int" or step is not None:  # a float's step may be null: no step
                    step = _space_number(step, f"{where}.step", kind == "int", bad)
                    if step <= 0:
                        raise bad(f"{where}.step", f"must be positive, got {desc['step']!r}")
                if kind == "int":
                    space[pname] = IntDistribution(int(low), int(high), log=log, step=int(step))
                else:
                    space[pname] = FloatDistribution(low, high, log=log, step=step)
            else:
                raise bad(f"{where}.type", f"must be float, int or categorical, got {kind!r}")
        except ValueError as exc:  # optuna's own range checks (low > high, log with low <= 0, ...)
            raise bad(where, str(exc)) from None
    return space


def _space_number(value: Any, where: str, integer: bool, bad: Callable[[str, str], SpecError]) -> float:
    """A bound or step of a numeric parameter: a finite number (an integer for an int parameter)."""
    try:
        return to_number(value, where, integer=integer)
    except SpecError as exc:
        raise bad(exc.field, exc.reason) from None


def _check_sampler(value: Any, bad: Callable[[str, str], SpecError]) -> dict[str, Any]:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise bad("sampler", "must be a sampler name or a mapping with 'name'")
    unknown = sorted(set(value) - SAMPLER_FIELDS)
    if unknown:
        raise bad(f"sampler.{unknown[0]}", f"unknown field (known: {', '.join(sorted(SAMPLER_FIELDS))})")
    out = {"name": value.get("name", "qubo")}
    if out["name"] not in SAMPLERS:
        raise bad("sampler.name", f"must be one of {', '.join(SAMPLERS)}, got {out['name']!r}")
    checks = {
        "surrogate": lambda v: v in SURROGATES,
        "encoding": lambda v: v in ENCODINGS,
        "max_levels": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 2,
        "startup_trials": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    }
    for key, ok in checks.items():
        if key in value:
            if not ok(value[key]):
                raise bad(f"sampler.{key}", f"invalid value {value[key]!r}")
            out[key] = value[key]
    return out


# ------------------------------------------------------------------ building
def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***{m['at']}", str(text))


def allowed_estimator(path: str) -> bool:
    """Whether ``path`` names an estimator class of an allowed library, decided without importing it.

    scikit-learn paths are matched against ``sklearn.utils.all_estimators()``
    (public path such as ``sklearn.svm.SVC`` or the defining module's);
    xgboost, lightgbm and catboost against :data:`OTHER_ESTIMATORS`.

    >>> allowed_estimator("sklearn.svm.SVC"), allowed_estimator("sklearn.externals.array_api_compat.numpy.ndarray")
    (True, False)
    """
    if path in OTHER_ESTIMATORS:
        return True
    if not path.startswith("sklearn."):
        return False
    return path in _sklearn_estimator_paths()


def _sklearn_estimator_paths() -> frozenset[str]:
    global _SKLEARN_PATHS
    if _SKLEARN_PATHS is None:
        from sklearn.utils import all_estimators

        paths = set()
        for name, cls in all_estimators():
            module = cls.__module__
            paths.add(f"{module}.{name}")
            public = []
            for part in module.split("."):
                if part.startswith("_"):
                    break
                public.append(part)
            paths.add(".".join([*public, name]))
        _SKLEARN_PATHS = frozenset(paths)
    return _SKLEARN_PATHS


_SKLEARN_PATHS: frozenset[str] | None = None


def check_allowed(spec: TuneSpec, *, allow_import: bool = False) -> None:
    """Refuse an estimator or pipeline step that is not an allowed estimator class, unless ``allow_import``."""
    if allow_import:
        return
    for where, path in [("estimator", spec.estimator), *(("pipeline", p) for p in spec.pipeline)]:
        if allowed_estimator(path):
            continue
        known = [*OTHER_ESTIMATORS, *_sklearn_estimator_paths()] if path.startswith(ALLOWED_PREFIXES) else []
        close = difflib.get_close_matches(path, known, n=1, cutoff=0.85)  # a typo of an allowed class
        if close:
            raise SpecError(where, f"{path!r} is not an estimator class; did you mean {close[0]!r}?", source=spec.source)
        raise SpecError(
            where,
            f"{path!r} is not an estimator class in the allow-list "
            f"({', '.join(p + '*' for p in ALLOWED_PREFIXES)}); pass --allow-import to import it anyway",
            source=spec.source,
        )


def _import_class(path: str, where: str, spec: TuneSpec) -> type:
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise SpecError(where, f"cannot import {path!r}: {exc}", source=spec.source) from None
    if not isinstance(cls, type) or not hasattr(cls, "fit"):
        raise SpecError(where, f"{path!r} is not an estimator class with fit()", source=spec.source)
    return cls


def build_estimator(spec: TuneSpec, *, allow_import: bool = False, columns: Any = None) -> Any:
    """Import and construct the estimator (checked against the allow-list first).

    With ``columns`` (a CSV dataset's feature frame) the estimator is wrapped
    in a pipeline: preprocessing (:func:`preprocessor`), the spec's
    ``pipeline`` steps, then the model as step ``model``; with ``scale`` (and
    no columns) a StandardScaler goes in front. Search-space names without
    ``__`` are the model's parameters.
    """
    check_allowed(spec, allow_import=allow_import)
    cls = _import_class(spec.estimator, "estimator", spec)
    try:
        estimator = cls(**spec.estimator_params)
        if spec.estimator_params and getattr(estimator, "_parameter_constraints", None) is not None:
            estimator._validate_params()  # scikit-learn's own check of the values, before any fit (else: after every one)
    except (TypeError, ValueError) as exc:
        raise SpecError("estimator_params", str(exc), source=spec.source) from None
    known = set(estimator.get_params()) if hasattr(estimator, "get_params") else set()
    for pname in spec.search_space:
        if known and "__" not in pname and pname not in known:
            raise SpecError(f"search_space.{pname}", f"{cls.__name__} has no parameter {pname!r}", source=spec.source)
    steps: list[tuple[str, Any]] = []
    if columns is not None:
        steps.append(("prep", preprocessor(columns, scale=spec.scale)))
    elif spec.scale:
        from sklearn.preprocessing import StandardScaler

        steps.append(("scale", StandardScaler()))
    for path in spec.pipeline:
        step_cls = _import_class(path, "pipeline", spec)
        try:
            step = step_cls()
        except TypeError as exc:  # e.g. SelectFromModel needs an estimator
            raise SpecError("pipeline", f"{path} cannot be made without arguments: {exc}", source=spec.source) from None
        name = step_cls.__name__.lower()
        taken = {n for n, _ in steps}
        if name in taken:  # the same class twice: pca, pca_2, ...
            name = next(f"{name}_{k}" for k in range(2, len(steps) + 3) if f"{name}_{k}" not in taken)
        steps.append((name, step))
    if not steps:
        return estimator
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([*steps, ("model", estimator)])
    names = set(pipe.get_params())
    for pname in spec.search_space:
        if "__" in pname and pname not in names:
            raise SpecError(f"search_space.{pname}", f"the pipeline has no parameter {pname!r}", source=spec.source)
    return pipe


def model_param(spec: TuneSpec, estimator: Any, name: str) -> str:
    """The ``set_params`` name of search-space parameter ``name`` (``model__`` inside a pipeline)."""
    from sklearn.pipeline import Pipeline

    return name if "__" in name or not isinstance(estimator, Pipeline) else f"model__{name}"


#: the most columns one text column is one-hot encoded into: its most frequent values, then one for the rest
#: (an identifier column of 12 000 distinct values made a dense 12 000 x 12 000 array, 1.5 GB)
MAX_CATEGORIES = 100


class DatasetWarning(UserWarning):
    """Something about the dataset that changes how it is encoded (a text column with too many values)."""


def preprocessor(frame: Any, *, scale: bool = False) -> Any:
    """A ColumnTransformer for ``frame``: numeric -> median imputation (+ scaling); the rest -> most frequent +
    one-hot, at most :data:`MAX_CATEGORIES` columns each (a :class:`DatasetWarning` names a column cut down).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [30, None, 50], "plan": ["basic", "pro", None]})
    >>> preprocessor(frame).fit_transform(frame).tolist()
    [[30.0, 1.0, 0.0], [40.0, 0.0, 1.0], [50.0, 1.0, 0.0]]
    """
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = make_pipeline(SimpleImputer(strategy="median"), *([StandardScaler()] if scale else []))
    other = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES, sparse_output=False),
    )
    for column in frame.select_dtypes(exclude="number").columns:
        distinct = int(frame[column].nunique())
        if distinct > MAX_CATEGORIES:
            warnings.warn(
                f"dataset column {column!r} has {distinct} distinct values: one-hot encoded as its {MAX_CATEGORIES - 1} "
                "most frequent and one column for the rest (an identifier? leave it out of the CSV)",
                DatasetWarning, stacklevel=2,
            )  # fmt: skip
    return ColumnTransformer(
        [("numeric", numeric, make_column_selector(dtype_include="number")),
         ("categorical", other, make_column_selector(dtype_exclude="number"))],
    )  # fmt: skip


def load_dataset(spec: TuneSpec) -> tuple[Any, np.ndarray]:
    """(X, y) from a bundled scikit-learn loader, or (a pandas DataFrame, y) from a CSV file with a target column.

    Rows whose target is missing are dropped. Errors name the field, never the
    file's path or contents beyond the column names the spec asks for.
    """
    if "loader" in spec.dataset:
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, spec.dataset["loader"])(return_X_y=True)
        return np.asarray(X), np.asarray(y)
    try:
        import pandas as pd
    except ImportError:
        raise SpecError("dataset.csv", "reading a CSV needs pandas: pip install 'hqopt[automl]'", source=spec.source) from None
    path = (spec.base_dir / spec.dataset["csv"]).resolve()

    def bad(field_name: str, reason: str) -> SpecError:
        return SpecError(field_name, reason, source=spec.source)

    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError:
        size = 0
    if size > MAX_CSV_BYTES:
        raise bad("dataset.csv", f"the file is larger than {MAX_CSV_BYTES >> 20} MiB (hqopt.automl.tune.MAX_CSV_BYTES)")
    try:
        header = pd.read_csv(path, nrows=0)
    except FileNotFoundError:
        raise bad("dataset.csv", "the file does not exist") from None
    except UnicodeDecodeError:
        raise bad("dataset.csv", "the file is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise bad("dataset.csv", f"the file cannot be read ({type(exc).__name__})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        raise bad("dataset.csv", "the file is not a readable CSV table with a header row") from None
    target = spec.dataset["target"]
    wanted = spec.dataset.get("columns")
    for name in [target, *(wanted or [])]:
        if name not in header.columns:
            where = "dataset.target" if name == target else "dataset.columns"
            raise bad(where, f"the CSV has no column {name!r}{_separator_hint(list(header.columns))}")
    check_row_widths(path, bad)
    try:
        frame = pd.read_csv(path, usecols=[*(wanted or header.columns)] + ([target] if wanted else []))
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise bad("dataset.csv", f"the file is not a readable CSV table ({type(exc).__name__})") from None
    frame = frame[frame[target].notna()]
    if len(frame) < 2 * spec.cv:
        raise bad("dataset.csv", f"needs at least {2 * spec.cv} rows with a target value for {spec.cv}-fold CV")
    y = frame.pop(target).to_numpy()
    if y.dtype == object:
        y = y.astype(str)
    if frame.shape[1] == 0:
        raise bad("dataset.columns", "no feature columns left besides the target")
    return frame, y


def _separator_hint(columns: list[str]) -> str:
    """``(its one column ...: separated by ';'? ...)`` when a header read with commas is one column holding
    another separator, else ''.

    >>> _separator_hint(["age;income;label"])
    " (its header is one column, 'age;income;label': the file seems separated by ';', but hqopt reads comma-separated files)"
    """
    if len(columns) != 1:
        return ""
    for separator in (";", "\t", "|"):
        if separator in str(columns[0]):
            return (f" (its header is one column, {shorten(str(columns[0]))}: the file seems separated by {separator!r}, "
                    "but hqopt reads comma-separated files)")  # fmt: skip
    return ""


def check_row_widths(path: Path, bad: Callable[[str, str], SpecError]) -> None:
    """Refuse a CSV file with a row of more or fewer fields than its header (``dataset.csv``: ``NAME:LINE: ...``).

    pandas pads a short row with empty cells and, when only some columns are
    read, drops a long row's extra fields: either way the values land in the
    wrong columns without a word (see :mod:`hqopt.io.csv_rows`). Only the
    file's name is shown, never its folder or a row's contents.
    """
    try:
        csv_rows.check_row_widths(path)
    except FormatError as exc:
        raise bad("dataset.csv", f"{path.name}:{exc.line}: {exc.reason}") from None
    except UnicodeDecodeError:
        raise bad("dataset.csv", "the file is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise bad("dataset.csv", f"the file cannot be read ({type(exc).__name__})") from None


def make_sampler(spec: TuneSpec, name: str | None = None, seed: int | None = None) -> optuna.samplers.BaseSampler:
    """The Optuna sampler named in the spec (or ``name``), seeded with the spec's seed (or ``seed``)."""
    s = spec.sampler
    name = name or s["name"]
    seed = spec.seed if seed is None else seed
    startup = s.get("startup_trials", 8)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        try:
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup)
        except ImportError:
            raise SpecError("sampler", "Optuna's GPSampler needs PyTorch: pip install torch", source=spec.source) from None
    if name != "qubo":
        raise SpecError("sampler", f"must be one of {', '.join(SAMPLERS)}, got {name!r}", source=spec.source)
    return QuboSampler(
        surrogate=s.get("surrogate", "bocs"),
        backend=None if spec.backend == "sa" else spec.backend,
        encoding=s.get("encoding", "domain-wall"),
        max_levels=s.get("max_levels", DEFAULT_MAX_LEVELS),
        n_startup_trials=startup,
        seed=seed,
    )


def space_json(space: Mapping[str, BaseDistribution]) -> str:
    """The search space as canonical JSON (stored in the study; compared on resume)."""
    return json.dumps({k: optuna.distributions.distribution_to_json(v) for k, v in sorted(space.items())}, sort_keys=True)


def input_files(spec: TuneSpec, storage: str | None = None) -> dict[str, Path]:
    """The files a run reads besides the spec, by what they are: the dataset CSV and a SQLite storage
    (``storage``: a URL given instead of the spec's). ``hqopt tune`` writes none of them.

    >>> spec = parse_spec({"name": "s", "estimator": "sklearn.svm.SVC", "dataset": {"csv": "d.csv", "target": "y"},
    ...                    "search_space": {"C": {"type": "float", "low": 0.1, "high": 10}}, "trials": 5}, base_dir=Path("/data"))
    >>> {what: str(path) for what, path in input_files(spec).items()}
    {'the dataset': '/data/d.csv', "the study's storage": 's.optuna.db'}
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError as BadURL

    files = {"the dataset": spec.base_dir / spec.dataset["csv"]} if "csv" in spec.dataset else {}
    try:
        url = make_url(storage or spec.storage)  # sqlite:///x.db, sqlite+pysqlite:///x.db?timeout=30, ...
    except BadURL:  # opening the study says what is wrong with it
        return files
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        files["the study's storage"] = Path(url.database)
    return files


def setup_json(spec: TuneSpec, seed: int) -> str:
    """How the spec scores a configuration, as canonical JSON (stored in the study; compared on resume).

    ``seed`` is the run's seed: it shuffles the cross-validation folds, so two
    seeds score the same configuration differently. A CSV dataset counts by its
    contents too (their SHA-256), so an edited file is noticed.
    """
    fields = {
        "dataset": spec.dataset, "estimator": spec.estimator, "estimator_params": spec.estimator_params,
        "scale": spec.scale, "pipeline": spec.pipeline, "cv": spec.cv, "scoring": spec.scoring, "seed": seed,
    }  # fmt: skip
    if "csv" in spec.dataset:
        fields["dataset.csv contents"] = _file_digest(spec.base_dir / spec.dataset["csv"])
    return json.dumps({k: json.dumps(v, sort_keys=True, default=str) for k, v in fields.items()}, sort_keys=True)


def _file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex (read in blocks: a dataset CSV may be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class StudyChangedError(SpecError):
    """The stored study was made with another search space or set-up (``--space-changed`` chooses what to do)."""


class StudyChangedWarning(UserWarning):
    """A run goes on with a stored study made with another search space or set-up (``--space-changed continue``)."""


def open_study(
    spec: TuneSpec, url: str, sampler: optuna.samplers.BaseSampler, *, space_changed: str = "stop", seed: int | None = None
) -> optuna.Study:
    """Create or resume the spec's study; a resumed study made otherwise is handled per ``space_changed``.

    A stored study differs when its search space differs, or its set-up
    (dataset, estimator and its parameters, pipeline, ``cv``, ``scoring``,
    and the seed that shuffles the folds: :func:`setup_json`), whose scores
    are then not comparable with this spec's. ``stop`` raises a
    :class:`StudyChangedError` saying what changed; ``continue`` keeps the
    study with a warning (refused when a parameter changed its kind, its
    choices or its log scale, which a study cannot take); ``new`` starts a fresh study named
    ``<name>-2`` (``-3``, ...).
    """
    if not _STORAGE_SCHEMES.match(url):
        raise SpecError("storage", f"unsupported storage URL {redact(url)!r} (use sqlite:///FILE or a database URL)", source=spec.source)
    name = spec.name
    wanted = {SPACE_ATTR: space_json(spec.search_space), SETUP_ATTR: setup_json(spec, spec.seed if seed is None else seed)}
    for attempt in range(2, 1000):
        study = _create(spec, url, name, sampler)
        changed: dict[str, list[str]] = {}
        for attr, text in wanted.items():
            stored = study.user_attrs.get(attr)  # None: a new study, or one made before the attribute
            if stored is not None and stored != text:
                # a set-up field the stored study lacks was not recorded then (an older hqopt): adopted, not a change
                keys = _changed_keys(json.loads(stored), json.loads(text), adopt_added=attr == SETUP_ATTR)
                if keys:
                    changed[attr] = keys
        if not changed:
            _record(study, {attr: text for attr, text in wanted.items() if study.user_attrs.get(attr) != text})
            return study
        what = _what_changed(name, changed)
        if space_changed == "continue":
            clash = _incompatible(study, spec.search_space)
            if clash:
                raise StudyChangedError(
                    "search_space",
                    f"study {name!r} cannot be continued: {clash}; rerun with --space-changed new (start a fresh one)",
                    source=spec.source,
                )
            warnings.warn(f"{what}; continuing it{_added_note(study, wanted[SPACE_ATTR])}", StudyChangedWarning, stacklevel=2)
            _record(study, wanted)  # the next run with this spec goes on without asking again
            if SETUP_ATTR in changed:
                study.set_user_attr(DEFAULT_SCORE_ATTR, None)  # scored again on this set-up
            return study
        if space_changed != "new":
            raise StudyChangedError(
                "search_space" if SPACE_ATTR in changed else changed[SETUP_ATTR][0],
                f"{what.replace(' was ', ' in the storage was ', 1)}; "
                "rerun with --space-changed continue (keep the study) or new (start a fresh one)",
                source=spec.source,
            )
        name = f"{spec.name}-{attempt}"
    raise SpecError("name", "too many studies with changed search spaces", source=spec.source)


def _record(study: optuna.Study, attrs: dict[str, str]) -> None:
    """Store the attributes a study lacks (only on a study a run goes on with: a refused run changes nothing)."""
    for attr, text in attrs.items():
        study.set_user_attr(attr, text)


def _added_note(study: optuna.Study, wanted: str) -> str:
    """``; the trials so far lack 'y', ...`` for parameters the stored space did not have, or ''."""
    stored = study.user_attrs.get(SPACE_ATTR)
    added = sorted(set(json.loads(wanted)) - set(json.loads(stored))) if stored else []
    if not added:
        return ""
    names = ", ".join(repr(a) for a in added)
    return (f"; the trials so far lack {names}: the qubo and gp samplers model only the parameters every trial has, "
            f"so they draw {'it' if len(added) == 1 else 'them'} at random in this study "
            "(--space-changed new searches every parameter with the model)")


def _what_changed(name: str, changed: dict[str, list[str]]) -> str:
    """``study 'x' was created with another search space (changed: a, b)`` and/or set-up (its scores differ)."""
    parts = []
    if SPACE_ATTR in changed:
        parts.append(f"another search space (changed: {', '.join(changed[SPACE_ATTR])})")
    if SETUP_ATTR in changed:
        parts.append(f"another set-up, so its scores are not comparable (changed: {', '.join(changed[SETUP_ATTR])})")
    return f"study {name!r} was created with " + " and ".join(parts)


def _changed_keys(stored: dict[str, Any], wanted: dict[str, Any], *, adopt_added: bool) -> list[str]:
    """The keys whose values differ (``adopt_added``: a key only ``wanted`` has does not count).

    >>> _changed_keys({"cv": 3, "seed": 0}, {"cv": 5, "seed": 0, "data": "ab12"}, adopt_added=True)
    ['cv']
    """
    keys = stored.keys() | (wanted.keys() if not adopt_added else set())
    return sorted(k for k in keys if stored.get(k) != wanted.get(k))


def _incompatible(study: optuna.Study, wanted: Mapping[str, BaseDistribution]) -> str:
    """Why ``study`` cannot go on with the space ``wanted``, or '': a parameter that its stored space or one
    of its trials (of any earlier space) holds with another kind, other choices or another log scale."""
    held: dict[str, dict[str, BaseDistribution]] = {}  # param -> {its JSON: distribution}
    stored = study.user_attrs.get(SPACE_ATTR)
    for param, text in (json.loads(stored) if stored else {}).items():
        held.setdefault(param, {})[text] = optuna.distributions.json_to_distribution(text)
    for trial in study.get_trials(deepcopy=False):
        for param, dist in trial.distributions.items():
            held.setdefault(param, {}).setdefault(optuna.distributions.distribution_to_json(dist), dist)
    for param in sorted(set(held) & set(wanted)):
        b = wanted[param]
        for a in held[param].values():
            why = _why_incompatible(param, a, b)
            if why:
                return why
    return ""


def _why_incompatible(param: str, a: BaseDistribution, b: BaseDistribution) -> str:
    """Why one study cannot hold ``param`` as both ``a`` and ``b``, or ''."""
    try:
        optuna.distributions.check_distribution_compatibility(a, b)
    except ValueError:
        if isinstance(a, CategoricalDistribution) and isinstance(b, CategoricalDistribution):
            return f"parameter {param!r} changed its choices ({list(a.choices)} -> {list(b.choices)})"
        if type(a) is type(b):  # a numeric one: Optuna keeps its log flag
            return f"parameter {param!r} changed its scale (log={a.log} -> log={b.log})"  # type: ignore[attr-defined]
        return f"parameter {param!r} changed its kind ({type(a).__name__} -> {type(b).__name__})"
    return ""


def _create(spec: TuneSpec, url: str, name: str, sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    try:
        return optuna.create_study(study_name=name, storage=url, sampler=sampler, direction="maximize", load_if_exists=True)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and driver errors: one redacted line, no file contents
        reason = str(exc).split("\n")[0].split(" [SQL")[0]
        reason = redact(reason)[:200]
        raise SpecError("storage", f"cannot open {redact(url)!r}: {type(exc).__name__}: {reason}", source=spec.source) from None


# ------------------------------------------------------------------- running
def run_tune(
    spec: TuneSpec,
    *,
    allow_import: bool = False,
    storage: str | None = None,
    trials: int | None = None,
    plot: str | Path | None = None,
    on_trial: Callable[[optuna.Study, FrozenTrial], None] | None = None,
    sampler: str | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
    timeout: float | None = None,
    space_changed: str = "stop",
    on_study: Callable[[optuna.Study], None] | None = None,
    stop: threading.Event | None = None,
) -> TuneReport:
    """Run (or resume) the study until it holds ``trials`` complete trials.

    Args:
        spec: a checked spec.
        allow_import: import an estimator outside the allow-list.
        storage: Optuna storage URL overriding the spec's.
        trials: complete trials wanted in total (default: the spec's); a failed
            trial is replaced, at most once per trial wanted now.
        plot: write the optimization-history PNG here (needs matplotlib).
        on_trial: called after each finished trial (progress display).
        sampler, seed: override the spec's sampler name and seed.
        n_jobs: trials evaluated in parallel threads.
        timeout: start no new trial once this many seconds (> 0) have passed since the call
            (loading the data and scoring the default configuration count).
        space_changed: ``stop``, ``continue`` or ``new`` when the stored study
            was created with another search space (see :func:`open_study`).
        on_study: called with the study once it is open (e.g. to export it).
        stop: when set (e.g. by a Ctrl-C handler), no new trial starts; the
            running ones finish and are kept.

    A configuration that cannot be fitted or scored is a failed trial (its
    reason kept in the trial's ``hqopt:fit_error`` attribute); when no trial
    has a score the SpecError quotes the first reason. A stop, or a
    KeyboardInterrupt, ends the study early; the report then holds the best so
    far and ``interrupted=True``.
    """
    from sklearn.base import is_classifier
    from sklearn.model_selection import KFold, StratifiedKFold

    if space_changed not in SPACE_CHANGED:
        raise SpecError("space_changed", f"must be one of {', '.join(SPACE_CHANGED)}, got {space_changed!r}")
    if timeout is not None and not 0 < timeout < math.inf:
        raise SpecError("timeout", f"must be a positive number of seconds, got {timeout!r}", source=spec.source)
    deadline = None if timeout is None else time.monotonic() + timeout
    check_allowed(spec, allow_import=allow_import)
    X, y = load_dataset(spec)
    estimator = build_estimator(spec, allow_import=allow_import, columns=X if "csv" in spec.dataset else None)
    seed = spec.seed if seed is None else seed
    classifier = is_classifier(estimator)
    if classifier:
        check_classes(spec, y)
    folds = (StratifiedKFold if classifier else KFold)(n_splits=spec.cv, shuffle=True, random_state=seed)

    def score(params: Mapping[str, Any]) -> float:
        return cv_score(spec, estimator, X, y, folds, params)

    url = storage or spec.storage
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    interrupted = False
    default_error: str | None = None
    try:
        study = open_study(spec, url, make_sampler(spec, sampler, seed), space_changed=space_changed, seed=seed)
        if on_study is not None:
            on_study(study)
        wanted = trials or spec.trials
        before = study.get_trials(deepcopy=False)
        done = sum(t.state == TrialState.COMPLETE for t in before)
        remaining = max(0, wanted - done)
        try:
            if study.user_attrs.get(DEFAULT_SCORE_ATTR) is None:  # a new study, or one continued on another set-up
                try:
                    study.set_user_attr(DEFAULT_SCORE_ATTR, score({}))
                except Exception as exc:  # noqa: BLE001 - the defaults may not fit this data; the trials still run
                    default_error = fit_error(exc)
                    study.set_user_attr(DEFAULT_SCORE_ATTR, math.nan)
            callbacks: list[Callable[[optuna.Study, FrozenTrial], None]] = [
                optuna.study.MaxTrialsCallback(wanted, states=(TrialState.COMPLETE,))
            ]
            give_up = _StopWhenNothingScores(len(before))
            if math.isnan(_default_score(study)):  # the defaults fail: maybe the set-up
                callbacks.append(give_up)
            if on_trial is not None:
                callbacks.append(on_trial)
            if stop is not None:
                callbacks.append(lambda study, trial: study.stop() if stop.is_set() else None)

            def objective(trial: optuna.Trial) -> float:
                try:
                    params = {name: suggest(trial, name, dist) for name, dist in spec.search_space.items()}
                    try:
                        return score(params)
                    except Exception as exc:  # noqa: BLE001 - a configuration that cannot be fitted is a failed trial
                        trial.set_user_attr(FIT_ERROR_ATTR, fit_error(exc))
                        return math.nan  # Optuna records the trial as failed
                except KeyboardInterrupt:  # stopped while choosing or fitting, not failed: a resumed study may propose it again
                    trial.set_user_attr(INTERRUPTED_KEY, True)
                    raise

            _optimize_replacing_failures(study, objective, remaining, wanted, callbacks, n_jobs, deadline, stop, give_up)
        except KeyboardInterrupt:
            interrupted = True
    finally:
        optuna.logging.set_verbosity(verbosity)
    interrupted = interrupted or (stop is not None and stop.is_set())
    trials_now = study.get_trials(deepcopy=False)
    complete = [t for t in trials_now if t.state == TrialState.COMPLETE and math.isfinite(t.value)]
    if not complete and not interrupted:
        ran = len(trials_now) > len(before)
        # the defaults fail too: not the space's fault; nothing ran: the timeout's
        where = "timeout" if not ran and timeout is not None else "search_space" if default_error is None else "estimator"
        raise SpecError(where, no_score_reason(trials_now, ran, timeout, default_error), source=spec.source)
    best = max(complete, key=lambda t: t.value) if complete else None
    plot_path = write_history_plot(study, plot) if plot is not None and complete else None
    return TuneReport(
        study_name=study.study_name,
        storage=redact(url),
        best_params=dict(best.params) if best else {},
        best_score=float(best.value) if best else math.nan,
        default_score=_default_score(study),
        n_complete=len(complete),
        n_new=len(complete) - done if complete else 0,
        n_failed=sum(t.state == TrialState.FAIL and not t.user_attrs.get(INTERRUPTED_KEY) for t in trials_now[len(before) :]),
        plot_path=plot_path,
        interrupted=interrupted,
        timed_out=deadline is not None and time.monotonic() >= deadline and len(complete) < wanted and not interrupted,
    )


def check_classes(spec: TuneSpec, y: np.ndarray) -> None:
    """Refuse a classification target with a single class (every fit would fail); the class is not echoed."""
    if len(np.unique(y)) < 2:
        where = "dataset.target" if "csv" in spec.dataset else "dataset"
        raise SpecError(where, "the target holds a single class; a classifier needs at least two", source=spec.source)


def cv_score(spec: TuneSpec, estimator: Any, X: Any, y: np.ndarray, folds: Any, params: Mapping[str, Any]) -> float:
    """Mean cross-validated score of ``estimator`` with ``params``; a fit or scoring error is raised, not hidden."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    est = clone(estimator).set_params(**{model_param(spec, estimator, k): v for k, v in params.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = cross_val_score(est, X, y, cv=folds, scoring=spec.scoring, error_score="raise")
    return float(np.mean(values))


def fit_error(exc: BaseException) -> str:
    """``Type: first line of the message`` of a fit error, at most 300 characters.

    >>> fit_error(ValueError("Only one class present in y_true.\\nMore detail."))
    'ValueError: Only one class present in y_true.'
    """
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def _optimize_replacing_failures(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    remaining: int,
    wanted: int,
    callbacks: list[Callable[[optuna.Study, FrozenTrial], None]],
    n_jobs: int,
    deadline: float | None,
    stop: threading.Event | None,
    give_up: _StopWhenNothingScores,
) -> None:
    """Run ``remaining`` trials, then as many again as failed, until ``wanted`` are complete.

    Each round starts exactly the trials still missing, so parallel workers
    never overshoot ``wanted``; failed trials are replaced at most
    ``remaining`` times in all. No trial starts after ``deadline`` (``time.monotonic()``).
    """
    replacements, to_run = remaining, remaining
    while to_run > 0 and not (stop is not None and stop.is_set()) and not give_up.fired:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return
        started = len(study.get_trials(deepcopy=False))
        study.optimize(objective, n_trials=to_run, callbacks=callbacks, n_jobs=n_jobs, timeout=left)
        new = study.get_trials(deepcopy=False)[started:]
        failed = sum(t.state == TrialState.FAIL for t in new)
        complete = sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
        to_run = min(failed, replacements, max(0, wanted - complete))
        replacements -= to_run


def _default_score(study: optuna.Study) -> float:
    """The default configuration's stored score; NaN when it failed or is still to be scored."""
    value = study.user_attrs.get(DEFAULT_SCORE_ATTR)
    return math.nan if value is None else float(value)


class _StopWhenNothingScores:
    """Stop a run whose first :data:`FAILURES_BEFORE_GIVING_UP` trials all failed.

    Used when the default configuration failed too: then the set-up (data,
    target, scoring) is the likely cause, not the configurations tried.
    """

    def __init__(self, before: int) -> None:
        self.before = before
        self.fired = False

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        now = study.get_trials(deepcopy=False)[self.before :]
        failed = sum(t.state == TrialState.FAIL for t in now)
        if failed >= FAILURES_BEFORE_GIVING_UP and not any(t.state == TrialState.COMPLETE for t in now):
            self.fired = True
            study.stop()


def no_score_reason(trials: list[FrozenTrial], ran: bool, timeout: float | None, default_error: str | None) -> str:
    """Why a study holds no scored trial: nothing ran before the timeout, or the first fit error."""
    if not ran and timeout is not None:
        return f"no trial started before the timeout ({timeout:g} s)"
    failed = sorted((t for t in trials if FIT_ERROR_ATTR in t.user_attrs), key=lambda t: t.number)
    if failed:
        first = failed[0]
        also = "; the default configuration failed too, so the set-up (dataset, target, scoring, estimator) is at fault"
        return (f"no trial finished with a score: {len(failed)} failed{also if default_error else ''}; "
                f"the first error (trial {first.number}): {first.user_attrs[FIT_ERROR_ATTR]}")  # fmt: skip
    if default_error is not None:
        return f"no trial finished with a score; the default configuration failed too: {default_error}"
    return "no trial finished with a score: the scorer returned NaN for every configuration"


def export_trials(study: optuna.Study, path: str | Path) -> str:
    """Write the study's trials to ``path``: ``.json`` (a list of records) or ``.csv`` (one row per trial).

    Columns/keys: ``number``, ``state``, ``value``, ``params_<name>`` for each
    parameter, ``datetime_start``, ``duration_s``. :func:`read_trials` reads both back.
    """
    path = Path(path)
    records = []
    for t in study.get_trials(deepcopy=False):
        record: dict[str, Any] = {"number": t.number, "state": t.state.name, "value": t.value}
        record.update({f"params_{k}": v for k, v in t.params.items()})
        record["datetime_start"] = t.datetime_start.isoformat() if t.datetime_start else None
        record["duration_s"] = t.duration.total_seconds() if t.duration else None
        records.append(record)
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = json.dumps(records, indent=1, default=str) + "\n"
    elif suffix == ".csv":
        import pandas as pd

        text = pd.DataFrame.from_records(records).to_csv(index=False)
    else:
        raise SpecError("export", f"the export file must end in .csv or .json, got {path.suffix or 'no suffix'!r}")
    try:
        write_atomic(path, text)
    except HqoptError as exc:
        raise SpecError("export", str(exc)) from None
    return str(path)


def read_trials(path: str | Path) -> list[dict[str, Any]]:
    """Records written by :func:`export_trials` (CSV cells come back as numbers where they are numbers; empty as None)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return json.loads(path.read_text())
    import pandas as pd

    frame = pd.read_csv(path)
    return [{k: _csv_value(v, parameter=str(k).startswith("params_")) for k, v in row.items()} for row in frame.to_dict("records")]


#: a number as Python writes it (no '1_000', no 'inf'): what a parameter's CSV cell is read back as
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _csv_value(cell: Any, parameter: bool = False) -> Any:
    """A cell of an exported CSV as the value it was: None when empty; in a ``params_`` column, a number or
    boolean where the text is one (a column of mixed categorical choices comes from pandas as text: '2', '0.5',
    'True'). CSV cannot tell the choice '2' (text) from 2: export JSON to keep such choices apart.

    >>> [_csv_value(c, parameter=True) for c in ("sqrt", "2", "0.5", "True", "1e-3", "1_000", "inf", float("nan"))]
    ['sqrt', 2, 0.5, True, 0.001, '1_000', 'inf', None]
    """
    if isinstance(cell, float) and math.isnan(cell):
        return None
    if hasattr(cell, "item"):  # a NumPy scalar
        return cell.item()
    if not (parameter and isinstance(cell, str)):
        return cell
    if cell in ("True", "False"):
        return cell == "True"
    if _NUMBER.fullmatch(cell):
        return int(cell) if cell.lstrip("+-").isdigit() else float(cell)
    return cell


def suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    """Ask ``trial`` for ``name`` drawn from ``dist`` through Optuna's public suggest API."""
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


def write_history_plot(study: optuna.Study, path: str | Path) -> str:
    """Save Optuna's optimization-history figure as a PNG (the ``plot`` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        raise SpecError("plot", "writing a plot needs matplotlib: pip install 'hqopt[plot]'") from None
    from optuna.visualization.matplotlib import plot_optimization_history

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna marks its matplotlib plots experimental
        ax = plot_optimization_history(study)
    try:
        ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    except OSError as exc:
        raise SpecError("plot", f"cannot write {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a suffix matplotlib has no writer for
        raise SpecError("plot", str(exc)) from None
    finally:
        matplotlib.pyplot.close(ax.figure)
    return str(path)


__all__ = [
    "ALLOWED_PREFIXES", "SPACE_CHANGED", "StudyChangedError", "StudyChangedWarning", "TuneReport", "TuneSpec",
    "allowed_estimator", "build_estimator",
    "check_allowed", "export_trials", "load_dataset", "load_spec", "make_sampler", "open_study", "parse_spec",
    "preprocessor", "read_trials", "redact", "run_tune", "write_history_plot",
]  # fmt: skip
