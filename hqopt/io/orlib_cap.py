"""OR-Library capacitated warehouse location files (``cap41.txt`` ... ``capc.txt``).

Format::

    m n                          warehouses, customers
    capacity_i fixed_cost_i      m lines
    demand_j                     then, for each customer j:
    c_1j ... c_mj                cost of serving all of j's demand from warehouse i

Read as **single-source** facility location (each customer served by one
warehouse; :mod:`hqopt.formulations.facility`). The best-known values in
OR-Library's ``capopt`` are for the multi-source problem (demand may be
split), so they are lower bounds here; they are exact wherever capacities do
not bind (cap71-74, cap101-104, cap131-134: capacitated = uncapacitated).
The capa/capb/capc files have the word ``capacity`` in place of each
capacity: give its value as ``capa.txt#capacity=8000`` (``hqopt solve``,
:func:`hqopt.io.load`) or ``capacity=`` to :func:`parse_cap`.

Example:
    >>> text = "2 2\\n10 5.\\n10 1.\\n4\\n1. 3.\\n4\\n1. 3.\\n"
    >>> FORMAT.read(text, "tiny.txt", ReadOptions()).num_variables
    6
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from hqopt.errors import FormatError
from hqopt.formulations.facility import FacilityLocation
from hqopt.io import limits
from hqopt.io.base import FileFormat, ReadOptions, TokenStream, read_text
from hqopt.model import Model


def parse_cap(text: str, source: str, capacity: float | None = None) -> FacilityLocation:
    """The instance in a cap file text; ``capacity`` replaces the word ``capacity`` (capa/b/c)."""
    if "capacity" in text:
        if capacity is None:
            line = text[: text.index("capacity")].count("\n") + 1
            raise FormatError(
                source, line, "capacities are the placeholder word 'capacity' (capa/capb/capc); give a value as FILE#capacity=8000"
            )
        text = text.replace("capacity", repr(float(capacity)))
    elif capacity is not None:
        raise FormatError(source, None, "#capacity= is only for files whose capacities are the word 'capacity' (capa/capb/capc)")
    stream = TokenStream(text, source)
    m = limits.check("variables", stream.int("the number of warehouses", minimum=1), source, stream.line)
    n = stream.int("the number of customers", minimum=1)
    limits.check("variables", m + m * n, source, stream.line)
    caps, fixed = [], []
    for _ in range(m):
        caps.append(stream.float("a warehouse capacity"))
        fixed.append(stream.float("a fixed cost"))
    demand, cost = [], []
    for _ in range(n):
        demand.append(stream.float("a customer demand"))
        cost.append(stream.floats(m, "an allocation cost"))
    stream.expect_end()
    if min(caps + fixed + demand) < 0:
        raise stream.error("capacities, fixed costs and demands must be >= 0")
    name = Path(source).name.removesuffix(".gz").removesuffix(".txt")
    return FacilityLocation(caps, fixed, demand, [list(col) for col in zip(*cost)], name=name)


def read(text: str, source: str, options: ReadOptions) -> Model:
    """The single-source facility-location model of a cap file text."""
    if options.instance not in (None, 1):
        raise FormatError(source, None, f"instance {options.instance} asked for, but an OR-Library cap file holds one problem")
    model = parse_cap(text, source, _capacity(options, source)).to_model()
    model.metadata.update({"format": "orlib-cap", "source": source})
    return model


def _capacity(options: ReadOptions, source: str) -> float | None:
    """The ``#capacity=`` parameter as a number >= 0, or ``None``."""
    raw = options.params.get("capacity")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= 1e15):
        raise FormatError(source, None, f"#capacity= must be a number >= 0, got {raw[:40]!r}")
    return value


def read_cap(path: str | os.PathLike[str], capacity: float | None = None) -> FacilityLocation:
    """The instance of a cap file (gzip allowed)."""
    return parse_cap(read_text(path), str(path), capacity)


def sniff(head: str) -> bool:
    """``m n`` then lines of exactly two numbers (capacity, fixed cost)."""
    lines = [line.split() for line in head.splitlines() if line.strip()]
    if len(lines) < 3 or len(lines[0]) != 2 or not all(t.isdigit() for t in lines[0]):
        return False
    m = int(lines[0][0])
    rows = lines[1 : 1 + min(m, len(lines) - 1)]
    return all(len(r) == 2 for r in rows) and any("." in r[1] or r[0] == "capacity" for r in rows)


FORMAT = FileFormat(
    name="orlib-cap",
    extensions=(".txt",),
    description="OR-Library capacitated warehouse location (cap41..capc), single-source",
    read=read,
    write=None,
    sniff=sniff,
    params=("capacity",),
)
