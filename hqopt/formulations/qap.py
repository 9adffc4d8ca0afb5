"""Quadratic assignment (QAPLIB): place n facilities on n locations, one each.

``cost(p) = sum_i sum_j A[i][j] * B[p(i)][p(j)]`` over permutations ``p``
(QAPLIB's convention; diagonal terms count). It is placement with unit
demands and capacities: ``A`` is the traffic, ``B`` the distance.

Variables (binary): ``("x", i, k)`` = 1 when facility ``i`` is on location
``k``, both 1-based as in QAPLIB. Constraints ``facility[i]`` and
``location[k]`` make the assignment a permutation. The objective is built
from arrays (``n^2 (n-1)^2 / 2`` quadratic terms); products that a
permutation never has (one facility on two locations, two facilities on one
location) are left out, so the model agrees with :func:`qap_cost` on every
permutation.

Example:
    >>> qap = QAP([[0, 2], [2, 0]], [[0, 3], [3, 0]])
    >>> qap.cost([2, 1])
    12.0
    >>> qap.decode({("x", 1, 2): 1, ("x", 2, 1): 1, ("x", 1, 1): 0, ("x", 2, 2): 0})["permutation"]
    [2, 1]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dimod
import numpy as np

from hqopt.errors import ModelError, SpecError
from hqopt.formulations import fields as F
from hqopt.model import Model


def qap_cost(a: np.ndarray, b: np.ndarray, permutation: Sequence[int]) -> float:
    """``sum_ij a[i][j] * b[p(i)][p(j)]`` for a 1-based permutation (the independent checker)."""
    p = np.asarray(permutation, dtype=int) - 1
    n = len(a)
    if sorted(p.tolist()) != list(range(n)):
        raise ModelError(f"not a permutation of 1..{n}: {list(permutation)}")
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)[np.ix_(p, p)]))


class QAP:
    """A quadratic assignment instance with matrices ``a`` (n x n) and ``b`` (n x n)."""

    def __init__(self, a: Any, b: Any, name: str = "qap") -> None:
        self.a = np.asarray(a, dtype=float)
        self.b = np.asarray(b, dtype=float)
        if self.a.ndim != 2 or self.a.shape[0] != self.a.shape[1] or self.a.shape != self.b.shape:
            raise ModelError(f"QAP needs two square matrices of the same size, got {self.a.shape} and {self.b.shape}")
        self.n = self.a.shape[0]
        self.name = name

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], source: str = "<spec>") -> QAP:
        """``{a: [[...]], b: [[...]], name: ...}`` (``flow``/``distance`` are accepted as aliases)."""
        try:
            F.no_unknown_keys(spec, ("a", "b", "flow", "distance", "name"), "")
            a = spec.get("a", spec.get("flow"))
            b = spec.get("b", spec.get("distance"))
            if a is None or b is None:
                raise SpecError("a" if a is None else "b", "is required (matrices a and b, or flow and distance)")
            rows_a = [[F.to_number(x, f"a[{i}][{j}]") for j, x in enumerate(F.sequence(r, f"a[{i}]"))] for i, r in enumerate(F.sequence(a, "a"))]
            rows_b = [[F.to_number(x, f"b[{i}][{j}]") for j, x in enumerate(F.sequence(r, f"b[{i}]"))] for i, r in enumerate(F.sequence(b, "b"))]
            if len({len(r) for r in rows_a + rows_b} | {len(rows_a), len(rows_b)}) != 1:
                raise SpecError("b", "a and b must be square matrices of the same size")
        except SpecError as exc:
            raise SpecError(exc.field, exc.reason, source=source) from None
        return cls(rows_a, rows_b, name=F.text(spec, "name", "", default="qap") or "qap")

    def cost(self, permutation: Sequence[int]) -> float:
        """The QAP cost of a 1-based permutation ``p`` (``p[i-1]`` = location of facility i)."""
        return qap_cost(self.a, self.b, permutation)

    def to_model(self) -> Model:
        n = self.n
        labels = [("x", i + 1, k + 1) for i in range(n) for k in range(n)]
        # coefficient of x[i,k] x[j,l] for i < j, k != l: a[i,j] b[k,l] + a[j,i] b[l,k]
        coef = np.einsum("ij,kl->ikjl", self.a, self.b)
        coef = coef + coef.transpose(2, 3, 0, 1)
        i, k, j, l = np.meshgrid(*(np.arange(n),) * 4, indexing="ij")
        keep = (i < j) & (k != l) & (coef != 0)
        rows = (i * n + k)[keep]
        cols = (j * n + l)[keep]
        linear = (np.diag(self.a)[:, None] * np.diag(self.b)[None, :]).ravel()
        objective = dimod.BQM.from_numpy_vectors(linear, (rows, cols, coef[keep]), 0.0, dimod.BINARY, variable_order=labels)
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.set_objective(objective)
        for f in range(1, n + 1):
            cqm.add_constraint_from_iterable([(("x", f, k), 1) for k in range(1, n + 1)], "==", 1, label=f"facility[{f}]")
        for k in range(1, n + 1):
            cqm.add_constraint_from_iterable([(("x", f, k), 1) for f in range(1, n + 1)], "==", 1, label=f"location[{k}]")
        return Model(cqm, sense="min", name=self.name, decoder=self.decode, metadata={"kind": "qap", "n": n})

    def permutation(self, solution: Mapping[Any, float]) -> list[int]:
        """The 1-based permutation of a solution; ModelError if it is not one."""
        p = [0] * self.n
        for label, value in solution.items():
            if isinstance(label, tuple) and len(label) == 3 and label[0] == "x" and round(value) == 1:
                f, k = label[1], label[2]
                if p[f - 1]:
                    raise ModelError(f"facility {f} is on two locations")
                p[f - 1] = k
        if sorted(p) != list(range(1, self.n + 1)):
            raise ModelError("the solution is not a permutation (a facility or location is unassigned or shared)")
        return p

    def decode(self, solution: Mapping[Any, float]) -> dict[str, Any]:
        """``{"permutation": [...], "cost": ...}`` with the cost recomputed by :func:`qap_cost`."""
        p = self.permutation(solution)
        return {"permutation": p, "cost": self.cost(p)}

    def solution_of(self, permutation: Sequence[int]) -> dict[tuple[str, int, int], int]:
        """The model's 0/1 assignment for a 1-based permutation (e.g. a QAPLIB ``.sln``)."""
        return {("x", i + 1, k + 1): int(permutation[i] == k + 1) for i in range(self.n) for k in range(self.n)}
