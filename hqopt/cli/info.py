"""``hqopt info FILE``: what a problem file holds, without solving it.

Shows the detected format, sense, variables by type, constraints by kind
(``==``/``<=``/``>=``, linear or quadratic), density of the objective and the
range of the coefficients. ``--json`` prints the same facts as JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hqopt.backends.auto import choose, structure_summary
from hqopt.cli.app import app
from hqopt.model import Model
from hqopt.samples import linear_terms, quadratic_terms

EXAMPLES = """Examples:

  hqopt info problems/qubo/bqp50.txt#2

  hqopt info problems/lp/knapsack.lp --json
"""


class _Range:
    """The smallest and largest non-zero absolute coefficient over expressions, read as arrays
    (a 60-facility QAP's objective has 6 million terms: a Python loop over them took 25 s)."""

    def __init__(self) -> None:
        self.low, self.high = math.inf, -math.inf

    def add(self, expression: Any, cqm: Any) -> int:
        """Take ``expression``'s coefficients in; its number of non-zero linear terms."""
        linear = linear_terms(expression, cqm)[1]
        quadratic = quadratic_terms(expression, cqm)[2]
        magnitudes = np.abs(np.concatenate([linear, quadratic]))
        magnitudes = magnitudes[magnitudes > 0]
        if magnitudes.size:
            self.low, self.high = min(self.low, float(magnitudes.min())), max(self.high, float(magnitudes.max()))
        return int(np.count_nonzero(linear))

    def bounds(self) -> list[float] | None:
        return [self.low, self.high] if self.high >= self.low else None


def describe(model: Model) -> dict[str, Any]:
    """The facts ``hqopt info`` shows, as a JSON-friendly dict: sizes, coefficients,
    the structure the engine detects and what ``auto`` would run.

    >>> from hqopt import Model
    >>> facts = describe(Model.from_qubo({(0, 0): -1, (0, 1): 2}))
    >>> facts["variables"], facts["objective"]["quadratic_terms"], facts["objective"]["density"]
    ({'BINARY': 2}, 1, 1.0)
    """
    cqm = model.cqm
    n = len(cqm.variables)
    kinds: dict[str, int] = {}
    con_range = _Range()
    for con in cqm.constraints.values():
        shape = "quadratic" if con.lhs.num_interactions else "linear"
        key = f"{shape} {con.sense.value}"
        kinds[key] = kinds.get(key, 0) + 1
        con_range.add(con.lhs, cqm)
    obj = cqm.objective
    obj_range = _Range()
    linear = obj_range.add(obj, cqm)
    obj_coeffs = obj_range.bounds()
    con_coeffs = con_range.bounds()
    pairs = n * (n - 1) / 2
    return {
        "name": model.name,
        "format": model.metadata.get("format"),
        "source": model.metadata.get("source"),
        "instance": model.metadata.get("instance"),
        "instances": model.metadata.get("instances"),
        "sense": model.sense.value,
        "variables": model.variable_counts(),
        "constraints": dict(sorted(kinds.items())),
        "objective": {
            "linear_terms": linear,
            "quadratic_terms": obj.num_interactions,
            "density": round(obj.num_interactions / pairs, 6) if pairs else 0.0,
            "offset": float(obj.offset),
            "coefficient_range": obj_coeffs,
        },
        "constraint_coefficient_range": con_coeffs,
        "structure": structure_summary(model.cqm),
        "auto": dict(zip(("backends", "reason"), choose(model))),
    }


@app.command(epilog=EXAMPLES)
def info(
    file: str = typer.Argument(..., metavar="FILE", help="Problem file (FILE#K picks problem K)."),
    instance: int | None = typer.Option(None, "--instance", help="Problem K (1-based) of a multi-problem file."),
    format: str | None = typer.Option(None, "--format", "-f", help="File format (default: detected)."),
    as_json: bool = typer.Option(False, "--json", help="Print the facts as JSON."),
) -> None:
    """Describe a problem file: format, sense, variables, constraints, density, coefficients, structure, auto's choice."""
    from hqopt.io import load

    facts = describe(load(file, format=format, instance=instance))
    if as_json:
        typer.echo(json.dumps(facts, indent=2))
        return
    obj = facts["objective"]
    rows = [
        ("name", facts["name"]),
        ("format", str(facts["format"])),
        ("source", str(facts["source"]) + (f"  (problem {facts['instance']} of {facts['instances']})" if (facts["instances"] or 1) > 1 else "")),
        ("sense", f"{facts['sense']}imise"),
        ("variables", ", ".join(f"{n} {k.lower()}" for k, n in facts["variables"].items()) or "none"),
        ("constraints", ", ".join(f"{n} {k}" for k, n in facts["constraints"].items()) or "none"),
        ("objective", f"{obj['linear_terms']} linear, {obj['quadratic_terms']} quadratic terms, density {obj['density']:.4g}, offset {obj['offset']:g}"),
        ("coefficients", _range(obj["coefficient_range"]) + "  (objective, absolute values)"),
    ]
    if facts["constraint_coefficient_range"]:
        rows.append(("", _range(facts["constraint_coefficient_range"]) + "  (constraints)"))
    rows.append(("structure", _structure_line(facts["structure"])))
    rows.append(("auto", "+".join(facts["auto"]["backends"]) + " — " + facts["auto"]["reason"]))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for name, text in rows:
        table.add_row(name, Text(text))
    Console().print(table)


def _structure_line(structure: dict[str, Any]) -> str:
    """``permutation of 12, 24 one-hot groups (12..12), 4 capacity rows, ...`` from the engine's summary."""
    parts = [str(structure["kind"])]
    if structure["permutation"]:
        parts.append(f"permutation of {structure['permutation']}")
    if structure["one_hot_groups"]:
        low, high = structure["group_sizes"]
        parts.append(f"{structure['one_hot_groups']} one-hot groups (sizes {low}..{high})")
    for key in ("free_variables", "integers", "capacity_rows", "linear_rows", "quadratic_rows"):
        if structure[key]:
            parts.append(f"{structure[key]} {key.replace('_', ' ')}")
    return ", ".join(parts)


def _range(values: list[float] | None) -> str:
    return "-" if not values else f"{values[0]:g} .. {values[1]:g}"
