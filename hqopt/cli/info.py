"""``hqopt info FILE``: what a problem file holds, without solving it.

Shows the detected format, sense, variables by type, constraints by kind
(``==``/``<=``/``>=``, linear or quadratic), density of the objective and the
range of the coefficients. ``--json`` prints the same facts as JSON.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hqopt.backends.auto import choose, structure_summary
from hqopt.cli.app import app
from hqopt.model import Model

EXAMPLES = """Examples:

  hqopt info problems/qubo/bqp50.txt#2

  hqopt info problems/lp/knapsack.lp --json
"""


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
    con_coeffs: list[float] = []
    for con in cqm.constraints.values():
        shape = "quadratic" if con.lhs.num_interactions else "linear"
        key = f"{shape} {con.sense.value}"
        kinds[key] = kinds.get(key, 0) + 1
        con_coeffs += [abs(b) for b in (*con.lhs.linear.values(), *con.lhs.quadratic.values()) if b]
    obj = cqm.objective
    obj_coeffs = [abs(b) for b in (*obj.linear.values(), *obj.quadratic.values()) if b]
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
            "linear_terms": sum(1 for b in obj.linear.values() if b),
            "quadratic_terms": obj.num_interactions,
            "density": round(obj.num_interactions / pairs, 6) if pairs else 0.0,
            "offset": float(obj.offset),
            "coefficient_range": [min(obj_coeffs), max(obj_coeffs)] if obj_coeffs else None,
        },
        "constraint_coefficient_range": [min(con_coeffs), max(con_coeffs)] if con_coeffs else None,
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
