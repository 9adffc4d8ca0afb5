"""``hqopt generate placement``: write a realistic placement spec (feasible by construction).

Example::

    hqopt generate placement --services 40 --sites 6 --seed 1 --output dc.yaml
    hqopt solve dc.yaml --backend cpsat
"""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from hqopt.cli.app import app, fail, file_name
from hqopt.formulations.placement_generator import generate_placement
from hqopt.io.base import write_atomic
from hqopt.io.limits import cap

#: generator sizes accepted on the command line
MAX_SERVICES = 100_000
MAX_SITES = 10_000


@app.command()
def generate(
    kind: str = typer.Argument(..., help="What to generate: 'placement'."),
    services: int = typer.Option(20, "--services", help="Number of services."),
    sites: int = typer.Option(5, "--sites", help="Number of sites."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same instance)."),
    migration: bool = typer.Option(False, "--migration", help="Add a current placement and move costs."),
    rules: bool = typer.Option(True, "--rules/--no-rules", help="Add anti-affinity, a pin and a forbid."),
    output: Path | None = typer.Option(None, "--output", "-o", parser=file_name("--output"), metavar="<path>", help="Write the YAML spec here (default: stdout)."),
) -> None:
    """Generate a problem spec (YAML): data-centre placement with zones, traffic and rules."""
    if kind != "placement":
        raise fail(f"cannot generate {kind!r}; available: placement")
    if not 1 <= services <= MAX_SERVICES:
        raise fail(f"--services must be between 1 and {MAX_SERVICES}, got {services}")
    if not 1 <= sites <= MAX_SITES:
        raise fail(f"--sites must be between 1 and {MAX_SITES}, got {sites}")
    if seed < 0:
        raise fail(f"--seed must be >= 0, got {seed}")
    if services * sites > cap("variables"):  # a file the readers would refuse (and long to write)
        raise fail(
            f"--services x --sites is {services * sites} assignment variables, more than the readers' limit of "
            f"{cap('variables')} (raise it with HQOPT_MAX_VARIABLES)"
        )
    spec = generate_placement(services, sites, seed, migration=migration, rules=rules)
    from hqopt.errors import HqoptError
    from hqopt.formulations.placement import Placement
    from hqopt.io.spec import check_size

    try:  # the zone/region variables of a large one count too: a file solve would refuse is not written
        check_size("placement", Placement.from_spec({k: v for k, v in spec.items() if k != "kind"}), "the generated spec")
    except HqoptError as exc:
        raise fail(f"{exc}; ask for fewer --services or --sites") from None
    text = dump_spec(spec)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(output, text)
        typer.echo(f"wrote {output} ({services} service{'s' * (services != 1)}, {sites} site{'s' * (sites != 1)})", err=True)


def dump_spec(spec: dict) -> str:
    """YAML with short lists (traffic pairs, capacities) kept on one line."""
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=120)
