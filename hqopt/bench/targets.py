"""Targets: the value a run must reach to count as a success.

A best-known CSV has the columns ``instance,best_known,sense,source`` (the
format of ``benchmarks/*/best_known.csv``); its ``instance`` is matched with
the loaded model's name (``bqp50.txt#3`` loads as ``bqp50.3``, ``gka1a.sparse``
as ``gka1a``), else with the file's stem. The CSV's ``sense`` must agree with
the model's: each folder's README states its convention (OR-Library bqp is
max x'Qx, and hqopt loads it as a maximisation) and a disagreement is an
error, never a silent sign flip. ``hqopt bench`` reads and checks the CSVs
(columns, values, senses) before any run. Without a CSV entry the target is
the best objective found across all runs of the instance. The CSV is read
as UTF-8 (a byte order mark, as Excel writes, is dropped) and every row must
have as many fields as the header (:mod:`hqopt.io.csv_rows`).

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "best_known.csv"
    >>> _ = path.write_text("instance,best_known,sense,source\\ngka1a,-3414,min,Biq Mac\\n")
    >>> read_best_known([path])["gka1a"][:2]
    (-3414.0, 'min')
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from hqopt.errors import BackendError, FormatError, HqoptError
from hqopt.io.csv_rows import read_rows
from hqopt.model import Sense

BEST_KNOWN_FILE = "best_known.csv"
#: the columns of a best-known CSV; the first two are required
CSV_COLUMNS = ("instance", "best_known", "sense", "source")
REQUIRED_COLUMNS = CSV_COLUMNS[:2]


class BestKnown(NamedTuple):
    """One CSV entry: the value, its sense ('min', 'max' or '' when the CSV has none) and where it is written."""

    value: float
    sense: str
    where: str  # "FILE:LINE", for the messages that question it


def read_best_known(paths: Iterable[str | os.PathLike[str]]) -> dict[str, BestKnown]:
    """``instance -> BestKnown(value, sense, "FILE:LINE")`` from best-known CSV files (later files win).

    Every file is checked whole: a missing ``instance`` or ``best_known``
    column, an empty instance, a value that is not a finite number or a sense
    other than min/max, or an instance listed twice with two values raises
    :class:`~hqopt.errors.FormatError` naming the file (and the line of a bad row).
    """
    known: dict[str, BestKnown] = {}
    for path in paths:
        known.update(_read_csv(path))
    return known


def _read_csv(path: str | os.PathLike[str]) -> dict[str, BestKnown]:
    """One best-known CSV, validated (see :func:`read_best_known`)."""
    known: dict[str, BestKnown] = {}
    try:
        # every row as wide as the header: a stray comma is an error, never a dropped field
        with contextlib.closing(read_rows(path)) as rows:
            header = next(rows, None)
            columns = [c.strip() for c in header[1]] if header else []
            for column in REQUIRED_COLUMNS:
                if column not in columns:
                    raise FormatError(path, None, f"missing column {column!r} (expected {','.join(CSV_COLUMNS)})")
            for line, fields in rows:
                if not any(v.strip() for v in fields):
                    continue  # a row of empty cells (as spreadsheets write)
                name, entry = _parse_row(path, line, dict(zip(columns, fields)))
                if name in known and known[name][:2] != entry[:2]:
                    first = known[name]
                    raise FormatError(
                        path, line,
                        f"{name} is listed twice, with {first.value:g} {first.sense or '(no sense)'} ({first.where}) "
                        f"and {entry.value:g} {entry.sense or '(no sense)'}; keep one",
                    )  # fmt: skip
                known[name] = entry
    except OSError as exc:
        raise FormatError(path, None, f"cannot read best-known CSV: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise FormatError(path, None, f"not a readable CSV: {exc}") from None
    return known


def _parse_row(path: str | os.PathLike[str], line: int, row: Mapping[str, str]) -> tuple[str, BestKnown]:
    """``(instance, BestKnown)`` of one CSV row; FormatError naming the line when it is bad."""
    name = (row.get("instance") or "").strip()
    if not name:
        raise FormatError(path, line, "empty instance name")
    text = (row.get("best_known") or "").strip()
    try:
        value = float(text)
    except ValueError:
        raise FormatError(path, line, f"best_known of {name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise FormatError(path, line, f"best_known of {name} must be finite, got {text!r}")
    sense = (row.get("sense") or "").strip().lower()
    if sense:
        try:
            sense = Sense.parse(sense).value
        except HqoptError:
            raise FormatError(path, line, f"sense of {name} must be 'min' or 'max', got {sense!r}") from None
    return name, BestKnown(value, sense, f"{path}:{line}")


def check_targets(known: dict[str, BestKnown], instances: Iterable[tuple[str, str, Sense]]) -> None:
    """Raise (before any run) when a CSV entry disagrees with its instance's sense.

    ``instances`` holds ``(name, file reference, sense)`` for every instance.
    """
    for name, file_ref, sense in instances:
        lookup(known, name, file_ref, sense)


def default_csvs(files: Sequence[str]) -> list[Path]:
    """The ``best_known.csv`` next to each benchmark file, where there is one."""
    found = []
    for ref in files:
        candidate = Path(ref.split("#")[0]).parent / BEST_KNOWN_FILE
        if candidate.exists() and candidate not in found:
            found.append(candidate)
    return found


def lookup(known: dict[str, BestKnown], name: str, file_ref: str, sense: Sense) -> float | None:
    """The best-known value of an instance in its model's sense, or None."""
    stem = Path(file_ref.split("#")[0]).stem
    entry = known.get(name) or known.get(stem)
    if entry is None:
        return None
    if entry.sense and Sense.parse(entry.sense) is not sense:
        raise BackendError(
            f"{entry.where}: the best-known value of {name} is for a {entry.sense}imisation but the model is a "
            f"{sense.value}imisation; check the folder's README and give --target VALUE"
        )
    return entry.value


def best_found(objectives: Iterable[float | None], sense: Sense) -> float | None:
    """The best objective among feasible runs (None when none was feasible).

    >>> best_found([3.0, None, 5.0], Sense.MAX)
    5.0
    """
    values = [v for v in objectives if v is not None]
    if not values:
        return None
    return max(values) if sense is Sense.MAX else min(values)


__all__ = ["BEST_KNOWN_FILE", "BestKnown", "best_found", "check_targets", "default_csvs", "lookup", "read_best_known"]
