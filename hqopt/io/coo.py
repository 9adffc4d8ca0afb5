"""COO / ``.qubo`` text: one ``i j bias`` line per term (dimod's COO format).

Read with :func:`dimod.serialization.coo.loads` after every line is checked
(dimod silently skips lines it does not understand; here they are errors).
Labels are non-negative integers; ``i == j`` is a linear term, ``i != j`` a
quadratic one (added as written, *not* doubled). ``# vartype=SPIN`` makes
spins (default BINARY). qbsolv's ``p qubo ...`` header and ``c`` comment
lines are accepted. The objective is **minimised**.

hqopt writes two more comment lines so that nothing is lost on a round trip:
``# offset=<constant of the terms>`` and, for a ``max`` model, ``# sense=max`` -- the terms
are then the *negated* objective (the minimisation form every QUBO tool
expects), and hqopt reads the file back as the original maximisation.

Example:
    >>> model = FORMAT.read("0 0 -1\\n0 1 2\\n", "tiny.qubo", ReadOptions())
    >>> model.sense.value, model.evaluate({0: 1, 1: 0}).objective
    ('min', -1.0)
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from dimod.serialization import coo

from hqopt.errors import FormatError, ModelError
from hqopt.io import limits
from hqopt.io.base import FileFormat, ReadOptions, shorten, write_atomic
from hqopt.model import Model, Sense

_TERM = re.compile(coo._LINE_REGEX)  # the exact line syntax dimod's reader accepts
_VARTYPE = re.compile(coo._VARTYPE_HEADER_REGEX)
_HQOPT = re.compile(r"^\s*#\s*(sense|offset)\s*=\s*(\S+)\s*$")
#: largest index accepted (labels are integers, not positions; this only stops absurd input)
MAX_INDEX = 10**9


def read(text: str, source: str, options: ReadOptions) -> Model:
    """The model of a COO text (one problem per file)."""
    if options.instance not in (None, 1):
        raise FormatError(source, None, f"instance {options.instance} asked for, but a COO file holds one problem")
    sense, offset, vartype, terms = Sense.MIN, 0.0, None, 0
    labels: set[int] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("c ") or stripped == "c" or stripped.startswith("p "):
            continue
        if stripped.startswith("#"):
            match = _HQOPT.match(stripped)
            if match and match.group(1) == "sense":
                sense = _sense(match.group(2), source, number)
            elif match:
                offset = _float(match.group(2), source, number)
            found = _VARTYPE.findall(stripped)
            if found:
                if found[0].upper() not in ("BINARY", "SPIN"):
                    raise FormatError(source, number, f"vartype must be BINARY or SPIN, got {shorten(found[0])}")
                vartype = found[0].upper()
            continue
        match = _TERM.match(line)
        if not match or match.group(3) in ("", "+", "-", ".") or not re.search(r"\d", match.group(3)):
            tokens = stripped.split()
            if len(tokens) == 3 and tokens[0].isdigit() and tokens[1].isdigit():
                raise FormatError(source, number, f"the bias must be a plain decimal number like -1.5 (COO has no exponent, inf or nan), got {shorten(tokens[2])}")
            raise FormatError(source, number, f"expected 'i j bias' with integer i, j >= 0, got {shorten(stripped, 60)}")
        if len(match.group(1)) > 10 or len(match.group(2)) > 10 or max(int(match.group(1)), int(match.group(2))) > MAX_INDEX:
            raise FormatError(source, number, f"variable index out of range (at most {MAX_INDEX})")
        if not math.isfinite(float(match.group(3))) or abs(float(match.group(3))) > 1e15:
            raise FormatError(source, number, "bias out of range")
        terms += 1
        labels.update((int(match.group(1)), int(match.group(2))))
        limits.check("variables", len(labels), source, number)
        limits.check("couplings", terms, source, number)
    if terms == 0:
        raise FormatError(source, 1, "no 'i j bias' lines: the file is empty or not COO")
    bqm = coo.loads(text, vartype=vartype or "BINARY")
    bqm.offset += offset
    if sense is Sense.MAX:
        bqm.scale(-1)
    model = Model.from_bqm(bqm, sense=sense, name=Path(source).name.removesuffix(".gz").rsplit(".", 1)[0])
    model.metadata["format"] = "coo"
    return model


def write(model: Model, path: Path) -> None:
    """The model's objective in COO (minimisation form; see the module docstring)."""
    cqm = model.cqm
    if cqm.constraints:
        raise ModelError(f"COO files hold unconstrained models only; this one has {len(cqm.constraints)} constraint{'s' * (len(cqm.constraints) != 1)} (write lp or a cqm spec)")
    vartypes = {cqm.vartype(v).name for v in cqm.variables}
    if not vartypes <= {"BINARY"} and vartypes != {"SPIN"}:
        raise ModelError(f"COO files hold all-binary or all-spin models; this one has {', '.join(sorted(vartypes))} variables")
    bad = [v for v in cqm.variables if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0)]
    if bad:
        raise ModelError(f"COO labels are non-negative integers; label {bad[0]!r} is not")
    qm = model.minimization_objective()
    lines = [f"# vartype={'SPIN' if vartypes == {'SPIN'} else 'BINARY'}"]
    if model.sense is Sense.MAX:
        lines.append("# sense=max")
    if qm.offset:
        lines.append(f"# offset={_number(qm.offset)}")
    for v in sorted(qm.variables):
        lines.append(f"{v} {v} {_number(qm.get_linear(v))}")
    for u, v, bias in sorted((min(u, v), max(u, v), b) for u, v, b in qm.iter_quadratic()):
        lines.append(f"{u} {v} {_number(bias)}")
    write_atomic(path, "\n".join(lines) + "\n")


def _number(value: float) -> str:
    """Exact positional notation (dimod's reader does not take exponents)."""
    return np.format_float_positional(float(value), trim="-")


def _float(token: str, source: str, line: int) -> float:
    try:
        value = float(token)
    except ValueError:
        raise FormatError(source, line, f"expected a number, got {shorten(token)}") from None
    if not math.isfinite(value):
        raise FormatError(source, line, f"number out of range: {shorten(token)}")
    return value


def _sense(token: str, source: str, line: int) -> Sense:
    if token.lower() not in ("min", "max"):
        raise FormatError(source, line, f"sense must be min or max, got {shorten(token)}")
    return Sense(token.lower())


def sniff(head: str) -> bool:
    """Every non-comment line is ``i j bias``."""
    lines = [line for line in head.splitlines() if line.strip() and not line.lstrip().startswith(("#", "c ", "p "))]
    body = lines[:-1] if len(lines) > 1 else lines  # the last line may be cut short
    return bool(body) and all(_TERM.match(line) for line in body)


FORMAT = FileFormat(
    name="coo",
    extensions=(".coo", ".qubo"),
    description="COO / .qubo text (dimod's COO: 'i j bias' lines, minimise)",
    read=read,
    write=write,
    sniff=sniff,
)
