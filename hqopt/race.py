"""Run one backend, or race several, on a model under one Budget and one Tracker.

Each member compiles the model for itself (CQM or penalty BQM), then runs
rounds: ``Backend.run`` -> every batch verified by the shared
:class:`~hqopt.tracker.Tracker` -> penalty weights raised for the constraints
the lowest-energy samples still break -> again, while the budget lasts.
Compilation happens inside the budget. Members of a race run in threads
(CP-SAT, dwave-samplers and the numba kernels release the GIL while they
search) and see each other at once through the tracker:

* every member's improvement reaches ``on_progress``, ``target``, the
  history and Ctrl-C as it happens;
* a proof (optimality, infeasibility, or a best answer that meets the best
  bound) stops everyone;
* in a timed race the best verified answer is served back to every member,
  encoded for its own problem, through ``budget.incumbent()`` (warm restarts
  of ``ls``/``lns``; penalty rounds of annealers start from it). Untimed races
  exchange nothing, so a seeded untimed race replays exactly.

Example:
    >>> from hqopt import Model
    >>> from hqopt.backends import get_backend
    >>> from hqopt.budget import Budget
    >>> m = Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 3})
    >>> budget = Budget(None)
    >>> tracker = Tracker(m, budget)
    >>> members = [Member(get_backend("exact"), 1, "exact"), Member(get_backend("sa"), 2, "sa")]
    >>> outcome = run_race(m, members, budget, tracker, RaceSettings())
    >>> tracker.best_objective, tracker.status(False)
    (-1.0, 'optimal')
"""

from __future__ import annotations

import atexit
import math
import threading
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dimod

from hqopt.backends.base import Backend, BackendOutput, seed_sequence
from hqopt.budget import Budget
from hqopt.compile import Compiled, compile_for
from hqopt.errors import HqoptError
from hqopt.model import Model
from hqopt.tracker import Tracker

#: penalty rounds when there is no time limit (each is the backend's default effort)
DEFAULT_PENALTY_ROUNDS = 6
#: ``MemberOutcome.info["skipped"]`` of a member whose time ran out before its first round
NO_TIME_LEFT = "no time left after compilation"


@dataclass(frozen=True)
class Member:
    """One backend in a solve, with its own seed and a name unique in the race."""

    backend: Backend
    seed: int
    name: str


@dataclass(frozen=True)
class RaceSettings:
    """The solve options every member shares."""

    encoding: str = "binary"
    penalty: float | Mapping[str, float] | None = None
    penalty_growth: float = 2.0
    penalty_rounds: int | None = None
    initial: Mapping[Hashable, float] | None = None


@dataclass
class MemberOutcome:
    """What one member reports back to ``solve`` (times in seconds)."""

    info: dict[str, Any] = field(default_factory=dict)
    compile_time: float = 0.0
    solve_time: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)
    error: HqoptError | None = None


#: seconds a race waits, once stopped (proof, target, Ctrl-C), for members to hand in
STOP_GRACE = 0.5


#: members told to stop but still running when their solve answered (see :func:`_finish_left_behind`)
_LEFT_BEHIND: set[threading.Thread] = set()
#: at interpreter exit, how long to wait for them in all
EXIT_WAIT = 10.0


@atexit.register
def _finish_left_behind() -> None:
    """Let members that were told to stop finish before the interpreter is torn down: a native
    solver (HiGHS, CP-SAT) still running in a daemon thread at teardown aborts the process."""
    end = time.perf_counter() + EXIT_WAIT
    for thread in list(_LEFT_BEHIND):
        thread.join(timeout=max(0.0, end - time.perf_counter()))


def overrun_grace(time_limit: float) -> float:
    """How long past its deadline a timed solve waits for a member before answering without it.

    Under the promise that a solve ends within max(0.5 s, 10 %) of its limit,
    with room left to assemble the Result.

    >>> overrun_grace(1.0), overrun_grace(100.0)
    (0.1, 3.0)
    """
    return max(0.1, 0.03 * time_limit)


def run_race(
    model: Model, members: list[Member], budget: Budget, tracker: Tracker, settings: RaceSettings
) -> dict[str, MemberOutcome]:
    """Run ``members`` until done, proven, stopped or past the deadline; their outcomes by name.

    An untimed single member runs in this thread, and so does a single member
    called from another thread (a nested solve, e.g. an ``lns`` sub-solve: the
    enclosing race keeps the time, and no native solver is left running beside
    the next call). Otherwise each member runs in
    a daemon thread while this one waits in short steps (so Ctrl-C is handled
    at once); a member still running :func:`overrun_grace` seconds past the
    deadline is told to stop and left behind (its best so far is already in
    the tracker), so the time limit holds whatever a backend does. A member's
    refusal (too large, unavailable) doesn't end a race; it is raised when
    every member refused, or when it was the only one.
    """
    exchange = budget.limited and len(members) > 1
    nested = threading.current_thread() is not threading.main_thread()  # e.g. an lns sub-solve: its caller keeps time
    if len(members) == 1 and (not budget.limited or nested):
        return {members[0].name: run_member(model, members[0], budget, tracker, settings, exchange)}
    outcomes: dict[str, MemberOutcome] = {}
    unexpected: list[BaseException] = []

    def work(member: Member) -> None:
        try:
            outcomes[member.name] = run_member(model, member, budget, tracker, settings, exchange)
        except HqoptError as error:
            tracker.record(member.name, "error", None, proves=False)
            outcomes[member.name] = MemberOutcome(info={"error": str(error)}, error=error)
        except BaseException as error:  # noqa: BLE001 - re-raised in the solving thread below
            unexpected.append(error)
            budget.stop()

    threads = [threading.Thread(target=work, args=(m,), name=f"hqopt-{m.name}", daemon=True) for m in members]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    cutoff = budget.deadline + overrun_grace(budget.time_limit) if budget.time_limit is not None else math.inf
    stopped_at: float | None = None
    while True:
        alive = [t for t in threads if t.is_alive()]
        if not alive:
            break
        now = time.perf_counter()
        if stopped_at is None and budget.stopped:
            stopped_at = now  # a proof, the target, Ctrl-C: the others get a moment to hand in
        if now > cutoff or (stopped_at is not None and now > stopped_at + STOP_GRACE):
            budget.stop()
            tracker.closed = True  # the answer is being written: stragglers' reports no longer count
            _LEFT_BEHIND.update(t for t in threads if t.is_alive())
            break
        alive[0].join(timeout=0.05)
    if unexpected:
        raise unexpected[0]
    for member in members:  # left behind: its time so far (compiling included) counts as solving
        outcomes.setdefault(
            member.name,
            MemberOutcome(info={"abandoned": "still running past the deadline; its best so far is kept"}, solve_time=time.perf_counter() - began),
        )
    errors = [error for m in members if (error := outcomes[m.name].error) is not None]
    if errors and len(errors) == len(members):
        raise errors[0]  # nobody could run: say why
    return {m.name: outcomes[m.name] for m in members}


def run_member(
    model: Model,
    member: Member,
    budget: Budget,
    tracker: Tracker,
    settings: RaceSettings,
    exchange: bool = False,
) -> MemberOutcome:
    """Compile ``model`` for one backend and run its rounds; batches go to ``tracker``."""
    backend = member.backend
    caps = backend.capabilities
    outcome = MemberOutcome()
    began = t0 = time.perf_counter()
    compiled = compile_for(
        model,
        accepts=caps.accepts,
        encoding=settings.encoding,
        weights=settings.penalty if caps.accepts == "bqm" else None,
    )
    hint = compiled.encode(settings.initial) if settings.initial is not None else None
    outcome.compile_time += time.perf_counter() - t0
    violated: set[str] = set()

    def on_batch(sampleset: Any) -> None:
        violated.update(tracker.add(sampleset, compiled, member.name))

    incumbent = (lambda: tracker.incumbent_for(compiled)) if exchange else None
    member_budget = budget.attach(on_batch, incumbent)
    rounds = settings.penalty_rounds or (DEFAULT_PENALTY_ROUNDS if not budget.limited else 1_000)
    seeds = seed_sequence(member.seed, rounds + 1)
    proves = caps.accepts == "cqm" and caps.proves_bounds
    started = time.perf_counter()
    for index in range(rounds):
        if budget.expired():
            if index == 0:
                outcome.info["skipped"] = "stopped" if budget.stopped or not budget.limited else NO_TIME_LEFT
            break
        if index and budget.time_limit is not None and budget.remaining() < 0.02 * budget.time_limit:
            break
        violated.clear()
        t0 = time.perf_counter()
        problem = compiled.problem()
        outcome.compile_time += time.perf_counter() - t0
        start = hint if index == 0 or not exchange else (tracker.incumbent_for(compiled) or hint)
        out = backend.run(problem, _round_budget(member_budget, compiled), seeds[index], initial=start)
        on_batch(out.sampleset)
        tracker.record(member.name, out.status, out.bound, proves)
        if "compile" not in out.info and len(out.sampleset):  # this round searched: an earlier one's
            outcome.info.pop("compile", None)  # "never searched" (e.g. out of time loading a QPU) no longer holds
        _merge_info(outcome.info, out.info)
        if tracker.settled:
            budget.stop()  # proven: the other members can stop with what they have
            break
        if not compiled.tunable or out.status == "infeasible" or budget.stopped:
            break
        if violated:  # the lowest-energy samples break these: their weights are too low
            compiled.tune(violated, settings.penalty_growth)
        elif not budget.limited:
            break
    outcome.solve_time = time.perf_counter() - started
    outcome.weights = compiled.weights
    stats = tracker.member(member.name)
    stats.seconds = time.perf_counter() - began
    return outcome


def _round_budget(budget: Budget, compiled: Compiled) -> Budget:
    """With penalties to tune, a round gets half of what is left (so tuning can follow)."""
    if not budget.limited:
        return budget
    remaining = budget.remaining()
    return budget.sub(remaining / 2) if compiled.tunable and remaining > 0.1 else budget


def _merge_info(into: dict[str, Any], info: Mapping[str, Any]) -> None:
    for key, value in info.items():
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and key in into
            and key.endswith(("_time", "reads", "batches"))
        ):
            into[key] += value
        else:
            into[key] = value


def race_output(
    problem: dimod.ConstrainedQuadraticModel,
    backends: list[Backend],
    budget: Budget,
    seed: int | None,
    initial: Mapping[Hashable, float] | None = None,
) -> BackendOutput:
    """A race on a minimisation CQM as one :class:`BackendOutput` (composite backends used as dimod Samplers)."""
    model = Model.from_cqm(problem)
    tracker = Tracker(model, budget)
    seeds = seed_sequence(seed, len(backends))
    names = [f"{b.name}#{i}" if [x.name for x in backends].count(b.name) > 1 else b.name for i, b in enumerate(backends)]
    members = [Member(b, s, n) for b, s, n in zip(backends, seeds, names)]
    run_race(model, members, budget, tracker, RaceSettings(initial=initial))
    status = tracker.status(False)
    return BackendOutput(
        tracker.sampleset(),
        bound=tracker.bound,
        status="optimal" if status == "optimal" else "infeasible" if status == "infeasible" else "unknown",
        info={"best_from": tracker.best_member},
    )
