"""Turn a minimisation CQM into a mixed-integer *linear* program (arrays for a MIP solver).

* binary and integer variables keep their type and bounds, real ones stay continuous;
* each distinct product ``x*y`` becomes one auxiliary column ``z`` with the exact
  McCormick rows -- for two binaries ``z <= x``, ``z <= y``, ``z >= x + y - 1``;
  for a binary ``x`` times a bounded integer/real ``y`` in ``[L, U]``:
  ``L x <= z <= U x`` and ``y - U (1 - x) <= z <= y - L (1 - x)``;
  ``b * b`` is ``b`` itself; a product of two non-binary variables is refused;
* a model needing more than :data:`MAX_PRODUCTS` auxiliary columns is refused
  with a clear error (use ``cpsat`` or a heuristic instead).

The result is a :class:`LinearModel`: column bounds, integrality, cost vector and
the constraint matrix in CSR form with row bounds ``lower <= A x <= upper``.

Example:
    >>> import dimod
    >>> cqm = dimod.CQM()
    >>> x, y = dimod.Binary("x"), dimod.Binary("y")
    >>> cqm.set_objective(x - 2 * y + 3 * x * y)
    >>> _ = cqm.add_constraint(x + y >= 1, label="c")
    >>> lin = LinearModel.from_cqm(cqm)
    >>> lin.labels, lin.num_columns, lin.num_rows   # one product column, 3 McCormick rows + c
    (['x', 'y'], 3, 4)
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import dimod
import numpy as np

from hqopt.errors import BackendError
from hqopt.samples import SENSE_EQ, SENSE_GE, SENSE_LE, cached_constraint_rows

Label = Hashable

#: most auxiliary product columns a linearisation may add
MAX_PRODUCTS = 200_000


def product_key(u: Label, v: Label) -> tuple[Label, Label]:
    """The one key a product of ``u`` and ``v`` is stored under (order-free).

    >>> product_key("b", "a") == product_key("a", "b")
    True
    """
    return (u, v) if str(u) <= str(v) else (v, u)


@dataclass
class LinearModel:
    """A MILP ``min cost x + offset`` s.t. ``row_lower <= A x <= row_upper``, column bounds, integrality.

    The first ``len(labels)`` columns are the CQM's variables in order; the rest
    are product columns (``products`` maps a pair of labels to its column).
    """

    labels: list[Label]
    col_lower: list[float]
    col_upper: list[float]
    integer: list[bool]
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    offset: float = 0.0
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_names: list[str] = field(default_factory=list)
    products: dict[tuple[Label, Label], int] = field(default_factory=dict)
    max_products: int = MAX_PRODUCTS
    index_of: dict[Label, int] = field(default_factory=dict, repr=False)
    _starts: list[int] = field(default_factory=lambda: [0], repr=False)
    _index: list[int] = field(default_factory=list, repr=False)
    _value: list[float] = field(default_factory=list, repr=False)

    @property
    def num_columns(self) -> int:
        return len(self.col_lower)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(starts, index, value)`` of the constraint matrix, row-wise."""
        return (
            np.asarray(self._starts, dtype=np.int32),
            np.asarray(self._index, dtype=np.int32),
            np.asarray(self._value, dtype=float),
        )

    @classmethod
    def from_cqm(cls, cqm: dimod.ConstrainedQuadraticModel, max_products: int = MAX_PRODUCTS) -> LinearModel:
        labels = list(cqm.variables)
        lin = cls(labels, [], [], [], max_products=max_products, index_of={v: i for i, v in enumerate(labels)})
        for v in labels:
            vartype = cqm.vartype(v)
            if vartype is dimod.SPIN:
                raise BackendError(f"spin variable {v!r}: compile the model to binary first")
            if vartype is dimod.BINARY:
                lin._new_column(0.0, 1.0, True)
            else:
                lin._new_column(float(cqm.lower_bound(v)), float(cqm.upper_bound(v)), vartype is dimod.INTEGER)

        objective = cqm.objective
        columns, values, lin.offset = lin._linear_terms(objective)
        rows = cached_constraint_rows(cqm)  # the linear rows as arrays, as the solve's verifier built them
        quadratic = set(rows.quadratic)
        starts, index, data = rows.matrix.indptr, rows.matrix.indices, rows.matrix.data
        for j, label in enumerate(rows.labels):
            if j in quadratic:
                cols, vals, offset = lin._linear_terms(cqm.constraints[label].lhs)
            else:
                cols, vals, offset = index[starts[j] : starts[j + 1]].tolist(), data[starts[j] : starts[j + 1]].tolist(), rows.offset[j]
            rhs = float(rows.rhs[j]) - offset
            lo = rhs if rows.sense[j] in (SENSE_GE, SENSE_EQ) else -np.inf
            hi = rhs if rows.sense[j] in (SENSE_LE, SENSE_EQ) else np.inf
            lin._add_row(cols, vals, lo, hi, str(label))
        lin.cost = np.zeros(lin.num_columns)
        np.add.at(lin.cost, np.asarray(columns, dtype=int), values)
        return lin

    # ------------------------------------------------------------------ helpers
    def _linear_terms(self, qm: object) -> tuple[list[int], list[float], float]:
        """Columns and coefficients of a quadratic expression, products replaced by columns."""
        index = self.index_of
        terms = [(index[v], float(b)) for v, b in qm.iter_linear() if b]  # type: ignore[attr-defined]
        cols = [c for c, _ in terms]
        vals = [b for _, b in terms]
        for u, v, b in qm.iter_quadratic():  # type: ignore[attr-defined]
            if b:
                cols.append(self._product(u, v))
                vals.append(float(b))
        return cols, vals, float(qm.offset)  # type: ignore[attr-defined]

    def _add_row(self, cols: list[int], vals: list[float], lo: float, hi: float, name: str) -> None:
        merged: dict[int, float] = {}
        for c, a in zip(cols, vals):  # b * b = b can repeat a column
            merged[c] = merged.get(c, 0.0) + a
        self._index.extend(merged)
        self._value.extend(merged.values())
        self._starts.append(len(self._index))
        self.row_lower.append(lo)
        self.row_upper.append(hi)
        self.row_names.append(name)

    def _new_column(self, lo: float, hi: float, integral: bool) -> int:
        self.col_lower.append(lo)
        self.col_upper.append(hi)
        self.integer.append(integral)
        return self.num_columns - 1

    def _is_binary(self, i: int) -> bool:
        return self.integer[i] and self.col_lower[i] >= 0 and self.col_upper[i] <= 1

    def _product(self, u: Label, v: Label) -> int:
        key = product_key(u, v)
        if key in self.products:
            return self.products[key]
        index = self.index_of
        i, j = index[key[0]], index[key[1]]
        if i == j and self._is_binary(i):
            return i  # b * b = b
        if not self._is_binary(i):
            i, j = j, i
        if not self._is_binary(i):
            raise BackendError(
                f"mip cannot linearise the product of two non-binary variables {key[0]!r} * {key[1]!r}; use cpsat"
            )
        if len(self.products) >= self.max_products:
            raise BackendError(f"mip: more than {self.max_products:,} products to linearise; use cpsat or a heuristic backend")
        name = f"{key[0]}*{key[1]}"
        if self._is_binary(j):
            z = self._new_column(0.0, 1.0, True)
            self._add_row([z, i], [1.0, -1.0], -np.inf, 0.0, name)  # z <= x
            self._add_row([z, j], [1.0, -1.0], -np.inf, 0.0, name)  # z <= y
            self._add_row([z, i, j], [1.0, -1.0, -1.0], -1.0, np.inf, name)  # z >= x + y - 1
        else:
            lo, hi = self.col_lower[j], self.col_upper[j]
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise BackendError(f"mip: {key!r} multiplies a variable without finite bounds")
            z = self._new_column(min(lo, 0.0), max(hi, 0.0), self.integer[j])
            self._add_row([z, i], [1.0, -lo], 0.0, np.inf, name)  # z >= L x
            self._add_row([z, i], [1.0, -hi], -np.inf, 0.0, name)  # z <= U x
            self._add_row([z, j, i], [1.0, -1.0, -hi], -hi, np.inf, name)  # z >= y - U (1 - x)
            self._add_row([z, j, i], [1.0, -1.0, -lo], -np.inf, -lo, name)  # z <= y - L (1 - x)
        self.products[key] = z
        return z

    def extend(self, values: dict[Label, float]) -> np.ndarray | None:
        """A full column vector (products included) for an assignment of the labels, or None if incomplete."""
        if any(v not in values for v in self.labels):
            return None
        x = np.zeros(self.num_columns)
        x[: len(self.labels)] = [float(values[v]) for v in self.labels]
        index = self.index_of
        for (u, v), z in self.products.items():
            x[z] = x[index[u]] * x[index[v]]
        return x
