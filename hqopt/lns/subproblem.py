"""The sub-problem of a large-neighbourhood move: the CQM restricted to the freed variables.

Every other variable is fixed at its value in the incumbent and folded in:
objective terms with one fixed factor become linear terms of the free one,
terms with no free variable become a constant; each constraint touching a free
variable keeps its free terms, its fixed part moves to the right-hand side.
Constraints that no assignment of the free variables can break (linear ones
whose worst-case activity stays within the bound) are left out, and so are
constraints without free variables. The result is an ordinary dimod CQM over the
original labels, so any backend takes it (BQM backends through ``solve``'s
penalty compilation), and

    full objective(completion) == sub-objective(free part) + constant

for every completion that keeps the fixed variables at the incumbent's values.

Example:
    >>> import dimod
    >>> from hqopt.lns.arrays import ArrayCQM
    >>> cqm = dimod.CQM()
    >>> x, y, z = dimod.Binary("x"), dimod.Binary("y"), dimod.Binary("z")
    >>> cqm.set_objective(x + 2 * y + 3 * x * z)
    >>> _ = cqm.add_constraint(x + y + z == 1, label="one")
    >>> sub = restrict(ArrayCQM.from_cqm(cqm), [0, 0, 1], [0, 1])   # z fixed at 1
    >>> {v: float(b) for v, b in sub.cqm.objective.linear.items()}, sub.constant, float(sub.cqm.constraints["one"].rhs)
    ({'x': 4.0, 'y': 2.0}, 0.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dimod
import numpy as np

from hqopt.lns.arrays import EQ, GE, LE, ArrayCQM, Label

_DIMOD_SENSE = {LE: "<=", GE: ">=", EQ: "=="}


@dataclass
class SubProblem:
    """A restricted CQM, the constant that completes its objective, and its free variable indices."""

    cqm: dimod.ConstrainedQuadraticModel
    constant: float
    free: np.ndarray

    @property
    def num_variables(self) -> int:
        return len(self.free)

    def energy(self, sample: dict[Label, float]) -> float:
        """The full model's objective for this free part (fixed variables at the incumbent)."""
        return float(self.cqm.objective.energy(sample)) + self.constant


def restrict(model: ArrayCQM, x: Sequence[float] | np.ndarray, free: Sequence[int] | np.ndarray) -> SubProblem:
    """The sub-problem of ``model`` over variables ``free`` (indices), the rest fixed at ``x``."""
    x = np.asarray(x, dtype=float)
    free = np.unique(np.asarray(free, dtype=np.int64))
    in_free = np.zeros(model.num_variables, dtype=bool)
    in_free[free] = True
    labels = model.labels

    objective = dimod.QuadraticModel()
    for i in free:
        vartype = model.vartypes[i]
        if vartype is dimod.INTEGER or vartype is dimod.REAL:
            objective.add_variable(vartype, labels[i], lower_bound=model.lower[i], upper_bound=model.upper[i])
        else:
            objective.add_variable(vartype, labels[i])
    linear, quadratic = _fold(model.lin, model.qi, model.qj, model.qv, in_free, x)
    objective.add_linear_from((labels[i], b) for i, b in linear.items())
    objective.add_quadratic_from((labels[i], labels[j], b) for (i, j), b in quadratic.items())
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(objective)
    constant = model.objective(x) - _value(linear, quadratic, x)

    activities = model.activities(x)
    touched = set(np.unique(model.A_csc[:, free].tocoo().row).tolist())
    quad_free = in_free[model.cq_i] | in_free[model.cq_j]
    touched |= set(np.unique(model.cq_row[quad_free]).tolist())
    for r in sorted(touched):
        start, end = model.A.indptr[r], model.A.indptr[r + 1]
        cols, vals = model.A.indices[start:end], model.A.data[start:end]
        mask = model.cq_row == r
        lin_r, quad_r = _fold_sparse(cols, vals, model.cq_i[mask], model.cq_j[mask], model.cq_v[mask], in_free, x)
        if not lin_r and not quad_r:
            continue
        rhs = float(model.rhs[r] - activities[r] + _value(lin_r, quad_r, x))
        sense = int(model.sense[r])
        if not quad_r and _redundant(lin_r, sense, rhs, model):
            continue
        if not quad_r and sense != EQ:
            lin_r, rhs = _divided_by_gcd(lin_r, sense, rhs, model)
        terms = [(labels[i], b) for i, b in lin_r.items()] + [(labels[i], labels[j], b) for (i, j), b in quad_r.items()]
        cqm.add_constraint_from_iterable(terms, _DIMOD_SENSE[sense], rhs=rhs, label=model.row_labels[r])
    return SubProblem(cqm, float(constant), free)


def _fold(
    lin: np.ndarray, qi: np.ndarray, qj: np.ndarray, qv: np.ndarray, in_free: np.ndarray, x: np.ndarray
) -> tuple[dict[int, float], dict[tuple[int, int], float]]:
    """Linear terms (fixed partners folded in) and free-free quadratic terms of the objective."""
    linear = {int(i): float(lin[i]) for i in np.flatnonzero(in_free)}
    return linear, _fold_quadratic(qi, qj, qv, in_free, x, linear)


def _fold_sparse(
    cols: np.ndarray, vals: np.ndarray, qi: np.ndarray, qj: np.ndarray, qv: np.ndarray, in_free: np.ndarray, x: np.ndarray
) -> tuple[dict[int, float], dict[tuple[int, int], float]]:
    """As :func:`_fold` for one constraint row given sparsely."""
    mask = in_free[cols]
    linear = {int(i): float(b) for i, b in zip(cols[mask], vals[mask])}
    return linear, _fold_quadratic(qi, qj, qv, in_free, x, linear)


def _fold_quadratic(
    qi: np.ndarray, qj: np.ndarray, qv: np.ndarray, in_free: np.ndarray, x: np.ndarray, linear: dict[int, float]
) -> dict[tuple[int, int], float]:
    """Free-free terms; terms with one fixed factor are added to ``linear`` (in place)."""
    fi, fj = in_free[qi], in_free[qj]
    both = fi & fj
    quadratic = {(int(i), int(j)): float(b) for i, j, b in zip(qi[both], qj[both], qv[both])}
    for mine, other, b in ((qi[fi & ~fj], qj[fi & ~fj], qv[fi & ~fj]), (qj[fj & ~fi], qi[fj & ~fi], qv[fj & ~fi])):
        for i, bias in zip(mine.tolist(), (b * x[other]).tolist()):
            linear[i] = linear.get(i, 0.0) + bias
    return quadratic


def _value(linear: dict[int, float], quadratic: dict[tuple[int, int], float], x: np.ndarray) -> float:
    return sum(b * x[i] for i, b in linear.items()) + sum(b * x[i] * x[j] for (i, j), b in quadratic.items())


def _divided_by_gcd(linear: dict[int, float], sense: int, rhs: float, model: ArrayCQM) -> tuple[dict[int, float], float]:
    """An integer inequality divided by the gcd of its coefficients, the bound rounded inward.

    Exact on integer points (``16a + 32b <= 40`` is ``a + 2b <= 2``) and it keeps penalty
    slack variables small for BQM sub-solvers (here 2 bits instead of 6).
    """
    coef = np.fromiter(linear.values(), dtype=float, count=len(linear))
    integral = all(model.vartypes[i] is not dimod.REAL for i in linear)
    if not integral or not np.all(coef == np.round(coef)) or not len(coef):
        return linear, rhs
    g = int(np.gcd.reduce(np.abs(coef).astype(np.int64)))
    if g <= 1:
        return linear, rhs
    bound = np.floor(rhs / g + 1e-9) if sense == LE else np.ceil(rhs / g - 1e-9)
    return {i: b / g for i, b in linear.items()}, float(bound)


def _redundant(linear: dict[int, float], sense: int, rhs: float, model: ArrayCQM) -> bool:
    """True when no assignment within the variables' bounds can violate the linear row."""
    if sense == EQ:
        return False
    idx = np.fromiter(linear, dtype=np.int64, count=len(linear))
    coef = np.fromiter(linear.values(), dtype=float, count=len(linear))
    lo, hi = model.lower[idx], model.upper[idx]
    tol = 1e-9 * max(1.0, abs(rhs))
    if sense == LE:
        return float(np.sum(np.where(coef > 0, coef * hi, coef * lo))) <= rhs + tol
    return float(np.sum(np.where(coef > 0, coef * lo, coef * hi))) >= rhs - tol
