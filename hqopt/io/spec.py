"""hqopt's own YAML/JSON problem spec: ``kind:`` names what the rest describes.

* ``kind: qubo`` and ``kind: cqm`` are generic models, defined here;
* any other kind (``placement``, ``qap``, ``maxcut``, ``knapsack``,
  ``facility``, ...) is handed to its formulation:
  ``formulation_class(kind).from_spec(rest, source).to_model()``.

Every field is validated and unknown fields are errors (:class:`SpecError`
naming the field). The schema is documented in ``docs/spec.md``. The writer
stores any model with plain (text or integer) labels as a ``kind: cqm`` spec,
YAML or JSON by the file's extension.

Example:
    >>> text = '''
    ... kind: cqm
    ... sense: max
    ... variables: {a: binary, b: binary, n: {type: integer, lower: 0, upper: 3}}
    ... objective: {linear: {a: 3, b: 2, n: 1}}
    ... constraints:
    ...   - {label: pick-one, linear: {a: 1, b: 1}, sense: "<=", rhs: 1}
    ... '''
    >>> model = FORMAT.read(text, "tiny.yaml", ReadOptions())
    >>> model.sense.value, model.evaluate({"a": 1, "b": 0, "n": 3}).objective
    ('max', 6.0)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import dimod
import numpy as np
import yaml

from hqopt.errors import FormatError, HqoptError, ModelError, SpecError
from hqopt.formulations import FORMULATIONS, formulation_class
from hqopt.formulations import fields as F
from hqopt.io import limits
from hqopt.io.base import DuplicateKey, FileFormat, ReadOptions, duplicate_key_line, shorten, unique_keys, write_atomic
from hqopt.model import Model, Sense

_TOP = ("kind", "name", "sense")
_QUBO_FIELDS = (*_TOP, "vartype", "offset", "terms", "matrix", "variables")
_CQM_FIELDS = (*_TOP, "variables", "objective", "constraints")
_VARTYPES = {"binary": dimod.BINARY, "spin": dimod.SPIN, "integer": dimod.INTEGER}
_SENSES = {"<=": "<=", ">=": ">=", "==": "==", "=": "=="}
#: the largest QUBO matrix side accepted
MAX_MATRIX = 5_000


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml: 1.6x faster on a large spec
    """PyYAML's safe loader (libyaml's C parser where installed), stricter about mappings and size.

    A key may be text or an integer (a variable label); any other key (``true``,
    ``null``, ``1.5``, a list) and any key given twice is an error with its
    line, where PyYAML would silently merge ``{1: a, true: b}`` into one entry
    or let the last duplicate win. Aliases are counted as the values they
    expand to, against ``max_spec_nodes``.
    """

    def __init__(self, stream: str, source: str) -> None:
        super().__init__(stream)
        self.source = source

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
        seen: dict[tuple[type, Any], int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise FormatError(self.source, line, f"a mapping key must be text or an integer, got {shorten(repr(key))[1:-1]}")
            if (type(key), key) in seen:
                raise FormatError(self.source, line, f"key {shorten(str(key))} is given twice (first on line {seen[type(key), key]})")
            seen[type(key), key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, source: str) -> int:
    """How many values ``node`` stands for once aliases are expanded (memoised, so linear time).

    An alias inside the very list or mapping it names (``a: &x [*x]``) would
    make a structure that contains itself: refused with its line.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    cap = limits.cap("spec_nodes")

    def size(n: yaml.Node) -> int:
        if id(n) in open_nodes:
            raise FormatError(source, n.start_mark.line + 1, "an alias refers to the list or mapping that contains it (a spec cannot contain itself)")
        if id(n) in sizes:
            return sizes[id(n)]
        open_nodes.add(id(n))
        if isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in n.value)
        elif isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        else:
            total = 1
        open_nodes.discard(id(n))
        sizes[id(n)] = min(total, cap + 1)
        return sizes[id(n)]

    return size(node)


def _load_yaml(text: str, source: str) -> Any:
    loader = _StrictLoader(text, source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        limits.check("spec_nodes", _expanded_size(node, source), source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse(text: str, source: str) -> dict[str, Any]:
    """The spec mapping of a YAML or JSON text; FormatError with the line on bad syntax.

    Duplicate keys, keys that are not text or integers (YAML), numbers too
    long to read and specs larger than ``max_spec_nodes`` are refused.
    """
    try:
        if text.lstrip().startswith("{"):
            data = json.loads(text, object_pairs_hook=unique_keys)
            limits.check("spec_nodes", _count_values(data), source)  # YAML's are counted as it is read
        else:
            data = _load_yaml(text, source)
    except json.JSONDecodeError as exc:
        raise FormatError(source, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except DuplicateKey as exc:
        raise FormatError(source, duplicate_key_line(text, exc.key), f"key {shorten(exc.key)} is given twice") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(source, None if mark is None else mark.line + 1, f"invalid YAML: {reason}") from None
    except RecursionError:
        raise FormatError(source, None, "nested too deeply") from None
    except ValueError as exc:  # e.g. a 5000-digit integer (Python refuses to convert it)
        most = getattr(sys, "get_int_max_str_digits", lambda: 4300)()  # (Python 3.10.7+ limits it)
        digits = re.search(rf"(?<![\d.])\d{{{most + 1},}}(?![\d.])", text) if "integer string conversion" in str(exc) else None
        if digits is not None:
            line = text.count("\n", 0, digits.start()) + 1
            raise FormatError(source, line, f"a whole number of {len(digits.group())} digits: at most {most} can be read") from None
        raise FormatError(source, None, f"unreadable value: {str(exc).splitlines()[0][:120]}") from None
    if data is None:
        raise FormatError(source, 1, "the spec is empty")
    if not isinstance(data, dict):
        raise FormatError(source, 1, f"a spec is a mapping of 'name: value' fields, got a {type(data).__name__}")
    return data


def known_kinds() -> list[str]:
    """Every spec ``kind``: ``qubo`` and ``cqm`` (read here) and the formulations', sorted."""
    return sorted({"qubo", "cqm", *FORMULATIONS})


def model_from_spec(spec: Mapping[str, Any], source: str = "<spec>") -> Model:
    """The model a parsed spec describes (dispatching on ``kind``)."""
    if "kind" not in spec:
        tune_keys = [k for k in ("search_space", "estimator") if k in spec]
        if tune_keys:
            raise SpecError("kind", f"is required; this looks like an `hqopt tune` spec (it has {tune_keys[0]!r}): run `hqopt tune {source}`", source=source)
        raise SpecError("kind", f"is required (e.g. kind: qubo; known kinds: {', '.join(known_kinds())})", source=source)
    kind = spec["kind"]
    if not isinstance(kind, Hashable) or kind not in known_kinds():
        raise SpecError("kind", f"unknown kind {shorten(str(kind))}; known kinds: {', '.join(known_kinds())}", source=source)
    rest = {k: v for k, v in spec.items() if k != "kind"}
    try:
        if kind == "qubo":
            model = _qubo(rest)
        elif kind == "cqm":
            model = _cqm(rest)
        else:
            cls = formulation_class(str(kind))
            formulation = cls.from_spec(rest, source)
            check_size(str(kind), formulation, source)
            model = formulation.to_model()
    except SpecError as exc:
        raise SpecError(exc.field, exc.reason, source=source) from None
    except HqoptError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        raise SpecError(shorten(str(kind))[1:-1], f"invalid spec: {exc}", source=source) from None
    model.metadata.update({"format": "spec", "kind": kind})
    return model


def _count_values(data: Any) -> int:
    """Values in a parsed JSON document (containers count as one each), without recursion."""
    count, stack = 0, [data]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
            count += len(item)
        elif isinstance(item, list):
            stack.extend(item)
    return count


def check_size(kind: str, formulation: Any, source: str) -> None:
    """Refuse a formulation whose model would exceed :mod:`hqopt.io.limits`, before building it.

    The kinds whose model grows faster than their spec are checked here: ``qap``
    (n^2 variables, ~n^4/2 terms), ``placement`` (services x sites variables,
    traffic x sites^2 terms) and ``facility`` (warehouses x customers).
    """
    if kind == "qap":
        limits.check("qap_n", formulation.n, source)
    elif kind == "placement":
        variables = sum(len(sites) for sites in formulation.allowed.values()) + len(formulation.sites)
        limits.check("variables", variables, source)  # before the layout (whose labels are as many) is made
        variables, couplings = formulation.model_size()  # with zone/region variables where they replace pairs
        limits.check("variables", variables, source)
        limits.check("couplings", couplings, source)
    elif kind == "facility":
        limits.check("variables", formulation.m * (formulation.n + 1), source)


def read(text: str, source: str, options: ReadOptions) -> Model:
    """The model of a YAML/JSON spec text."""
    if options.instance not in (None, 1):
        raise FormatError(source, None, f"instance {options.instance} asked for, but a spec holds one problem")
    model = model_from_spec(parse(text, source), source)
    if model.name == "model":
        model.name = Path(source).name.removesuffix(".gz").rsplit(".", 1)[0]
    return model


# ------------------------------------------------------------------- kind: qubo
def _qubo(spec: Mapping[str, Any]) -> Model:
    F.no_unknown_keys(spec, _QUBO_FIELDS, "")
    vartype = F.choice(spec, "vartype", "", ("binary", "spin"), "binary")
    offset = F.number(spec, "offset", "", default=0.0)
    if ("terms" in spec) == ("matrix" in spec):
        raise SpecError("terms", "give exactly one of 'terms' or 'matrix'")
    bqm = dimod.BinaryQuadraticModel(_VARTYPES[vartype])
    if "matrix" in spec:
        rows = F.sequence(spec["matrix"], "matrix")
        n = len(rows)
        if not 1 <= n <= MAX_MATRIX:
            raise SpecError("matrix", f"must have 1..{MAX_MATRIX} rows, got {n}")
        for i, row in enumerate(rows):  # before the n x n array is allocated
            if not isinstance(row, (list, tuple)) or len(row) != n:
                raise SpecError(f"matrix[{i}]", f"must be a list of {n} entries (the matrix is square)")
        labels = [_label(v, f"variables[{k}]") for k, v in enumerate(F.sequence(spec.get("variables", list(range(n))), "variables"))]
        if len(labels) != n or len(set(labels)) != n:
            raise SpecError("variables", f"must list {n} distinct labels (one per matrix row)")
        matrix = np.zeros((n, n))
        for i, row in enumerate(rows):
            row = F.sequence(row, f"matrix[{i}]")
            if len(row) != n:
                raise SpecError(f"matrix[{i}]", f"must have {n} entries (the matrix is square), got {len(row)}")
            matrix[i] = [F.to_number(x, f"matrix[{i}][{j}]") for j, x in enumerate(row)]
        bqm.add_variables_from((v, 0.0) for v in labels)
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    if i == j and vartype == "spin":
                        bqm.offset += matrix[i, j]  # x' Q x: s * s == 1
                    elif i == j:
                        bqm.add_linear(labels[i], matrix[i, j])
                    else:
                        bqm.add_quadratic(labels[i], labels[j], matrix[i, j])
    else:
        if "variables" in spec:
            raise SpecError("variables", "only used with 'matrix' (terms name their variables)")
        for k, term in enumerate(F.sequence(spec["terms"], "terms")):
            where = f"terms[{k}]"
            term = F.sequence(term, where)
            if len(term) == 2:
                bqm.add_linear(_label(term[0], where), F.to_number(term[1], where))
            elif len(term) == 3:
                u, v = _label(term[0], where), _label(term[1], where)
                bias = F.to_number(term[2], where)
                if u == v:
                    bqm.add_linear(u, bias)
                else:
                    bqm.add_quadratic(u, v, bias)
            else:
                raise SpecError(where, "must be [u, v, bias] or [u, bias]")
    if not bqm.num_variables:
        raise SpecError("terms", "must name at least one variable")
    bqm.offset += offset
    return Model.from_bqm(bqm, sense=_sense(spec), name=F.text(spec, "name", "", "qubo") or "qubo")


# -------------------------------------------------------------------- kind: cqm
def _cqm(spec: Mapping[str, Any]) -> Model:
    F.no_unknown_keys(spec, _CQM_FIELDS, "")
    model = Model(sense=_sense(spec), name=F.text(spec, "name", "", "cqm") or "cqm")
    cqm = model.cqm
    variables = _pairs(spec.get("variables"), "variables")
    if not variables:
        raise SpecError("variables", "must declare at least one variable")
    for raw, decl in variables:
        v = _label(raw, f"variables.{raw}")
        where = f"variables.{v}"
        if v in cqm.variables:
            raise SpecError(where, f"duplicate variable {v!r} (declared before)")
        if isinstance(decl, str):
            decl = {"type": decl}
        decl = F.mapping(decl, where)
        F.no_unknown_keys(decl, ("type", "lower", "upper"), where)
        kind = F.choice(decl, "type", where, tuple(_VARTYPES), "binary")
        if kind == "integer":
            lower = F.number(decl, "lower", where, default=0.0, integer=True)
            upper = F.number(decl, "upper", where, integer=True)
            if upper < lower:
                raise SpecError(f"{where}.upper", f"must be >= lower ({lower:g}), got {upper:g}")
            cqm.add_variable("INTEGER", v, lower_bound=lower, upper_bound=upper)
        else:
            if "lower" in decl or "upper" in decl:
                raise SpecError(where, f"a {kind} variable has no bounds")
            cqm.add_variable(_VARTYPES[kind], v)
    objective = _expression(cqm, spec.get("objective", {}), "objective", allow_offset=True)
    cqm.set_objective(objective)
    for k, con in enumerate(F.sequence(spec.get("constraints", []), "constraints")):
        where = f"constraints[{k}]"
        con = F.mapping(con, where)
        F.no_unknown_keys(con, ("label", "linear", "quadratic", "sense", "rhs"), where)
        sense = _SENSES.get(str(con.get("sense")))
        if sense is None:
            raise SpecError(f"{where}.sense", f"must be one of <=, >=, ==, got {con.get('sense')!r}")
        rhs = F.number(con, "rhs", where)
        label = None if con.get("label") is None else _label(con["label"], f"{where}.label")
        if label is not None and label in cqm.constraints:
            raise SpecError(f"{where}.label", f"duplicate constraint label {label!r}")
        lhs = _expression(cqm, {k2: v for k2, v in con.items() if k2 in ("linear", "quadratic")}, where, allow_offset=False)
        if not lhs.variables:
            raise SpecError(where, "has no terms")
        cqm.add_constraint_from_model(lhs, sense, rhs, label=label)
    return model


def _expression(cqm: dimod.ConstrainedQuadraticModel, spec: Any, where: str, *, allow_offset: bool) -> dimod.QuadraticModel:
    spec = F.mapping(spec, where)
    F.no_unknown_keys(spec, ("linear", "quadratic", "offset") if allow_offset else ("linear", "quadratic"), where)
    qm = dimod.QuadraticModel()

    def declared(raw: Any, at: str) -> Hashable:
        v = _label(raw, at)
        if v not in cqm.variables:
            raise SpecError(at, f"variable {v!r} is not declared under 'variables'")
        if v not in qm.variables:
            qm.add_variable(cqm.vartype(v), v, lower_bound=cqm.lower_bound(v), upper_bound=cqm.upper_bound(v))
        return v

    for raw, bias in _pairs(spec.get("linear", {}), f"{where}.linear"):
        at = f"{where}.linear.{raw}"
        qm.add_linear(declared(raw, at), F.to_number(bias, at))
    for k, term in enumerate(F.sequence(spec.get("quadratic", []), f"{where}.quadratic")):
        at = f"{where}.quadratic[{k}]"
        term = F.sequence(term, at)
        if len(term) != 3:
            raise SpecError(at, "must be [u, v, bias]")
        u, v = declared(term[0], at), declared(term[1], at)
        bias = F.to_number(term[2], at)
        if u == v and cqm.vartype(u) is dimod.BINARY:
            qm.add_linear(u, bias)  # x*x == x
        elif u == v and cqm.vartype(u) is dimod.SPIN:
            qm.offset += bias  # s*s == 1
        else:
            qm.add_quadratic(u, v, bias)
    qm.offset += F.number(spec, "offset", where, default=0.0)
    return qm


def _pairs(value: Any, where: str) -> list[tuple[Any, Any]]:
    """A mapping ``{label: x}`` or a list of ``[label, x]`` pairs (JSON keys are always text)."""
    if isinstance(value, Mapping):
        return list(value.items())
    pairs = []
    for k, pair in enumerate(F.sequence(value, where)):
        pair = F.sequence(pair, f"{where}[{k}]")
        if len(pair) != 2:
            raise SpecError(f"{where}[{k}]", "must be a [label, value] pair")
        pairs.append((pair[0], pair[1]))
    return pairs


def _label(value: Any, where: str) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
        raise SpecError(where, f"a variable label is text or an integer, got {value!r}")
    return value


def _sense(spec: Mapping[str, Any]) -> Sense:
    value = spec.get("sense", "min")
    if str(value).lower() not in ("min", "max", "minimize", "maximize", "minimise", "maximise"):
        raise SpecError("sense", f"must be min or max, got {value!r}")
    return Sense.parse(str(value))


# ----------------------------------------------------------------------- writer
def to_spec(model: Model) -> dict[str, Any]:
    """A ``kind: cqm`` spec of any model whose labels are text or integers."""
    cqm = model.cqm
    for v in [*cqm.variables, *cqm.constraints]:
        if isinstance(v, bool) or not isinstance(v, (str, int, np.integer)):
            raise ModelError(f"a spec names variables and constraints with text or integers; {v!r} is neither (write lp instead)")
    variables: dict[Any, Any] = {}
    for v in cqm.variables:
        vt = cqm.vartype(v)
        if vt is dimod.INTEGER:
            variables[_plain(v)] = {"type": "integer", "lower": _num(cqm.lower_bound(v)), "upper": _num(cqm.upper_bound(v))}
        elif vt is dimod.REAL:
            raise ModelError(f"variable {v!r} is continuous; specs hold binary, spin and integer variables")
        else:
            variables[_plain(v)] = vt.name.lower()
    spec: dict[str, Any] = {"kind": "cqm", "name": model.name, "sense": model.sense.value, "variables": variables}
    spec["objective"] = _terms(cqm.objective, with_offset=True)
    spec["constraints"] = []
    for label, con in cqm.constraints.items():
        entry = {"label": _plain(label), **_terms(con.lhs, with_offset=False)}
        entry.update({"sense": con.sense.value, "rhs": _num(con.rhs - con.lhs.offset)})
        spec["constraints"].append(entry)
    return spec


def _terms(qm: Any, *, with_offset: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"linear": {_plain(v): _num(b) for v, b in qm.iter_linear() if b}}
    quadratic = [[_plain(u), _plain(v), _num(b)] for u, v, b in qm.iter_quadratic() if b]
    if quadratic:
        out["quadratic"] = quadratic
    if with_offset and qm.offset:
        out["offset"] = _num(qm.offset)
    return out


def _plain(label: Any) -> str | int:
    return int(label) if isinstance(label, np.integer) else label


def _num(value: float) -> int | float:
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def write(model: Model, path: Path) -> None:
    """``model`` as a ``kind: cqm`` spec: JSON for ``.json``, YAML otherwise."""
    spec = to_spec(model)
    if Path(path).name.lower().removesuffix(".gz").endswith(".json"):  # JSON keys are text: use pairs
        spec["variables"] = [[v, decl] for v, decl in spec["variables"].items()]
        for part in [spec["objective"], *spec["constraints"]]:
            part["linear"] = [[v, bias] for v, bias in part["linear"].items()]
        text = json.dumps(spec, indent=1) + "\n"
    else:
        text = yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=120)
    write_atomic(path, text)


def sniff(head: str) -> bool:
    """A top-level ``kind:`` line (YAML) or a ``"kind"`` key (JSON)."""
    return bool(re.search(r"^kind\s*:", head, re.M)) or (head.lstrip().startswith("{") and '"kind"' in head)


FORMAT = FileFormat(
    name="spec",
    extensions=(".yaml", ".yml", ".json"),
    description="hqopt problem spec (YAML/JSON; kind: qubo, cqm or a formulation)",
    read=read,
    write=write,
    sniff=sniff,
)
