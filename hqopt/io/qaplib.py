"""QAPLIB quadratic assignment files (``.dat``) and their solutions (``.sln``).

``.dat``: ``n``, then matrix ``A`` (n x n), then matrix ``B`` (n x n), all
whitespace-separated integers; the cost of a permutation ``p`` is
``sum_ij A[i][j] * B[p(i)][p(j)]`` (see :mod:`hqopt.formulations.qap`).
``.sln``: ``n value`` then the permutation, 1-based (commas allowed).

Example:
    >>> model = FORMAT.read("2\\n0 2\\n2 0\\n0 3\\n3 0\\n", "tiny.dat", ReadOptions())
    >>> model.num_variables, model.num_constraints
    (4, 4)
    >>> read_solution_text("2 12\\n2 1\\n", "tiny.sln")
    (2, 12.0, [2, 1])
"""

from __future__ import annotations

import os
from pathlib import Path

from hqopt.errors import FormatError
from hqopt.formulations.qap import QAP
from hqopt.io import limits
from hqopt.io.base import FileFormat, ReadOptions, TokenStream, read_text
from hqopt.model import Model


def parse_qap(text: str, source: str) -> QAP:
    """The :class:`QAP` instance in a QAPLIB ``.dat`` text."""
    stream = TokenStream(text, source)
    n = limits.check("qap_n", stream.int("the size n", minimum=1), source, stream.line)
    stream_start = stream.line
    misaligned = _misaligned_row(text, stream_start, n)
    try:
        a = [stream.floats(n, "an entry of matrix A") for _ in range(n)]
        b = [stream.floats(n, "an entry of matrix B") for _ in range(n)]
        stream.expect_end()
    except FormatError:
        if misaligned:  # the stream's error is where the count finally went wrong; the row is where it began
            raise FormatError(source, *misaligned) from None
        raise
    if misaligned and _row_aligned(text, stream_start, n):  # a number too many in one row and one too few in another
        raise FormatError(source, *misaligned)
    return QAP(a, b, name=Path(source).name.removesuffix(".gz").removesuffix(".dat"))


def _misaligned_row(text: str, n_line: int, n: int) -> tuple[int, str] | None:
    """The first row of A or B that does not end at a line end, in a file whose rows start on new lines.

    QAPLIB rows take one line or wrap over several (``15 + 11`` numbers for
    n = 26); a row that ends mid-line has a number too many or too few. A file
    written as one stream of numbers (every line the same length, rows not
    starting on new lines) is not checked: None.
    """
    lines = text.split("\n")[n_line:] + [""]
    counts = [(number, len(line.split())) for number, line in enumerate(lines[:-1], n_line + 1) if line.strip()]
    if _streamed(lines, n):
        return None
    row, start, filled = 0, 0, 0
    for number, count in counts:
        if row == 2 * n:
            return None  # extra data: the reader says so
        start = number if filled == 0 else start
        filled += count
        if filled > n:
            matrix, index = "AB"[row // n], row % n + 1
            if start == number:
                return number, f"row {index} of matrix {matrix} has {count} numbers on this line; a row has n = {n}"
            return start, f"row {index} of matrix {matrix} (from this line to line {number}) does not end at a line end: a row has n = {n} numbers"
        if filled == n:
            row, filled = row + 1, 0
    return None


def _row_aligned(text: str, n_line: int, n: int) -> bool:
    """Whether at least 3/4 of the 2n rows end at a line end: a file laid out row by row.

    Only then is a file that reads as the right count of numbers, with rows
    ending mid-line, refused: a file written as one stream with uneven lines
    reads as it always did.
    """
    ends, total = set(), 0
    for line in text.split("\n")[n_line:]:
        total += len(line.split())
        ends.add(total)
    return sum(k * n in ends for k in range(1, 2 * n + 1)) >= 1.5 * n


def _streamed(lines: list[str], n: int) -> bool:
    """Every line holds the same count w != n of numbers, but for the last line of A, of B and before a blank line."""
    lengths: set[int] = set()
    total = 0
    for line, after in zip(lines, lines[1:]):
        count = len(line.split())
        total += count
        if count and after.strip() and total != n * n:
            lengths.add(count)
    return len(lengths) <= 1 and n not in lengths and n > 1


def read(text: str, source: str, options: ReadOptions) -> Model:
    """The QAP model of a ``.dat`` text (one problem per file)."""
    if options.instance not in (None, 1):
        raise FormatError(source, None, f"instance {options.instance} asked for, but a QAPLIB .dat file holds one problem")
    qap = parse_qap(text, source)
    model = qap.to_model()
    model.metadata.update({"format": "qaplib", "source": source})
    return model


def read_qap(path: str | os.PathLike[str]) -> QAP:
    """The :class:`QAP` instance of a ``.dat`` file (gzip allowed)."""
    return parse_qap(read_text(path), str(path))


def read_solution_text(text: str, source: str) -> tuple[int, float, list[int]]:
    """``(n, value, permutation)`` of a ``.sln`` text; the permutation is 1-based."""
    stream = TokenStream(text.replace(",", " "), source)
    n = limits.check("variables", stream.int("the size n", minimum=1), source, stream.line)
    value = stream.float("the objective value")
    perm = stream.ints(n, "a permutation entry")
    stream.expect_end()
    if sorted(perm) != list(range(1, n + 1)):
        if sorted(perm) == list(range(n)):
            perm = [p + 1 for p in perm]  # a few files are 0-based
        else:
            raise stream.error(f"the solution is not a permutation of 1..{n}")
    return n, value, perm


def read_solution(path: str | os.PathLike[str]) -> tuple[int, float, list[int]]:
    """``(n, value, permutation)`` of a ``.sln`` file."""
    return read_solution_text(read_text(path), str(path))


def sniff(head: str) -> bool:
    """A lone integer on the first line followed by rows of integers."""
    lines = [line.split() for line in head.splitlines() if line.strip()]
    if len(lines) < 2 or len(lines[0]) != 1 or not lines[0][0].isdigit():
        return False
    n = int(lines[0][0])
    tokens = [t for line in lines[1:] for t in line]
    wide_rows = len(lines[1]) >= min(n, 4)  # OR-Library bqp files have 2 numbers on line 2
    return n >= 2 and wide_rows and all(t.lstrip("-").isdigit() for t in tokens[: 2 * n])


FORMAT = FileFormat(
    name="qaplib",
    extensions=(".dat",),
    description="QAPLIB quadratic assignment (n, then matrices A and B)",
    read=read,
    write=None,
    sniff=sniff,
)
