"""The best-so-far tracker of one solve: every member's samples, verified, in one place.

Backends hand batches to their :class:`~hqopt.budget.Budget`; the budget
passes them here with the member's :class:`~hqopt.compile.Compiled` (each
member of a race has its own compilation). The tracker decodes them to the
original variables, verifies them with the one rule of :mod:`hqopt.verify`,
keeps the best (a feasible answer always beats an infeasible one, then the
better objective), the history of verified improvements with real
timestamps, the tightest proven bound and any proof of optimality or
infeasibility. It also serves the incumbent back to members, encoded for
their own problem (warm restarts in a race), stops the run at ``target`` and
calls ``on_progress``. It is thread-safe: race members report from threads.

Example:
    >>> import dimod
    >>> from hqopt import Model
    >>> from hqopt.budget import Budget
    >>> from hqopt.compile import compile_for
    >>> m = Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 2})
    >>> tracker = Tracker(m, Budget(None))
    >>> compiled = compile_for(m, accepts="bqm")
    >>> _ = tracker.add(dimod.SampleSet.from_samples(([[1, 1], [1, 0]], [0, 1]), "BINARY", [0, -1]), compiled, "demo")
    >>> tracker.best_objective, tracker.best_feasible
    (-1.0, True)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from hqopt.budget import Budget
from hqopt.compile import Compiled
from hqopt.model import Model
from hqopt.samples import ConstraintRows
from hqopt.verify import Verifier

#: how many of the lowest-energy distinct samples of each batch are verified
VERIFY_TOP = 32
#: the lowest-energy samples of a batch whose violations drive penalty tuning
LOWEST_CHECKED = 4
#: distinct verified samples kept for the Result's SampleSet
KEEP = 64
#: at most this many values (samples x variables) in it: a 70 000-variable model keeps 28 samples, whose
#: verification for the Result is then half the end of a short solve, not all of it
KEEP_VALUES = 2_000_000


@dataclass(frozen=True)
class Progress:
    """What the live display is told after each verified batch."""

    elapsed: float
    time_limit: float | None
    best_objective: float | None
    feasible: bool
    round: int
    samples_seen: int
    member: str = ""


@dataclass
class MemberStats:
    """What one member of a solve contributed."""

    improvements: int = 0
    best_objective: float | None = None
    status: str = "unknown"
    bound: float | None = None
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


class Tracker:
    """Verified best-so-far, history, bound and proofs of one solve.

    Args:
        model: the original model (answers are verified on it).
        budget: the solve's budget (stopped at ``target``; gives timestamps).
        on_progress: called with a :class:`Progress` after each verified batch.
        target: stop once a feasible objective at least this good is verified.
        rows: the constraint arrays of ``model.cqm``, if just built (see :class:`~hqopt.verify.Verifier`).
    """

    def __init__(
        self,
        model: Model,
        budget: Budget,
        on_progress: Callable[[Progress], Any] | None = None,
        target: float | None = None,
        rows: ConstraintRows | None = None,
    ) -> None:
        self.model = model
        self.budget = budget
        self.on_progress = on_progress
        self.target = target
        self.time_to_target: float | None = None
        self.verifier = Verifier(model, rows)
        self.labels: list[Hashable] = self.verifier.labels
        self.sign = model.sense.sign
        self.verify_time = 0.0
        self.samples_seen = 0
        self.round = 0
        self.history: list[tuple[float, float]] = []
        self.best_row: np.ndarray | None = None
        self.best_objective: float | None = None
        self.best_feasible = False
        self.best_violation = math.inf
        self.best_member = ""
        self.bound: float | None = None  # minimisation form
        self.proven_optimal = False
        self.proven_infeasible = False
        self.members: dict[str, MemberStats] = {}
        self._version = 0
        self._encoded: dict[int, tuple[int, dict[Hashable, float]]] = {}
        self._kept: dict[bytes, tuple[np.ndarray, float, bool]] = {}
        self._keep_count = max(4, min(KEEP, KEEP_VALUES // max(1, len(self.labels))))
        self._lock = threading.RLock()
        #: set when the solve has answered: members left behind report into the void
        self.closed = False

    # ------------------------------------------------------------- reporting
    def member(self, name: str) -> MemberStats:
        with self._lock:
            return self.members.setdefault(name, MemberStats())

    def add(self, sampleset: dimod.SampleSet, compiled: Compiled, member: str = "") -> set[str]:
        """Verify a batch; returns the constraints its lowest-energy samples break."""
        if len(sampleset) == 0 or self.closed:
            return set()
        order = np.argsort(sampleset.record.energy, kind="stable")
        rows = compiled.decode(sampleset)[order]
        rows = rows[_first_distinct(rows, VERIFY_TOP)]
        return self._add_rows(rows, member, int(np.sum(sampleset.record.num_occurrences)))

    def add_solution(self, solution: Mapping[Hashable, float], member: str = "initial") -> bool:
        """Verify a complete assignment of the original variables (a warm start) like any sample.

        Returns False (and keeps nothing) when ``solution`` doesn't assign every variable.
        """
        if any(v not in solution for v in self.labels):
            return False
        self._add_rows(np.array([[float(solution[v]) for v in self.labels]]), member, 1)
        return True

    def _add_rows(self, rows: np.ndarray, member: str, seen: int) -> set[str]:
        """Verify distinct rows (lowest energy first); keep the best; report progress."""
        t0 = self.budget.elapsed()
        verdicts = self.verifier(rows)
        violated: set[str] = set()
        for i in range(min(LOWEST_CHECKED, len(rows))):
            if not verdicts.feasible[i]:
                violated.update(verdicts.violated(i))
                violated.update(f"one-hot:{v}" for v in verdicts.out_of_domain[i])
        with self._lock:
            self.samples_seen += seen
            stats = self.members.setdefault(member, MemberStats())
            for i, row in enumerate(rows):
                objective, ok = float(verdicts.objectives[i]), bool(verdicts.feasible[i])
                self._keep(row, objective, ok)
                if ok:
                    if stats.best_objective is None or self.sign * objective < self.sign * stats.best_objective:
                        stats.best_objective = objective
                    if not self.best_feasible or self.best_objective is None or self.sign * objective < self.sign * self.best_objective:
                        stats.improvements += 1
                        self._set_best(row, objective, True, 0.0, member)
                    elif objective == self.best_objective and self.best_row is not None and row.tobytes() < self.best_row.tobytes():
                        self.best_row = row  # ties broken by content, not arrival: races replay
                elif not self.best_feasible:
                    total = verdicts.total_violation(i)
                    if total < self.best_violation:
                        self._set_best(row, objective, False, total, member)
            self.verify_time += self.budget.elapsed() - t0
            progress = Progress(
                self.budget.elapsed(),
                self.budget.time_limit,
                self.best_objective,
                self.best_feasible,
                self.round,
                self.samples_seen,
                member,
            )
        if self.on_progress is not None:
            self.on_progress(progress)
        return violated

    def record(self, member: str, status: str, bound: float | None, proves: bool) -> None:
        """A member's final word: its status and proven bound (minimisation form).

        ``proves`` says whether the member's "optimal"/"infeasible" is a proof
        about the original model (CQM backends) rather than about a penalty BQM.
        """
        with self._lock:
            stats = self.members.setdefault(member, MemberStats())
            stats.status, stats.bound = status, bound
            if bound is not None and math.isfinite(bound):
                self.bound = bound if self.bound is None else max(self.bound, bound)
            if proves and status == "optimal":
                self.proven_optimal = True
            if proves and status == "infeasible":
                self.proven_infeasible = True

    @property
    def settled(self) -> bool:
        """True once nothing better can be found (a proof, or best == bound)."""
        with self._lock:
            if self.proven_optimal or self.proven_infeasible:
                return True
            return self._gap_closed()

    # ------------------------------------------------------------ incumbent
    def best_solution(self) -> dict[Hashable, float] | None:
        """The best verified feasible solution so far, over the original variables."""
        with self._lock:
            if not self.best_feasible or self.best_row is None:
                return None
            return dict(zip(self.labels, as_numbers(self.best_row)))

    def incumbent_for(self, compiled: Compiled) -> dict[Hashable, float] | None:
        """The best feasible solution encoded for ``compiled`` (cached per version)."""
        with self._lock:
            cached = self._encoded.get(id(compiled))
            if cached is not None and cached[0] == self._version:
                return cached[1]
            solution = self.best_solution()
            if solution is None:
                return None
            encoded = dict(compiled.encode(solution))
            self._encoded[id(compiled)] = (self._version, encoded)
            return encoded

    # -------------------------------------------------------------- results
    def status(self, interrupted: bool) -> str:
        with self._lock:
            if self.best_feasible and (self.proven_optimal or self._gap_closed()):
                return "optimal"
            if self.best_feasible:
                return "feasible"
            if self.proven_infeasible:
                return "infeasible"
            return "unknown"

    def sampleset(self) -> dimod.SampleSet:
        """The kept distinct samples (feasible first, then by objective), verified."""
        with self._lock:
            entries = sorted(self._kept.values(), key=lambda e: (not e[2], self.sign * e[1]))[: self._keep_count]
        rows = np.array([e[0] for e in entries]) if entries else np.zeros((0, len(self.labels)))
        return self.verifier.sampleset(rows)

    # -------------------------------------------------------------- helpers
    def _gap_closed(self) -> bool:
        if self.bound is None or not self.best_feasible or self.best_objective is None:
            return False
        best = self.sign * self.best_objective
        return best <= self.bound + 1e-9 * max(1.0, abs(self.bound))

    def _keep(self, row: np.ndarray, objective: float, feasible: bool) -> None:
        self._kept.setdefault(row.tobytes(), (row, objective, feasible))
        if len(self._kept) > 2 * self._keep_count:
            ranked = sorted(self._kept.items(), key=lambda kv: (not kv[1][2], self.sign * kv[1][1]))
            self._kept = dict(ranked[: self._keep_count])

    def _set_best(self, row: np.ndarray, objective: float, feasible: bool, violation: float, member: str) -> None:
        self.best_row, self.best_objective, self.best_feasible, self.best_violation = row, objective, feasible, violation
        self.best_member = member
        self._version += 1
        if feasible:
            self.history.append((self.budget.elapsed(), objective))
            if self.target is not None and self.time_to_target is None and self.sign * objective <= self.sign * self.target:
                self.time_to_target = self.budget.elapsed()
                self.budget.stop()


def as_numbers(row: np.ndarray) -> list[int | float]:
    """``row``'s values as Python numbers: ints where integral (a sample's 0/1 and integer
    values), floats elsewhere; one NumPy pass, not a step per value, on a large sample.

    >>> as_numbers(np.array([1.0, 0.5, -2.0, np.inf]))
    [1, 0.5, -2, inf]
    """
    row = np.asarray(row, dtype=float)
    integral = np.isfinite(row) & (row == np.trunc(row))
    if integral.all() and np.abs(row).max(initial=0.0) < 2**62:
        return row.astype(np.int64).tolist()
    return [int(x) if whole else x for x, whole in zip(row.tolist(), integral.tolist())]


def _first_distinct(rows: np.ndarray, limit: int) -> list[int]:
    """Indices of the first ``limit`` distinct rows, in order (a hash per row: no sort of the batch).

    >>> _first_distinct(np.array([[1, 0], [1, 0], [0, 1], [1, 1]]), 2)
    [0, 2]
    """
    seen: set[bytes] = set()
    keep: list[int] = []
    for i, row in enumerate(rows):
        key = row.tobytes()
        if key not in seen:
            seen.add(key)
            keep.append(i)
            if len(keep) == limit:
                break
    return keep
