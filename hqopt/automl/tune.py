"""Tuning specs: a YAML file that names an estimator, a dataset and a search space.

:func:`load_spec` checks a spec (every bad field is a :class:`SpecError` naming
it) and :func:`run_tune` runs the Optuna study it describes, stored in an
Optuna storage (a local SQLite file by default), so a stopped study resumes
and several machines can share one RDB study. A spec is data, not code: the
estimator's import path must start with an allowed library prefix
(:data:`ALLOWED_PREFIXES`) unless the caller passes ``allow_import=True``.

Spec fields (``problems/hpo/*.yaml`` are examples)::

    name: svm-digits                 # study name (default: the file's stem)
    estimator: sklearn.svm.SVC       # import path of the estimator class
    estimator_params: {kernel: rbf}  # fixed constructor arguments (optional)
    scale: false                     # put a StandardScaler in front (optional)
    dataset: {loader: load_digits}   # or {csv: data.csv, target: label}
    cv: 5                            # folds (shuffled with `seed`)
    scoring: accuracy                # any scikit-learn scorer name (optional)
    search_space:
      C: {type: float, low: 0.01, high: 1000, log: true}
      kernel: {type: categorical, choices: [rbf, sigmoid]}
      degree: {type: int, low: 2, high: 5}
    trials: 30
    sampler: {name: qubo, surrogate: fm, encoding: binary, max_levels: 16, startup_trials: 10}
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
"""

from __future__ import annotations

import csv
import importlib
import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import yaml
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, TrialState

from hqopt.automl.encoding import DEFAULT_MAX_LEVELS, ENCODINGS
from hqopt.automl.optuna_sampler import SURROGATES, QuboSampler
from hqopt.errors import SpecError

#: estimator import paths allowed without ``--allow-import``
ALLOWED_PREFIXES = ("sklearn.", "xgboost.", "lightgbm.", "catboost.")
SAMPLERS = ("qubo", "tpe", "random")
TOP_FIELDS = {
    "name", "estimator", "estimator_params", "scale", "dataset", "cv", "scoring",
    "search_space", "trials", "sampler", "backend", "storage", "seed",
}  # fmt: skip
SAMPLER_FIELDS = {"name", "surrogate", "encoding", "max_levels", "startup_trials"}
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


# ------------------------------------------------------------------- loading
def load_spec(path: str | Path) -> TuneSpec:
    """Read and check a YAML tuning spec."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SpecError("spec", f"cannot read the file: {exc.strerror or exc}", source=path) from None
    except yaml.YAMLError as exc:
        raise SpecError("spec", f"not valid YAML: {exc}", source=path) from None
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
    unknown = sorted(set(data) - TOP_FIELDS)
    if unknown:
        raise bad(unknown[0], f"unknown field (known: {', '.join(sorted(TOP_FIELDS))})")
    for required in ("estimator", "dataset", "search_space", "trials"):
        if required not in data:
            raise bad(required, "missing")
    name = data.get("name", default_name or source)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise bad("name", "use letters, digits, '.', '_' and '-' only")
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

        if scoring not in get_scorer_names():
            raise bad("scoring", f"unknown scikit-learn scorer {scoring!r}")
    params = data.get("estimator_params", {}) or {}
    if not isinstance(params, Mapping):
        raise bad("estimator_params", "must be a mapping of constructor arguments")
    scale = data.get("scale", False)
    if not isinstance(scale, bool):
        raise bad("scale", "must be true or false")
    backend = data.get("backend", "sa")
    if not isinstance(backend, str):
        raise bad("backend", "must be a backend name")
    storage = data.get("storage", f"sqlite:///{name}.optuna.db")
    if not isinstance(storage, str) or "://" not in storage:
        raise bad("storage", "must be an Optuna storage URL such as sqlite:///study.db")
    return TuneSpec(
        name=name,
        estimator=estimator,
        dataset=_check_dataset(data["dataset"], bad),
        search_space=_check_space(data["search_space"], bad),
        trials=trials,
        estimator_params=dict(params),
        scale=scale,
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

        if not callable(getattr(sklearn.datasets, loader, None)):
            raise bad("dataset.loader", f"sklearn.datasets has no loader {loader!r}")
        return {"loader": loader}
    if "csv" in value:
        if set(value) != {"csv", "target"}:
            raise bad("dataset", "a CSV dataset takes exactly the fields 'csv' and 'target'")
        if not isinstance(value["csv"], str) or not isinstance(value["target"], str):
            raise bad("dataset.csv", "'csv' (a path) and 'target' (a column name) must be strings")
        return {"csv": value["csv"], "target": value["target"]}
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
                space[pname] = CategoricalDistribution(desc["choices"])
            elif kind in ("float", "int"):
                extra = set(desc) - {"type", "low", "high", "log", "step"}
                if extra or "low" not in desc or "high" not in desc:
                    raise bad(where, f"a {kind} parameter takes low, high and optionally log, step")
                log = desc.get("log", False)
                if not isinstance(log, bool):
                    raise bad(f"{where}.log", "must be true or false")
                for key in ("low", "high"):
                    if isinstance(desc[key], bool) or not isinstance(desc[key], (int, float)):
                        raise bad(f"{where}.{key}", f"must be a number, got {desc[key]!r}")
                    if kind == "int" and not float(desc[key]).is_integer():
                        raise bad(f"{where}.{key}", f"must be an integer, got {desc[key]!r}")
                low, high = desc["low"], desc["high"]
                if kind == "int":
                    space[pname] = IntDistribution(int(low), int(high), log=log, step=int(desc.get("step", 1)))
                else:
                    space[pname] = FloatDistribution(float(low), float(high), log=log, step=desc.get("step"))
            else:
                raise bad(f"{where}.type", f"must be float, int or categorical, got {kind!r}")
        except ValueError as exc:  # optuna's own range checks (low > high, log with low <= 0, ...)
            raise bad(where, str(exc)) from None
    return space


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
def check_allowed(spec: TuneSpec, *, allow_import: bool = False) -> None:
    """Refuse an estimator path outside :data:`ALLOWED_PREFIXES` unless ``allow_import``."""
    if not allow_import and not spec.estimator.startswith(ALLOWED_PREFIXES):
        raise SpecError(
            "estimator",
            f"{spec.estimator!r} is not in the allow-list ({', '.join(p + '*' for p in ALLOWED_PREFIXES)}); "
            "pass --allow-import to import it anyway",
            source=spec.source,
        )


def build_estimator(spec: TuneSpec, *, allow_import: bool = False) -> Any:
    """Import and construct the estimator (checked against the allow-list)."""
    check_allowed(spec, allow_import=allow_import)
    module_name, _, class_name = spec.estimator.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise SpecError("estimator", f"cannot import {spec.estimator!r}: {exc}", source=spec.source) from None
    if not isinstance(cls, type) or not hasattr(cls, "fit"):
        raise SpecError("estimator", f"{spec.estimator!r} is not an estimator class with fit()", source=spec.source)
    try:
        estimator = cls(**spec.estimator_params)
    except TypeError as exc:
        raise SpecError("estimator_params", str(exc), source=spec.source) from None
    known = set(estimator.get_params()) if hasattr(estimator, "get_params") else set()
    for pname in spec.search_space:
        if known and pname not in known:
            raise SpecError(f"search_space.{pname}", f"{class_name} has no parameter {pname!r}", source=spec.source)
    if spec.scale:
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        estimator = Pipeline([("scale", StandardScaler()), ("model", estimator)])
    return estimator


def load_dataset(spec: TuneSpec) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) from a bundled scikit-learn loader or a CSV file with a target column."""
    if "loader" in spec.dataset:
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, spec.dataset["loader"])(return_X_y=True)
        return np.asarray(X), np.asarray(y)
    path = (spec.base_dir / spec.dataset["csv"]).resolve()
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise SpecError("dataset.csv", f"cannot read {path}: {exc.strerror or exc}", source=spec.source) from None
    if len(rows) < 3:
        raise SpecError("dataset.csv", f"{path} needs a header and at least two rows", source=spec.source)
    header, body = rows[0], [r for r in rows[1:] if r]
    target = spec.dataset["target"]
    if target not in header:
        raise SpecError("dataset.target", f"no column {target!r} in {path} (columns: {', '.join(header)})", source=spec.source)
    t = header.index(target)
    features = [i for i in range(len(header)) if i != t]
    X = np.empty((len(body), len(features)))
    for r, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise SpecError("dataset.csv", f"{path} line {r}: expected {len(header)} fields, got {len(row)}", source=spec.source)
        for c, i in enumerate(features):
            try:
                X[r - 2, c] = float(row[i])
            except ValueError:
                raise SpecError("dataset.csv", f"{path} line {r}: column {header[i]!r} is not a number: {row[i]!r}", source=spec.source) from None
    y = np.array([row[t] for row in body])
    try:
        y = y.astype(float)
    except ValueError:
        pass  # class labels stay strings
    return X, y


def make_sampler(spec: TuneSpec) -> optuna.samplers.BaseSampler:
    """The Optuna sampler named in the spec."""
    s = spec.sampler
    if s["name"] == "tpe":
        return optuna.samplers.TPESampler(seed=spec.seed, n_startup_trials=s.get("startup_trials", 10))
    if s["name"] == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    return QuboSampler(
        surrogate=s.get("surrogate", "fm"),
        backend=spec.backend,
        encoding=s.get("encoding", "binary"),
        max_levels=s.get("max_levels", DEFAULT_MAX_LEVELS),
        n_startup_trials=s.get("startup_trials", 10),
        seed=spec.seed,
    )


# ------------------------------------------------------------------- running
def run_tune(
    spec: TuneSpec,
    *,
    allow_import: bool = False,
    storage: str | None = None,
    trials: int | None = None,
    plot: str | Path | None = None,
    on_trial: Callable[[optuna.Study, FrozenTrial], None] | None = None,
) -> TuneReport:
    """Run (or resume) the study until it holds ``trials`` complete trials.

    Args:
        spec: a checked spec.
        allow_import: import an estimator outside :data:`ALLOWED_PREFIXES`.
        storage: Optuna storage URL overriding the spec's.
        trials: complete trials wanted in total (default: the spec's).
        plot: write the optimization-history PNG here (needs matplotlib).
        on_trial: called after each finished trial (progress display).
    """
    from sklearn.base import is_classifier
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    estimator = build_estimator(spec, allow_import=allow_import)
    X, y = load_dataset(spec)
    splitter = StratifiedKFold if is_classifier(estimator) else KFold
    folds = splitter(n_splits=spec.cv, shuffle=True, random_state=spec.seed)
    prefix = "model__" if spec.scale else ""

    def score(params: Mapping[str, Any]) -> float:
        est = estimator.set_params(**{prefix + k: v for k, v in params.items()})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = cross_val_score(est, X, y, cv=folds, scoring=spec.scoring, error_score=np.nan)
        return float(np.mean(values))

    url = storage or spec.storage
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        try:
            study = optuna.create_study(
                study_name=spec.name, storage=url, sampler=make_sampler(spec), direction="maximize", load_if_exists=True
            )
        except (ValueError, ImportError) as exc:
            raise SpecError("storage", f"cannot open {url!r}: {exc}", source=spec.source) from None
        if "default_score" not in study.user_attrs:
            study.set_user_attr("default_score", score({}))
        wanted = trials or spec.trials
        done = sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
        remaining = max(0, wanted - done)
        callbacks = [optuna.study.MaxTrialsCallback(wanted, states=(TrialState.COMPLETE,))]
        if on_trial is not None:
            callbacks.append(on_trial)

        def objective(trial: optuna.Trial) -> float:
            params = {name: suggest(trial, name, dist) for name, dist in spec.search_space.items()}
            return score(params)

        if remaining:
            study.optimize(objective, n_trials=remaining, callbacks=callbacks)
    finally:
        optuna.logging.set_verbosity(verbosity)
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE and math.isfinite(t.value)]
    if not complete:
        raise SpecError("search_space", "no trial finished with a score (every configuration failed to fit)", source=spec.source)
    best = max(complete, key=lambda t: t.value)
    plot_path = write_history_plot(study, plot) if plot is not None else None
    return TuneReport(
        study_name=spec.name,
        storage=url,
        best_params=dict(best.params),
        best_score=float(best.value),
        default_score=float(study.user_attrs["default_score"]),
        n_complete=len(complete),
        n_new=remaining,
        plot_path=plot_path,
    )


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
    ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    matplotlib.pyplot.close(ax.figure)
    return str(path)


__all__ = ["ALLOWED_PREFIXES", "TuneReport", "TuneSpec", "build_estimator", "check_allowed", "load_dataset", "load_spec", "make_sampler", "parse_spec", "run_tune", "write_history_plot"]
