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
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import dimod

from hqopt.arguments import check_solve_arguments
from hqopt.backends.auto import AutoBackend
from hqopt.backends.base import Backend, seed_sequence
from hqopt.backends.portfolio import PortfolioBackend
from hqopt.backends.registry import available_backends, backend_class, get_backend
from hqopt.budget import Budget, StopFlag, is_stop_signal
from hqopt.compile import compile_for
from hqopt.cost import QPU_TIME_KEY, CostMeter
from hqopt.errors import ArgumentError, NotSearchedWarning
from hqopt.model import Label, Model, Sense, as_model
from hqopt.race import NO_TIME_LEFT, Member, MemberOutcome, RaceSettings, run_race
from hqopt.result import Result, Status, Timing
from hqopt.samples import cached_constraint_rows
from hqopt.tracker import Progress, Tracker, as_numbers


def solve(
    problem: Any,
    backend: str | Backend | dimod.Sampler | Sequence[str | Backend] = "auto",
    time_limit: float | None = None,
    seed: int | None = None,
    *,
    penalty: float | Mapping[str, float] | None = None,
    penalty_growth: float = 2.0,
    penalty_rounds: int | None = None,
    integer_encoding: str = "binary",
    initial: Mapping[Label, float] | None = None,
    on_progress: Callable[[Progress], Any] | None = None,
    stop: StopFlag | None = None,
    target: float | None = None,
    **options: Any,
) -> Result:
    """Solve ``problem`` on ``backend`` and return a verified :class:`Result`.

    Args:
        problem: an :class:`hqopt.Model`, a dimod BQM/CQM, or anything with ``to_model()``.
        backend: a registered name (``hqopt backends`` lists them), a Backend
            instance, any dimod Sampler (wrapped automatically), or a list of
            these to race under one budget (:mod:`hqopt.race`): the best
            verified answer wins, a proof stops everyone. ``"auto"`` picks one
            backend or a race from the model (:mod:`hqopt.backends.auto`).
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
        initial: a warm-start assignment of the model's variables; each backend
            gets it encoded for its own problem (bits for integers, slack
            values computed) as hints or initial states. A complete one is
            verified first, so the answer is never worse. Default: the model's
            own ``metadata["warm_start"]()`` when a formulation provides one
            (``initial={}``: none).
        on_progress: called with a :class:`Progress` after each verified batch.
        stop: an event another thread may set to end the run early; the best
            solution so far is returned. Ctrl-C does the same (a second
            Ctrl-C raises KeyboardInterrupt at once).
        target: stop as soon as a verified feasible solution is at least this
            good (in the problem's sense); for time-to-target measurements.
        **options: backend options, e.g. ``num_reads=100`` for ``sa``; in a race
            each member gets the options it accepts.
    """
    t_start = time.perf_counter()
    meter = CostMeter().start()
    model = as_model(problem)
    time_limit, seed = check_solve_arguments(
        model, time_limit=time_limit, seed=seed, penalty=penalty, penalty_growth=penalty_growth,
        penalty_rounds=penalty_rounds, initial=initial, on_progress=on_progress, stop=stop, target=target,
    )
    # the clock started with the call; the caller's event stops the run, a proof never sets it
    budget = Budget(time_limit, external=stop, started=t_start)
    if initial is None and callable(model.metadata.get("warm_start")):
        initial = model.metadata["warm_start"]()  # a formulation's own quick feasible answer (inside the budget)
    initial = initial or None  # {}: no warm start
    # the verifier checks with the constraint arrays as_model's validation built afresh a moment ago (auto and ls read them too)
    tracker = Tracker(model, budget, on_progress, target, rows=cached_constraint_rows(model.cqm))
    backends, name, reason = _members(backend, model, time_limit, options)
    if len(backends) > 1:
        backends = [_sharing_cores(b, len(backends), options) for b in backends]
    seeds = [seed] if len(backends) == 1 else seed_sequence(seed, len(backends))
    members = [Member(b, s, n) for b, s, n in zip(backends, seeds, _unique_names(backends))]
    settings = RaceSettings(integer_encoding, penalty, penalty_growth, penalty_rounds, initial)
    if initial is not None:  # the warm start is an answer too: verified, and the one to beat
        tracker.add_solution(initial)

    outcomes: dict[str, MemberOutcome] = {}
    prepared = time.perf_counter() - t_start  # the model checked, the warm start made and verified, the backends chosen
    ctrl_c = _CtrlC(budget)
    try:
        with ctrl_c.installed():
            if model.num_variables == 0:  # nothing to search: evaluate the one (empty) assignment
                _evaluate_empty(model, tracker)
            else:
                outcomes = run_race(model, members, _race_budget(budget, model), tracker, settings)
    except KeyboardInterrupt:
        ctrl_c.pressed = True
    interrupted = ctrl_c.pressed
    stopped = interrupted or (stop is not None and stop.is_set())  # by the caller, not by the clock
    result = _result(model, tracker, members, outcomes, name, reason, seed, time_limit, interrupted, stopped, t_start)
    result.timing.prepare = prepared
    qpu = sum(float(o.info.get(QPU_TIME_KEY, 0.0) or 0.0) for o in outcomes.values())
    result.cost = meter.stop({QPU_TIME_KEY: qpu})
    # a backend never searched (warned here: warnings raised in the race's threads are lost); a solve nested in
    # another hqopt run (an lns sub-solve: its stop is that run's) does not warn: the user asked for that run, and
    # the warning would name a sub-solve they never asked for
    if "compile" in result.info and not is_stop_signal(stop):
        warnings.warn(result.info["compile"], NotSearchedWarning, stacklevel=2)
    return result


# ---------------------------------------------------------------------- helpers
#: seconds per variable and per constraint that ending a race takes: members handing in their
#: last batch after their deadline, then verifying the kept samples again and building the
#: Result and its SampleSet (1000 x 50 placement, 69 982 variables and 30 508 constraints: 0.7-0.85 s)
ANSWER_SECONDS_PER_ITEM = 1e-5
#: the most of a time limit kept back for answering
ANSWER_SHARE = 0.25


def _race_budget(budget: Budget, model: Model) -> Budget:
    """The members' budget: the solve's, less the time answering will take (at most
    :data:`ANSWER_SHARE` of the limit), so that a timed solve answers by its deadline
    rather than that long after it.

    >>> import dimod
    >>> from hqopt import Model
    >>> m = Model.from_bqm(dimod.BQM({i: 1.0 for i in range(100_000)}, {}, 0.0, "BINARY"))
    >>> round(_race_budget(Budget(60.0), m).time_limit, 1), round(_race_budget(Budget(2.0), m).time_limit, 3)
    (59.0, 1.5)
    """
    if budget.time_limit is None:
        return budget
    reserve = min(ANSWER_SHARE * budget.time_limit, ANSWER_SECONDS_PER_ITEM * (model.num_variables + model.num_constraints))
    return budget.sub(budget.remaining() - reserve)


def _members(
    backend: str | Backend | dimod.Sampler | Sequence[str | Backend], model: Model, time_limit: float | None, options: dict[str, Any]
) -> tuple[list[Backend], str, str]:
    """The backends to run, the name the Result reports, and why they were chosen."""
    if isinstance(backend, (list, tuple)):
        if not backend:
            raise ArgumentError("backend list is empty: name at least one backend")
        chosen = [_with_options(b, options) for b in backend]
        return chosen, "+".join(b.name for b in chosen), "race of the backends given"
    engine = get_backend(backend, **options)  # type: ignore[arg-type]  # (a str is a Sequence too)
    if isinstance(engine, PortfolioBackend):
        return list(engine.members), engine.name, "race of " + ", ".join(m.name for m in engine.members)
    if isinstance(engine, AutoBackend):
        chosen, reason = engine.select(model, time_limit)
        return chosen, "+".join(b.name for b in chosen), reason
    return [engine], engine.name, ""


def _with_options(backend: str | Backend, options: dict[str, Any]) -> Backend:
    """A race member, given the options its backend accepts (others are for the other members)."""
    if not isinstance(backend, str):
        return get_backend(backend)
    accepted = backend_class(backend).option_names
    return get_backend(backend, **{k: v for k, v in options.items() if k in accepted})


#: the option through which a backend takes its number of threads
THREAD_OPTIONS = ("workers", "num_workers", "threads")


def _sharing_cores(backend: Backend, members: int, options: dict[str, Any]) -> Backend:
    """A race member built by name gets its share of the cores (unless the user set its threads):
    on 2 cores, ``ls`` and ``cpsat`` racing with two threads each would halve each other's speed."""
    thread_option = next((o for o in THREAD_OPTIONS if o in backend.option_names), None)
    if thread_option is None or thread_option in backend.options or thread_option in options:
        return backend
    if backend.name not in available_backends() or type(backend) is not backend_class(backend.name):
        return backend  # not a registered backend (a wrapped Sampler, a subclass): left as it is
    share = max(1, (os.cpu_count() or 1) // members)
    return get_backend(backend.name, **{**backend.options, thread_option: share})


def _unique_names(backends: list[Backend]) -> list[str]:
    names: list[str] = []
    for b in backends:
        name, k = b.name, 2
        while name in names:
            name, k = f"{b.name}#{k}", k + 1
        names.append(name)
    return names


def _evaluate_empty(model: Model, tracker: Tracker) -> None:
    compiled = compile_for(model, accepts="cqm")
    tracker.add(dimod.SampleSet.from_samples(([[]], []), dimod.BINARY, energy=[0.0]), compiled, "empty")
    tracker.record("empty", "optimal" if tracker.best_feasible else "infeasible", None, proves=True)


def _result(
    model: Model,
    tracker: Tracker,
    members: list[Member],
    outcomes: dict[str, MemberOutcome],
    name: str,
    reason: str,
    seed: int,
    time_limit: float | None,
    interrupted: bool,
    stopped: bool,
    t_start: float,
) -> Result:
    solution = None
    violations: dict[str, float] = {}
    decoded = None
    best = tracker.best_solution() if tracker.best_feasible else None
    if tracker.best_row is not None:
        solution = best or dict(zip(tracker.labels, as_numbers(tracker.best_row)))
        verdicts = tracker.verifier(tracker.best_row[None, :])  # the run's own verifier, on the row the solution is
        violations = dict(zip(verdicts.constraint_labels, verdicts.violations[0].tolist()))
        violations.update({f"domain:{v}": 1.0 for v in verdicts.out_of_domain[0]})
        if tracker.best_feasible:
            decoded = model.decode(solution)
    info: dict[str, Any]
    if len(members) == 1:
        info = dict(outcomes[members[0].name].info) if outcomes else {}
        weights = outcomes[members[0].name].weights if outcomes else {}
    else:
        info = {"members": {m.name: _member_info(model, tracker, m.name, outcomes.get(m.name)) for m in members}}
        weights = {}
    info["best_from"] = tracker.best_member  # "initial": the warm start was never beaten
    left = [m.name for m in members if m.name in outcomes and "abandoned" in outcomes[m.name].info]
    if tracker.best_row is None and left and time_limit is not None and not stopped and "compile" not in info:
        info["compile"] = (  # nothing at all by the deadline: say why (solve warns with it)
            f"{', '.join(left)} handed in no sample before the time limit ended and {'was' if len(left) == 1 else 'were'} "
            "left running past it (a sampler that takes no time limit cannot be stopped early); give more time, or no limit"
        )
    late = [m.name for m in members if m.name in outcomes and outcomes[m.name].info.get("skipped") == NO_TIME_LEFT]
    if tracker.best_row is None and late and len(late) == len(outcomes) and not stopped and "compile" not in info:
        ready = time.perf_counter() - t_start
        info["compile"] = (  # every member found its time gone before it began
            f"the {time_limit:g} s time limit ran out before {', '.join(late)} could start: getting ready took about "
            f"{ready:.2f} s (the first solve in a process also loads the backends' libraries, e.g. OR-Tools 0.5 s); "
            f"give a larger time limit (-t), e.g. {max(1, math.ceil(2 * ready))} s"
        )
    if tracker.target is not None:
        info.update(target=tracker.target, time_to_target=tracker.time_to_target)
    compile_time = sum(o.compile_time for o in outcomes.values())
    solve_time = max((o.solve_time for o in outcomes.values()), default=0.0)
    backend_times = {k: v for k, v in info.items() if k.endswith("_time") and isinstance(v, (int, float))}
    sampleset = tracker.sampleset()  # before the clock is read: building it is part of the solve's time
    return Result(
        solution=solution,
        objective=tracker.best_objective,
        feasible=tracker.best_feasible,
        status=Status(tracker.status(interrupted)),
        sense=model.sense,
        violations=violations,
        bound=None if tracker.bound is None else model.sense.sign * tracker.bound,
        timing=Timing(
            total=time.perf_counter() - t_start,
            compile=compile_time,
            solve=solve_time,
            verify=tracker.verify_time,
            backend=backend_times,
        ),
        backend=name,
        backend_reason=reason,
        seed=seed,
        time_limit=time_limit,
        penalty_weights=weights,
        history=list(tracker.history),
        info=info,
        decoded=decoded,
        interrupted=interrupted,
        model_name=model.name,
        sampleset=sampleset,
    )


def _member_info(model: Model, tracker: Tracker, name: str, outcome: MemberOutcome | None) -> dict[str, Any]:
    """One race member's facts for ``Result.info["members"]`` (bound in the problem's sense)."""
    stats = tracker.member(name)
    info = dict(outcome.info) if outcome is not None else {}
    info.update(
        status=stats.status,
        best_objective=stats.best_objective,
        improvements=stats.improvements,
        seconds=stats.seconds,
        bound=None if stats.bound is None else model.sense.sign * stats.bound,
    )
    if outcome is not None and outcome.weights:
        info["penalty_weights"] = outcome.weights
    return info


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


__all__ = ["Progress", "Sense", "solve"]
