"""Result: verification fields, JSON round trip, summary, history."""

from __future__ import annotations

import json
import time

import dimod
import numpy as np

import hqopt
from hqopt.result import Result, Status

from conftest import REPO, knapsack_model


def test_json_round_trip_keeps_tuple_labels_and_fields():
    m = hqopt.Model(sense="max")
    x = {(i, "a"): m.binary((i, "a")) for i in range(3)}
    m.set_objective(dimod.quicksum((i + 1) * v for (i, _), v in x.items()))
    m.add_constraint(dimod.quicksum(x.values()) <= 2, label="two")
    result = hqopt.solve(m, backend="cpsat", seed=5)
    text = result.to_json(include_sampleset=True)
    json.loads(text)
    back = Result.from_json(text)
    assert back.solution == result.solution
    assert (2, "a") in back.solution
    assert back.objective == result.objective == 5.0
    assert back.status is Status.OPTIMAL and back.sense is hqopt.Sense.MAX
    assert back.timing == result.timing
    assert back.sampleset is not None and len(back.sampleset) == len(result.sampleset)


def test_summary_mentions_the_essentials():
    result = hqopt.solve(knapsack_model([5, 4, 3], [2, 2, 2], 4), backend="exact")
    text = result.summary()
    for word in ("exact", "optimal", "objective", "9", "seed"):
        assert word in text


def test_result_reports_in_the_problems_own_sense():
    model = knapsack_model([5, 4, 3], [2, 2, 2], 4)
    for backend in ("exact", "cpsat", "sa", "tabu"):
        result = hqopt.solve(model, backend=backend, seed=0)
        assert result.objective == 9.0, backend
        assert result.sense is hqopt.Sense.MAX
        assert model.evaluate(result.solution).objective == 9.0


def test_history_is_monotone_and_timing_is_consistent():
    result = hqopt.solve(knapsack_model(list(range(1, 21)), [3] * 20, 30), backend="sa", seed=0, time_limit=0.5)
    values = [v for _, v in result.history]
    assert values == sorted(values)  # maximise: never gets worse
    t = result.timing
    assert t.total >= t.prepare + t.solve and t.solve > 0 and t.prepare > 0 and t.compile >= 0 and t.verify >= 0


def test_the_time_before_the_backends_start_is_reported_as_prepare():
    model = knapsack_model([5, 4, 3], [2, 2, 2], 4)

    def slow_warm_start():  # a formulation's warm start runs before any backend
        time.sleep(0.3)
        return {}

    model.metadata["warm_start"] = slow_warm_start
    t = hqopt.solve(model, backend="exact").timing
    assert 0.3 <= t.prepare < t.total and t.solve < 0.3
    assert f"prepare {t.prepare:.3f}" in t.describe()


def test_gap_is_none_without_a_bound_and_zero_when_optimal():
    model = knapsack_model([5, 4, 3], [2, 2, 2], 4)
    assert hqopt.solve(model, backend="sa", seed=0).gap is None
    assert hqopt.solve(model, backend="cpsat", seed=0).gap == 0.0


def test_progress_callback_sees_the_best_so_far():
    seen = []
    hqopt.solve(knapsack_model([5, 4, 3], [2, 2, 2], 4), backend="sa", seed=0, on_progress=seen.append)
    assert seen and seen[-1].best_objective == 9.0 and seen[-1].feasible


def test_decoder_output_is_attached():
    model = knapsack_model([5, 4, 3], [2, 2, 2], 4)
    model.decoder = lambda sol: sorted(k for k, v in sol.items() if v)
    result = hqopt.solve(model, backend="exact")
    assert result.decoded == ["item0", "item1"]
    assert Result.from_json(result.to_json()).decoded == ["item0", "item1"]


def test_best_from_names_the_warm_start_when_the_search_never_beats_it():
    model = knapsack_model([5, 4, 3], [2, 2, 2], 4)  # optimum 9: items 0 and 1
    best = hqopt.solve(model, backend="exact")
    again = hqopt.solve(model, backend="sa", seed=1, initial=best.solution, num_reads=5)
    assert again.objective == 9 and again.info["best_from"] == "initial"
    searched = hqopt.solve(model, backend="sa", seed=1, num_reads=20)
    assert searched.objective == 9 and searched.info["best_from"] == "sa"


def test_a_run_that_only_compiled_warns_and_says_so(monkeypatch):
    import pytest

    from hqopt.engine import chains

    monkeypatch.setattr(chains, "_start_all", lambda *args, **kwargs: None)  # the JIT compile outlasts the budget
    monkeypatch.setattr(chains, "jit_ready", lambda: False)
    with pytest.warns(RuntimeWarning, match="still compiling"):
        result = hqopt.solve(knapsack_model([5, 4, 3], [2, 2, 2], 4), backend="ls", time_limit=1, seed=0)
    assert result.info["compile"] == chains.COLD_START and "warmup()" in chains.COLD_START
    assert f"note       {chains.COLD_START}" in result.summary().splitlines()  # the printed summary says it too
    monkeypatch.setattr(chains, "jit_ready", lambda: True)  # compiled, but starting the chains took the time
    with pytest.warns(RuntimeWarning, match="still starting its chains"):
        result = hqopt.solve(knapsack_model([5, 4, 3], [2, 2, 2], 4), backend="ls", time_limit=1, seed=0)
    assert result.info["compile"] == chains.SLOW_START


def test_an_unconstrained_model_whose_chains_could_not_start_gets_a_local_minimum_not_a_random_start(monkeypatch):
    import pytest

    from hqopt.engine import chains

    monkeypatch.setattr(chains, "_start_all", lambda *args, **kwargs: None)  # starting the chains outlasts the budget
    monkeypatch.setattr(chains, "jit_ready", lambda: True)
    bqm = dimod.generators.gnp_random_bqm(20, 0.5, "BINARY", random_state=3)
    model = hqopt.Model.from_bqm(bqm)
    with pytest.warns(RuntimeWarning, match="greedy descent from a random start"):
        result = hqopt.solve(model, backend="ls", time_limit=1, seed=0)
    x = result.solution
    for v in bqm.variables:  # no single flip improves it
        assert bqm.energy({**x, v: 1 - x[v]}) >= bqm.energy(x) - 1e-9
    # a constrained model keeps its random start (a descent on the objective would break its rows), and so
    # does one whose constraints the engine keeps as structure, not rows (a QAP's permutation)
    with pytest.warns(RuntimeWarning, match="the answer is a random start"):
        hqopt.solve(knapsack_model([5, 4, 3], [2, 2, 2], 4), backend="ls", time_limit=1, seed=0)
    with pytest.warns(RuntimeWarning, match="the answer is a random start"):
        qap = hqopt.solve(hqopt.io.load(REPO / "problems" / "qap" / "chr12a.dat"), backend="ls", time_limit=1, seed=0)
    assert qap.feasible


def test_chains_started_just_as_the_time_ran_out_still_search_one_slice(monkeypatch):
    from hqopt.engine import chains

    real_start = chains._start_all

    def start_then_run_out(problem, plan, seeds, budget):
        started = real_start(problem, plan, seeds, budget)
        time.sleep(budget.remaining() + 0.01)  # a loaded machine: the chains are ready exactly at the deadline
        return started

    monkeypatch.setattr(chains, "_start_all", start_then_run_out)
    bqm = dimod.generators.gnp_random_bqm(20, 0.5, "BINARY", random_state=3)
    result = hqopt.solve(hqopt.Model.from_bqm(bqm), backend="ls", time_limit=1, seed=0)
    assert result.info["slices"] == 1 and min(np.atleast_1d(result.info["work_per_chain"])) > 0


def test_a_run_stopped_while_starting_says_stopped_not_out_of_time(monkeypatch):
    """A stop (a race member's proof, Ctrl-C) during the chains' start is not the time limit running out."""
    import warnings

    from hqopt.engine import chains

    def stopped(problem, plan, seeds, budget):
        budget.stop()  # as a race does when another member proves its answer

    monkeypatch.setattr(chains, "_start_all", stopped)
    with warnings.catch_warnings():
        warnings.simplefilter("error", hqopt.errors.NotSearchedWarning)  # no "not searched" warning
        result = hqopt.solve(knapsack_model([5, 4, 3], [2, 2, 2], 4), backend="ls", time_limit=30, seed=0)
    assert "compile" not in result.info and result.info["stopped"] == chains.STOPPED_AT_START
    assert result.solution is not None  # the random start, verified
