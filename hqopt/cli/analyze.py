"""``hqopt analyze FILE``: the quantum resource report of a problem file.

Example::

    hqopt analyze G1.txt --embed-timeout 20
    hqopt analyze dc.yaml --json > report.json

FILE is anything ``hqopt solve`` reads (a spec with ``kind:`` or a problem
file; ``FILE#K`` picks problem K of a multi-problem file).
"""

from __future__ import annotations

import typer

from hqopt.analyze import analyze as analyze_model
from hqopt.cli.app import app, fail


@app.command()
def analyze(
    file: str = typer.Argument(..., metavar="FILE", help="Problem file or spec (FILE#K picks problem K)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    format: str | None = typer.Option(None, "--format", "-f", help="File format (default: detected)."),
    embed: bool = typer.Option(True, "--embed/--no-embed", help="Search minor-embeddings (can be slow)."),
    embed_timeout: float = typer.Option(10.0, "--embed-timeout", help="Seconds per topology for minorminer."),
    topology: list[str] = typer.Option(["pegasus", "zephyr"], "--topology", help="QPU graph(s): pegasus, zephyr."),
    reps: int = typer.Option(1, "--reps", help="QAOA layers p for the circuit figures."),
    num_reads: int = typer.Option(100, "--num-reads", help="Reads for the QPU access-time estimate."),
    seed: int = typer.Option(0, "--embedding-seed", help="minorminer seed (the QPU backends use 0)."),
) -> None:
    """Report what a problem needs on a D-Wave QPU and as a QAOA circuit, before spending QPU time."""
    if embed_timeout <= 0:
        raise fail(f"--embed-timeout must be positive, got {embed_timeout}")
    if reps < 1 or num_reads < 1:
        raise fail("--reps and --num-reads must be positive")
    from hqopt.io import load

    model = load(file, format=format)
    report = analyze_model(
        model,
        topologies=tuple(topology),
        embed=embed,
        embed_timeout=embed_timeout,
        embedding_seed=seed,
        qaoa_reps=reps,
        num_reads=num_reads,
    )
    typer.echo(report.to_json() if as_json else report.to_text())
