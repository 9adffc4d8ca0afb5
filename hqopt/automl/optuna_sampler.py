"""``QuboSampler``: an Optuna sampler whose surrogate model is a QUBO.

Each trial, the sampler encodes the finished trials' parameters as bit
vectors (:mod:`hqopt.automl.encoding`), fits a surrogate that is itself a
QUBO (:mod:`hqopt.automl.surrogate`: a factorization machine, or BOCS with
Thompson sampling), and minimises it with ``hqopt.solve`` on any backend
(``sa`` by default; ``qaoa`` or ``dwave`` where installed). The encoding
rules (one-hot groups, level ranges) are hard constraints of the solved
model, so every proposal is a valid configuration; configurations already
tried (finished, running or handed out) are never proposed again.

Example:
    >>> import optuna
    >>> from hqopt.automl import QuboSampler
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> def objective(trial):
    ...     x = trial.suggest_int("x", -4, 4)
    ...     kind = trial.suggest_categorical("kind", ["a", "b"])
    ...     return (x - 1) ** 2 + (kind == "b")
    >>> study = optuna.create_study(sampler=QuboSampler(n_startup_trials=5, seed=0))
    >>> study.optimize(objective, n_trials=15)
    >>> study.best_params
    {'x': 1, 'kind': 'a'}
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

import hqopt
from hqopt.automl.encoding import DEFAULT_MAX_LEVELS, ENCODINGS, SearchSpaceEncoder
from hqopt.automl.surrogate import BOCS, FactorizationMachine
from hqopt.errors import ModelError

SURROGATES = ("fm", "bocs")
#: system attribute holding the parameters a trial was handed (seen by other workers)
PROPOSAL_KEY = "hqopt:qubo:params"
#: default options of the ``sa`` backend: a short anneal, the surrogate is small
SA_DEFAULTS = {"num_reads": 16, "num_sweeps": 200}
#: weight of the learned violation (scaled to at most 1) against the objective (in standard deviations)
CONSTRAINT_WEIGHT = 4.0
#: a grid at most this large is enumerated to find an untried configuration
ENUMERATE_LIMIT = 200_000


class QuboSampler(BaseSampler):
    """Optuna sampler: fit a QUBO surrogate, minimise it with an hqopt backend.

    Args:
        surrogate: ``"fm"`` (factorization machine, FMQA) or ``"bocs"``
            (horseshoe pairwise regression, Thompson sampling).
        backend: any ``hqopt.solve`` backend name or instance.
        encoding: ``binary``, ``one-hot`` or ``domain-wall`` for numeric parameters.
        max_levels: most levels a numeric parameter is discretised into.
        n_startup_trials: finished trials before the surrogate is used; until
            then proposals are random untried grid points.
        batch_size: distinct proposals taken from one surrogate solve; the
            extra ones go to the next trials (parallel workers) while untried.
        time_limit: seconds per surrogate solve (``None``: the backend's default effort).
        backend_options: passed to ``hqopt.solve`` (default for ``sa``: a short anneal).
        fm_rank: factor length of the factorization machine.
        constraints_func: Optuna-style ``trial -> sequence of floats`` (<= 0 is
            feasible); values set with ``trial.set_constraint`` are used too.
        independent_sampler: samples parameters outside the relative search
            space (default: ``RandomSampler``).
        seed: makes the sampler repeat.
    """

    def __init__(
        self,
        *,
        surrogate: str = "fm",
        backend: Any = "sa",
        encoding: str = "binary",
        max_levels: int = DEFAULT_MAX_LEVELS,
        n_startup_trials: int = 10,
        batch_size: int = 1,
        time_limit: float | None = None,
        backend_options: dict[str, Any] | None = None,
        fm_rank: int = 8,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        independent_sampler: BaseSampler | None = None,
        seed: int | None = None,
    ) -> None:
        if surrogate not in SURROGATES:
            raise ModelError(f"surrogate must be one of {', '.join(SURROGATES)}, got {surrogate!r}")
        if encoding not in ENCODINGS:
            raise ModelError(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
        if n_startup_trials < 1 or batch_size < 1:
            raise ModelError("n_startup_trials and batch_size must be >= 1")
        self.surrogate = surrogate
        self.backend = backend
        self.encoding = encoding
        self.max_levels = max_levels
        self.n_startup_trials = n_startup_trials
        self.batch_size = batch_size
        self.time_limit = time_limit
        if backend_options is None:
            backend_options = dict(SA_DEFAULTS) if backend == "sa" else {}
        self.backend_options = dict(backend_options)
        self.fm_rank = fm_rank
        self.constraints_func = constraints_func
        self._rng = np.random.default_rng(seed)
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._search_space = optuna.search_space.IntersectionSearchSpace(include_pruned=True)
        self._lock = threading.Lock()
        self._encoders: dict[tuple, SearchSpaceEncoder] = {}
        self._bocs: dict[tuple, BOCS] = {}
        #: extra proposals of the last batch, with the (study, search space) they belong to
        self._queue: list[tuple[tuple, tuple[int, ...]]] = []
        #: the Result of the last surrogate solve (timing, backend facts)
        self.last_solve: hqopt.Result | None = None

    def __getstate__(self) -> dict[str, Any]:  # picklable (Ray Tune ships the searcher): drop the lock
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ------------------------------------------------------------ Optuna hooks
    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._independent_sampler.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        space = self._search_space.calculate(study)
        return {name: dist for name, dist in space.items() if not dist.single()}

    def sample_relative(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        self._raise_error_if_multi_objective(study)
        with self._lock:  # threads (n_jobs > 1) take turns, so each sees the others' proposals
            params = self._propose(study, search_space)
            if params:
                study._storage.set_trial_system_attr(trial._trial_id, PROPOSAL_KEY, json.dumps(params))
        return params

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._independent_sampler.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._independent_sampler.before_trial(study, trial)

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        if self.constraints_func is not None:
            from optuna.samplers._base import _process_constraints_after_trial

            _process_constraints_after_trial(self.constraints_func, study, trial, state)
        self._independent_sampler.after_trial(study, trial, state, values)

    # --------------------------------------------------------------- proposing
    def _encoder(self, search_space: dict[str, BaseDistribution]) -> tuple[tuple, SearchSpaceEncoder]:
        signature = tuple(sorted((name, repr(dist)) for name, dist in search_space.items()))
        if signature not in self._encoders:
            self._encoders[signature] = SearchSpaceEncoder(search_space, encoding=self.encoding, max_levels=self.max_levels)
        return signature, self._encoders[signature]

    def _propose(self, study: Study, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        signature, enc = self._encoder(search_space)
        trials = study.get_trials(deepcopy=False)
        tried = {key for key in (_grid_key(enc, _params_of(t)) for t in trials) if key is not None}
        if len(tried) >= enc.grid_size:
            return {}  # the grid is exhausted: the independent sampler takes over
        owner = (study._study_id, signature)
        while self._queue:
            queued_owner, indices = self._queue.pop(0)
            if queued_owner == owner and indices not in tried:
                return enc.params_of_indices(indices)
        complete = [t for t in trials if t.state == TrialState.COMPLETE and all(n in t.params for n in search_space)]
        if len(complete) < self.n_startup_trials:
            return enc.params_of_indices(self._random_untried(enc, tried))
        proposals = self._surrogate_proposals(study, signature, enc, complete, tried)
        self._queue = [(owner, p) for p in proposals[1 : self.batch_size]]
        return enc.params_of_indices(proposals[0])

    def _surrogate_proposals(
        self,
        study: Study,
        signature: tuple,
        enc: SearchSpaceEncoder,
        complete: list[FrozenTrial],
        tried: set[tuple[int, ...]],
    ) -> list[tuple[int, ...]]:
        """Fit the surrogate, minimise it; untried configurations, best first."""
        X = np.array([enc.encode(t.params) for t in complete], dtype=float)
        y = _targets(study, complete)
        if self.surrogate == "fm":
            fm = FactorizationMachine(rank=self.fm_rank, seed=int(self._rng.integers(2**31)))
            Q = fm.fit(X, y).qubo()
        else:
            if signature not in self._bocs:  # one chain per search space, continued trial after trial
                self._bocs[signature] = BOCS(seed=int(self._rng.integers(2**31)))
            bocs = self._bocs[signature]
            Q = bocs.fit(X, y).thompson_qubo(self._rng)
        violation = np.array([_violation(t) for t in complete])
        if violation.any():  # a second surrogate learns the total violation; it is added as a penalty
            fm_v = FactorizationMachine(rank=self.fm_rank, seed=int(self._rng.integers(2**31)))
            Q_v = fm_v.fit(X, violation / violation.max()).qubo()
            Q = Q / max(float(np.std(y)), 1e-12) + CONSTRAINT_WEIGHT * Q_v
        result = hqopt.solve(
            enc.model(Q),
            backend=self.backend,
            time_limit=self.time_limit,
            seed=int(self._rng.integers(2**31)),
            **self.backend_options,
        )
        self.last_solve = result
        found = _feasible_rows(result, enc)
        fresh = [c for c in dict.fromkeys(found) if c not in tried]
        if len(fresh) < self.batch_size:
            fresh += [c for c in _local_moves(enc, Q, found[:4], tried) if c not in fresh]
        if not fresh:
            fresh = [self._random_untried(enc, tried)]
        return fresh

    def _random_untried(self, enc: SearchSpaceEncoder, tried: set[tuple[int, ...]]) -> tuple[int, ...]:
        for _ in range(64):
            indices = enc.random_indices(self._rng)
            if indices not in tried:
                return indices
        if enc.grid_size <= ENUMERATE_LIMIT:
            untried = [c for c in itertools.product(*(range(code.n_levels) for code in enc.params)) if c not in tried]
            if untried:
                return untried[int(self._rng.integers(len(untried)))]
        return enc.random_indices(self._rng)


# ------------------------------------------------------------------ helpers
def _params_of(trial: FrozenTrial) -> dict[str, Any]:
    """A trial's parameters, with those handed out but not yet suggested (running trials)."""
    handed = trial.system_attrs.get(PROPOSAL_KEY)
    if handed is None:
        return trial.params
    params = json.loads(handed)
    params.update(trial.params)
    return params


def _grid_key(enc: SearchSpaceEncoder, params: dict[str, Any]) -> tuple[int, ...] | None:
    """Grid identity of a trial's parameters; ``None`` if it lacks some or used other choices."""
    try:
        return enc.indices(params)
    except (KeyError, ValueError, TypeError):
        return None


def _violation(trial: FrozenTrial) -> float:
    """Total constraint violation (0 when feasible or unconstrained)."""
    values = list(getattr(trial, "constraints", {}).values()) if hasattr(trial, "constraints") else []
    if not values:
        values = list(trial.system_attrs.get("constraints") or [])
    return float(sum(max(0.0, float(c)) for c in values))


def _targets(study: Study, complete: list[FrozenTrial]) -> np.ndarray:
    """Values to minimise; an infeasible trial scores worse than every feasible one."""
    sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
    y = np.array([sign * float(t.value) for t in complete])
    violation = np.array([_violation(t) for t in complete])
    bad = violation > 0
    if bad.any():
        ok = y[~bad]
        worst = float(ok.max()) if ok.size else 0.0
        spread = float(ok.max() - ok.min()) if ok.size > 1 else 1.0
        y[bad] = worst + spread * (1.0 + violation[bad] / (1.0 + violation[bad].max()))
    return y


def _feasible_rows(result: hqopt.Result, enc: SearchSpaceEncoder) -> list[tuple[int, ...]]:
    """Valid configurations in the verified sample set, lowest surrogate value first."""
    ss = result.sampleset
    if ss is None or len(ss) == 0:
        return []
    record = ss.record
    order = np.argsort(record.energy, kind="stable")
    columns = [ss.variables.index(i) for i in range(enc.n_bits)]
    out = []
    for k in order:
        if "is_feasible" in record.dtype.names and not record.is_feasible[k]:
            continue
        indices = enc.indices_of_bits(record.sample[k, columns].astype(int))
        if indices is not None:
            out.append(indices)
    return out


def _local_moves(
    enc: SearchSpaceEncoder, Q: np.ndarray, starts: list[tuple[int, ...]], tried: set[tuple[int, ...]]
) -> list[tuple[int, ...]]:
    """Untried one-parameter changes of ``starts``, by surrogate value (for when the solver only finds tried points)."""
    scored: dict[tuple[int, ...], float] = {}
    for start in starts:
        for p, code in enumerate(enc.params):
            for level in range(code.n_levels):
                cand = start[:p] + (level,) + start[p + 1 :]
                if cand not in tried and cand not in scored:
                    x = enc.bits_of_indices(cand).astype(float)
                    scored[cand] = float(x @ Q @ x)
    return sorted(scored, key=scored.__getitem__)


__all__ = ["QuboSampler", "SURROGATES"]
