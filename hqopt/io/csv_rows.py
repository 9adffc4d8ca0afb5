"""CSV rows with a checked width: every row has as many fields as the header.

pandas pads a short row with empty cells and, when only some columns are read,
drops a long row's extra fields; ``csv.DictReader`` puts extra fields under a
``None`` key that is easy to ignore. Either way values land in the wrong
columns without a word. :func:`read_rows` refuses such a row with a
:class:`~hqopt.errors.FormatError` naming the file and the line (as ``sed``
and editors count lines), before anything reads the values.

Blank lines are skipped as pandas skips them: a line that is empty or holds
only spaces and tabs. Blankness is decided from the line's text, not from its
parsed fields, so a line holding ``""`` or only commas is a row (pandas reads
it as a row of missing values) and must have the header's width. Files are
read as UTF-8, and a byte order mark (Excel's "CSV UTF-8") is dropped.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
    >>> _ = path.write_text('a,b\\n1,2\\n\\n  \\n3,4\\n')
    >>> list(read_rows(path))
    [(1, ['a', 'b']), (2, ['1', '2']), (5, ['3', '4'])]
    >>> _ = path.write_text('a,b\\n1,2\\n""\\n')
    >>> try:
    ...     check_row_widths(path)
    ... except FormatError as err:
    ...     print(f"line {err.line}: {err.reason}")
    line 3: expected 2 fields, saw 1
"""

from __future__ import annotations

import csv
import os
from collections.abc import Generator, Iterator

from hqopt.errors import FormatError

#: the csv module's per-field cap (128 KiB by default) is raised to this, once
#: and never lowered: pandas has no such cap. Every caller raises it to the same
#: value, so concurrent readers cannot undo each other's limit.
FIELD_SIZE_LIMIT = 2**31 - 1  # the largest value a C long holds on every platform

#: the note added when a row starts after a lone carriage return, which ends a
#: CSV row (for pandas and the csv module alike) but not a line in an editor
AFTER_CR_NOTE = " (the row starts after a carriage return inside the line)"


def read_rows(path: str | os.PathLike[str]) -> Generator[tuple[int, list[str]], None, None]:
    """``(line, fields)`` of each non-blank row of a CSV file, the header first.

    ``line`` is the line the row starts on, as editors count. A row with more
    or fewer fields than the header, or one the csv module cannot parse,
    raises :class:`~hqopt.errors.FormatError` (``path:line: expected W fields,
    saw N``) when it is reached. ``OSError`` and ``UnicodeDecodeError``
    propagate for the caller to word.
    """
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    raw: list[str] = []  # the lines of the row being read, line endings kept
    number, after_cr = 1, False  # where the next row starts: its line, and whether a lone CR precedes it
    width: int | None = None
    with open(path, newline="", encoding="utf-8-sig") as handle:

        def lines() -> Iterator[str]:
            for line in handle:
                raw.append(line)
                yield line

        reader = csv.reader(lines())
        while True:
            try:
                fields = next(reader, None)
            except csv.Error as exc:
                raise FormatError(path, number, f"{exc}{AFTER_CR_NOTE if after_cr else ''}") from None
            if fields is None:
                return
            text = "".join(raw)
            raw.clear()
            start, note = number, AFTER_CR_NOTE if after_cr else ""
            number += text.count("\n")  # every "\n" ends a line (a lone "\r" ends a row, not a line)
            after_cr = text.endswith("\r")
            if not text.rstrip("\r\n").strip(" \t"):
                continue  # a blank line: pandas skips it
            width = len(fields) if width is None else width
            if len(fields) != width:
                raise FormatError(path, start, f"expected {width} fields, saw {len(fields)}{note}")
            yield start, fields


def check_row_widths(path: str | os.PathLike[str]) -> None:
    """Raise :class:`~hqopt.errors.FormatError` at the first row whose width is not the header's (see :func:`read_rows`)."""
    for _ in read_rows(path):
        pass


__all__ = ["AFTER_CR_NOTE", "FIELD_SIZE_LIMIT", "check_row_widths", "read_rows"]
