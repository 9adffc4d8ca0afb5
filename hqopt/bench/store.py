"""The run log of a benchmark directory: ``runs.jsonl``, one JSON object per finished run.

Each run is appended with one ``write`` on a file opened in append mode and
flushed to disk, so an interrupted benchmark keeps every run it finished and
a rerun skips them (:meth:`RunStore.done`; runs that ended in an error are
retried). A line cut short by a crash is
ignored when reading. ``config.json`` records the time limit: runs at another
time limit don't mix in one directory.

Example:
    >>> import tempfile
    >>> store = RunStore(tempfile.mkdtemp(), time_limit=1.0)
    >>> store.append({"instance": "a", "solver": "sa", "seed": 0, "objective": 3.0})
    >>> store.done()
    {('a', 'sa', 0)}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hqopt.errors import ArgumentError, BackendError

RUNS_FILE = "runs.jsonl"
CONFIG_FILE = "config.json"


def run_key(record: dict[str, Any]) -> tuple[str, str, int]:
    """What identifies a run: (instance, solver, seed)."""
    return (str(record["instance"]), str(record["solver"]), int(record["seed"]))


class RunStore:
    """Append-only run log of one benchmark directory."""

    def __init__(self, directory: str | os.PathLike[str], time_limit: float) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise ArgumentError(f"{self.directory}: is a file, not a folder for the benchmark's output")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file of that name, a read-only or missing parent: one line, not a traceback
            raise ArgumentError(f"{self.directory}: cannot use this as the benchmark's output folder: {exc.strerror or exc}") from None
        self.path = self.directory / RUNS_FILE
        config = self.directory / CONFIG_FILE
        if config.exists() and self.records():  # (a folder whose first attempt stopped before any run takes a new limit)
            recorded = json.loads(config.read_text()).get("time_limit")
            if recorded != time_limit:
                raise BackendError(
                    f"{self.directory} holds runs at a {recorded} s time limit, not {time_limit} s; use another --out"
                )
        else:
            config.write_text(json.dumps({"time_limit": time_limit}) + "\n")

    def records(self) -> list[dict[str, Any]]:
        """Every complete run in the log (the last record of a key wins)."""
        if not self.path.exists():
            return []
        by_key: dict[tuple[str, str, int], dict[str, Any]] = {}
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a crash
                continue
            by_key[run_key(record)] = record
        return list(by_key.values())

    def done(self) -> set[tuple[str, str, int]]:
        """Keys of the runs a rerun skips: every run that ended without an error (errors are retried)."""
        return {run_key(r) for r in self.records() if not r.get("error")}

    def append(self, record: dict[str, Any]) -> None:
        """Add one finished run: a single write of one line, then fsync."""
        data = (json.dumps(record, allow_nan=True, default=str) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


__all__ = ["CONFIG_FILE", "RUNS_FILE", "RunStore", "run_key"]
