"""Targets: the value a run must reach to count as a success.

A best-known CSV has the columns ``instance,best_known,sense,source`` (the
format of ``benchmarks/*/best_known.csv``); its ``instance`` is matched with
the loaded model's name (``bqp50.txt#3`` loads as ``bqp50.3``, ``gka1a.sparse``
as ``gka1a``), else with the file's stem. The CSV's ``sense`` must agree with
the model's: each folder's README states its convention (OR-Library bqp is
max x'Qx, and hqopt loads it as a maximisation) and a disagreement is an
error, never a silent sign flip. Without a CSV entry the target is the best
objective found across all runs of the instance.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "best_known.csv"
    >>> _ = path.write_text("instance,best_known,sense,source\\ngka1a,-3414,min,Biq Mac\\n")
    >>> read_best_known([path])
    {'gka1a': (-3414.0, 'min')}
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from hqopt.errors import BackendError
from hqopt.model import Sense

BEST_KNOWN_FILE = "best_known.csv"


def read_best_known(paths: Iterable[str | os.PathLike[str]]) -> dict[str, tuple[float, str]]:
    """``instance -> (best_known, sense)`` from best-known CSV files (later files win)."""
    known: dict[str, tuple[float, str]] = {}
    for path in paths:
        try:
            with open(path, newline="") as fh:
                for row in csv.DictReader(fh):
                    known[row["instance"].strip()] = (float(row["best_known"]), row.get("sense", "").strip().lower())
        except (OSError, KeyError, ValueError) as exc:
            raise BackendError(f"cannot read best-known CSV {path}: {exc}") from None
    return known


def default_csvs(files: Sequence[str]) -> list[Path]:
    """The ``best_known.csv`` next to each benchmark file, where there is one."""
    found = []
    for ref in files:
        candidate = Path(ref.split("#")[0]).parent / BEST_KNOWN_FILE
        if candidate.exists() and candidate not in found:
            found.append(candidate)
    return found


def lookup(known: dict[str, tuple[float, str]], name: str, file_ref: str, sense: Sense) -> float | None:
    """The best-known value of an instance in its model's sense, or None."""
    stem = Path(file_ref.split("#")[0]).stem
    entry = known.get(name) or known.get(stem)
    if entry is None:
        return None
    value, csv_sense = entry
    if csv_sense and Sense.parse(csv_sense) is not sense:
        raise BackendError(
            f"best-known value of {name} is for a {csv_sense}imisation but the model is a "
            f"{sense.value}imisation; check the folder's README and give --target VALUE"
        )
    return value


def best_found(objectives: Iterable[float | None], sense: Sense) -> float | None:
    """The best objective among feasible runs (None when none was feasible).

    >>> best_found([3.0, None, 5.0], Sense.MAX)
    5.0
    """
    values = [v for v in objectives if v is not None]
    if not values:
        return None
    return max(values) if sense is Sense.MAX else min(values)


__all__ = ["BEST_KNOWN_FILE", "best_found", "default_csvs", "lookup", "read_best_known"]
