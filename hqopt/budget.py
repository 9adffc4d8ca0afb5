"""Wall-clock budget, interruption and progress shared by ``solve`` and backends.

Every backend receives a :class:`Budget`. Anytime backends loop (restarts,
batches of reads) until :meth:`Budget.expired`; each batch they finish is
handed to :meth:`Budget.report`, which lets ``solve`` verify it on the
original model and keep the best-so-far solution, so an interrupted run
still has an answer.

Example:
    >>> b = Budget(2.0)
    >>> 0 < b.remaining() <= 2.0
    True
    >>> Budget(None).remaining()
    inf
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import dimod

from hqopt.errors import ArgumentError


def check_time_limit(time_limit: float | None) -> float | None:
    """Validate a user-given time limit in seconds (``None`` = backend default effort)."""
    if time_limit is None:
        return None
    if isinstance(time_limit, (bool, str, bytes)):  # "5" is a typo for 5 as often as not: say so
        raise ArgumentError(f"time_limit must be a number of seconds, got {time_limit!r}")
    try:
        value = float(time_limit)
    except (TypeError, ValueError):
        raise ArgumentError(f"time_limit must be a number of seconds, got {time_limit!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ArgumentError(f"time_limit must be a positive number of seconds, got {time_limit!r} (None: no limit)")
    return value


class StopFlag(Protocol):
    """What ``solve(stop=...)`` takes: a :class:`threading.Event`, or anything read and set like one."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...


class Budget:
    """A wall-clock deadline plus a stop flag and a progress hook.

    Args:
        time_limit: seconds from now, or ``None`` for "no deadline"; backends
            then run their default, deterministic amount of work.
        on_batch: called with each :class:`dimod.SampleSet` a backend reports.
        stop_event: shared with sub-budgets (and whoever wants to stop the
            run, e.g. a Ctrl-C handler); a fresh one when omitted.
        external: an event owned by someone else (the caller's ``stop=``, an
            enclosing solve's stop signal) that stops this budget too; this
            budget never sets it, so a nested solve's proof can't stop its caller.
        started: the ``time.perf_counter()`` the clock started at (default: now).
    """

    def __init__(
        self,
        time_limit: float | None,
        on_batch: Callable[[dimod.SampleSet], Any] | None = None,
        stop_event: threading.Event | None = None,
        external: StopFlag | None = None,
        started: float | None = None,
    ) -> None:
        self.time_limit = check_time_limit(time_limit)
        self.start = time.perf_counter() if started is None else started
        self.deadline = math.inf if self.time_limit is None else self.start + self.time_limit
        self._on_batch = on_batch
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self._external = external
        #: set by ``solve``: the best verified solution so far, encoded for this run's problem
        self._incumbent: Callable[[], dict[Any, float] | None] | None = None

    @property
    def limited(self) -> bool:
        """True when there is a deadline."""
        return self.time_limit is not None

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        """Seconds left (``inf`` without a deadline, never negative)."""
        return max(0.0, self.deadline - time.perf_counter())

    def expired(self) -> bool:
        return self.stopped or time.perf_counter() >= self.deadline

    def stop(self) -> None:
        """Ask the running backend to finish its current batch and return."""
        self.stop_event.set()

    @property
    def stopped(self) -> bool:
        return self.stop_event.is_set() or (self._external is not None and self._external.is_set())

    def stop_signal(self) -> _StopSignal:
        """An event-like view (``is_set``/``set``/``wait``) that is set when this budget is
        stopped: the ``stop=`` to give a nested ``solve`` so that this run's stop reaches it."""
        return _StopSignal(self)

    def report(self, sampleset: dimod.SampleSet) -> None:
        """Hand a finished batch to ``solve`` (best-so-far tracking, live display)."""
        if self._on_batch is not None:
            self._on_batch(sampleset)

    def incumbent(self) -> dict[Any, float] | None:
        """The best verified solution found so far by anyone in this solve (a race's
        other members included), over the variables of the problem this backend
        was given; ``None`` when there is none yet. Backends may restart from it."""
        return self._incumbent() if self._incumbent is not None else None

    def attach(
        self,
        on_batch: Callable[[dimod.SampleSet], Any],
        incumbent: Callable[[], dict[Any, float] | None] | None,
    ) -> Budget:
        """A budget with this one's deadline and stop flag whose batches go to
        ``on_batch`` and whose :meth:`incumbent` asks ``incumbent`` (one per race member)."""
        child = self.sub(None)
        child._on_batch = on_batch
        child._incumbent = incumbent
        return child

    def sub(self, time_limit: float | None) -> Budget:
        """A budget for one part of this run: never past this one's deadline."""
        own = self.remaining()
        limit = own if time_limit is None else min(own, time_limit)
        child = Budget(None if math.isinf(limit) else max(limit, 1e-3), self._on_batch, self.stop_event, self._external)
        child._incumbent = self._incumbent
        return child


def is_stop_signal(stop: object) -> bool:
    """Whether ``stop`` is a :meth:`Budget.stop_signal`: the solve given it runs inside another hqopt run."""
    return isinstance(stop, _StopSignal)


class _StopSignal:
    """``Budget.stop_signal()``: reads as set while the budget is stopped; setting it stops the budget."""

    def __init__(self, budget: Budget) -> None:
        self._budget = budget

    def is_set(self) -> bool:
        return self._budget.stopped

    def set(self) -> None:
        self._budget.stop()

    def wait(self, timeout: float | None = None) -> bool:
        end = math.inf if timeout is None else time.perf_counter() + timeout
        while not self.is_set() and time.perf_counter() < end:
            time.sleep(0.01)
        return self.is_set()
