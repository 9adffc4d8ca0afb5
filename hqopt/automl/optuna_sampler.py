"""``QuboSampler``: an Optuna sampler whose surrogate model is a QUBO.

Each trial the sampler

1. encodes the search space in bits (:mod:`hqopt.automl.encoding`), with the
   levels of wide numeric parameters refined around the incumbent;
2. until ``n_startup_trials`` trials have finished, proposes a space-filling
   (greedy maximin) design point -- untried, and as far as possible from every
   trial so far, running ones included -- that sets a share of its bits
   stratified over the design, from sparse to dense points
   (:mod:`hqopt.automl.design`);
3. then fits a surrogate that is itself a QUBO (:mod:`hqopt.automl.surrogate`):
   BOCS (horseshoe pairwise regression, Gibbs-sampled) or an ensemble of
   factorization machines; ``surrogate="auto"`` picks between them by
   held-out log likelihood on the study's own data, now and again;
4. keeps a trust region (:mod:`hqopt.automl.trust_region`): a small ball
   (changed choices, levels moved) around the best trial of the current local search,
   widened after improvements on its edge, narrowed after failures, and
   restarted elsewhere (the old centre made tabu) at a certified local optimum
   or, with continuous parameters, after ``STALL_LIMIT`` failures at radius one;
5. takes the best untried configuration in the region under the surrogate's
   posterior mean -- after ``trust_failures`` failures at radius one in a
   discrete space, first among the neighbours that change a parameter no
   two trials have differed in alone (the surrogate's view of those rests on
   confounded trials) -- anywhere for the first modelled proposal (the
   surrogate's best guess after the design; it becomes the centre if it
   beats the best design point) -- or, for a global proposal, every
   ``global_every``-th once a local optimum has been certified, under one
   posterior draw (Thompson sampling) anywhere outside the tabu balls
   (:mod:`hqopt.automl.acquisition`: exact enumeration up to 2^20
   configurations, else ``hqopt.solve`` on the one-hot/level structure plus
   exact local moves), penalising closeness to running trials so parallel
   workers get diverse configurations.

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

import dataclasses
import json
import math
import numbers
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

import hqopt
from hqopt.automl.acquisition import Acquisition
from hqopt.automl.design import design_densities, maximin_point
from hqopt.automl.encoding import (
    DEFAULT_MAX_LEVELS,
    ENCODINGS,
    SearchSpaceEncoder,
    _levels,
)
from hqopt.automl.surrogate import BOCS, FMEnsemble, heldout_loglik
from hqopt.automl.trust_region import Region, TrustRegion
from hqopt.errors import ArgumentError

SURROGATES = ("auto", "bocs", "fm")
#: system attribute holding the parameters a trial was handed (seen by other workers)
PROPOSAL_KEY = "hqopt:qubo:params"
#: proposals a trial may get when processes sharing a storage propose at the same moment (the later trial yields)
RECHECKS = 3
#: user attribute of a trial the user stopped (Ctrl-C; ``hqopt tune`` sets it): its configuration was
#: never measured, so the sampler neither models it as a failure nor counts it as tried
INTERRUPTED_KEY = "hqopt:interrupted"
#: weight of the learned violation (scaled to at most 1) against the objective (in standard deviations)
CONSTRAINT_WEIGHT = 4.0
#: ``surrogate="auto"`` re-chooses when the number of finished trials has grown by this factor
RESELECT_GROWTH = 1.5
#: ... and first chooses with this many finished trials (BOCS before)
MIN_SELECT = 6
#: failures in a row at radius one after which a space with continuous parameters restarts elsewhere
STALL_LIMIT = 10


class QuboSampler(BaseSampler):
    """Optuna sampler: fit a QUBO surrogate, minimise a posterior draw of it with an hqopt backend.

    Args:
        surrogate: ``"auto"`` (choose by held-out likelihood), ``"bocs"``
            (horseshoe pairwise regression) or ``"fm"`` (factorization-machine
            ensemble); both sample a surrogate per proposal (Thompson sampling).
        backend: hqopt backend for surrogates too large to enumerate
            (``None``: :data:`hqopt.automl.acquisition.ACQUISITION_BACKEND`).
        encoding: ``binary``, ``one-hot`` or ``domain-wall`` for numeric parameters.
        max_levels: most levels a numeric parameter is discretised into.
        n_startup_trials: finished trials before the surrogate is used; until
            then proposals are space-filling design points, each setting a
            share of the bits, the shares stratified from sparse to dense.
        batch_size: distinct proposals taken from one surrogate draw; the
            extra ones go to the next trials (parallel workers) while untried.
        time_limit: seconds per surrogate solve (``None``: the backend's default effort).
        backend_options: passed to ``hqopt.solve``.
        diversity: penalty (standard deviations) for proposing next to a running trial.
        trust_radius: initial radius of the trust region (changed choices plus
            levels moved), a fraction of the number of parameters
            (``None``: no trust region, every proposal is global).
        trust_failures: proposals in a row not better than the trust region's
            centre before its radius shrinks by one.
        global_every: every this many trials the proposal is global (anywhere
            outside the tabu balls), so the search can find another basin.
        tabu_radius: distance around a certified local optimum within which nothing is proposed again.
        local_thompson: minimise a posterior draw inside the trust region too
            (default: the posterior mean there; global proposals always draw).
        constraints_func: Optuna-style ``trial -> sequence of floats`` (<= 0 is
            feasible); values set with ``trial.set_constraint`` are used too.
        independent_sampler: samples parameters outside the relative search
            space once their distinct levels are used up (default: ``RandomSampler``).
        seed: makes the sampler repeat.
    """

    def __init__(
        self,
        *,
        surrogate: str = "bocs",
        backend: Any = None,
        encoding: str = "domain-wall",
        max_levels: int = DEFAULT_MAX_LEVELS,
        n_startup_trials: int = 8,
        batch_size: int = 1,
        time_limit: float | None = None,
        backend_options: dict[str, Any] | None = None,
        diversity: float = 0.5,
        trust_radius: float | None = 0.2,
        trust_failures: int = 3,
        global_every: int = 4,
        tabu_radius: int = 1,
        local_thompson: bool = False,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        independent_sampler: BaseSampler | None = None,
        seed: int | None = None,
    ) -> None:
        if surrogate not in SURROGATES:
            raise ArgumentError(f"surrogate must be one of {', '.join(SURROGATES)}, got {surrogate!r}")
        if encoding not in ENCODINGS:
            raise ArgumentError(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
        whole = {"max_levels": (max_levels, 2), "n_startup_trials": (n_startup_trials, 1), "batch_size": (batch_size, 1),
                 "trust_failures": (trust_failures, 1), "global_every": (global_every, 1), "tabu_radius": (tabu_radius, 0)}  # fmt: skip
        for name, (value, least) in whole.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                raise ArgumentError(f"{name} must be an integer >= {least}, got {value!r}")
        if time_limit is not None and not (_is_number(time_limit) and 0 < time_limit < math.inf):
            raise ArgumentError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")
        if not (_is_number(diversity) and 0 <= diversity < math.inf):
            raise ArgumentError(f"diversity must be a finite number >= 0, got {diversity!r}")
        if trust_radius is not None and not (_is_number(trust_radius) and 0 < trust_radius <= 1):
            raise ArgumentError(f"trust_radius must be a share of the parameters in (0, 1] or None, got {trust_radius!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ArgumentError(f"seed must be an integer >= 0 or None, got {seed!r}")
        self.surrogate = surrogate
        self.backend = backend
        self.encoding = encoding
        self.max_levels = max_levels
        self.n_startup_trials = n_startup_trials
        self.batch_size = batch_size
        self.time_limit = time_limit
        self.backend_options = dict(backend_options or {})
        self.diversity = diversity
        self.trust_radius = trust_radius
        self.trust_failures = trust_failures
        self.global_every = global_every
        self.tabu_radius = tabu_radius
        self.local_thompson = local_thompson
        self.constraints_func = constraints_func
        self._rng = np.random.default_rng(seed)
        #: the startup design's share of bits set, one per design point
        self._densities = design_densities(n_startup_trials, self._rng)
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._search_space = optuna.search_space.IntersectionSearchSpace(include_pruned=True)
        self._lock = threading.Lock()
        self._bocs: dict[tuple, BOCS] = {}
        self._choice: dict[tuple, tuple[str, int]] = {}  # search space -> (surrogate, trials when chosen)
        self._acquisitions: dict[tuple, Acquisition] = {}
        self._regions: dict[tuple, TrustRegion] = {}
        #: extra proposals of the last batch, with the (study, search space) they belong to
        self._queue: list[tuple[tuple, dict[str, Any]]] = []
        #: the Result of the last surrogate solve (None when enumeration answered)
        self.last_solve: hqopt.Result | None = None
        #: the surrogate used for the last proposal ("bocs", "fm"; "design" during startup)
        self.last_surrogate: str | None = None

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
        self._raise_error_if_multi_objective(study)
        if not search_space:
            return {}
        with self._lock:  # threads (n_jobs > 1) take turns, so each sees the others' proposals
            params = self._propose(study, trial, search_space)
            for attempt in range(1, RECHECKS + 1):
                if not params:
                    break
                study._storage.set_trial_system_attr(trial._trial_id, PROPOSAL_KEY, json.dumps(params))
                if attempt == RECHECKS or not _proposed_to_an_earlier_trial(study, trial, params):
                    break
                params = self._propose(study, trial, search_space)  # now that proposal is pending: another one
        return params

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        """A level of ``param_distribution`` least used by trials that share this trial's parameters so far.

        Before the first trial finishes there is no relative search space, so
        every parameter comes here; picking the least-used level given the
        parameters already chosen keeps concurrent trials distinct (pending
        ones count). A two-level parameter whose levels are equally used is
        set with the trial's design density, as in the rest of the startup
        design. Once every level is used, the independent sampler draws.
        """
        self._raise_error_if_multi_objective(study)
        with self._lock:
            levels = _levels(param_distribution, self.max_levels)
            counts = np.zeros(len(levels))
            for other in study.get_trials(deepcopy=False):
                if other.number == trial.number or param_name not in other.params or other.user_attrs.get(INTERRUPTED_KEY):
                    continue
                if all(other.params.get(k) == v for k, v in trial.params.items()):
                    counts[_level_index(param_distribution, levels, other.params[param_name])] += 1
            fresh = np.flatnonzero(counts == counts.min())
            if counts.min() > 0 and _is_refined(param_distribution, self.max_levels):
                return self._independent_sampler.sample_independent(study, trial, param_name, param_distribution)
            if len(levels) == len(fresh) == 2:
                return levels[int(self._rng.random() < self._design_density(trial))]
            return levels[int(fresh[self._rng.integers(len(fresh))])]

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._independent_sampler.before_trial(study, trial)

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        if self.constraints_func is not None:
            from optuna.samplers._base import _process_constraints_after_trial

            _process_constraints_after_trial(self._constraints_nan_as_inf, study, trial, state)
        self._independent_sampler.after_trial(study, trial, state, values)

    def _constraints_nan_as_inf(self, trial: FrozenTrial) -> Sequence[float]:
        """``constraints_func``'s values with NaN read as infinitely violated (Optuna would stop the study)."""
        assert self.constraints_func is not None
        values = self.constraints_func(trial)
        return [math.inf if isinstance(v, (float, np.floating)) and math.isnan(v) else v for v in values]

    # --------------------------------------------------------------- proposing
    def _propose(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        signature = tuple(sorted((name, repr(dist)) for name, dist in search_space.items()))
        trials = [t for t in study.get_trials(deepcopy=False) if t.number != trial.number and not t.user_attrs.get(INTERRUPTED_KEY)]
        complete = [t for t in trials if t.state == TrialState.COMPLETE and all(n in t.params for n in search_space)]
        y = _targets(study, complete) if complete else np.zeros(0)
        modelled = len(complete) >= self.n_startup_trials
        failed = [t for t in trials if t.state == TrialState.FAIL and all(n in t.params for n in search_space)]
        if failed and complete:  # the model learns to avoid what fails (a choice the estimator rejects, say)
            y = np.concatenate([y, np.full(len(failed), y.max() + (float(np.ptp(y)) or 1.0))])
            complete = complete + failed
        centers = dict(complete[int(np.argmin(y))].params) if modelled else None
        enc = SearchSpaceEncoder(search_space, encoding=self.encoding, max_levels=self.max_levels, centers=centers)
        keys = [_grid_key(enc, _params_of(t)) for t in trials]
        tried = {k for k in keys if k is not None}
        if len(tried) >= enc.grid_size:  # the grid is exhausted: the independent sampler draws (repeats allowed)
            return {
                name: self._independent_sampler.sample_independent(study, trial, name, dist)
                for name, dist in search_space.items()
            }
        owner = (id(study._storage), study._study_id, study.study_name, signature)  # in-memory studies all have id 0
        while self._queue:
            queued_owner, params = self._queue.pop(0)
            key = _grid_key(enc, params)
            if queued_owner == owner and key is not None and key not in tried:
                return params
        pending = [k for t, k in zip(trials, keys) if k is not None and t.state in (TrialState.RUNNING, TrialState.WAITING)]
        if not modelled:
            self.last_surrogate = "design"
            return enc.params_of_indices(maximin_point(enc, list(tried), self._rng, density=self._design_density(trial)))
        X = np.array([enc.encode(t.params) for t in complete], dtype=float)
        acq = self._acquisition(signature, enc, centers)
        # the first modelled proposal (its trust region not made yet) is the best guess anywhere
        jump = self.trust_radius is not None and owner not in self._regions
        indices = np.array([enc.indices(t.params) for t in complete])
        tr = self._trust_region(owner, enc, complete, indices, y)
        glob = tr is None or jump or (bool(tr.tabu) and trial.number % self.global_every == 0)  # after a first local optimum
        region = Region() if tr is None else tr.global_region() if glob else tr.region()
        thompson = (not region.local or self.local_thompson) and not jump
        Q = self._surrogate_qubo(signature, X, y, complete, thompson=thompson)
        seed = int(self._rng.integers(2**31))
        incumbent = enc.indices(centers or {})
        stalled = tr is not None and region.local and tr.stalled
        picks = []
        if tr is not None and region.local and tr.probing:
            untested = _never_varied_alone(indices)
            if untested.any():  # the surrogate's view of changing these rests on trials that differ in more
                picks = acq.best(Q, tried, self.batch_size, pending=pending, incumbent=incumbent, seed=seed, region=dataclasses.replace(region, vary=untested))
        if not picks and not stalled:
            picks = acq.best(Q, tried, self.batch_size, pending=pending, incumbent=incumbent, seed=seed, region=region)
        if not picks and tr is not None and region.local:  # the ball is exhausted (or stalled): a local optimum, restart elsewhere
            tr.restart([t.number for t in complete], y)
            region = tr.global_region()
            picks = acq.best(Q, tried, self.batch_size, pending=pending, incumbent=incumbent, seed=seed, region=region)
        if not picks and region.tabu:  # every configuration left is in a tabu ball
            picks = acq.best(Q, tried, self.batch_size, pending=pending, incumbent=incumbent, seed=seed)
        self.last_solve = acq.last_solve
        if not picks:
            picks = [maximin_point(enc, list(tried), self._rng, density=float(self._rng.random()))]
        proposals = [enc.params_of_indices(p) for p in picks]
        self._queue = [(owner, p) for p in proposals[1:]]
        return proposals[0]

    def _design_density(self, trial: FrozenTrial) -> float:
        """The share of bits a startup trial sets (its stratum of the design)."""
        return float(self._densities[trial.number % self.n_startup_trials])

    def _trust_region(
        self, owner: tuple, enc: SearchSpaceEncoder, complete: list[FrozenTrial], keys: np.ndarray, y: np.ndarray
    ) -> TrustRegion | None:
        """The trust region of this study and search space, updated with the finished trials (None when off)."""
        if self.trust_radius is None:
            return None
        tr = self._regions.get(owner)
        if tr is None:
            n_params = len(enc.params)
            radius = max(2, round(self.trust_radius * n_params))  # small spaces: at least two parameters at once
            # levels are steps only on a fixed grid (whose level count never changes): refined levels are
            # uneven and follow the incumbent
            ordinal = np.array([_is_finite_grid(code.distribution, self.max_levels) for code in enc.params])
            n_levels = np.array([code.n_levels for code in enc.params])
            # a valley of refined (continuous) parameters needs two changes at once soon: waiting for a
            # second improvement at radius one is for discrete spaces only (rosenbrock3 @50 over 36
            # seeds: 4.24 with the wait, 2.04 without); and its ball never runs out of neighbours, so
            # STALL_LIMIT failures at radius one end the local search instead
            refined = any(_is_refined(code.distribution, self.max_levels) for code in enc.params)
            patience, stall_limit, probe_after = (1, STALL_LIMIT, None) if refined else (2, None, self.trust_failures)
            tr = TrustRegion(
                n_params, radius, self.trust_failures, self.tabu_radius, ordinal=ordinal, n_levels=n_levels,
                successes_at_one=patience, stall_limit=stall_limit, probe_after=probe_after,
            )
            self._regions[owner] = tr
        tr.observe([t.number for t in complete], keys, y)
        return tr

    def _acquisition(self, signature: tuple, enc: SearchSpaceEncoder, centers: dict[str, Any] | None) -> Acquisition:
        """The acquisition of this encoding (kept while the levels stay the same: its enumeration is cached)."""
        key = (signature, tuple(tuple(code.levels) for code in enc.params))
        acq = self._acquisitions.get(signature)
        if acq is None or acq.key != key:
            acq = Acquisition(
                enc, backend=self.backend, time_limit=self.time_limit, options=self.backend_options, diversity=self.diversity
            )
            acq.key = key  # type: ignore[attr-defined]
            self._acquisitions[signature] = acq
        return acq

    def _surrogate_qubo(
        self, signature: tuple, X: np.ndarray, y: np.ndarray, complete: list[FrozenTrial], *, thompson: bool = True
    ) -> np.ndarray:
        """One posterior draw of the chosen surrogate, in standard deviations of ``y`` (plus the learned violation)."""
        y = _warp(y)
        kind = self._pick_surrogate(signature, X, y)
        self.last_surrogate = kind
        scale = max(float(np.std(y)), 1e-12)
        if kind == "bocs":
            if signature not in self._bocs:  # one chain per search space, continued trial after trial
                self._bocs[signature] = BOCS(seed=int(self._rng.integers(2**31)))
            model = self._bocs[signature].fit(X, y)
        else:
            model = FMEnsemble(seed=int(self._rng.integers(2**31))).fit(X, y)
        Q = model.thompson_qubo(self._rng) if thompson else model.qubo()
        Q = Q / scale
        violation = np.array([_violation(t) for t in complete])
        if violation.any():  # a second surrogate learns the (log) violation; it is added as a penalty
            v = np.log1p(violation)
            Q_v = FMEnsemble(members=2, seed=int(self._rng.integers(2**31))).fit(X, v / v.max()).qubo()
            Q = Q + CONSTRAINT_WEIGHT * Q_v
        return Q

    def _pick_surrogate(self, signature: tuple, X: np.ndarray, y: np.ndarray) -> str:
        if self.surrogate != "auto":
            return self.surrogate
        kind, at = self._choice.get(signature, ("", 0))
        if len(y) < MIN_SELECT:
            return "bocs"
        if kind and len(y) < RESELECT_GROWTH * at:
            return kind
        seed = int(self._rng.integers(2**31))
        scores = {
            "bocs": heldout_loglik(lambda: BOCS(burn_in=120, seed=seed), X, y, seed=seed),
            "fm": heldout_loglik(lambda: FMEnsemble(members=4, epochs=200, seed=seed), X, y, seed=seed),
        }
        kind = max(scores, key=scores.__getitem__)
        self._choice[signature] = (kind, len(y))
        return kind


# ------------------------------------------------------------------ helpers
def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _proposed_to_an_earlier_trial(study: Study, trial: FrozenTrial, params: dict[str, Any]) -> bool:
    """Whether a running trial numbered below ``trial`` was handed ``params`` too: another process
    sharing the storage proposed at the same moment (threads of one process take turns)."""
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return any(t.number < trial.number and json.loads(t.system_attrs.get(PROPOSAL_KEY, "null")) == params for t in running)


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


def _level_index(dist: BaseDistribution, levels: Sequence[Any], value: Any) -> int:
    if isinstance(dist, CategoricalDistribution):
        return int(dist.to_internal_repr(value))
    grid = np.asarray(levels, dtype=float)
    return int(np.argmin(np.abs(grid - float(value))))


def _is_finite_grid(dist: BaseDistribution, max_levels: int) -> bool:
    """Whether ``dist`` has no more values than ``max_levels`` (its levels are all its values)."""
    step = getattr(dist, "step", None)
    return step is not None and (dist.high - dist.low) / step + 1 <= max_levels  # type: ignore[attr-defined]


def _is_refined(dist: BaseDistribution, max_levels: int) -> bool:
    """Whether ``dist`` is numeric with more values than ``max_levels``: continuous, or a wide grid, whose levels are refined."""
    return not isinstance(dist, CategoricalDistribution) and not _is_finite_grid(dist, max_levels)


def _never_varied_alone(indices: np.ndarray) -> np.ndarray:
    """Which parameters no two trials differ in alone (``indices``: level indices, a row per trial).

    >>> _never_varied_alone(np.array([[0, 0, 0], [1, 0, 0], [1, 1, 1]])).tolist()
    [False, True, True]
    """
    indices = np.asarray(indices, dtype=np.int64)
    weights = np.random.default_rng(0).integers(1, 2**62, size=indices.shape[1], dtype=np.int64)
    total = (indices * weights).sum(axis=1)  # a hash of each row (int64 arithmetic wraps around)
    out = np.ones(indices.shape[1], dtype=bool)
    for p in range(indices.shape[1]):
        rest = total - indices[:, p] * weights[p]  # the hash of the row without parameter p
        order = np.lexsort((indices[:, p], rest))
        pairs = np.flatnonzero((rest[order][1:] == rest[order][:-1]) & (indices[order, p][1:] != indices[order, p][:-1]))
        for k in pairs:  # same hash, another level of p: confirm the rest is really the same
            a, b = indices[order[k]], indices[order[k + 1]]
            if np.count_nonzero(a != b) == 1:
                out[p] = False
                break
    return out


def _violation(trial: FrozenTrial) -> float:
    """Total constraint violation (0 when feasible or unconstrained; NaN or infinite counts as huge)."""
    recorded = getattr(trial, "constraints", None) or ()  # Optuna 5: a dict name -> value
    values = list(recorded.values() if isinstance(recorded, dict) else recorded)
    if not values:
        values = list(trial.system_attrs.get("constraints") or [])
    total = 0.0
    for c in values:
        c = float(c)
        total += 1e300 if not math.isfinite(c) and not c < 0 else max(0.0, c)
    return min(total, 1e300)


def _warp(y: np.ndarray) -> np.ndarray:
    """Targets on a log scale above their minimum: heavy upper tails stop dominating the fit."""
    low = float(np.min(y))
    typical = float(np.median(y)) - low
    return np.log1p((y - low) / (typical if typical > 1e-12 else 1.0))


def _targets(study: Study, complete: list[FrozenTrial]) -> np.ndarray:
    """Values to minimise; an infeasible trial scores worse than every feasible one."""
    sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
    y = np.array([sign * float(t.value) for t in complete])
    y[~np.isfinite(y)] = np.nan
    finite = y[np.isfinite(y)]
    worst_value = float(finite.max()) if finite.size else 0.0
    y[np.isnan(y)] = worst_value  # an infinite objective: as bad as the worst seen
    violation = np.log1p(np.array([_violation(t) for t in complete]))
    bad = violation > 0
    if bad.any():
        ok = y[~bad]
        worst = float(ok.max()) if ok.size else 0.0
        spread = float(ok.max() - ok.min()) if ok.size > 1 else 1.0
        y[bad] = worst + max(spread, 1e-12) * (1.0 + violation[bad] / violation[bad].max())
    return y


__all__ = ["PROPOSAL_KEY", "SURROGATES", "QuboSampler"]
