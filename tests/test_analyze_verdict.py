"""``hqopt analyze`` ends with a verdict: fits the QPU or not, and the suggested path."""

from __future__ import annotations

import dimod
import pytest

import hqopt
from hqopt.analyze import analyze
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement

pytest.importorskip("minorminer")
pytest.importorskip("dwave.system")


def test_a_small_problem_fits_and_is_sent_to_the_qpu():
    report = analyze(hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 2}), topologies=("pegasus",))
    assert report.verdict["fits"] is True
    assert "fits the QPU" in report.verdict["reason"] and "--backend dwave" in report.verdict["suggested"]
    assert report.to_text().splitlines()[-2].startswith("verdict: fits the QPU")


def test_a_clique_larger_than_the_qpu_holds_is_decomposed():
    n = 200  # Advantage's largest embeddable clique has 180 variables
    bqm = dimod.BinaryQuadraticModel({i: -1.0 for i in range(n)}, {(i, j): 1.0 for i in range(n) for j in range(i + 1, n)}, 0.0, "BINARY")
    report = analyze(bqm, topologies=("pegasus",), embed_timeout=0.5, embed_tries=1)
    verdict = report.verdict
    assert verdict["fits"] is False and verdict["sub_problem_size"] == 180
    assert "does not fit the QPU" in verdict["reason"] and "sub_size=180" in verdict["suggested"]


def test_no_embedding_search_gives_no_verdict_on_fit():
    report = analyze(hqopt.Model.from_qubo({(0, 1): 1}), embed=False)
    assert report.verdict["fits"] is None


def test_placement_says_what_a_sub_problem_is():
    spec = generate_placement(60, 8, seed=1)
    spec.pop("kind")
    advice = Placement.from_spec(spec).subproblem_advice(180)
    assert advice.startswith("here a sub-problem is the services of 4 sites")
