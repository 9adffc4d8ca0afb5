"""OR-Library BQP files (``bqp50.txt`` ... ``bqp2500``): several QUBOs per file, maximised.

Format::

    K                  number of problems in the file
    n m                for each problem: variables, entries that follow
    i j q              m lines, 1-based, each unordered pair once

Sign convention (Beasley): **maximise** ``x' Q x`` with ``Q`` symmetric, so a
listed off-diagonal entry ``i j q`` adds ``2*q*x_i*x_j`` and a diagonal entry
adds ``q*x_i``. The model's variables are the indices ``1..n``; its sense is
``max`` and its objective equals the values in OR-Library's tables.
Pick problem K with ``bqp50.txt#K`` (default: the first).

The writer stores one problem (``K = 1``); a ``min`` model is written as the
maximisation of its negation (same optimal solutions, objective negated).

Example:
    >>> model = FORMAT.read("1\\n2 3\\n1 1 3\\n2 2 -1\\n1 2 -2\\n", "tiny.txt", ReadOptions())
    >>> model.sense.value, model.evaluate({1: 1, 2: 1}).objective
    ('max', -2.0)
"""

from __future__ import annotations

from pathlib import Path

import dimod
import numpy as np

from hqopt.errors import FormatError, ModelError
from hqopt.io import limits
from hqopt.io.base import FileFormat, ReadOptions, TokenStream, shorten, write_atomic
from hqopt.model import Model


def read_triangle(stream: TokenStream, what: str) -> dimod.BinaryQuadraticModel:
    """Read ``n m`` and ``m`` entries ``i j q`` (1-based, symmetric, off-diagonals doubled)."""
    n = limits.check("variables", stream.int(f"the number of variables of {what}", minimum=1), stream.source, stream.line)
    m = stream.int(f"the number of entries of {what}", minimum=0, maximum=n * (n + 1) // 2)
    limits.check("entries", m, stream.source, stream.line)
    bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
    bqm.add_variables_from((i, 0.0) for i in range(1, n + 1))
    seen: set[tuple[int, int]] = set()
    for _ in range(m):
        i = stream.int("a variable index", minimum=1, maximum=n)
        line = stream.line
        j = stream.int("a variable index", minimum=1, maximum=n)
        q = stream.float("a coefficient")
        pair = (min(i, j), max(i, j))
        if pair in seen:
            raise FormatError(stream.source, line, f"entry ({pair[0]}, {pair[1]}) is listed twice")
        seen.add(pair)
        if i == j:
            bqm.add_linear(i, q)
        else:
            bqm.add_quadratic(i, j, 2.0 * q)
    return bqm


def triangle_text(bqm: dimod.BinaryQuadraticModel) -> str:
    """``n m`` and the entries of ``bqm`` (labels 1..n) in the symmetric, doubled layout."""
    n = _check_labels(bqm)
    rows = [f"{v} {v} {_number(b)}" for v, b in sorted(bqm.linear.items()) if b]
    rows += [f"{min(u, v)} {max(u, v)} {_number(b / 2)}" for u, v, b in sorted(bqm.iter_quadratic(), key=lambda t: (min(t[:2]), max(t[:2]))) if b]
    return "\n".join([f"{n} {len(rows)}", *rows]) + "\n"


def unconstrained_bqm(model: Model, fmt: str) -> dimod.BinaryQuadraticModel:
    """The objective of an unconstrained binary ``model`` as a BQM; ModelError otherwise."""
    cqm = model.cqm
    if cqm.constraints:
        raise ModelError(f"{fmt} files hold unconstrained models only; this one has {len(cqm.constraints)} constraint{'s' * (len(cqm.constraints) != 1)} (write lp or a cqm spec)")
    other = sorted({cqm.vartype(v).name for v in cqm.variables} - {"BINARY"})
    if other:
        raise ModelError(f"{fmt} files hold binary variables only; this model has {', '.join(other)} variables")
    obj = cqm.objective
    return dimod.BinaryQuadraticModel(dict(obj.linear), dict(obj.quadratic), obj.offset, dimod.BINARY)


def _check_labels(bqm: dimod.BinaryQuadraticModel) -> int:
    labels = list(bqm.variables)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in labels):
        bad = next(v for v in labels if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1))
        raise ModelError(f"these files number variables 1..n; label {bad!r} is not a positive integer")
    return int(max(labels, default=0))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def read(text: str, source: str, options: ReadOptions) -> Model:
    """Problem ``options.instance`` (default 1) of an OR-Library bqp text, as a max model."""
    stream = TokenStream(text, source)
    count = stream.int("the number of problems", minimum=1, maximum=10_000)
    after = stream.peek()
    if after is not None and after[0] == stream.line:  # a count alone on its line, or this is no OR-Library file
        raise stream.error(f"expected the number of problems alone on its line, got {shorten(after[1])} after it")
    wanted = options.instance or 1
    if wanted > count:
        raise FormatError(source, 1, f"instance {wanted} asked for, but the file holds {count} problem(s)")
    bqm = None
    for k in range(1, wanted + 1):
        bqm = read_triangle(stream, f"problem {k}")
    if wanted == count:
        stream.expect_end()
    elif stream.at_end():  # the file ends before the count it declares: say so, whichever problem was asked for
        raise FormatError(source, 1, f"the file declares {count} problems but holds {wanted}")
    stem = Path(source).name.removesuffix(".gz").removesuffix(".txt")
    model = Model.from_bqm(bqm, sense="max", name=f"{stem}.{wanted}" if count > 1 else stem)
    model.metadata.update({"format": "orlib-bqp", "instance": wanted, "instances": count})
    return model


def write(model: Model, path: Path) -> None:
    """One problem in OR-Library layout (a min model is written negated, as a max)."""
    bqm = unconstrained_bqm(model, "OR-Library bqp")
    if model.sense.value == "min":
        bqm.scale(-1)
    if bqm.offset:
        raise ModelError(f"OR-Library bqp files have no constant term; this objective has offset {bqm.offset:g}")
    write_atomic(path, "1\n" + triangle_text(bqm))


def sniff(head: str) -> bool:
    """A lone count, then ``n m``, then entries ``i j q``."""
    lines = [line.split() for line in head.splitlines() if line.strip()]
    if len(lines) < 3 or len(lines[0]) != 1 or len(lines[1]) != 2 or len(lines[2]) != 3:
        return False
    return all(t.lstrip("-").isdigit() for t in lines[0] + lines[1] + lines[2][:2])


FORMAT = FileFormat(
    name="orlib-bqp",
    extensions=(".txt", ".bqp"),
    description="OR-Library BQP (several QUBOs per file, maximise x'Qx, Q symmetric)",
    read=read,
    write=write,
    sniff=sniff,
)
