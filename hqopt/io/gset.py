"""Gset / rudy graphs as Max-Cut problems (reported as the cut weight, sense max).

Format: ``n m`` then ``m`` lines ``i j w`` (each undirected edge once,
vertices 1-based). The model's variables are the vertex numbers.

Example:
    >>> model = FORMAT.read("3 2\\n1 2 1\\n2 3 1\\n", "tiny.txt", ReadOptions())
    >>> model.sense.value, model.evaluate({1: 0, 2: 1, 3: 0}).objective
    ('max', 2.0)
"""

from __future__ import annotations

import os
from pathlib import Path

from hqopt.errors import FormatError
from hqopt.formulations.maxcut import MaxCut
from hqopt.io import limits
from hqopt.io.base import FileFormat, ReadOptions, TokenStream, read_text
from hqopt.model import Model


def parse_gset(text: str, source: str) -> MaxCut:
    """The :class:`MaxCut` instance of a rudy text."""
    _check_edge_lines(text, source)
    stream = TokenStream(text, source)
    n = limits.check("variables", stream.int("the number of vertices", minimum=1), source, stream.line)
    m = limits.check("edges", stream.int("the number of edges", minimum=0), source, stream.line)
    edges = []
    for _ in range(m):
        i = stream.int("a vertex", minimum=1, maximum=n)
        j = stream.int("a vertex", minimum=1, maximum=n)
        w = stream.float("an edge weight")
        if i == j:
            raise stream.error(f"self-loop on vertex {i} (a Biq Mac QUBO, whose 'i i q' lines are linear terms? "
                               "name it .sparse or pass --format biqmac)")
        edges.append((i, j, w))
    stream.expect_end()
    return MaxCut(edges, range(1, n + 1), name=Path(source).name.removesuffix(".gz").removesuffix(".txt"))


def _check_edge_lines(text: str, source: str) -> None:
    """Every line after ``n m`` is one edge ``i j w``: a line with 2 or 4 numbers is named, not read across."""
    lines = text.split("\n")
    first = next((k for k, line in enumerate(lines) if line.strip()), len(lines))
    for number, line in enumerate(lines[first + 1:], first + 2):
        count = len(line.split())
        if count not in (0, 3):
            raise FormatError(source, number, f"expected an edge 'i j w' (two vertices and a weight), got {count} value{'s' if count > 1 else ''}")


def read(text: str, source: str, options: ReadOptions) -> Model:
    """The Max-Cut model of a rudy text."""
    if options.instance not in (None, 1):
        raise FormatError(source, None, f"instance {options.instance} asked for, but a Gset file holds one problem")
    model = parse_gset(text, source).to_model()
    model.metadata.update({"format": "gset", "source": source})
    return model


def read_gset(path: str | os.PathLike[str]) -> MaxCut:
    """The :class:`MaxCut` instance of a Gset file (gzip allowed)."""
    return parse_gset(read_text(path), str(path))


def sniff(head: str) -> bool:
    """``n m`` then edge lines ``i j w``, at least half of them edges (``i != j``, a number ``w``).

    A file with a few bad lines (a self-loop, a missing weight) is still a
    Gset file: its reader then names the bad line, where detection by content
    alone would have read it as another format (Biq Mac's ``i j q``, a
    minimisation). Content that fits Biq Mac as well is decided by
    :func:`hqopt.io.detect_format`.
    """
    lines = [line.split() for line in head.splitlines() if line.strip()]
    if len(lines) < 2 or len(lines[0]) != 2 or not all(t.isdigit() for t in lines[0]):
        return False
    n = int(lines[0][0])
    body = lines[1:] if head.endswith("\n") or len(lines) == 2 else lines[1:-1]  # a head cut mid-line: drop that line
    good = sum(_gset_edge(r, n) for r in body)
    return bool(body) and 2 * good >= len(body)


def _gset_edge(row: list[str], n: int) -> bool:
    """``i j w`` with ``1 <= i != j <= n`` and a number ``w``."""
    return len(row) == 3 and row[0] != row[1] and _is_number(row[2]) and all(t.isdigit() and 1 <= int(t) <= n for t in row[:2])


def mostly_unit_weights(head: str) -> bool:
    """At least half the edge lines weigh +1 or -1 (as Gset's own graphs): what tells a graph from a
    Biq Mac QUBO when neither has an ``i i`` entry."""
    rows = [line.split() for line in head.splitlines()[1:] if line.strip()]
    rows = rows if head.endswith("\n") else rows[:-1]  # a head cut mid-line: drop that line
    return 2 * sum(len(r) == 3 and r[2] in ("1", "-1") for r in rows) >= len(rows)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


FORMAT = FileFormat(
    name="gset",
    extensions=(".txt", ".rud"),
    description="Gset / rudy graph as Max-Cut (n m, then edges i j w)",
    read=read,
    write=None,
    sniff=sniff,
)
