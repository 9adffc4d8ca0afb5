"""Find the structure a local search can keep exact, on a minimisation CQM.

* **one-hot groups**: ``sum(x) == 1`` rows over binaries (equal coefficients),
  pairwise disjoint; a move *shifts* the group's single 1 to another member;
* **permutation**: the one-hot rows left over form a second disjoint family on
  the same variables, one "column" per value, each row meeting each column in
  exactly one variable (QAP, assignment); a move *swaps* two rows' columns;
* **defined binaries**: rows ``y == sum(x over S)`` with ``S`` inside one
  one-hot group and ``y`` a binary of no group (e.g. placement's "service i
  is in zone z"); ``y`` is a function of its group, and a shift moves it with
  the group, so the row holds by construction;
* **capacity rows**: ``<=`` rows with non-negative coefficients;
* the rest: other linear rows, quadratic rows (``ls`` does not take those).

Example:
    >>> import dimod
    >>> cqm = dimod.CQM()
    >>> x = [dimod.Binary(("x", i, p)) for i in range(2) for p in range(2)]
    >>> cqm.set_objective(x[0] * x[3] + 2 * x[1])
    >>> for i in range(2):
    ...     _ = cqm.add_constraint(x[2 * i] + x[2 * i + 1] == 1, label=f"row{i}")
    ...     _ = cqm.add_constraint(x[i] + x[i + 2] == 1, label=f"col{i}")
    >>> detect_structure(cqm).summary()["permutation"]
    2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dimod
from dimod.sym import Sense

from hqopt.samples import cached_constraint_rows, linear_terms


@dataclass
class Structure:
    """What :func:`detect_structure` found (constraint labels and variable labels).

    Attributes:
        groups: one-hot groups, each the list of its variables (disjoint).
        group_rows: the constraint label of each group.
        columns: for a permutation, the column groups (else empty).
        column_rows: their constraint labels.
        defined: binaries defined by a row as a sum over part of one group.
        definitions: for each of ``defined``, the group variables it sums.
        defined_rows: the defining rows' labels.
        capacity_rows: ``<=`` rows with non-negative coefficients (penalised).
        linear_rows: every other linear row (penalised).
        quadratic_rows: rows with products (``ls`` refuses them).
        integers: number of integer variables.
        variables: number of variables.
        couplings: quadratic terms of the objective.
    """

    groups: list[list[Any]] = field(default_factory=list)
    group_rows: list[Any] = field(default_factory=list)
    columns: list[list[Any]] = field(default_factory=list)
    column_rows: list[Any] = field(default_factory=list)
    defined: list[Any] = field(default_factory=list)
    definitions: list[list[Any]] = field(default_factory=list)
    defined_rows: list[Any] = field(default_factory=list)
    capacity_rows: list[Any] = field(default_factory=list)
    linear_rows: list[Any] = field(default_factory=list)
    quadratic_rows: list[Any] = field(default_factory=list)
    integers: int = 0
    variables: int = 0
    couplings: int = 0

    @property
    def permutation(self) -> bool:
        return bool(self.columns)

    @property
    def free_variables(self) -> int:
        """Variables in no group and not defined by one (a move changes them alone)."""
        return self.variables - sum(len(g) for g in self.groups) - len(self.defined)

    @property
    def kind(self) -> str:
        """``"permutation"``, ``"unconstrained"``, ``"one-hot"`` or ``"constrained"``: picks the default strategy."""
        penalised = self.capacity_rows or self.linear_rows or self.quadratic_rows
        if self.permutation and not penalised and self.free_variables == 0 and not self.defined:
            return "permutation"
        if not self.groups and not penalised and self.integers == 0:
            return "unconstrained"
        if self.groups and not penalised:
            return "one-hot"
        return "constrained"

    def summary(self) -> dict[str, Any]:
        """A small JSON-friendly description (for Result.info and ``hqopt info``)."""
        sizes = [len(g) for g in self.groups]
        return {
            "kind": self.kind,
            "variables": self.variables,
            "integers": self.integers,
            "couplings": self.couplings,
            "one_hot_groups": len(self.groups),
            "group_sizes": [min(sizes), max(sizes)] if sizes else [],
            "permutation": len(self.columns) if self.permutation else None,
            "free_variables": self.free_variables,
            "defined_variables": len(self.defined),
            "capacity_rows": len(self.capacity_rows),
            "linear_rows": len(self.linear_rows),
            "quadratic_rows": len(self.quadratic_rows),
        }


def _one_hot_vars(cqm: dimod.ConstrainedQuadraticModel, label: Any) -> list[Any] | None:
    """The variables of row ``label`` if it reads ``c*sum(x) == c`` over binaries, else None."""
    con = cqm.constraints[label]
    lhs = con.lhs
    if con.sense is not Sense.Eq or not lhs.is_linear() or lhs.num_variables == 0:
        return None
    coefficients = linear_terms(lhs, cqm)[1]
    c = float(coefficients[0])
    if not (coefficients == c).all():
        return None
    if c == 0 or abs((con.rhs - lhs.offset) - c) > 1e-9 * abs(c):
        return None
    if any(cqm.vartype(v) is not dimod.BINARY for v in lhs.variables):
        return None
    return list(lhs.variables)


def _disjoint(rows: list[tuple[Any, list[Any]]]) -> tuple[list[tuple[Any, list[Any]]], list[tuple[Any, list[Any]]]]:
    """Split rows greedily into a pairwise-disjoint family and the rest (rows kept in order)."""
    taken: set[Any] = set()
    family, rest = [], []
    for label, members in rows:
        if taken.isdisjoint(members):
            family.append((label, members))
            taken.update(members)
        else:
            rest.append((label, members))
    return family, rest


def _is_permutation(rows: list[list[Any]], cols: list[list[Any]]) -> bool:
    if len(rows) != len(cols) or len(rows) < 2:
        return False
    col_of = {v: c for c, members in enumerate(cols) for v in members}
    if len(col_of) != sum(len(r) for r in rows):
        return False
    for members in rows:
        seen = [col_of.get(v) for v in members]
        if None in seen or len(set(seen)) != len(cols) or len(seen) != len(cols):
            return False
    return True


def _definition(cqm: dimod.ConstrainedQuadraticModel, label: Any, group_of: dict[Any, int]) -> tuple[Any, list[Any]] | None:
    """``(y, S)`` if row ``label`` reads ``c*(sum(S) - y) == 0`` over binaries, ``S`` inside one group and ``y`` in none."""
    con = cqm.constraints[label]
    lhs = con.lhs
    if con.sense is not Sense.Eq or not lhs.is_linear() or lhs.num_variables < 2 or abs(con.rhs - lhs.offset) > 1e-12:
        return None
    outside = [v for v in lhs.variables if v not in group_of]
    if len(outside) != 1 or cqm.vartype(outside[0]) is not dimod.BINARY:
        return None
    y = outside[0]
    members = [v for v in lhs.variables if v != y]
    c = lhs.get_linear(members[0])
    if c == 0 or lhs.get_linear(y) != -c or any(lhs.get_linear(v) != c for v in members):
        return None
    if len({group_of[v] for v in members}) != 1:
        return None
    return y, members


def detect_structure(cqm: dimod.ConstrainedQuadraticModel) -> Structure:
    """Classify the rows and variables of ``cqm`` (see the module docstring).

    Within a solve it is made once: kept beside the CQM's constraint arrays
    (:func:`hqopt.samples.cached_constraint_rows`), which the solve's verifier
    builds afresh, so ``auto``'s choice and ``ls`` share one detection.
    """
    rows = cached_constraint_rows(cqm, build=False)
    if rows is not None and "structure" in rows.derived:
        return rows.derived["structure"]
    s = _detect(cqm)
    if rows is not None:
        rows.derived["structure"] = s
    return s


def _detect(cqm: dimod.ConstrainedQuadraticModel) -> Structure:
    s = Structure(variables=len(cqm.variables), couplings=cqm.objective.num_interactions)
    s.integers = sum(cqm.vartype(v) is dimod.INTEGER for v in cqm.variables)
    one_hot: list[tuple[Any, list[Any]]] = []
    for label, con in cqm.constraints.items():
        members = _one_hot_vars(cqm, label)
        if members is not None:
            one_hot.append((label, members))
        elif not con.lhs.is_linear():
            s.quadratic_rows.append(label)
        elif con.sense is Sense.Le and (linear_terms(con.lhs, cqm)[1] >= 0).all():
            s.capacity_rows.append(label)
        else:
            s.linear_rows.append(label)
    family, rest = _disjoint(one_hot)
    columns, leftover = _disjoint(rest)
    s.groups = [m for _, m in family]
    s.group_rows = [lbl for lbl, _ in family]
    if not leftover and _is_permutation(s.groups, [m for _, m in columns]):
        s.columns = [m for _, m in columns]
        s.column_rows = [lbl for lbl, _ in columns]
    else:
        s.linear_rows.extend(lbl for lbl, _ in rest)
    _find_definitions(cqm, s)
    return s


def _find_definitions(cqm: dimod.ConstrainedQuadraticModel, s: Structure) -> None:
    """Move the rows that define a binary from its group (see :func:`_definition`) out of ``linear_rows``."""
    if not s.groups or not s.linear_rows:
        return
    group_of = {v: g for g, members in enumerate(s.groups) for v in members}
    defined: set[Any] = set()
    kept = []
    for label in s.linear_rows:
        found = _definition(cqm, label, group_of)
        if found is None or found[0] in defined:
            kept.append(label)
            continue
        defined.add(found[0])
        s.defined.append(found[0])
        s.definitions.append(found[1])
        s.defined_rows.append(label)
    s.linear_rows = kept
