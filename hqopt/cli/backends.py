"""``hqopt backends``: every registered backend, whether it runs here, and what it offers.

A backend whose module fails to import is listed as unavailable with the
reason, never a crash.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hqopt.cli.app import app

EXAMPLES = """Examples:

  hqopt backends

  hqopt backends --json
"""


def backend_rows() -> list[dict[str, Any]]:
    """One dict per registered backend: name, kind, available, reason, accepts, proves_bounds, description.

    >>> rows = {row["name"]: row for row in backend_rows()}
    >>> rows["tabu"]["available"], rows["tabu"]["accepts"]
    (True, 'bqm')
    """
    from hqopt.backends import available_backends, backend_class

    rows = []
    for name in available_backends():
        row: dict[str, Any] = {"name": name, "kind": "?", "available": False, "reason": "", "accepts": "?", "proves_bounds": None, "description": ""}
        try:
            cls = backend_class(name)
            caps = cls.capabilities
            row.update(kind=caps.kind, accepts=caps.accepts, proves_bounds=caps.proves_bounds, description=cls.description)
            status = cls.availability()
            row.update(available=bool(status.available), reason=status.reason)
        except Exception as exc:  # a broken or missing plugin must not break the listing
            row["reason"] = f"cannot load: {type(exc).__name__}: {exc}"
        rows.append(row)
    return rows


@app.command(epilog=EXAMPLES)
def backends(as_json: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
    """List the solver backends: kind, availability here (and why not), what they accept."""
    rows = backend_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="hqopt backends")
    for column in ("name", "kind", "available", "accepts", "bounds", "description / why not available"):
        table.add_column(column)
    for row in rows:
        available = Text("yes", style="green") if row["available"] else Text("no", style="red")
        bounds = {True: "yes", False: "no", None: "?"}[row["proves_bounds"]]
        note = row["description"] if row["available"] else row["reason"]
        table.add_row(Text(row["name"], style="bold"), row["kind"], available, row["accepts"], bounds, Text(note))
    Console().print(table)
