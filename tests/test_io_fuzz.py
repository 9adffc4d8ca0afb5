"""Malformed problem files: always a one-line HqoptError (CLI exit code 2), never a traceback or a hang."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hqopt import io
from hqopt.cli.app import main
from hqopt.errors import FormatError, HqoptError

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"
COO_TEXT = "# vartype=BINARY\n0 0 -1.5\n1 1 2\n0 1 3\n2 2 -4\n1 2 0.5\n"
SEEDS = {
    "bqp.txt": (PROBLEMS / "qubo/bqp50-1.txt").read_text(),
    "gka.sparse": (PROBLEMS / "qubo/gka1a.sparse").read_text(),
    "knap.lp": (PROBLEMS / "lp/assignment.lp").read_text(),
    "prod.yaml": (PROBLEMS / "spec/production.yaml").read_text(),
    "qubo.yaml": (PROBLEMS / "spec/tiny-qubo.yaml").read_text(),
    "knapsack.yaml": (PROBLEMS / "spec/knapsack.yaml").read_text(),
    "x.qubo": COO_TEXT,
    "qap.dat": (PROBLEMS / "qap/chr12a.dat").read_text(),
}
JUNK = ["x", "1e999", "-", "nan", "inf", "99999999999999999999999", "1.5", "-7", "0", "", "#", "[", ":", "{", "kind:", "End"]


def load_or_error(name: str, text: str) -> None:
    """Load ``text`` saved as ``name``: a Model or a one-line HqoptError, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        try:
            io.load(path)
        except HqoptError as exc:
            assert "\n" not in str(exc) and str(exc).strip()


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(SEEDS)))
    text = SEEDS[name]
    kind = draw(st.sampled_from(["truncate", "token", "drop-line", "dup-line", "empty"]))
    if kind == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "token":
        tokens = text.split(" ")
        k = draw(st.integers(0, len(tokens) - 1))
        tokens[k] = draw(st.sampled_from(JUNK) | st.text(max_size=6))
        text = " ".join(tokens)
    elif kind in ("drop-line", "dup-line"):
        lines = text.splitlines()
        k = draw(st.integers(0, len(lines) - 1))
        lines = lines[:k] + lines[k + 1 :] if kind == "drop-line" else lines[: k + 1] + lines[k:]
        text = "\n".join(lines)
    else:
        text = ""
    return name, text


@settings(max_examples=60, deadline=None)
@given(mutated())
def test_mutated_files_load_or_raise_a_one_line_error(case):
    load_or_error(*case)


@settings(max_examples=15, deadline=None)
@given(mutated())
def test_cli_info_on_mutated_files_exits_0_or_2(case):
    name, text = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        code = main(["info", str(path), "--json"])
    assert code in (0, 2)


@pytest.mark.parametrize(
    "name, text, reason",
    [
        ("a.txt", "", "empty"),
        ("a.txt", "1\n3 4\n1 1 5\n2 3 1\n", "unexpected end of file"),  # wrong count
        ("a.txt", "1\n3 1\n1 4 5\n", "must be <= 3"),  # index out of range
        ("a.txt", "1\n3 1\n1 2 abc\n", "expected a coefficient, got 'abc'"),
        ("a.txt", "1\n3 1\n1 2 1e400\n", "out of range"),
        ("a.txt", "1\n3 2\n1 2 1\n2 1 3\n", "listed twice"),
        ("a.txt", "1\n3 1\n1 2 1\n9\n", "unexpected extra data"),
        ("a.sparse", "2 1\n0 1 3\n", "must be >= 1"),
        ("a.sparse", "99999999999 1\n1 1 1\n", "more than the limit of"),
        ("a.lp", "Minimize\n obj: x +", "not a valid LP file"),
        ("a.lp", "Minimize\n obj: 1e999 x\nBinary\n x\nEnd\n", "infinite or huge"),
        ("a.qubo", "0 0 1\n0 1\n", "expected 'i j bias'"),
        ("a.qubo", "0 0 1\n-1 1 2\n", "expected 'i j bias'"),
        ("a.yaml", "kind: qubo\nterms: [[a, a, x]]\n", "terms[0]"),
        ("a.yaml", "kind: cqm\nvariables: {n: {type: integer, lower: 0}}\n", "variables.n.upper"),
        ("a.yaml", "kind: qubo\nmatrix: [[1, 2], [3]]\n", "matrix[1]"),
        ("a.yaml", "- just\n- a list\n", "a spec is a mapping"),
        ("a.json", '{"kind": "qubo", "terms": [[0, 0, 1]', "invalid JSON"),
    ],
)
def test_specific_malformations_give_the_reason(name, text, reason):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        with pytest.raises(HqoptError) as info:
            io.load(path)
    assert reason in str(info.value) and "\n" not in str(info.value)


def test_binary_garbage_is_a_format_error(tmp_path):
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(FormatError, match="not a text file"):
        io.load(path)
    gz = tmp_path / "bad.txt.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(FormatError, match="corrupt gzip"):
        io.load(gz)
