"""The ``lns`` backend: true improvements only, ledger, replay, time limit, proofs, options."""

from __future__ import annotations

import itertools
import time

import dimod
import numpy as np
import pytest

import hqopt
from hqopt.backends.lns import LNSBackend
from hqopt.budget import Budget
from hqopt.errors import BackendError
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement
from hqopt.lns.ledger import Ledger


def placement(services: int, sites: int, seed: int = 1) -> tuple[Placement, hqopt.Model]:
    spec = generate_placement(services, sites, seed=seed)
    p = Placement.from_spec({k: v for k, v in spec.items() if k != "kind"})
    return p, p.to_model()


def test_every_accepted_exact_move_is_a_true_improvement_on_the_full_model():
    _, model = placement(16, 4, seed=2)
    cqm = model.cqm
    reported: list[tuple[float, float]] = []

    def check(samples: dimod.SampleSet) -> None:  # recomputed by dimod on the full model
        sample = samples.first.sample
        violation = sum(cqm.violations(sample, skip_satisfied=False, clip=True).values())
        reported.append((violation, float(cqm.objective.energy(sample))))

    out = LNSBackend(subsolver="exact", iterations=25, patience=25, initial_backend="greedy").run(
        cqm, Budget(None, on_batch=check), seed=4
    )
    assert len(reported) >= 2  # the start and at least one accepted move
    for before, after in itertools.pairwise(reported):
        assert after[0] < before[0] - 1e-9 or (abs(after[0] - before[0]) <= 1e-9 and after[1] < before[1] - 1e-9)
    ledger = out.info["subsolvers"]["exact"]
    assert ledger["improvements"] == len(reported) - 1
    assert ledger["gain"] > 0 and ledger["variables"]["max"] <= 14


def test_ledger_reports_every_subsolver_and_the_answer_is_checker_feasible():
    problem, model = placement(30, 5, seed=3)
    r = hqopt.solve(model, backend="lns", time_limit=6, seed=1, subsolver="cpsat,mip", initial_backend="greedy", initial={})
    assert r.feasible and r.decoded is not None
    assert problem.check(problem.assignment(r.solution)).feasible
    ledger = r.info["subsolvers"]
    assert set(ledger) == {"cpsat", "mip"}
    for row in ledger.values():
        assert row["calls"] >= 1 and row["seconds"] > 0
        assert row["variables"]["min"] <= row["variables"]["median"] <= row["variables"]["max"]
        assert 0 <= row["improvements"] <= row["calls"] and row["gain"] >= 0


def test_untimed_seeded_runs_replay_exactly():
    _, model = placement(14, 4, seed=5)
    runs = [hqopt.solve(model, backend="lns", seed=9, subsolver="exact", iterations=12) for _ in range(2)]
    assert runs[0].solution == runs[1].solution
    assert runs[0].info["subsolvers"]["exact"]["calls"] == runs[1].info["subsolvers"]["exact"]["calls"]


def test_time_limit_is_held():
    _, model = placement(60, 8, seed=1)
    t0 = time.perf_counter()
    r = hqopt.solve(model, backend="lns", time_limit=3, seed=1)
    assert time.perf_counter() - t0 < 3.5
    assert r.feasible


def test_a_neighbourhood_covering_the_model_proves_optimality():
    cqm = dimod.ConstrainedQuadraticModel()
    rng = np.random.default_rng(0)
    x = {(i, p): dimod.Binary((i, p)) for i in range(3) for p in range(3)}
    flow, dist = rng.integers(1, 9, (3, 3)), rng.integers(1, 9, (3, 3))
    cqm.set_objective(sum(int(flow[i, j] * dist[p, q]) * x[i, p] * x[j, q] for i in range(3) for j in range(3) if i != j for p in range(3) for q in range(3) if p != q))
    for i in range(3):
        cqm.add_constraint(sum(x[i, p] for p in range(3)) == 1, label=f"row{i}")
        cqm.add_constraint(sum(x[p, i] for p in range(3)) == 1, label=f"col{i}")
    r = hqopt.solve(cqm, backend="lns", seed=0, k=9)
    exact = hqopt.solve(cqm, backend="exact")
    assert r.status is hqopt.Status.OPTIMAL
    assert r.objective == exact.objective


def test_options_are_checked():
    with pytest.raises(BackendError, match="unknown sub-solver"):
        LNSBackend(subsolver="cpsat,nope")
    with pytest.raises(BackendError, match="cannot be a sub-solver"):
        LNSBackend(subsolver="lns")
    with pytest.raises(BackendError, match="positive integer"):
        LNSBackend(k=0)
    assert LNSBackend(subsolver=" cpsat, exact ,cpsat").config.subsolvers == ["cpsat", "exact"]


def test_an_unavailable_subsolver_is_refused_up_front(monkeypatch):
    """It used to run with every call of it failing, its ledger row showing calls and no gain."""
    from hqopt.backends import qaoa
    from hqopt.backends.base import Availability
    from hqopt.errors import BackendUnavailable

    monkeypatch.setattr(qaoa.QAOABackend, "availability", classmethod(lambda cls: Availability(False, "needs qiskit")))
    with pytest.raises(BackendUnavailable, match="sub-solver 'qaoa' is not available here: needs qiskit"):
        LNSBackend(subsolver="cpsat,qaoa")


def test_bandit_prefers_the_better_earner_but_explores():
    ledger = Ledger(["a", "b"])
    ledger.record("a", variables=5, seconds=1.0, gain=10.0)
    ledger.record("b", variables=5, seconds=1.0, gain=1.0)
    rng = np.random.default_rng(0)
    picks = [ledger.choose(rng) for _ in range(400)]
    assert 0.8 < picks.count("a") / len(picks) < 0.97


@pytest.mark.slow
@pytest.mark.parametrize("subsolver", ["qaoa", "dwave-mock"])
def test_quantum_subsolvers_end_to_end_on_chr12a(subsolver):
    pytest.importorskip("qiskit" if subsolver == "qaoa" else "dwave.system")
    from pathlib import Path

    from hqopt.io import load

    model = load(Path(__file__).resolve().parents[1] / "problems" / "qap" / "chr12a.dat")
    r = hqopt.solve(model, backend="lns", time_limit=8, seed=1, subsolver=subsolver)
    assert r.feasible and model.evaluate(r.solution).feasible
    row = r.info["subsolvers"][subsolver]
    assert row["calls"] >= 1
    if subsolver == "qaoa":  # sub-problems kept within the simulated qubit budget
        assert row["variables"]["max"] <= 16
    else:
        assert row["qpu_access_time"] > 0


def test_a_subsolver_is_made_once_per_run_so_the_qpu_is_loaded_once(monkeypatch):
    pytest.importorskip("dwave.system")
    from hqopt.backends.dwave import DWaveMockBackend

    loads = []
    load = DWaveMockBackend._load_qpu

    def counted(self):
        loads.append(self)
        return load(self)

    monkeypatch.setattr(DWaveMockBackend, "_load_qpu", counted)
    _, model = placement(8, 3, seed=2)
    r = hqopt.solve(model, backend="lns", seed=1, subsolver="dwave-mock", iterations=3, patience=3, k=6, initial_backend="greedy")
    assert r.feasible
    assert r.info["subsolvers"]["dwave-mock"]["calls"] == 3
    assert len(loads) == 1  # one QPU (or mock graph) for the run, not one per sub-problem


def test_cli_prints_the_ledger(capsys):
    from pathlib import Path

    from hqopt.cli.app import main

    chr12a = Path(__file__).resolve().parents[1] / "problems" / "qap" / "chr12a.dat"
    code = main(["solve", str(chr12a), "--backend", "lns", "-t", "3", "--seed", "1", "--option", "subsolver=cpsat,exact"])
    out = capsys.readouterr().out
    assert code == 0
    assert "sub-solvers" in out
    assert out.split("sub-solvers")[1].split()[:4] == ["sub-solver", "calls", "improved", "errors"]
    assert any(line.split()[:1] == ["cpsat"] for line in out.splitlines())
    assert any(line.split()[:1] == ["exact"] for line in out.splitlines())


def test_defined_binaries_are_freed_with_their_service(monkeypatch):
    """Zone/region variables (defined by a service's site) belong to the service's group: a
    neighbourhood frees them with it, never as variables tied to every site."""
    import hqopt.formulations.placement as placement
    from hqopt.lns.arrays import ArrayCQM
    from hqopt.lns.neighbourhoods import OPERATORS, Destroyer, Structure

    monkeypatch.setattr(placement, "DENSE_MAX_TERMS", 0)  # force the hierarchical encoding
    spec = generate_placement(30, 6, seed=2)
    spec.pop("kind")
    p = Placement.from_spec(spec)
    model = p.to_model()
    arrays = ArrayCQM.from_cqm(model.cqm)
    s = Structure.from_arrays(arrays)
    labels = arrays.labels
    defined = {labels[y]: g for g, ys in s.defines.items() for y in ys}
    assert "zone" in {label[0] for label in defined} <= {"zone", "region"}
    assert all(labels[s.groups[g][0]][1] == label[1] for label, g in defined.items())  # the same service
    tied = {labels[v] for vs in s.attached.values() for v in vs}
    assert not tied & set(defined)
    x = arrays.vector(p.solution_of(placement.greedy_plan(p)))
    destroy = Destroyer(s, np.random.default_rng(0))
    for op in OPERATORS:
        free = set(destroy(op, x, 40).tolist())
        groups = {int(s.group_of[v]) for v in free if s.one_hot[s.group_of[v]]}
        assert groups
        for g in groups:
            assert set(s.defines.get(g, np.zeros(0, int)).tolist()) <= free


def test_a_sub_solve_that_never_searched_does_not_warn_through_the_lns_run(monkeypatch):
    """An lns sub-solve's "not searched" is the lns run's business: its own result says what it did."""
    import warnings

    from hqopt.engine import chains

    def outlast(problem, plan, seeds, budget):  # every ls start outlasts its (sub-)budget
        time.sleep(budget.remaining())

    monkeypatch.setattr(chains, "_start_all", outlast)
    k = dimod.Integer("k", upper_bound=7)
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective((k - 3) * (k - 3))
    cqm.add_constraint(k >= 1, label="lb")
    with warnings.catch_warnings():
        warnings.simplefilter("error", hqopt.errors.NotSearchedWarning)
        result = hqopt.solve(cqm, backend="lns", time_limit=2, seed=0, initial_backend="ls")
    initial = result.info["lns_initial"]
    assert initial["source"] == "ls" and initial["not_searched"] is True and result.objective == 0.0  # said, not warned
    assert all(row["not_searched"] == 0 for row in result.info["subsolvers"].values())  # cpsat sub-solves searched
    with pytest.warns(hqopt.errors.NotSearchedWarning):  # a solve of its own still warns
        hqopt.solve(cqm, backend="ls", time_limit=0.3, seed=0)
