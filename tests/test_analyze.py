"""``hqopt.analyze`` and ``hqopt analyze``: compiled size, precision, embedding, QAOA, QPU time."""

from __future__ import annotations

import json
from pathlib import Path

import dimod
import pytest

import hqopt
from hqopt.analyze import QPU_PRECISION, analyze
from hqopt.cli.app import main
from hqopt.formulations.placement import Placement

from conftest import brute_force

REPO = Path(__file__).resolve().parents[1]
G1 = REPO / "problems" / "maxcut" / "G1.txt"

TINY_PLACEMENT = {
    "name": "tiny-placement",
    "resources": ["cpu"],
    "sites": [
        {"name": "a", "zone": "z1", "capacity": {"cpu": 4}, "price": {"cpu": 2}},
        {"name": "b", "zone": "z2", "capacity": {"cpu": 4}, "price": {"cpu": 3}},
    ],
    "services": [
        {"name": "web", "demand": {"cpu": 2}},
        {"name": "db", "demand": {"cpu": 2}},
        {"name": "cache", "demand": {"cpu": 1}},
        {"name": "batch", "demand": {"cpu": 2}},
    ],
    "traffic": [["web", "db", 2], ["web", "cache", 1]],
}


@pytest.fixture(scope="module")
def placement() -> hqopt.Model:
    return Placement.from_spec(TINY_PLACEMENT).to_model()


def test_placement_report_matches_what_dwave_mock_used(placement):
    report = analyze(placement, topologies=("pegasus", "zephyr"), embed_timeout=20)
    compiled = report.compiled
    assert report.model["variables"] == 8 and report.model["constraints"] > 0
    assert compiled["slack_variables"] > 0
    assert compiled["logical_variables"] == 8 + compiled["slack_variables"]
    assert compiled["overhead"] == pytest.approx(compiled["logical_variables"] / 8)
    assert report.coefficients["penalty_stretch"] > 1  # penalties dominate the objective's biases
    for name in ("pegasus", "zephyr"):
        emb = report.embeddings[name]
        assert emb["embedded"] and emb["physical_qubits"] >= compiled["logical_variables"]

    result = hqopt.solve(placement, backend="dwave-mock", seed=4)
    used = report.embeddings["pegasus"]
    for key in ("physical_qubits", "max_chain_length", "mean_chain_length"):
        assert result.info[key] == used[key]
    assert result.feasible and result.objective == pytest.approx(brute_force(placement))
    zephyr = hqopt.solve(placement, backend="dwave-mock", seed=4, topology="zephyr")
    assert zephyr.info["physical_qubits"] == report.embeddings["zephyr"]["physical_qubits"]

    assert report.qaoa["transpiled"] and report.qaoa["width"] == compiled["logical_variables"]
    assert report.qaoa["two_qubit_gates"] >= 2 * compiled["interactions"]  # each ZZ term needs >= 2 ECRs
    timing = report.qpu_timing
    assert timing["qubits"] == used["physical_qubits"]
    assert 0.005 < timing["programming_time"] < 0.05 and 1e-5 < timing["time_per_read"] < 1e-3
    assert timing["total_time"] == pytest.approx(timing["programming_time"] + 100 * timing["time_per_read"])
    text = report.to_text()
    assert "Advantage (Pegasus P16)" in text and "two-qubit gates" in text and "per read" in text


def test_dynamic_range_and_precision_loss():
    # Ising of this QUBO: J = 250 on (a, b) and 0.25 on (b, c); h small
    bqm = dimod.BQM({}, {("a", "b"): 1000.0, ("b", "c"): 1.0}, 0.0, "BINARY")
    coefficients = analyze(bqm, embed=False).coefficients
    h, j, _ = bqm.spin.to_ising()
    values = [abs(x) for x in list(h.values()) + list(j.values()) if x]
    assert coefficients["dynamic_range"] == pytest.approx(max(values) / min(values))
    assert coefficients["below_precision"] >= 1  # 0.25 / 250 of the J range < QPU_PRECISION
    assert 0.25 / 250 < QPU_PRECISION
    assert "penalty_stretch" not in coefficients  # no constraints, no penalties


def test_timing_grows_with_qubits():
    small = analyze(dimod.BQM({0: 1.0}, {}, 0, "BINARY"), topologies=("pegasus",)).qpu_timing
    large = analyze(dimod.generators.gnp_random_bqm(40, 0.3, "BINARY", random_state=1), topologies=("pegasus",), embed=False).qpu_timing
    assert large["qubits"] == 40 and small["qubits"] == 1
    assert large["time_per_read"] > small["time_per_read"]


def test_g1_report_without_embedding(capsys):
    code = main(["analyze", str(G1), "--json", "--no-embed"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["compiled"]["logical_variables"] == 800
    assert report["compiled"]["interactions"] == 19176
    assert report["compiled"]["density"] == pytest.approx(2 * 19176 / (800 * 799))
    assert report["coefficients"]["dynamic_range"] == 1.0  # +-1 weights: nothing lost to precision
    assert not report["qaoa"]["transpiled"] and "does not fit" in report["qaoa"]["reason"]
    assert report["embeddings"]["pegasus"]["embedded"] is False


def test_cli_text_and_errors(capsys, tmp_path):
    qubo = tmp_path / "tiny.yaml"
    qubo.write_text("kind: maxcut\nedges: [[0, 1, 1], [1, 2, 1], [2, 0, 1]]\n")
    assert main(["analyze", str(qubo), "--topology", "zephyr", "--reps", "2"]) == 0
    out = capsys.readouterr().out
    assert "Advantage2 (Zephyr Z12): 3 physical qubits" in out and "QAOA (p=2): 3 qubits" in out
    assert main(["analyze", str(tmp_path / "missing.txt")]) == 2
    assert main(["analyze", str(qubo), "--embed-timeout", "0"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 2


def test_no_embed_verdict_says_to_search(capsys):
    assert main(["analyze", str(G1), "--no-embed", "--topology", "pegasus"]) == 0
    out = capsys.readouterr().out
    assert "without --no-embed" in out and "install hqopt[quantum]" not in out


def test_embed_timeout_is_honoured_even_when_minorminer_overruns(monkeypatch):
    import time

    import hqopt.backends.dwave as dw

    def slow(source, target_edges, options):  # a first stage that ignores the timeout (as on large problems)
        time.sleep(60)
        return {}

    monkeypatch.setattr(dw, "_minorminer", slow)
    m = hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 2, (1, 2): 1})
    t0 = time.perf_counter()
    report = analyze(m, topologies=("pegasus",), embed_timeout=0.3)
    assert time.perf_counter() - t0 < 10  # QAOA transpiling included; the search itself ends at 1.5 x 0.3 + 0.5 s
    facts = report.embeddings["pegasus"]
    assert facts["embedded"] is False and facts["embedding_time"] < 2.0 and "no embedding found within 0.3 s" in facts["embedding_failure"]


def test_fitting_problem_suggests_a_time_limit_that_covers_embedding():
    report = analyze(hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 2}), topologies=("pegasus",))
    assert report.verdict["fits"] and "--backend dwave -t " in report.verdict["suggested"]
