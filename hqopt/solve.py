"""``solve``: compile -> run -> verify -> tune penalties -> decode, in one call.

The CLI, the AutoML sampler and the benchmarks all come through here.

Example:
    >>> import hqopt
    >>> m = hqopt.Model(sense="max")
    >>> x = [m.binary(i) for i in range(4)]
    >>> m.set_objective(sum((i + 1) * x[i] for i in range(4)))
    >>> m.add_constraint(sum(x) <= 2, label="at-most-two")
    'at-most-two'
    >>> r = hqopt.solve(m, backend="sa", seed=3)
    >>> r.objective, r.feasible
    (7.0, True)
"""

from __future__ import annotations

import contextlib
import math
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import Backend, seed_sequence
from hqopt.backends.registry import get_backend
from hqopt.budget import Budget, check_time_limit
from hqopt.compile import Compiled, compile_for
from hqopt.errors import BackendError
from hqopt.model import Label, Model, Sense, as_model
from hqopt.result import Result, Status, Timing

#: how many of the lowest-energy distinct samples of each batch are verified
VERIFY_TOP = 32
#: the lowest-energy samples of a batch whose violations drive penalty tuning
LOWEST_CHECKED = 4
#: penalty rounds when there is no time limit (each is the backend's default effort)
DEFAULT_PENALTY_ROUNDS = 6


@dataclass(frozen=True)
class Progress:
    """What the live display is told after each verified batch."""

    elapsed: float
    time_limit: float | None
    best_objective: float | None
    feasible: bool
    round: int
    samples_seen: int


def solve(
    problem: Any,
    backend: str | Backend | dimod.Sampler = "auto",
    time_limit: float | None = None,
    seed: int | None = None,
    *,
    penalty: float | Mapping[str, float] | None = None,
    penalty_growth: float = 2.0,
    penalty_rounds: int | None = None,
    integer_encoding: str = "binary",
    initial: Mapping[Label, float] | None = None,
    on_progress: Callable[[Progress], Any] | None = None,
    stop: threading.Event | None = None,
    target: float | None = None,
    **options: Any,
) -> Result:
    """Solve ``problem`` on ``backend`` and return a verified :class:`Result`.

    Args:
        problem: an :class:`hqopt.Model`, a dimod BQM/CQM, or anything with ``to_model()``.
        backend: a registered name (``hqopt backends`` lists them), a Backend
            instance, or any dimod Sampler (wrapped automatically).
        time_limit: wall-clock seconds for the whole solve; ``None`` runs the
            backend's default, deterministic amount of work.
        seed: makes the run repeat; drawn at random and recorded when omitted.
        penalty: starting penalty weight(s) for BQM backends: one number or
            ``{constraint label: weight}``; default: the per-constraint bound
            of :mod:`hqopt.compile.penalty`.
        penalty_growth: factor applied to violated constraints' weights between rounds.
        penalty_rounds: most compile-run rounds (default: as many as the time
            limit allows, or 6 without one).
        integer_encoding: ``binary``, ``unary``, ``one-hot`` or ``domain-wall``.
        initial: a warm-start assignment (used as hints or initial states), verified
            first so the answer is never worse; default: the model's own
            ``metadata["warm_start"]()`` when a formulation provides one
            (``initial={}``: none).
        on_progress: called with a :class:`Progress` after each verified batch.
        stop: an event another thread may set to end the run early; the best
            solution so far is returned. Ctrl-C does the same (a second
            Ctrl-C raises KeyboardInterrupt at once).
        target: stop as soon as a verified feasible solution is at least this
            good (in the problem's sense); for time-to-target measurements.
        **options: backend options, e.g. ``num_reads=100`` for ``sa``.
    """
    t_start = time.perf_counter()
    time_limit = check_time_limit(time_limit)
    seed = _check_seed(seed)
    if penalty_growth <= 1:
        raise BackendError(f"penalty_growth must be > 1, got {penalty_growth!r}")
    if penalty_rounds is not None and penalty_rounds < 1:
        raise BackendError(f"penalty_rounds must be >= 1, got {penalty_rounds!r}")
    model = as_model(problem)
    if initial is None and callable(model.metadata.get("warm_start")):
        initial = model.metadata["warm_start"]()
    engine = get_backend(backend, **options)
    budget_owner = Budget(time_limit, stop_event=stop)

    reason = ""
    select = getattr(engine, "select", None)
    if callable(select):  # the auto backend picks a concrete one
        engine, reason = select(model, time_limit)

    caps = engine.capabilities
    t0 = time.perf_counter()
    compiled = compile_for(
        model, accepts=caps.accepts, encoding=integer_encoding, weights=penalty if caps.accepts == "bqm" else None
    )
    compile_time = time.perf_counter() - t0
    backend_status = "unknown"

    tracker = _Tracker(model, compiled, budget_owner, on_progress, target)
    rounds_allowed = penalty_rounds or (DEFAULT_PENALTY_ROUNDS if time_limit is None else 1_000)
    needs_tuning = compiled.penalty is not None and bool(compiled.penalty.penalties)
    seeds = seed_sequence(seed, rounds_allowed + 1)
    bound = None
    backend_info: dict[str, Any] = {}
    solve_time = 0.0
    hint = dict(initial) if initial else None
    if hint is not None:
        tracker.add_initial(hint)

    if model.num_variables == 0:  # nothing to search: evaluate the one (empty) assignment
        rounds_allowed = 0
        tracker.add(dimod.SampleSet.from_samples(([[]], []), dimod.BINARY, energy=[0.0]))
        backend_status = "optimal" if tracker.best_feasible else "infeasible"
    ctrl_c = _CtrlC(budget_owner)
    try:
        with ctrl_c.installed():
            for round_index in range(rounds_allowed):
                tracker.start_round(round_index)
                if round_index and budget_owner.limited and budget_owner.remaining() < 0.02 * time_limit:
                    break
                t0 = time.perf_counter()
                problem_for_backend = compiled.problem()
                compile_time += time.perf_counter() - t0
                t0 = time.perf_counter()
                out = engine.run(
                    problem_for_backend, _round_budget(budget_owner, needs_tuning), seeds[round_index], initial=hint
                )
                solve_time += time.perf_counter() - t0
                tracker.add(out.sampleset)
                bound, backend_status = out.bound, out.status
                _merge_info(backend_info, out.info)
                if not needs_tuning or backend_status == "infeasible" or budget_owner.stopped:
                    break
                violated = tracker.round_violated()
                if violated:  # the lowest-energy samples break these: their weights are too low
                    compiled.penalty.raise_weights(violated, penalty_growth)  # type: ignore[union-attr]
                elif not budget_owner.limited:
                    break
                if budget_owner.expired():
                    break
    except KeyboardInterrupt:
        ctrl_c.pressed = True
    interrupted = ctrl_c.pressed

    return tracker.result(
        engine=engine,
        reason=reason,
        seed=seed,
        time_limit=time_limit,
        bound=bound,
        backend_status=backend_status,
        backend_info=backend_info,
        interrupted=interrupted,
        timing=Timing(
            total=time.perf_counter() - t_start,
            compile=compile_time,
            solve=solve_time,
            verify=tracker.verify_time,
            backend={k: v for k, v in backend_info.items() if k.endswith("_time") and isinstance(v, (int, float))},
        ),
    )


# ---------------------------------------------------------------------- helpers
def _check_seed(seed: int | None) -> int:
    if seed is None:
        return secrets.randbelow(2**31)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BackendError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


class _CtrlC:
    """While installed (main thread only), Ctrl-C stops the run gracefully; twice, at once."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.pressed = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        self.budget.stop()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _round_budget(budget: Budget, tuning: bool) -> Budget:
    """With penalties to tune, a round gets half of what is left (so tuning can follow)."""
    if not budget.limited:
        return budget.sub(None)
    remaining = budget.remaining()
    return budget.sub(remaining / 2 if tuning and remaining > 0.1 else remaining)


def _merge_info(into: dict[str, Any], info: Mapping[str, Any]) -> None:
    for key, value in info.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key in into and key.endswith(("_time", "reads", "batches")):
            into[key] += value
        else:
            into[key] = value


class _Tracker:
    """Verifies samples on the original model and keeps the best so far."""

    def __init__(
        self,
        model: Model,
        compiled: Compiled,
        budget: Budget,
        on_progress: Callable[[Progress], Any] | None,
        target: float | None = None,
    ) -> None:
        self.model = model
        self.target = target
        self.time_to_target: float | None = None
        self.compiled = compiled
        self.budget = budget
        self.on_progress = on_progress
        self.labels = compiled.decoder.labels
        self.sign = model.sense.sign
        self.round = 0
        self.verify_time = 0.0
        self.samples_seen = 0
        self.history: list[tuple[float, float]] = []
        self.best_row: np.ndarray | None = None
        self.best_objective: float | None = None
        self.best_feasible = False
        self.best_violation = math.inf
        self._violated: set[str] = set()
        self._kept: dict[bytes, tuple[np.ndarray, float, bool]] = {}
        cqm = model.cqm
        self._lower = np.array([cqm.lower_bound(v) for v in self.labels], dtype=float)
        self._upper = np.array([cqm.upper_bound(v) for v in self.labels], dtype=float)
        budget._on_batch = self.add  # noqa: SLF001 - the tracker owns the budget's hook

    def add(self, sampleset: dimod.SampleSet) -> None:
        if len(sampleset) == 0:
            return
        t0 = time.perf_counter()
        self.samples_seen += int(np.sum(sampleset.record.num_occurrences))
        order = np.argsort(sampleset.record.energy, kind="stable")
        self._check(self.compiled.decode(sampleset)[order], t0)

    def add_initial(self, initial: Mapping[Label, float]) -> None:
        """Verify a complete warm start like any sample, so the answer is never worse than it."""
        if all(v in initial for v in self.labels):
            self._check(np.array([[float(initial[v]) for v in self.labels]]), time.perf_counter())

    def _check(self, rows: np.ndarray, t0: float) -> None:
        """Verify decoded rows (best first) on the original model; keep the best."""
        _, first = np.unique(rows, axis=0, return_index=True)
        rows = rows[np.sort(first)][:VERIFY_TOP]
        checked = dimod.SampleSet.from_samples_cqm((rows.astype(float), self.labels), self.model.cqm)
        objectives = np.asarray(checked.record.energy, dtype=float)
        if not self.labels:  # dimod drops the offset of an empty sample
            objectives = np.full(len(rows), float(self.model.cqm.objective.offset))
        in_domain = (rows >= self._lower) & (rows <= self._upper)  # dimod does not check integer bounds
        feasible = np.asarray(checked.record.is_feasible, dtype=bool) & in_domain.all(axis=1)
        for row, objective, ok in zip(rows, objectives, feasible):
            self._kept.setdefault(row.tobytes(), (row, float(objective), bool(ok)))
            if ok:
                if not self.best_feasible or self.sign * objective < self.sign * self.best_objective:
                    self._set_best(row, float(objective), True, 0.0)
            elif not self.best_feasible:
                total = self.model.evaluate(dict(zip(self.labels, row))).total_violation
                if total < self.best_violation:
                    self._set_best(row, float(objective), False, total)
        for row, ok, ok_domain in zip(rows[:LOWEST_CHECKED], feasible, in_domain):
            if not ok:
                sample = dict(zip(self.labels, row))
                self._violated |= {k for k, v in self.model.violations(sample).items() if v > 1e-6}
                self._violated |= {f"one-hot:{self.labels[j]}" for j in np.flatnonzero(~ok_domain)}
        self.verify_time += time.perf_counter() - t0
        if self.on_progress is not None:
            self.on_progress(
                Progress(
                    self.budget.elapsed(),
                    self.budget.time_limit,
                    self.best_objective,
                    self.best_feasible,
                    self.round,
                    self.samples_seen,
                )
            )

    def _set_best(self, row: np.ndarray, objective: float, feasible: bool, violation: float) -> None:
        self.best_row, self.best_objective, self.best_feasible, self.best_violation = row, objective, feasible, violation
        if feasible:
            self.history.append((self.budget.elapsed(), objective))
            if self.target is not None and self.time_to_target is None and self.sign * objective <= self.sign * self.target:
                self.time_to_target = self.budget.elapsed()
                self.budget.stop()

    def start_round(self, index: int) -> None:
        self.round = index
        self._violated = set()

    def round_violated(self) -> set[str]:
        """Constraints broken by the lowest-energy samples of this round."""
        return set(self._violated)

    def result(
        self,
        *,
        engine: Backend,
        reason: str,
        seed: int,
        time_limit: float | None,
        bound: float | None,
        backend_status: str,
        backend_info: dict[str, Any],
        interrupted: bool,
        timing: Timing,
    ) -> Result:
        solution = None
        violations: dict[str, float] = {}
        decoded = None
        if self.best_row is not None:
            solution = {v: _as_number(x) for v, x in zip(self.labels, self.best_row)}
            evaluation = self.model.evaluate(solution)
            violations = evaluation.violations
            if self.best_feasible:
                decoded = self.model.decode(solution)
        if backend_status == "infeasible" and not self.best_feasible:
            status = Status.INFEASIBLE
        elif self.best_feasible:
            status = Status.OPTIMAL if backend_status == "optimal" and not interrupted else Status.FEASIBLE
        else:
            status = Status.UNKNOWN
        problem_bound = None if bound is None else self.sign * bound
        if self.target is not None:
            backend_info = {**backend_info, "target": self.target, "time_to_target": self.time_to_target}
        return Result(
            solution=solution,
            objective=self.best_objective,
            feasible=self.best_feasible,
            status=status,
            sense=self.model.sense,
            violations=violations,
            bound=problem_bound,
            timing=timing,
            backend=engine.name,
            backend_reason=reason,
            seed=seed,
            time_limit=time_limit,
            penalty_weights=self.compiled.weights,
            history=self.history,
            info=backend_info,
            decoded=decoded,
            interrupted=interrupted,
            model_name=self.model.name,
            sampleset=self._sampleset(),
        )

    def _sampleset(self) -> dimod.SampleSet:
        if not self._kept:
            return dimod.SampleSet.from_samples_cqm(([], self.labels), self.model.cqm)
        entries = sorted(self._kept.values(), key=lambda e: (not e[2], self.sign * e[1]))[:100]
        rows = np.array([e[0] for e in entries])
        return dimod.SampleSet.from_samples_cqm((rows, self.labels), self.model.cqm)


def _as_number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


__all__ = ["solve", "Progress", "Sense"]
