"""A CQM as NumPy/SciPy arrays: fast objective, constraint activities and violations of full assignments.

The LNS loop evaluates a full assignment after every repair and folds fixed
variables into sub-problems; both need the model as arrays (indices, not
labels). Variables are indexed in ``cqm.variables`` order.

Example:
    >>> import dimod
    >>> cqm = dimod.CQM()
    >>> x, y = dimod.Binary("x"), dimod.Binary("y")
    >>> cqm.set_objective(x + 2 * y - 3 * x * y)
    >>> _ = cqm.add_constraint(x + y <= 1, label="c")
    >>> a = ArrayCQM.from_cqm(cqm)
    >>> a.objective([1, 1]), a.violation([1, 1])
    (0.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import dimod
import numpy as np
import scipy.sparse as sp

from hqopt.verify import FEASIBILITY_TOL

Label = Hashable

LE, GE, EQ = 0, 1, 2
_SENSE = {dimod.sym.Sense.Le: LE, dimod.sym.Sense.Ge: GE, dimod.sym.Sense.Eq: EQ}


@dataclass
class ArrayCQM:
    """Objective ``offset + lin x + sum q_v x_i x_j`` and rows ``lhs_r(x) (<=|>=|==) rhs_r``.

    Attributes:
        labels, vartypes, lower, upper: the variables (vartype as ``dimod.Vartype``).
        lin, offset, qi, qj, qv: the objective (quadratic terms once each, ``qi <= qj``).
        adjacency: symmetric CSR of the objective's quadratic terms (self-loops once).
        A: CSR ``rows x variables`` of the constraints' linear terms; ``cq_row, cq_i, cq_j, cq_v``
            their quadratic terms; ``row_offset``, ``sense`` (LE/GE/EQ), ``rhs``, ``row_labels``.
    """

    labels: list[Label]
    vartypes: list[dimod.Vartype]
    lower: np.ndarray
    upper: np.ndarray
    lin: np.ndarray
    offset: float
    qi: np.ndarray
    qj: np.ndarray
    qv: np.ndarray
    adjacency: sp.csr_matrix
    A: sp.csr_matrix
    A_csc: sp.csc_matrix
    cq_row: np.ndarray
    cq_i: np.ndarray
    cq_j: np.ndarray
    cq_v: np.ndarray
    row_offset: np.ndarray
    sense: np.ndarray
    rhs: np.ndarray
    row_labels: list[Label]

    @property
    def num_variables(self) -> int:
        return len(self.labels)

    @property
    def num_rows(self) -> int:
        return len(self.row_labels)

    @classmethod
    def from_cqm(cls, cqm: dimod.ConstrainedQuadraticModel) -> ArrayCQM:
        labels = list(cqm.variables)
        index = {v: i for i, v in enumerate(labels)}
        n = len(labels)
        vartypes = [cqm.vartype(v) for v in labels]
        lower = np.array([cqm.lower_bound(v) for v in labels], dtype=float)
        upper = np.array([cqm.upper_bound(v) for v in labels], dtype=float)
        objective = cqm.objective
        lin = np.zeros(n)
        for v, b in objective.linear.items():
            lin[index[v]] = b
        qi, qj, qv = _quadratic_arrays(objective, index)
        adjacency = sp.coo_matrix(
            (np.concatenate([qv, qv[qi != qj]]), (np.concatenate([qi, qj[qi != qj]]), np.concatenate([qj, qi[qi != qj]]))),
            shape=(n, n),
        ).tocsr()
        rows, cols, vals = [], [], []
        cq_row, cq_i, cq_j, cq_v = [], [], [], []
        row_offset, sense, rhs, row_labels = [], [], [], []
        for r, (label, constraint) in enumerate(cqm.constraints.items()):
            lhs = constraint.lhs
            for v, b in lhs.linear.items():
                if b:
                    rows.append(r)
                    cols.append(index[v])
                    vals.append(b)
            i, j, q = _quadratic_arrays(lhs, index)
            cq_row.append(np.full(len(q), r))
            cq_i.append(i)
            cq_j.append(j)
            cq_v.append(q)
            row_offset.append(float(lhs.offset))
            sense.append(_SENSE[constraint.sense])
            rhs.append(float(constraint.rhs))
            row_labels.append(label)
        m = len(row_labels)
        A = sp.coo_matrix((vals, (rows, cols)), shape=(m, n)).tocsr()
        empty_int = np.zeros(0, dtype=np.int64)
        return cls(
            labels, vartypes, lower, upper, lin, float(objective.offset), qi, qj, qv, adjacency, A, A.tocsc(),
            np.concatenate(cq_row) if m else empty_int,
            np.concatenate(cq_i) if m else empty_int,
            np.concatenate(cq_j) if m else empty_int,
            np.concatenate(cq_v) if m else np.zeros(0),
            np.asarray(row_offset), np.asarray(sense, dtype=np.int8), np.asarray(rhs), row_labels,
        )

    # ------------------------------------------------------------ evaluation
    def vector(self, sample: dict[Label, float]) -> np.ndarray:
        """An assignment as a vector in variable order."""
        return np.array([float(sample[v]) for v in self.labels])

    def objective(self, x: Sequence[float] | np.ndarray) -> float:
        x = np.asarray(x, dtype=float)
        return float(self.offset + self.lin @ x + np.sum(self.qv * x[self.qi] * x[self.qj]))

    def activities(self, x: np.ndarray) -> np.ndarray:
        """Every constraint's left-hand side at ``x``."""
        x = np.asarray(x, dtype=float)
        quad = np.bincount(self.cq_row, self.cq_v * x[self.cq_i] * x[self.cq_j], minlength=self.num_rows)
        return self.A @ x + quad + self.row_offset

    def row_violations(self, x: np.ndarray) -> np.ndarray:
        """Per-constraint violation (0 where satisfied), as :meth:`hqopt.Model.violations` defines it."""
        gap = self.activities(x) - self.rhs
        out = np.where(self.sense == LE, np.maximum(gap, 0), np.where(self.sense == GE, np.maximum(-gap, 0), np.abs(gap)))
        tolerance = FEASIBILITY_TOL * np.maximum(1.0, np.abs(self.rhs))
        return np.where(out <= tolerance, 0.0, out)

    def violation(self, x: Sequence[float] | np.ndarray) -> float:
        """Total violation beyond the feasibility tolerance (0.0 means feasible)."""
        return float(self.row_violations(np.asarray(x, dtype=float)).sum())

    def slack(self, x: np.ndarray) -> np.ndarray:
        """How far each row is from its bound, relative to ``max(1, |rhs|)`` (negative when violated)."""
        gap = self.activities(x) - self.rhs
        raw = np.where(self.sense == LE, -gap, np.where(self.sense == GE, gap, -np.abs(gap)))
        return raw / np.maximum(1.0, np.abs(self.rhs))


def _quadratic_arrays(qm: object, index: dict[Label, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not qm.num_interactions:  # type: ignore[attr-defined]
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    terms = [(index[u], index[v], b) for u, v, b in qm.iter_quadratic() if b]  # type: ignore[attr-defined]
    if not terms:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    i, j, b = (np.asarray(t) for t in zip(*terms))
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    return lo.astype(np.int64), hi.astype(np.int64), b.astype(float)
