"""A CQM as plain NumPy arrays: the compiled search's only input.

Labels are mapped to indices once here (:func:`build_problem`) and back once
(:meth:`EngineProblem.samples`). The objective is ``offset + lin.x + diag.x^2 +
sum_{i<j} Q_ij x_i x_j`` with Q stored symmetric in CSR (both directions,
columns sorted); memory is O(variables + couplings). Rows the moves keep
exact (one-hot groups, a permutation's rows and columns) become group tables,
rows defining a binary from its group (``y == sum(x over S)``) a table of
each group variable's dependants (``dptr``/``dvar``); every other linear row
is kept in CSR (and transposed per variable) for the
penalties.

Example:
    >>> import dimod
    >>> bqm = dimod.BQM({"a": 1.0, "b": -2.0}, {("a", "b"): 3.0}, 0.5, "BINARY")
    >>> p = build_problem(dimod.CQM.from_bqm(bqm))
    >>> p.arrays.indices.tolist(), p.arrays.data.tolist()
    ([1, 0], [3.0, 3.0])
    >>> p.objective([1, 1])
    2.5
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from hqopt.engine.structure import Structure, detect_structure
from hqopt.errors import BackendError
from hqopt.samples import SENSE_EQ, SENSE_GE, SENSE_LE, ConstraintRows, cqm_samples, current_rows, linear_terms, quadratic_terms, variable_arrays

#: pair lookups use a dense matrix up to this many variables (when moves need them)
DENSE_LIMIT = 2048
#: row senses as the kernels see them
LE, GE, EQ = SENSE_LE, SENSE_GE, SENSE_EQ

#: the arrays handed to the compiled kernels (fixed dtypes: one compiled signature)
Arrays = namedtuple(
    "Arrays",
    "lb ub lin diag indptr indices data dense gptr gvars var_group perm var_col free "
    "rptr rcol rval rhs sense vptr vrow vval dptr dvar defined",
)


@dataclass
class EngineProblem:
    """A CQM in array form plus its labels, offset and structure."""

    labels: list[Any]
    offset: float
    arrays: Arrays
    structure: Structure

    @property
    def num_variables(self) -> int:
        return len(self.labels)

    @property
    def num_rows(self) -> int:
        return len(self.arrays.rhs)

    def objective(self, x: Any) -> float:
        """The CQM objective of an index-ordered assignment (NumPy, for checks and tests)."""
        a = self.arrays
        x = np.asarray(x, dtype=np.float64)
        rows = np.repeat(np.arange(len(x)), np.diff(a.indptr))
        quad = 0.5 * float(np.sum(a.data * x[rows] * x[a.indices]))
        return float(self.offset + a.lin @ x + a.diag @ (x * x) + quad)

    def violations(self, x: Any) -> np.ndarray:
        """Per penalised row, how far an assignment is from satisfying it."""
        a = self.arrays
        x = np.asarray(x, dtype=np.float64)
        rows = np.repeat(np.arange(len(a.rhs)), np.diff(a.rptr))
        act = np.bincount(rows, weights=a.rval * x[a.rcol], minlength=len(a.rhs))
        diff = act - a.rhs
        return np.where(a.sense == LE, np.maximum(diff, 0), np.where(a.sense == GE, np.maximum(-diff, 0), np.abs(diff)))

    def consistent(self, x: Any) -> bool:
        """Whether an assignment keeps every group one-hot and every defined binary equal to its definition."""
        a = self.arrays
        x = np.asarray(x, dtype=np.int64)
        groups = np.add.reduceat(x[a.gvars], a.gptr[:-1]) if len(a.gvars) else np.zeros(0)
        return bool(np.all(groups == 1) and np.array_equal(x[a.defined], define(a, x)[a.defined]))

    def samples(self, states: np.ndarray, cqm: dimod.ConstrainedQuadraticModel) -> dimod.SampleSet:
        """Index-ordered states (one per row) as a SampleSet over the CQM's labels."""
        return cqm_samples((np.asarray(states, dtype=np.int64), self.labels), cqm)


def define(a: Arrays, x: Any) -> np.ndarray:
    """``x`` with every defined binary set from its group variables (NumPy; the kernels keep them so).

    >>> import dimod
    >>> cqm = dimod.CQM()
    >>> cqm.add_variables("BINARY", ["a", "b", "y"])
    >>> _ = cqm.add_constraint_from_iterable([("a", 1), ("b", 1)], "==", 1, label="one")
    >>> _ = cqm.add_constraint_from_iterable([("b", 1), ("y", -1)], "==", 0, label="y=b")
    >>> define(build_problem(cqm).arrays, [0, 1, 0]).tolist()
    [0, 1, 1]
    """
    x = np.array(x, dtype=np.int64)
    x[a.defined] = 0
    members = np.repeat(np.arange(len(x)), np.diff(a.dptr))
    np.add.at(x, a.dvar, x[members])
    return x


def _csr(n: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order].astype(np.int32), vals[order].astype(np.float64)


def _objective_arrays(cqm: dimod.ConstrainedQuadraticModel) -> tuple[np.ndarray, ...]:
    """The objective's linear biases, its squared terms (``x*x`` of integers) and its couplings by row."""
    n = len(cqm.variables)
    columns, biases = linear_terms(cqm.objective, cqm)
    lin = np.zeros(n)
    lin[columns] = biases
    us, vs, bs = quadratic_terms(cqm.objective, cqm)
    self_loop = us == vs
    diag = np.bincount(us[self_loop], weights=bs[self_loop], minlength=n).astype(np.float64)
    us, vs, bs = us[~self_loop], vs[~self_loop], bs[~self_loop]
    indptr, indices, data = _csr(n, np.concatenate([us, vs]), np.concatenate([vs, us]), np.concatenate([bs, bs]))
    return lin, diag, indptr, indices, data


def _row_arrays(rows: ConstraintRows, labels: list[Any]) -> tuple[np.ndarray, ...]:
    """The rows ``labels`` of ``rows`` (the CQM's constraint arrays), by row and by variable."""
    position = {label: j for j, label in enumerate(rows.labels)}
    picked = np.array([position[label] for label in labels], dtype=np.int64)
    matrix = rows.matrix[picked]
    rptr_a = matrix.indptr.astype(np.int64)
    rcol_a = matrix.indices.astype(np.int32)
    rval_a = matrix.data.astype(np.float64)
    row_of = np.repeat(np.arange(len(labels)), np.diff(rptr_a))
    vptr, vrow, vval = _csr(rows.size[0], rcol_a.astype(np.int64), row_of.astype(np.int32), rval_a)
    rhs = (rows.rhs - rows.offset)[picked]
    return (rptr_a, rcol_a, rval_a, rhs, rows.sense[picked].astype(np.int8), vptr, vrow, vval)


def build_problem(cqm: dimod.ConstrainedQuadraticModel, structure: Structure | None = None) -> EngineProblem:
    """Arrays for ``cqm`` (binary and integer variables, linear constraints)."""
    s = structure if structure is not None else detect_structure(cqm)
    if s.quadratic_rows:
        raise BackendError(f"backend 'ls' takes linear constraints only; {s.quadratic_rows[0]!r} has products")
    labels = list(cqm.variables)
    index = {v: i for i, v in enumerate(labels)}
    n = len(labels)
    vartypes, lowers, uppers = variable_arrays(cqm)
    integer = vartypes == dimod.INTEGER
    other = ~integer & (vartypes != dimod.BINARY)
    if other.any():
        j = int(np.flatnonzero(other)[0])
        raise BackendError(f"backend 'ls' takes binary and integer variables; {labels[j]!r} is {vartypes[j].name}")
    lb, ub = np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)  # binaries: 0 and 1
    lb[integer] = np.ceil(lowers[integer] - 1e-9)
    ub[integer] = np.floor(uppers[integer] + 1e-9)
    lin, diag, indptr, indices, data = _objective_arrays(cqm)

    var_group = np.full(n, -1, dtype=np.int32)
    gptr = np.zeros(len(s.groups) + 1, dtype=np.int64)
    gvars = np.array([index[v] for g in s.groups for v in g], dtype=np.int32)
    np.cumsum([len(g) for g in s.groups], out=gptr[1:])
    for g, members in enumerate(s.groups):
        var_group[[index[v] for v in members]] = g
    defined = np.array([index[v] for v in s.defined], dtype=np.int32)
    free = np.setdiff1d(np.flatnonzero(var_group < 0), defined).astype(np.int32)
    summed = np.array([index[v] for d in s.definitions for v in d], dtype=np.int64)
    owners = np.repeat(defined, [len(d) for d in s.definitions]).astype(np.int64)
    dptr, dvar, _ = _csr(n, summed, owners, np.zeros(len(summed)))

    var_col = np.full(n, -1, dtype=np.int32)
    perm = np.zeros((0, 0), dtype=np.int32)
    if s.permutation:
        for c, members in enumerate(s.columns):
            var_col[[index[v] for v in members]] = c
        perm = np.zeros((len(s.groups), len(s.columns)), dtype=np.int32)
        for g, members in enumerate(s.groups):
            for v in members:
                perm[g, var_col[index[v]]] = index[v]

    dense = np.zeros((0, 0))
    if s.groups and n <= DENSE_LIMIT and len(data):
        dense = np.zeros((n, n))
        rows = np.repeat(np.arange(n), np.diff(indptr))
        dense[rows, indices] = data

    penalised = s.capacity_rows + s.linear_rows
    rptr, rcol, rval, rhs, sense, vptr, vrow, vval = _row_arrays(current_rows(cqm), penalised)
    arrays = Arrays(
        lb, ub, lin, diag, indptr, indices, data, dense, gptr, gvars, var_group, perm, var_col, free,
        rptr, rcol, rval, rhs, sense, vptr, vrow, vval, dptr, dvar, defined,
    )
    return EngineProblem(labels, float(cqm.objective.offset), arrays, s)
