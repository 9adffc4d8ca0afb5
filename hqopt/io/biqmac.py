"""Biq Mac "sparse" QUBO files (``gka*.sparse``, ``be*.sparse``), minimised.

Format: ``n m`` then ``m`` lines ``i j q`` (1-based, each unordered pair
once, diagonal entries are the linear terms). Sign convention (Biq Mac):
**minimise** ``x' Q x`` with ``Q`` symmetric, so an off-diagonal entry adds
``2*q*x_i*x_j`` -- the same layout as OR-Library bqp, opposite sense. The
model's variables are ``1..n``; its objective equals the Biq Mac values
(e.g. gka1a = -3414). A ``max`` model is written as the minimisation of its
negation.

Example:
    >>> model = FORMAT.read("2 2\\n1 1 -3\\n1 2 2\\n", "tiny.sparse", ReadOptions())
    >>> model.sense.value, model.evaluate({1: 1, 2: 1}).objective
    ('min', 1.0)
"""

from __future__ import annotations

from pathlib import Path

from hqopt.errors import ModelError
from hqopt.io.base import FileFormat, ReadOptions, TokenStream, write_atomic
from hqopt.io.orlib_bqp import read_triangle, triangle_text, unconstrained_bqm
from hqopt.model import Model


def read(text: str, source: str, options: ReadOptions) -> Model:
    """The min model of a Biq Mac sparse text (one problem per file)."""
    stream = TokenStream(text, source)
    if options.instance not in (None, 1):
        raise stream.error(f"instance {options.instance} asked for, but a Biq Mac file holds one problem")
    bqm = read_triangle(stream, "the problem")
    stream.expect_end()
    name = Path(source).name.removesuffix(".gz").removesuffix(".sparse")
    model = Model.from_bqm(bqm, sense="min", name=name)
    model.metadata["format"] = "biqmac"
    return model


def write(model: Model, path: Path) -> None:
    """The model in Biq Mac layout (a max model is written negated, as a min)."""
    bqm = unconstrained_bqm(model, "Biq Mac")
    if model.sense.value == "max":
        bqm.scale(-1)
    if bqm.offset:
        raise ModelError(f"Biq Mac files have no constant term; this objective has offset {bqm.offset:g}")
    write_atomic(path, triangle_text(bqm))


def sniff(head: str) -> bool:
    """``n m`` then entries ``i j q`` with ``1 <= i <= j <= n``."""
    lines = [line.split() for line in head.splitlines() if line.strip()]
    if len(lines) < 2 or len(lines[0]) != 2 or not all(t.isdigit() for t in lines[0]):
        return False
    n = int(lines[0][0])
    body = lines[1:-1] if len(lines) > 2 else lines[1:]
    try:
        return all(len(r) == 3 and 1 <= int(r[0]) <= int(r[1]) <= n and float(r[2]) == float(r[2]) for r in body)
    except ValueError:
        return False


def diagonal_entries(head: str) -> int:
    """How many entries ``i i q`` (linear terms): what tells a Biq Mac QUBO from a weighted graph ``i j w``
    (when the extension does not say)."""
    rows = [line.split() for line in head.splitlines()[1:]]
    return sum(len(r) == 3 and r[0] == r[1] for r in rows)


FORMAT = FileFormat(
    name="biqmac",
    extensions=(".sparse",),
    description="Biq Mac sparse QUBO (gka*.sparse: minimise x'Qx, Q symmetric)",
    read=read,
    write=write,
    sniff=sniff,
)
