"""CPLEX LP files, read and written with dimod's LP reader/writer (:mod:`dimod.lp`).

``Maximize`` objectives keep their sense (dimod's reader negates them into a
minimisation; this module negates back and sets ``sense="max"``). Variables
must be ``Binary`` or ``General`` (integers with bounds): continuous variables
are refused, since no hqopt backend solves them. When writing, labels that are
not valid LP names (integers, tuples) are renamed: ``3 -> x3``,
``("x", 1, 2) -> x_1_2``; the file says so in a comment.

Example:
    >>> text = "Maximize\\n obj: 3 a + 2 b\\nSubject To\\n one: a + b <= 1\\nBinary\\n a b\\nEnd\\n"
    >>> model = FORMAT.read(text, "tiny.lp", ReadOptions())
    >>> model.sense.value, model.evaluate({"a": 1, "b": 0}).objective, model.num_constraints
    ('max', 3.0, 1)
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from pathlib import Path

import dimod
import dimod.lp

from hqopt.errors import FormatError, ModelError
from hqopt.io import lp_syntax
from hqopt.io.base import FileFormat, ReadOptions, shorten, write_atomic
from hqopt.model import Model, Sense

_SECTION = re.compile(r"^\s*(minimi[sz]e|maximi[sz]e|minimum|maximum|min|max|subject\s+to|such\s+that|st|s\.t\.)\s*(:|$|\s)", re.I | re.M)
#: LP sections, used to check that a file is an LP file at all
_KEYWORDS = re.compile(r"^\s*(minimi[sz]e|maximi[sz]e|minimum|maximum|min|max|subject\s+to|such\s+that|st|s\.t\.|bounds?|binar(y|ies)|bin|generals?|gen|end)\s*:?\s*$", re.I | re.M)


def _reader_refusal(exc: Exception, text: str) -> str:
    """dimod's reason for refusing ``text``, made readable ("File not existent or illegal file
    format." is all it says of a file cut short), with a hint when the file has no End line."""
    reason = str(exc).strip().strip("()").rstrip(".")
    twice = re.search(r"both mapped to '(.+)'$", reason)
    if twice:  # two constraints of one name
        label = twice.group(1)
        rows = text.splitlines()
        start = next((k for k, line in enumerate(rows) if re.match(r"\s*(subject\s+to|such\s+that|st|s\.t\.)\s*:?\s*$", line, re.I)), 0)
        lines = [k for k, line in enumerate(rows[start:], start + 1) if re.match(rf"\s*{re.escape(label)}\s*:", line)]
        return f"constraint name {shorten(label)} is used twice" + (f" (lines {', '.join(map(str, lines))})" if lines else "")
    if "illegal file format" in reason:
        reason = "dimod's LP reader refused it without saying where"
    if not re.search(r"^\s*end\s*$", text, re.I | re.M):
        reason += "; the file has no End line: is it cut short?"
    return reason


def read(text: str, source: str, options: ReadOptions) -> Model:
    """The model of an LP text (one problem per file)."""
    if options.instance not in (None, 1):
        raise FormatError(source, None, f"instance {options.instance} asked for, but an LP file holds one problem")
    if not _SECTION.search(text):
        raise FormatError(source, 1, "not an LP file: no Minimize/Maximize or Subject To section")
    try:
        objective_sense = lp_syntax.check(text)  # dimod's reader names no line, and reads some mistakes silently
    except lp_syntax.LpSyntaxError as exc:
        raise FormatError(source, exc.line, f"not a valid LP file: {exc.reason}") from None
    try:
        cqm = dimod.lp.loads(text)
    except (ValueError, RuntimeError, TypeError, OverflowError) as exc:
        raise FormatError(source, None, f"not a valid LP file: {_reader_refusal(exc, text)}") from None
    if not cqm.variables:
        raise FormatError(source, None, "the LP file declares no variables")
    for v in cqm.variables:
        vartype = cqm.vartype(v)
        if vartype is dimod.REAL:
            raise FormatError(source, _line_of(text, v), f"variable {v!r} is continuous; declare it Binary, or General with bounds")
    _check_finite(cqm, source)
    sense = Sense.MAX if objective_sense == "max" else Sense.MIN
    if sense is Sense.MAX:
        objective = dimod.QuadraticModel()
        objective.update(cqm.objective)
        objective.scale(-1)
        cqm.set_objective(objective)
    name = Path(source).name.removesuffix(".gz").removesuffix(".lp")
    model = Model(cqm, sense=sense, name=name)
    model.metadata["format"] = "lp"
    return model


def write(model: Model, path: Path) -> None:
    """Write ``model`` as an LP file (labels renamed where LP needs it)."""
    cqm, renamed = _lp_labels(model.cqm)
    if any(cqm.vartype(v) is dimod.SPIN for v in cqm.variables):
        raise ModelError("LP files have no spin variables; convert the model to binary first")
    try:
        body = dimod.lp.dumps(cqm)
    except ValueError as exc:
        raise ModelError(f"cannot write an LP file: {exc}") from None
    if model.sense is Sense.MAX:
        body = re.sub(r"^Minimize", "Maximize", body, count=1)
        if not body.startswith("Maximize"):  # an empty objective: say the sense anyway
            body = "Maximize\n obj: 0 " + next(iter(cqm.variables), "x") + "\n" + body
    header = f"\\ {model.name} written by hqopt"
    if renamed:
        header += "\n\\ variables renamed for LP: " + ", ".join(f"{old!r} -> {new}" for old, new in list(renamed.items())[:20])
        header += " ..." if len(renamed) > 20 else ""
    write_atomic(path, header + "\n" + body + "\n")


def lp_name(label: Hashable, prefix: str = "x") -> str:
    """The LP name used for a label: itself if valid, else ``prefix`` + a sanitised form.

    >>> lp_name("a"), lp_name(3), lp_name(("x", 1, 2)), lp_name("edge")
    ('a', 'x3', 'x_1_2', 'xedge')
    """
    if _valid(label):
        return str(label)
    parts = label if isinstance(label, tuple) else (label,)
    text = "_".join("".join(ch if ch in dimod.lp.LABEL_VALID_CHARS else "_" for ch in str(p)) for p in parts)
    return text if _valid(text) else f"{prefix}{text}"


def _valid(label: Hashable) -> bool:
    return (
        isinstance(label, str)
        and bool(label)
        and label[0] not in dimod.lp.LABEL_INVALID_FIRST_CHARS
        and all(ch in dimod.lp.LABEL_VALID_CHARS for ch in label)
    )


def _lp_labels(cqm: dimod.ConstrainedQuadraticModel) -> tuple[dimod.ConstrainedQuadraticModel, dict[Hashable, str]]:
    mapping = {v: lp_name(v) for v in cqm.variables}
    renamed = {v: n for v, n in mapping.items() if v != n}
    if len(set(mapping.values())) != len(mapping):
        first: dict[str, Hashable] = {}
        for v, n in mapping.items():
            if n in first:
                raise ModelError(f"cannot write an LP file: variables {shorten(str(first[n]))} and {shorten(str(v))} would both be named {shorten(n)} (LP names allow letters, digits and a few symbols); rename one")
            first[n] = v
    constraint_names = {c: lp_name(c, prefix="c") for c in cqm.constraints}
    if not renamed and all(c == n for c, n in constraint_names.items()):
        return cqm, {}
    out = cqm.relabel_variables(mapping, inplace=False)
    if any(c != n for c, n in constraint_names.items()):
        out.relabel_constraints(constraint_names)
    return out, renamed


def _line_of(text: str, label: object) -> int | None:
    pattern = re.compile(rf"(?<![\w.]){re.escape(str(label))}(?![\w.])")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line.split("\\", 1)[0]):
            return number
    return None


def _check_finite(cqm: dimod.ConstrainedQuadraticModel, source: str) -> None:
    parts = [("objective", cqm.objective)] + [(f"constraint {c!r}", con.lhs) for c, con in cqm.constraints.items()]
    for where, qm in parts:
        values = [*qm.linear.values(), *qm.quadratic.values(), qm.offset]
        if not all(math.isfinite(x) and abs(x) <= 1e15 for x in values):
            raise FormatError(source, None, f"{where} has an infinite or huge coefficient")
    for c, con in cqm.constraints.items():
        if not math.isfinite(con.rhs) or abs(con.rhs) > 1e15:
            raise FormatError(source, None, f"constraint {c!r} has an infinite or huge right-hand side")
    for v in cqm.variables:
        if cqm.vartype(v) is dimod.INTEGER and (cqm.upper_bound(v) - cqm.lower_bound(v)) > 2**31:
            lower, upper = cqm.lower_bound(v), cqm.upper_bound(v)
            raise FormatError(source, None, f"integer variable {v!r} ranges over more than 2**31 values ({lower:g} to {upper:g}): "
                                            "give it narrower lower and upper bounds (no bounds count as that wide)")  # fmt: skip


def sniff(head: str) -> bool:
    """An LP section keyword on a line of its own (``Minimize``, ``Subject To``, ...)."""
    return bool(_KEYWORDS.search(head)) and bool(_SECTION.search(head))


FORMAT = FileFormat(
    name="lp",
    extensions=(".lp",),
    description="CPLEX LP (dimod's reader/writer): linear/quadratic objective and constraints",
    read=read,
    write=write,
    sniff=sniff,
)
