"""Malformed problem files: always a one-line HqoptError (CLI exit code 2), never a traceback or a hang."""

from __future__ import annotations

import gzip
import random
import resource
import struct
import tempfile
import time
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
        ("a.lp", "Minimize\n obj: x\nSubject To\n c1: x + y >= 1\n c2: x + y <=\nBinary\n x y\nEnd\n",
         "a.lp:5: not a valid LP file: this constraint has no right-hand side number after '<='"),
        ("a.lp", "Minimize\n obj: x\nSubject To\n c1: x + y >= 1\n c2: x + y\nBinary\n x y\nEnd\n",
         "a.lp:5: not a valid LP file: this constraint has no sense and right-hand side"),
        ("a.lp", "Minimize\n obj: x\nSubject To\n c1: x + y >= 1\n c2: x -", "a.lp:5: not a valid LP file: this constraint"),
        ("a.lp", "Minimize\n obj: 2 x * y + x\nSubject To\n c1: x + y >= 1\nBinary\n x y\nEnd\n",
         "a.lp:2: not a valid LP file: a product or square outside [ ]"),
        ("a.lp", "Minimize\n obj: x\nSubject To\n c1: x >= 1\nSemi-continuous\n x\nEnd\n",
         "a.lp: not a valid LP file: unsupported vartype"),  # dimod's reason, no line blamed
        ("a.lp", "\\ cut short\nMaximize\n value: 15 x1 + 12 x2 + 9 x3",
         "a.lp: not a valid LP file: dimod's LP reader refused it without saying where; the file has no End line: is it cut short?"),
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


# ------------------------------------------------------------ the 1000-case harness
#: one small valid file per reader and per spec kind; the harness breaks each of them
HARNESS_SEEDS: dict[str, str | bytes] = {
    "bqp.txt": SEEDS["bqp.txt"],
    "gka.sparse": "4 5\n1 1 -3\n1 2 2\n2 3 -1\n3 4 4\n4 4 -2\n",
    "model.lp": (PROBLEMS / "lp/knapsack.lp").read_text(),
    "x.qubo": COO_TEXT,
    "chr.dat": (PROBLEMS / "qap/chr12a.dat").read_text(),
    "graph.txt": "5 6\n1 2 1\n2 3 1\n3 4 -1\n4 5 1\n5 1 1\n1 3 -1\n",
    "cap.txt": "2 3\n10 5.\n12 4.\n4\n1. 3.\n5\n2. 1.\n3\n4. 2.\n",
    "capa.txt#capacity=9": "2 3\ncapacity 5.\ncapacity 4.\n4\n1. 3.\n5\n2. 1.\n3\n4. 2.\n",
    "qubo.yaml": SEEDS["qubo.yaml"],
    "prod.yaml": SEEDS["prod.yaml"],
    "knapsack.yaml": SEEDS["knapsack.yaml"],
    "maxcut.yaml": "kind: maxcut\nedges: [[a, b], [b, c, 2], [c, a]]\n",
    "facility.yaml": "kind: facility\nwarehouses: [{capacity: 10, fixed_cost: 5}, {capacity: 9}]\n"
    "customers: [{demand: 4, cost: [1, 3]}, {demand: 5, cost: [2, 1]}]\n",
    "qap.yaml": "kind: qap\na: [[0, 2, 1], [2, 0, 3], [1, 3, 0]]\nb: [[0, 1, 4], [1, 0, 2], [4, 2, 0]]\n",
    "placement.yaml": (PROBLEMS / "placement/small.yaml").read_text(),
    "spec.json": '{"kind": "qubo", "terms": [[0, 0, -1], [0, 1, 2], [1, 1, 1]], "sense": "min"}\n',
}


def _dimod_seed() -> bytes:
    import dimod

    cqm = dimod.CQM.from_bqm(dimod.BQM({"a": -1.0, "b": 2.0}, {("a", "b"): -3.0}, 0.5, "BINARY"))
    return cqm.to_file().read()


HARNESS_SEEDS["model.cqm"] = _dimod_seed()

#: tokens a hostile or broken file may hold (a 1 MB token checks that errors stay short)
HOSTILE = [
    *JUNK, "1000000000", "2000000", "-1", "1e308", "-1e308", "nan", "-inf", "0x10", "1_0", "9" * 5000,
    "capacity", "{1: a, true: b}", "&a [*a]", "!!python/object:os.system", "\x00", "é", "x" * 1_000_000,
]
#: headers that declare huge sizes in a few bytes
HEADERS = ["1000000000 0", "2000000 1", "99999 999999999", "80", "1\n100000 1", "1000000 1000000"]


def _mutate(rng: random.Random, name: str, data: str | bytes) -> tuple[str, str | bytes]:
    """One malformed variant of a seed file."""
    if isinstance(data, bytes):  # dimod's binary files
        kind = rng.choice(["truncate", "flip", "gzip-truncate", "bomb", "header"])
        if kind == "truncate":
            return name, data[: rng.randrange(len(data))]
        if kind == "flip":
            raw = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            return name, bytes(raw)
        if kind == "gzip-truncate":
            packed = gzip.compress(data)
            return name + ".gz", packed[: rng.randrange(2, len(packed))]
        if kind == "bomb":
            return name + ".gz", BOMB
        return name, data[:8] + struct.pack("<I", rng.choice([2**31 - 1, 2**32 - 1, 10**9])) + data[12:]
    kind = rng.choice(["truncate", "token", "token", "drop-line", "dup-line", "header", "splice", "gzip-truncate", "binary", "key"])
    lines = data.splitlines()
    if kind == "truncate":
        return name, data[: rng.randrange(len(data) + 1)]
    if kind == "token":
        tokens = data.split(" ")
        tokens[rng.randrange(len(tokens))] = rng.choice(HOSTILE)
        return name, " ".join(tokens)
    if kind in ("drop-line", "dup-line"):
        k = rng.randrange(len(lines))
        return name, "\n".join(lines[:k] + lines[k + 1 :] if kind == "drop-line" else lines[: k + 1] + lines[k:])
    if kind == "header":
        return name, "\n".join([rng.choice(HEADERS), *lines[1:]])
    if kind == "splice":  # another format's body under this name
        other = rng.choice([t for t in HARNESS_SEEDS.values() if isinstance(t, str)])
        return name, other
    if kind == "gzip-truncate":
        packed = gzip.compress(data.encode())
        return name + ".gz", packed[: rng.randrange(2, len(packed))]
    if kind == "binary":
        raw = bytearray(data.encode())
        raw[rng.randrange(len(raw))] = rng.choice([0x00, 0xFF, 0xC3, 0x80])
        return name, bytes(raw)
    k = rng.randrange(len(lines))  # a duplicated, non-text or unknown key
    return name, "\n".join(lines[:k] + [rng.choice(["kind: qubo", "name: x", "1: binary", "true: binary", "null: 1", "extra_field: 1"])] + lines[k:])


#: a gzip member of 200 MB of zeros (about 200 KB on disk) after dimod's magic bytes
BOMB = gzip.compress(b"DIMODBQM" + bytes(200 * 2**20), compresslevel=9)


def _harness_cases(count: int, seed: int = 13) -> list[tuple[str, str | bytes]]:
    rng = random.Random(seed)
    names = sorted(HARNESS_SEEDS)
    cases = [(name, HARNESS_SEEDS[name]) for name in names]  # the valid seeds themselves load
    while len(cases) < count:
        name = names[len(cases) % len(names)]
        cases.append(_mutate(rng, name, HARNESS_SEEDS[name]))
    return cases


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


@pytest.mark.slow
def test_fuzz_harness_1000_malformed_files_every_reader_and_spec_kind(tmp_path):
    """>= 1000 generated cases over every reader and spec kind: a Model or one clean line, always.

    No traceback (any exception but HqoptError fails), no case over 30 s, the
    process never above 2 GB, and every error is one line of at most 500
    characters naming the file.
    """
    cases = _harness_cases(1100)
    seen_formats, failures, errors = set(), [], 0
    for k, (name, data) in enumerate(cases):
        folder = tmp_path / str(k)
        folder.mkdir()
        file_name, _, param = name.partition("#")
        path = folder / file_name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
        target = f"{path}#{param}" if param else str(path)
        t0 = time.perf_counter()
        try:
            model = io.load(target)
            seen_formats.add(model.metadata.get("format"))
        except HqoptError as exc:
            errors += 1
            text = str(exc)
            if "\n" in text or len(text) > 500 or file_name not in text:
                failures.append(f"{name}: bad error line ({len(text)} chars): {text[:200]!r}")
        except Exception as exc:  # noqa: BLE001 - a traceback for the user: what the harness exists to find
            failures.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
        took = time.perf_counter() - t0
        if took > 30:
            failures.append(f"{name}: took {took:.1f} s")
    assert not failures, "\n".join(failures[:20])
    assert _peak_rss_bytes() < 2 * 2**30
    assert len(cases) >= 1000 and errors >= 700
    assert {"orlib-bqp", "biqmac", "lp", "coo", "qaplib", "gset", "orlib-cap", "spec", "dimod"} <= seen_formats


def test_fuzz_harness_cli_path_in_process(capsys, tmp_path):
    """A slice of the harness through ``hqopt info`` in-process: exit 0 or 2, one stderr line naming the file."""
    for k, (name, data) in enumerate(_harness_cases(160, seed=7)[len(HARNESS_SEEDS) :]):
        file_name, _, param = name.partition("#")
        path = tmp_path / f"{k}-{file_name}"
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
        code = main(["info", f"{path}#{param}" if param else str(path), "--json"])
        err = capsys.readouterr().err.strip()
        assert code in (0, 2), (name, err)
        if code == 2:
            assert len(err.splitlines()) == 1 and len(err) <= 510 and path.name in err, (name, err[:300])
