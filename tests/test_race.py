"""Solve-level races: one budget, one tracker, proofs stop everyone, warm starts encoded."""

from __future__ import annotations

import threading
import time
from typing import Any

import dimod
import numpy as np
import pytest

import hqopt
import hqopt.io
from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.compile import compile_for

from conftest import REPO


class _Infeasible(Backend):
    """Returns only samples that break every constraint (all ones), quickly."""

    name = "all-ones"
    capabilities = Capabilities(accepts="cqm", integer_variables=True)

    def run(self, problem: Any, budget: Budget, seed: int | None, *, initial: Any = None) -> BackendOutput:
        row = np.ones((1, len(problem.variables)))
        return BackendOutput(dimod.SampleSet.from_samples_cqm((row, list(problem.variables)), problem))


class _SlowReporter(Backend):
    """Reports one batch at once (the optimum of tiny problems), then works until stopped (or 3 s)."""

    name = "slow"
    capabilities = Capabilities(accepts="bqm")

    def run(self, problem: Any, budget: Budget, seed: int | None, *, initial: Any = None) -> BackendOutput:
        if problem.num_variables <= 12:
            best = dimod.ExactSolver().sample(problem).lowest()
        else:
            best = dimod.SampleSet.from_samples_bqm({v: 0 for v in problem.variables}, problem)
        budget.report(best)
        deadline = time.perf_counter() + 3
        while not budget.expired() and time.perf_counter() < deadline:
            time.sleep(0.01)
        return BackendOutput(best)


def _knapsack() -> hqopt.Model:
    m = hqopt.Model(sense="max")
    x = [m.binary(f"x{i}") for i in range(6)]
    m.set_objective(sum((i + 3) * x[i] for i in range(6)))
    m.add_constraint(sum((i + 1) * x[i] for i in range(6)) <= 7, label="weight")
    return m


def test_auto_untimed_proves_the_small_placement():
    result = hqopt.solve(hqopt.io.load(REPO / "problems" / "placement" / "small.yaml"), seed=1)
    assert (result.objective, result.feasible, result.status.value) == (320, True, "optimal")


def test_an_infeasible_member_never_beats_a_proof():
    result = hqopt.solve(_knapsack(), backend=[_Infeasible(), "cpsat"], seed=0)
    assert result.feasible and result.status.value == "optimal"
    assert result.objective == hqopt.solve(_knapsack(), backend="exact").objective == 13
    assert result.info["best_from"] == "cpsat"


def test_members_improvements_reach_on_progress_before_the_race_ends():
    seen: list[tuple[float, str]] = []
    model = hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 3})
    t0 = time.perf_counter()
    result = hqopt.solve(
        model,
        backend=[_SlowReporter(), "sa"],
        seed=0,
        time_limit=2,
        on_progress=lambda p: seen.append((time.perf_counter() - t0, p.member)),
    )
    slow_reports = [t for t, member in seen if member == "slow"]
    assert slow_reports and min(slow_reports) < result.timing.total - 1.0


def test_time_to_target_is_measured_on_a_race():
    model = hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 3})
    result = hqopt.solve(model, backend=[_SlowReporter(), "tabu"], seed=0, time_limit=5, target=-1)
    assert result.info["time_to_target"] is not None and result.info["time_to_target"] < 1.0
    assert result.timing.total < 2.5  # the target stopped the slow member too


def test_a_proof_stops_the_other_members():
    model = hqopt.io.load(REPO / "problems" / "placement" / "small.yaml")
    t0 = time.perf_counter()
    result = hqopt.solve(model, backend=["cpsat", _SlowReporter()], seed=0, time_limit=30)
    assert result.status.value == "optimal" and time.perf_counter() - t0 < 10


def test_untimed_seeded_races_replay():
    model = hqopt.io.load(REPO / "problems" / "placement" / "small.yaml")
    runs = [hqopt.solve(model, backend=["sa", "tabu"], seed=5, penalty_rounds=2) for _ in range(2)]
    assert runs[0].solution == runs[1].solution and runs[0].objective == runs[1].objective


def test_options_go_to_the_members_that_take_them():
    result = hqopt.solve(_knapsack(), backend=["sa", "cpsat"], seed=1, num_reads=5, time_limit=2)
    assert result.feasible
    assert set(result.info["members"]) == {"sa", "cpsat"}


def _integer_model() -> tuple[hqopt.Model, dict[str, int]]:
    m = hqopt.Model()
    a, b = m.integer("a", 0, 9), m.integer("b", 0, 9)
    s = m.spin("s")
    m.set_objective((a - 7) * (a - 7) + (b - 2) * (b - 2) - 3 * s)
    m.add_constraint(a + b <= 9, label="cap")
    return m, {"a": 7, "b": 2, "s": 1}


@pytest.mark.parametrize("backend", ["sa", "tabu", "cpsat", "ls"])
def test_a_warm_start_at_the_optimum_is_never_lost(backend):
    model, optimum = _integer_model()
    result = hqopt.solve(model, backend=backend, seed=0, initial=optimum, time_limit=1)
    assert result.feasible and result.objective <= -3


def test_a_warm_start_at_the_optimum_is_never_lost_on_mip():
    m = hqopt.Model(sense="max")
    a, b = m.integer("a", 0, 40), m.integer("b", 0, 40)
    m.set_objective(5 * a + 4 * b)
    m.add_constraint(6 * a + 4 * b <= 24, label="one")
    m.add_constraint(a + 2 * b <= 6, label="two")
    optimum = {"a": 4, "b": 0}
    result = hqopt.solve(m, backend="mip", seed=0, initial=optimum, time_limit=2)
    assert result.feasible and result.objective >= 20


def test_encode_round_trips_through_decode_on_bqm_and_cqm():
    model, optimum = _integer_model()
    for accepts in ("bqm", "cqm"):
        compiled = compile_for(model, accepts=accepts)
        encoded = compiled.encode(optimum)
        problem = compiled.problem()
        row = [[encoded[v] for v in problem.variables]]
        decoded = compiled.decode(dimod.SampleSet.from_samples((row, list(problem.variables)), "BINARY", [0.0]))
        assert dict(zip(compiled.decoder.labels, decoded[0])) == optimum
        if accepts == "bqm":  # the slack takes the value the constraint leaves: no penalty at the optimum
            assert problem.energy(encoded) == pytest.approx(model.evaluate(optimum).objective)


def test_unknown_initial_labels_are_refused():
    model, _ = _integer_model()
    with pytest.raises(ValueError, match="ghost"):
        hqopt.solve(model, backend="cpsat", initial={"ghost": 1}, time_limit=1)


def test_stop_event_ends_a_race():
    stop = threading.Event()
    model = hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 3})
    threading.Timer(0.3, stop.set).start()
    t0 = time.perf_counter()
    result = hqopt.solve(model, backend=[_SlowReporter(), _SlowReporter()], seed=0, stop=stop)
    assert time.perf_counter() - t0 < 2 and result.objective == -1


class _Stubborn(Backend):
    """Ignores its budget: sleeps 4 s, then returns nothing."""

    name = "stubborn"
    capabilities = Capabilities(accepts="bqm")

    def run(self, problem: Any, budget: Budget, seed: int | None, *, initial: Any = None) -> BackendOutput:
        time.sleep(4)
        return BackendOutput(dimod.SampleSet.from_samples_bqm([], problem))


def test_the_time_limit_holds_when_a_member_ignores_it():
    model = hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 3})
    t0 = time.perf_counter()
    result = hqopt.solve(model, backend=[_Stubborn(), "sa"], seed=0, time_limit=1)
    assert time.perf_counter() - t0 < 1.5
    assert result.objective == -1 and "abandoned" in result.info["members"]["stubborn"]
    with pytest.warns(hqopt.errors.NotSearchedWarning, match="stubborn handed in no sample"):
        alone = hqopt.solve(model, backend=_Stubborn(), seed=0, time_limit=1)
    assert alone.timing.total < 1.5 and alone.objective is None
    assert 0.9 < alone.timing.solve < 1.5  # left behind, its time so far still counts


class _SlowSampler(dimod.Sampler):
    """A dimod sampler that takes no time limit and answers after ``seconds``."""

    parameters: dict = {}
    properties: dict = {}

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def sample(self, bqm, **kwargs):
        time.sleep(self.seconds)
        return dimod.SampleSet.from_samples_bqm({v: 0 for v in bqm.variables}, bqm)


def test_a_sampler_left_behind_with_nothing_says_why():
    """No sample within the limit: the result says the sampler was left running, and solve warns, not silence."""
    bqm = dimod.BQM({"a": -1.0, "b": 1.0}, {}, 0.0, "BINARY")
    with pytest.warns(hqopt.errors.NotSearchedWarning, match="handed in no sample before the time limit"):
        result = hqopt.solve(bqm, backend=_SlowSampler(3.0), time_limit=0.3, seed=0)
    assert result.solution is None and "abandoned" in result.info
    assert "left running past it" in result.summary()


def test_a_limit_spent_before_any_member_starts_says_so(monkeypatch):
    """A first solve in a process loads the backends' libraries inside the limit (OR-Tools: 0.5 s): when
    that leaves no member any time, the Result says so (a warning row in the CLI) instead of a bare 'unknown'."""
    import sys

    from hqopt.errors import NotSearchedWarning

    solve_module = sys.modules["hqopt.solve"]  # (hqopt.solve is the function)

    real = solve_module._members

    def slow_members(*args, **kwargs):
        time.sleep(0.3)  # as importing OR-Tools and the engine does on a first solve
        return real(*args, **kwargs)

    monkeypatch.setattr(solve_module, "_members", slow_members)
    model = hqopt.io.load(REPO / "problems" / "qap" / "chr12a.dat")
    with pytest.warns(NotSearchedWarning, match=r"the 0.2 s time limit ran out before sa, tabu could start: getting ready took about 0\.\d\d s"):
        result = hqopt.solve(model, backend=["sa", "tabu"], time_limit=0.2, seed=0, initial={})
    assert result.solution is None and result.info["compile"].endswith("give a larger time limit (-t), e.g. 1 s")


def test_a_stop_before_any_member_starts_is_not_called_a_time_out():
    stop = threading.Event()
    stop.set()  # Ctrl-C or SIGTERM while the solve was getting ready
    model = hqopt.io.load(REPO / "problems" / "qap" / "chr12a.dat")
    result = hqopt.solve(model, backend=["sa", "tabu"], time_limit=10, seed=0, initial={}, stop=stop)
    assert "compile" not in result.info
    assert {m["skipped"] for m in result.info["members"].values()} == {"stopped"}
