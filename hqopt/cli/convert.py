"""``hqopt convert IN OUT``: read a problem file, write it in another format.

The output format comes from OUT's extension (``.lp``, ``.qubo``/``.coo``,
``.cqm``/``.bqm``, ``.yaml``/``.json``, ``.sparse``) or ``--to``. Formats that
cannot store a maximisation (COO without hqopt's header comment, dimod files,
Biq Mac) hold the minimisation form; the command says so.
"""

from __future__ import annotations

from pathlib import Path

import typer

from hqopt.cli.app import app, check_overwrites, file_name

EXAMPLES = """Examples:

  hqopt convert problems/qubo/bqp50.txt#1 bqp50-1.qubo

  hqopt convert problems/qap/chr12a.dat chr12a.lp

  hqopt convert problems/spec/knapsack.yaml knapsack.lp --to lp
"""

#: formats that store the minimisation form of a max model
MIN_ONLY = {"dimod": "dimod files have no sense", "biqmac": "Biq Mac files are minimisations"}
#: formats that store the maximisation form of a min model
MAX_ONLY = {"orlib-bqp": "OR-Library BQP files are maximisations"}


@app.command(epilog=EXAMPLES)
def convert(
    source: str = typer.Argument(..., metavar="IN", help="Problem file to read (IN#K picks problem K)."),
    target: Path = typer.Argument(..., metavar="OUT", parser=file_name("OUT"), help="File to write (atomically)."),
    to: str | None = typer.Option(None, "--to", help="Output format (default: from OUT's extension)."),
    instance: int | None = typer.Option(None, "--instance", help="Problem K (1-based) of a multi-problem input."),
    format: str | None = typer.Option(None, "--format", "-f", help="Input format (default: detected)."),
) -> None:
    """Convert a problem file to another format (reading OUT back gives the same model)."""
    from hqopt.io import format_for_output, get_format, load, save

    check_overwrites({"OUT": target}, source)
    model = load(source, format=format, instance=instance)
    fmt = get_format(to, flag="--to") if to else format_for_output(target)
    save(model, target, format=fmt.name)
    variables, constraints = model.num_variables, model.num_constraints
    typer.echo(
        f"wrote {target} ({fmt.name}: {variables} variable{'s' * (variables != 1)}, "
        f"{constraints} constraint{'s' * (constraints != 1)})",
        err=True,
    )
    count = model.metadata.get("instances") or 1
    if count > 1:
        typer.echo(f"note: {model.metadata.get('source', source)} holds {count} problems; wrote problem {model.metadata.get('instance')} (pick another with IN#K)", err=True)
    if model.sense.value == "max" and fmt.name in MIN_ONLY:
        typer.echo(f"note: {MIN_ONLY[fmt.name]}: wrote the minimisation form (objective negated)", err=True)
    if model.sense.value == "min" and fmt.name in MAX_ONLY:
        typer.echo(f"note: {MAX_ONLY[fmt.name]}: wrote the maximisation form (objective negated)", err=True)
