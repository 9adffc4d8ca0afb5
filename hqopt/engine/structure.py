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

Rows are read from the CQM's constraint arrays (:class:`hqopt.samples.ConstraintRows`),
where a term with coefficient 0 is absent, as it is to the verifier.

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
import numpy as np

from hqopt.samples import SENSE_EQ, SENSE_LE, ConstraintRows, cached_constraint_rows, constraint_arrays, variable_arrays


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


def detect_structure(cqm: dimod.ConstrainedQuadraticModel) -> Structure:
    """Classify the rows and variables of ``cqm`` (see the module docstring).

    Within a solve it is made once: kept beside the CQM's constraint arrays
    (:func:`hqopt.samples.cached_constraint_rows`), which the solve's validation
    builds afresh, so ``auto``'s choice and ``ls`` share one detection.
    """
    rows = cached_constraint_rows(cqm, build=False)
    if rows is not None and "structure" in rows.derived:
        return rows.derived["structure"]
    if rows is None:  # not cached: read now, and left uncached (so a CQM changed later is read again)
        return _detect(cqm, constraint_arrays(cqm))
    rows.derived["structure"] = s = _detect(cqm, rows)
    return s


def _detect(cqm: dimod.ConstrainedQuadraticModel, rows: ConstraintRows) -> Structure:
    s = Structure(variables=len(cqm.variables), couplings=cqm.objective.num_interactions)
    variables = list(cqm.variables)
    vartypes = variable_arrays(cqm)[0]
    binary = vartypes == dimod.BINARY
    s.integers = int(np.count_nonzero(vartypes == dimod.INTEGER))
    terms = _RowTerms(rows)
    one_hot = terms.one_hot(binary)
    capacity = terms.all_rows(terms.coefficients >= 0) & (rows.sense == SENSE_LE)

    def members(j: int) -> list[Any]:
        return [variables[c] for c in terms.columns_of(j).tolist()]

    found: list[tuple[int, list[Any]]] = []  # one-hot rows: (row index, variables)
    linear: list[int] = []  # row indices, kept in the order their labels go to linear_rows
    for j, label in enumerate(rows.labels):
        if one_hot[j]:
            found.append((j, members(j)))
        elif terms.quadratic[j]:
            s.quadratic_rows.append(label)
        elif capacity[j]:
            s.capacity_rows.append(label)
        else:
            linear.append(j)
    family, rest = _disjoint(found)
    columns, leftover = _disjoint(rest)
    s.groups = [m for _, m in family]
    s.group_rows = [rows.labels[j] for j, _ in family]
    if not leftover and _is_permutation(s.groups, [m for _, m in columns]):
        s.columns = [m for _, m in columns]
        s.column_rows = [rows.labels[j] for j, _ in columns]
    else:
        linear.extend(j for j, _ in rest)
    group_of = np.full(len(cqm.variables), -1, dtype=np.int64)
    for g, (j, _) in enumerate(family):
        group_of[terms.columns_of(j)] = g
    _find_definitions(s, terms, linear, group_of, binary, variables)
    return s


class _RowTerms:
    """The linear terms of every constraint as flat arrays (one entry per term, rows in order), for
    tests that hold on whole rows (``all_rows``) without a Python step per term."""

    def __init__(self, rows: ConstraintRows) -> None:
        matrix = rows.matrix
        self.rows = rows
        self.indptr = matrix.indptr
        self.columns = matrix.indices
        self.coefficients = matrix.data
        self.counts = np.diff(matrix.indptr)
        self.row_of = np.repeat(np.arange(len(self.counts)), self.counts)
        self.quadratic = np.zeros(len(self.counts), dtype=bool)
        self.quadratic[rows.quadratic] = True
        self.constant = rows.rhs - rows.offset  # what the terms must sum to

    def columns_of(self, j: int) -> np.ndarray:
        return self.columns[self.indptr[j] : self.indptr[j + 1]]

    def all_rows(self, holds: np.ndarray) -> np.ndarray:
        """Per row: does ``holds`` (one flag per term) hold for every term of the row? (True on empty rows.)"""
        return np.bincount(self.row_of, weights=~holds, minlength=len(self.counts)) == 0

    def first(self, values: np.ndarray) -> np.ndarray:
        """Per row: ``values`` (one per term) at the row's first term (0 on empty rows)."""
        out = np.zeros(len(self.counts), dtype=values.dtype)
        filled = self.counts > 0
        out[filled] = values[self.indptr[:-1][filled]]
        return out

    def one_hot(self, binary: np.ndarray) -> np.ndarray:
        """Per row: does it read ``c*sum(x) == c`` over binaries (equal, nonzero coefficients)?"""
        c = self.first(self.coefficients)
        equal = self.all_rows(self.coefficients == c[self.row_of]) & self.all_rows(binary[self.columns])
        right = np.abs(self.constant - c) <= 1e-9 * np.abs(c)
        return (self.rows.sense == SENSE_EQ) & ~self.quadratic & (self.counts > 0) & (c != 0) & equal & right


def _find_definitions(
    s: Structure, terms: _RowTerms, linear: list[int], group_of: np.ndarray, binary: np.ndarray, variables: list[Any]
) -> None:
    """Move the rows that define a binary from its group out of ``linear_rows``: rows that read
    ``c*(sum(S) - y) == 0`` over binaries, ``S`` inside one group and ``y`` in none (the first row
    defining a ``y`` wins)."""
    if not s.groups or not linear or not len(terms.columns):
        s.linear_rows = [terms.rows.labels[j] for j in linear]
        return
    outside = group_of[terms.columns] < 0
    n_outside = np.bincount(terms.row_of, weights=outside, minlength=len(terms.counts))
    # y: the one term outside every group (rows with another count are not kept); c: the
    # coefficient of the first term that is not y (terms are in row order, so the first of a row's run)
    y_entry = np.zeros(len(terms.counts), dtype=np.int64)
    y_entry[terms.row_of[outside]] = np.flatnonzero(outside)
    inside = np.flatnonzero(~outside)
    inside_rows = terms.row_of[inside]
    starts = np.ones(len(inside), dtype=bool)
    starts[1:] = inside_rows[1:] != inside_rows[:-1]
    c = np.zeros(len(terms.counts))
    c[inside_rows[starts]] = terms.coefficients[inside[starts]]
    y_coefficient = terms.coefficients[y_entry]
    members_equal = terms.all_rows(outside | (terms.coefficients == c[terms.row_of]))
    group = np.where(outside, -1, group_of[terms.columns])
    lowest = np.full(len(terms.counts), np.iinfo(np.int64).max)
    highest = np.full(len(terms.counts), -1)
    np.minimum.at(lowest, terms.row_of[~outside], group[~outside])
    np.maximum.at(highest, terms.row_of[~outside], group[~outside])
    defining = (
        (terms.rows.sense == SENSE_EQ) & ~terms.quadratic & (terms.counts >= 2) & (np.abs(terms.constant) <= 1e-12)
        & (n_outside == 1) & binary[terms.columns[y_entry]] & (c != 0) & (y_coefficient == -c) & members_equal
        & (lowest == highest)
    )
    defined: set[int] = set()
    kept = []
    for j in linear:
        y = int(terms.columns[y_entry[j]]) if defining[j] else -1
        if y < 0 or y in defined:
            kept.append(terms.rows.labels[j])
            continue
        defined.add(y)
        s.defined.append(variables[y])
        s.definitions.append([variables[col] for col in terms.columns_of(j).tolist() if col != y])
        s.defined_rows.append(terms.rows.labels[j])
    s.linear_rows = kept
