"""QAPLIB reader, .sln reader, QAP model vs the independent cost checker, proven optima."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest

import hqopt
from hqopt.errors import FormatError, ModelError
from hqopt.formulations.qap import QAP
from hqopt.io.base import ReadOptions
from hqopt.io.qaplib import FORMAT, parse_qap, read_qap, read_solution, read_solution_text

ROOT = Path(__file__).resolve().parents[1]
QAP_DIR = ROOT / "problems" / "qap"
SHARED = ROOT.parent / "shared" / "benchmarks" / "qaplib"


def _best_known(name: str) -> float:
    with open(SHARED / "best_known.csv") as fh:
        return float({row["instance"]: row["best_known"] for row in csv.DictReader(fh)}[name])


@pytest.mark.parametrize("name", ["chr12a", "nug12"])
def test_sln_permutation_reaches_best_known(name):
    qap = read_qap(QAP_DIR / f"{name}.dat")
    n, value, perm = read_solution(QAP_DIR / f"{name}.sln")
    assert n == qap.n == 12
    assert qap.cost(perm) == value
    if SHARED.exists():
        assert qap.cost(perm) == _best_known(name)
    evaluation = qap.to_model().evaluate(qap.solution_of(perm))
    assert evaluation.feasible and evaluation.objective == value


@pytest.mark.skipif(not SHARED.exists(), reason="shared benchmarks not checked out beside the repo")
@pytest.mark.parametrize("name", ["had14", "tai17a", "nug20", "esc16b"])
def test_dev_set_sln_values(name):
    qap = read_qap(SHARED / f"{name}.dat")
    _, value, perm = read_solution(SHARED / f"{name}.sln")
    assert qap.cost(perm) == value == _best_known(name)


def test_model_equals_checker_on_random_permutations_asymmetric():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 9, (6, 6)), rng.integers(0, 9, (6, 6))  # asymmetric, non-zero diagonals
    qap = QAP(a, b)
    model = qap.to_model()
    for _ in range(30):
        perm = list(rng.permutation(6) + 1)
        assert model.evaluate(qap.solution_of(perm)).objective == pytest.approx(qap.cost(perm))
    assert not model.evaluate({**qap.solution_of([1, 2, 3, 4, 5, 6]), ("x", 1, 2): 1}).feasible


def test_cpsat_proves_brute_force_optimum():
    rng = np.random.default_rng(7)
    qap = QAP(rng.integers(0, 10, (5, 5)), rng.integers(0, 10, (5, 5)))
    best = min(qap.cost(p) for p in itertools.permutations(range(1, 6)))
    result = hqopt.solve(qap, backend="cpsat", time_limit=30, seed=0, num_workers=1)
    assert result.status is hqopt.Status.OPTIMAL
    assert result.objective == best == result.decoded["cost"]


def test_reader_errors_name_file_and_line():
    with pytest.raises(FormatError) as info:
        parse_qap("3\n0 1 2\n1 0 x\n", "bad.dat")
    assert (info.value.path, info.value.line) == ("bad.dat", 3)
    with pytest.raises(FormatError, match="unexpected end of file"):
        parse_qap("2\n0 1\n1 0\n0 1\n", "short.dat")
    with pytest.raises(FormatError, match="not a permutation"):
        read_solution_text("3 10\n1 1 2\n", "bad.sln")


def test_sln_variants():
    assert read_solution_text("4 7\n2, 1, 4, 3\n", "c.sln") == (4, 7.0, [2, 1, 4, 3])
    assert read_solution_text("4 7\n1 0\n3 2\n", "zero.sln")[2] == [2, 1, 4, 3]  # 0-based, split lines


def test_format_reads_and_sniffs():
    text = (QAP_DIR / "nug12.dat").read_text()
    model = FORMAT.read(text, "nug12.dat", ReadOptions())
    assert model.num_variables == 144 and model.num_constraints == 24 and model.sense.value == "min"
    assert FORMAT.sniff(text[:4096])
    assert not FORMAT.sniff(" 10 \n 50 111 \n 1 4 39 \n")  # OR-Library bqp


def test_decode_refuses_non_permutation():
    qap = QAP(np.ones((3, 3)), np.ones((3, 3)))
    with pytest.raises(ModelError):
        qap.decode({("x", 1, 1): 1, ("x", 2, 1): 1, ("x", 3, 3): 1})


def test_a_row_with_a_number_too_many_is_named_by_its_line(tmp_path):
    lines = (QAP_DIR / "nug12.dat").read_text().split("\n")
    assert len(lines[2].split()) == 12
    extra = tmp_path / "extra.dat"
    extra.write_text("\n".join(lines[:2] + [lines[2] + " 99"] + lines[3:]))
    with pytest.raises(FormatError) as info:
        read_qap(extra)
    assert info.value.line == 3 and "row 1 of matrix A has 13 numbers" in info.value.reason
    short = tmp_path / "short.dat"
    short.write_text("\n".join(lines[:4] + [lines[4].rsplit(" ", 1)[0]] + lines[5:]))
    with pytest.raises(FormatError) as info:
        read_qap(short)
    assert info.value.line == 5 and "row 3 of matrix A" in info.value.reason
    shifted = tmp_path / "shifted.dat"  # one number too many in row 1, one too few in row 3: same count, rows shifted
    shifted.write_text("\n".join(lines[:2] + [lines[2] + " 99", lines[3], lines[4].rsplit(" ", 1)[0]] + lines[5:]))
    with pytest.raises(FormatError, match=r"shifted.dat:3: row 1 of matrix A has 13 numbers"):
        read_qap(shifted)


def test_rows_wrapped_over_lines_or_streamed_still_read(tmp_path):
    qap = read_qap(QAP_DIR / "nug12.dat")
    numbers = [f"{x:g}" for x in np.concatenate([np.ravel(qap.a), np.ravel(qap.b)])]
    wrapped = "\n".join(" ".join(numbers[k:k + 7]) + "\n" + " ".join(numbers[k + 7:k + 12]) for k in range(0, len(numbers), 12))
    rng = np.random.default_rng(0)
    cuts = np.unique(np.concatenate([[0], rng.integers(1, len(numbers), 40), [len(numbers)]]))
    uneven = "\n".join(" ".join(numbers[a:b]) for a, b in zip(cuts, cuts[1:]))  # a stream with lines of any length
    for name, body in [
        ("wrapped", wrapped),
        ("stream", "\n".join(" ".join(numbers[k:k + 10]) for k in range(0, len(numbers), 10))),
        ("uneven", uneven),
    ]:
        path = tmp_path / f"{name}.dat"
        path.write_text(f"12\n\n{body}\n")
        again = read_qap(path)
        assert np.array_equal(again.a, qap.a) and np.array_equal(again.b, qap.b), name


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared QAPLIB benchmarks not present")
def test_every_shipped_qaplib_file_reads():
    from hqopt.io.limits import overridden

    files = sorted(SHARED.glob("*.dat")) + sorted(QAP_DIR.glob("*.dat"))
    with overridden(max_qap_n=300):
        for path in files:
            qap = read_qap(path)
            assert np.shape(qap.a) == np.shape(qap.b) == (qap.n, qap.n), path
