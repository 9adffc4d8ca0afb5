"""The HiGHS ``mip`` backend: agrees with exact enumeration, proves infeasibility, linearises products."""

from __future__ import annotations

import time

import dimod
import numpy as np
import pytest

import hqopt
from hqopt.compile.linearize import LinearModel
from hqopt.errors import BackendError


def random_linear_model(rng: np.random.Generator, quadratic: bool = False) -> hqopt.Model:
    """A small random model: binaries and bounded integers, <=/>=/== rows."""
    cqm = dimod.ConstrainedQuadraticModel()
    nb, ni = int(rng.integers(2, 6)), int(rng.integers(0, 3))
    xs = [dimod.Binary(f"b{i}") for i in range(nb)]
    xs += [dimod.Integer(f"i{i}", lower_bound=int(rng.integers(-2, 1)), upper_bound=int(rng.integers(1, 4))) for i in range(ni)]
    objective = sum(float(rng.integers(-5, 6)) * x for x in xs)
    if quadratic:  # products of binaries, and of a binary with an integer
        for _ in range(3):
            a, b = rng.choice(len(xs), 2, replace=False)
            if a >= nb and b >= nb:
                continue
            objective += float(rng.integers(-4, 5)) * xs[a] * xs[b]
    cqm.set_objective(objective)
    for k in range(int(rng.integers(1, 4))):
        picked = rng.choice(len(xs), size=min(len(xs), 3), replace=False)
        lhs = sum(float(rng.integers(-3, 4)) * xs[j] for j in picked)
        sense = ["<=", ">=", "=="][int(rng.integers(0, 3))]
        rhs = float(rng.integers(-2, 4))
        cqm.add_constraint_from_model(lhs, sense, rhs, label=f"c{k}")
    return hqopt.Model(cqm)


@pytest.mark.parametrize("quadratic", [False, True])
def test_mip_agrees_with_exact_on_random_models(quadratic):
    rng = np.random.default_rng(10 + quadratic)
    for _ in range(25):
        model = random_linear_model(rng, quadratic)
        exact = hqopt.solve(model, backend="exact", seed=0)
        mip = hqopt.solve(model, backend="mip", seed=0)
        if exact.status is hqopt.Status.INFEASIBLE:
            assert mip.status is hqopt.Status.INFEASIBLE
            assert not mip.feasible
            continue
        assert mip.status is hqopt.Status.OPTIMAL
        assert mip.feasible and model.evaluate(mip.solution).feasible
        assert mip.objective == pytest.approx(exact.objective, abs=1e-6)
        assert mip.bound == pytest.approx(exact.objective, abs=1e-6)


def test_mip_agrees_with_cpsat_on_a_knapsack():
    rng = np.random.default_rng(3)
    n = 30
    value, weight = rng.integers(1, 40, n), rng.integers(1, 30, n)
    m = hqopt.Model(sense="max")
    x = [m.binary(i) for i in range(n)]
    m.set_objective(sum(int(value[i]) * x[i] for i in range(n)))
    m.add_constraint(sum(int(weight[i]) * x[i] for i in range(n)) <= int(weight.sum() // 3), label="cap")
    mip = hqopt.solve(m, backend="mip", seed=1)
    cpsat = hqopt.solve(m, backend="cpsat", seed=1, num_workers=1)
    assert mip.status is cpsat.status is hqopt.Status.OPTIMAL
    assert mip.objective == cpsat.objective


def test_mip_reports_an_infeasible_model():
    m = hqopt.Model()
    x, y = m.binary("x"), m.binary("y")
    m.set_objective(x + y)
    m.add_constraint(x + y >= 3, label="impossible")
    r = hqopt.solve(m, backend="mip", seed=0)
    assert r.status is hqopt.Status.INFEASIBLE
    assert not r.feasible


def test_linearised_products_are_exact_on_every_assignment():
    cqm = dimod.ConstrainedQuadraticModel()
    b, c, i = dimod.Binary("b"), dimod.Binary("c"), dimod.Integer("i", lower_bound=-2, upper_bound=3)
    cqm.set_objective(2 * b * c - 3 * b * i + b * b)
    lin = LinearModel.from_cqm(cqm)
    starts, index, value = lin.csr()
    for bv in (0, 1):
        for cv in (0, 1):
            for iv in range(-2, 4):
                x = lin.extend({"b": bv, "c": cv, "i": iv})
                assert float(lin.cost @ x + lin.offset) == pytest.approx(cqm.objective.energy({"b": bv, "c": cv, "i": iv}))
                for r in range(lin.num_rows):  # the true product satisfies every McCormick row
                    activity = float(value[starts[r] : starts[r + 1]] @ x[index[starts[r] : starts[r + 1]]])
                    assert lin.row_lower[r] - 1e-9 <= activity <= lin.row_upper[r] + 1e-9


def test_mip_refuses_products_of_two_integers_clearly():
    cqm = dimod.ConstrainedQuadraticModel()
    i, j = dimod.Integer("i", upper_bound=3), dimod.Integer("j", upper_bound=3)
    cqm.set_objective(i * j)
    with pytest.raises(BackendError, match="two non-binary"):
        hqopt.solve(cqm, backend="mip")


def test_mip_refuses_too_many_products():
    with pytest.raises(BackendError, match="products to linearise"):
        bqm = dimod.BQM({}, {(u, v): 1.0 for u in range(20) for v in range(u + 1, 20)}, 0, "BINARY")
        LinearModel.from_cqm(dimod.CQM.from_bqm(bqm), max_products=50)


def test_mip_warm_start_and_time_limit(benchmarks):
    from hqopt.io import load

    model = load(benchmarks / "facility_location" / "cap71.txt")
    first = hqopt.solve(model, backend="mip", time_limit=20, seed=2)
    assert first.status is hqopt.Status.OPTIMAL
    t0 = time.perf_counter()
    again = hqopt.solve(model, backend="mip", time_limit=20, seed=2, initial=first.solution)
    assert time.perf_counter() - t0 < 20
    assert again.info["warm_start"] is True
    assert again.objective == pytest.approx(first.objective)


def test_mip_holds_a_short_time_limit():
    rng = np.random.default_rng(0)  # a hard-ish QUBO: HiGHS cannot prove it in 1 s
    n = 60
    Q = {(i, j): float(rng.integers(-10, 11)) for i in range(n) for j in range(i, n) if rng.random() < 0.3}
    t0 = time.perf_counter()
    r = hqopt.solve(hqopt.Model.from_qubo(Q), backend="mip", time_limit=1.0, seed=0)
    assert time.perf_counter() - t0 < 1.5
    assert r.feasible and r.bound is not None and r.bound <= r.objective + 1e-6


def test_mip_stops_when_the_stop_event_is_set():
    import threading

    rng = np.random.default_rng(1)
    n = 70
    Q = {(i, j): float(rng.integers(-10, 11)) for i in range(n) for j in range(i, n) if rng.random() < 0.3}
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    t0 = time.perf_counter()
    r = hqopt.solve(hqopt.Model.from_qubo(Q), backend="mip", time_limit=30, seed=0, stop=stop)
    assert time.perf_counter() - t0 < 3.0
    assert r.feasible and r.status is not hqopt.Status.OPTIMAL


def test_mip_takes_any_thread_count_in_a_thread_that_ran_highs_before():
    # untimed single-member solves run in the calling thread; HiGHS keeps one worker pool per
    # thread and refused a different count (the run ended with status "unknown" and no answer)
    m = hqopt.Model()
    x = [m.binary(i) for i in range(4)]
    m.set_objective(sum((i + 1) * x[i] for i in range(4)))
    m.add_constraint(sum(x) >= 2, label="two")
    for threads in (2, 1, 2):
        r = hqopt.solve(m, backend="mip", seed=1, threads=threads)
        assert (r.status, r.objective) == (hqopt.Status.OPTIMAL, 3.0)


def test_improving_solutions_reach_the_budget_in_batches(monkeypatch):
    from hqopt.backends import mip
    from hqopt.budget import Budget

    lin = LinearModel.from_cqm(hqopt.Model.from_qubo({("a", "a"): 1.0, ("b", "b"): -1.0}).cqm)
    batches: list[int] = []
    budget = Budget(None).attach(lambda samples: batches.append(len(samples)), None)
    now = [0.0]
    monkeypatch.setattr(mip.time, "perf_counter", lambda: now[0])
    reports = mip._Reports(budget, lin)
    now[0] = 0.01
    reports.add(np.array([1.0, 1.0]))  # 10 ms into the search: held back
    reports.add(np.array([0.0, 1.0]))
    assert batches == []
    now[0] = 0.06
    reports.add(np.array([1.0, 0.0]))  # due: the three go together
    assert batches == [3]
    now[0] = 0.07
    reports.add(np.array([0.0, 0.0]))  # 10 ms after that batch: held back
    reports.send_due()
    assert batches == [3]
    now[0] = 0.2
    reports.send_due()  # a later callback sends it
    assert batches == [3, 1] and len(reports.found) == 4
