"""Single-source capacitated facility location: cap-file reader, checker, known optimum."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import hqopt
from hqopt.errors import FormatError, SpecError
from hqopt.formulations.facility import FacilityLocation
from hqopt.io.base import ReadOptions
from hqopt.io.orlib_cap import FORMAT, parse_cap, read_cap

ROOT = Path(__file__).resolve().parents[1]
CAP71 = ROOT / "problems" / "facility" / "cap71.txt"
#: OR-Library capopt for cap71 (= its uncapacitated optimum: capacities do not bind)
CAP71_BEST = 932615.750


def _uflp_optimum(fl: FacilityLocation) -> tuple[list[int], dict[int, int]]:
    """Enumerate every set of open warehouses, serving each customer from its cheapest open one."""
    subsets = np.array(list(itertools.product([0, 1], repeat=fl.m)), dtype=bool)[1:]
    big = fl.cost.max() * 10 + 1
    totals = subsets @ fl.fixed_cost + np.array([np.where(s[:, None], fl.cost, big).min(axis=0).sum() for s in subsets])
    best = subsets[int(np.argmin(totals))]
    opened = [i + 1 for i in np.flatnonzero(best)]
    masked = np.where(best[:, None], fl.cost, np.inf)
    return opened, {j + 1: int(np.argmin(masked[:, j])) + 1 for j in range(fl.n)}


def test_cap71_optimum_reaches_best_known():
    fl = read_cap(CAP71)
    assert (fl.m, fl.n) == (16, 50)
    opened, assignment = _uflp_optimum(fl)
    feasible, cost, violations = fl.check(opened, assignment)
    assert feasible, violations  # capacities do not bind, so this is the single-source optimum too
    assert cost == pytest.approx(CAP71_BEST, abs=1e-3)
    evaluation = fl.to_model().evaluate(fl.solution_of(opened, assignment))
    assert evaluation.feasible and evaluation.objective == pytest.approx(cost)


def test_checker_and_model_agree_including_infeasible():
    rng = np.random.default_rng(3)
    fl = FacilityLocation(capacity=[5, 6, 4], fixed_cost=[3, 2, 4], demand=[2, 3, 2, 1], cost=rng.integers(1, 9, (3, 4)))
    model = fl.to_model()
    for opened_bits in itertools.product([0, 1], repeat=3):
        opened = [i + 1 for i, b in enumerate(opened_bits) if b]
        for combo in itertools.product([1, 2, 3], repeat=4):
            assignment = dict(zip(range(1, 5), combo))
            ok, cost, _ = fl.check(opened, assignment)
            ev = model.evaluate(fl.solution_of(opened, assignment))
            assert ev.feasible == ok and ev.objective == pytest.approx(cost)


def test_cpsat_optimum_equals_enumeration():
    fl = FacilityLocation(capacity=[5, 6, 4], fixed_cost=[3, 2, 4], demand=[2, 3, 2, 1], cost=[[1, 5, 2, 6], [4, 1, 3, 2], [2, 2, 1, 1]])
    best = min(
        c
        for bits in itertools.product([0, 1], repeat=3)
        for combo in itertools.product([1, 2, 3], repeat=4)
        for ok, c, _ in [fl.check([i + 1 for i, b in enumerate(bits) if b], dict(zip(range(1, 5), combo)))]
        if ok
    )
    result = hqopt.solve(fl, backend="cpsat", time_limit=20, seed=0, num_workers=1)
    assert result.status is hqopt.Status.OPTIMAL and result.objective == pytest.approx(best)
    assert result.decoded["feasible"] and result.decoded["cost"] == pytest.approx(best)


def test_reader_errors_and_placeholder():
    with pytest.raises(FormatError) as info:
        parse_cap("2 1\n10 5.\n10 x\n", "bad.txt")
    assert info.value.line == 3
    with pytest.raises(FormatError, match="placeholder"):
        parse_cap("1 1\ncapacity 5.\n3\n1.\n", "capa.txt")
    assert parse_cap("1 1\ncapacity 5.\n3\n1.\n", "capa.txt", capacity=8000).capacity[0] == 8000


def test_format_sniff_and_read():
    text = CAP71.read_text()
    assert FORMAT.sniff(text[:4096])
    assert not FORMAT.sniff("800 19176\n1 560 1\n1 503 1\n")  # gset
    assert FORMAT.read(text, "cap71.txt", ReadOptions()).num_variables == 16 + 16 * 50


def test_spec_and_errors():
    spec = {"warehouses": [{"capacity": 5, "fixed_cost": 1}], "customers": [{"demand": 2, "cost": [3]}]}
    fl = FacilityLocation.from_spec(spec)
    assert fl.check([1], {1: 1}) == (True, 4.0, [])
    with pytest.raises(SpecError, match=r"customers\[0\].cost"):
        FacilityLocation.from_spec({**spec, "customers": [{"demand": 2, "cost": [3, 4]}]})
