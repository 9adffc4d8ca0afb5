"""Verification on the original model: one function, one tolerance rule.

Every answer hqopt returns is checked here, whatever produced it: the
objective is recomputed in the problem's own sense, every hard constraint's
violation is measured, and integer/binary/spin domains are checked (dimod's
``from_samples_cqm`` does not check integer bounds). The same rule decides
feasibility everywhere (``solve``, ``Model.evaluate``, penalty tuning):

    a constraint holds when its violation <= FEASIBILITY_TOL * max(1, |rhs|)

Linear constraints are evaluated as one sparse product per sample, so checking
a batch stays cheap on models with thousands of constraints.

Example:
    >>> import numpy as np
    >>> from hqopt import Model
    >>> m = Model()
    >>> x, y = m.binary("x"), m.binary("y")
    >>> m.set_objective(x + 2 * y)
    >>> m.add_constraint(x + y == 1, label="one")
    'one'
    >>> v = Verifier(m)(np.array([[1, 0], [1, 1]]))
    >>> v.objectives.tolist(), v.feasible.tolist(), v.violated(1)
    ([1.0, 3.0], [True, False], ['one'])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dimod
import numpy as np
from dimod.variables import Variables

from hqopt.samples import ConstraintRows, constraint_rows, variable_arrays

if TYPE_CHECKING:
    from hqopt.model import Model

#: relative tolerance of the one feasibility rule (see the module docstring)
FEASIBILITY_TOL = 1e-6


def tolerance(rhs: float) -> float:
    """How far a constraint with right-hand side ``rhs`` may be violated and still hold.

    >>> tolerance(0.0), tolerance(-5e6)
    (1e-06, 5.0)
    """
    return FEASIBILITY_TOL * max(1.0, abs(float(rhs)))


@dataclass(frozen=True)
class Verdicts:
    """The verdict on each row of a batch (rows are samples over ``Verifier.labels``).

    Attributes:
        objectives: objective of each row, in the model's own sense.
        violations: ``(rows, constraints)`` amount by which each constraint is broken.
        in_domain: every value is in its variable's domain (0/1, ±1, integer bounds).
        feasible: in the domain and every constraint within :func:`tolerance`.
        constraint_labels: the column labels of ``violations``.
        broken: ``(rows, constraints)`` True where a violation exceeds the tolerance.
        out_of_domain: labels of the variables out of their domain, per row.
    """

    objectives: np.ndarray
    violations: np.ndarray
    in_domain: np.ndarray
    feasible: np.ndarray
    constraint_labels: list[str]
    broken: np.ndarray
    out_of_domain: list[list[Hashable]]

    def violated(self, row: int) -> list[str]:
        """Labels of the constraints row ``row`` breaks (beyond the tolerance)."""
        return [self.constraint_labels[j] for j in np.flatnonzero(self.broken[row])]

    def total_violation(self, row: int) -> float:
        return float(self.violations[row].sum()) + float(len(self.out_of_domain[row]))


class Verifier:
    """Checks batches of samples on one model; build once, call per batch.

    Args:
        model: the original :class:`hqopt.Model` (any sense, any vartypes).
        rows: the arrays of ``model.cqm``'s constraints when the caller has just built them
            (:func:`hqopt.solve`: its validation did); else they are built now.
    """

    def __init__(self, model: Model, rows: ConstraintRows | None = None) -> None:
        cqm = model.cqm
        self.model = model
        self.labels: list[Hashable] = list(cqm.variables)
        self._variables = Variables(self.labels)  # dimod's label index for energies, built once (not per batch)
        self._constraints = rows if rows is not None and rows.fits(cqm) else constraint_rows(cqm)
        self.constraint_labels = [str(c) for c in self._constraints.labels]
        self._tol = FEASIBILITY_TOL * np.maximum(1.0, np.abs(self._constraints.rhs))
        vartypes, lowers, uppers = variable_arrays(cqm)
        self._binary = vartypes == dimod.BINARY
        self._spin = vartypes == dimod.SPIN
        self._integer = vartypes == dimod.INTEGER
        self._lower = np.where(self._integer, lowers, -np.inf)  # bounds are checked for integers only
        self._upper = np.where(self._integer, uppers, np.inf)

    def sampleset(self, rows: np.ndarray) -> dimod.SampleSet:
        """``rows`` as ``dimod.SampleSet.from_samples_cqm`` builds them (energy, ``is_satisfied`` by
        dimod's tolerance, ``is_feasible``), from this verifier's arrays: no pass over the constraints.

        >>> from hqopt import Model
        >>> m = Model()
        >>> x = m.binary("x")
        >>> m.set_objective(3 * x)
        >>> _ = m.add_constraint(x <= 0, label="off")
        >>> Verifier(m).sampleset(np.array([[1.0]])).record.is_feasible.tolist()
        [False]
        """
        cqm = self.model.cqm
        if cqm.num_soft_constraints():
            return dimod.SampleSet.from_samples_cqm((rows, self.labels), cqm)
        verdicts = self(rows)
        return self._constraints.sampleset((rows, self.labels), verdicts.objectives, verdicts.violations)

    def __call__(self, rows: np.ndarray | Sequence[Sequence[float]]) -> Verdicts:
        """Verdicts on ``rows`` (shape ``(k, len(self.labels))``, columns in ``self.labels`` order)."""
        rows = np.atleast_2d(np.asarray(rows, dtype=float))
        k = rows.shape[0]
        if not self.labels:
            objectives = np.full(k, float(self.model.cqm.objective.offset))
        else:
            objectives = np.asarray(self.model.cqm.objective.energies((rows, self._variables)), dtype=float)
        violations = self._constraints.violations(self._constraints.lhs(rows, self.model.cqm, (rows, self._variables)))
        broken = violations > self._tol
        bad = np.zeros_like(rows, dtype=bool)
        bad |= self._binary & (rows != 0) & (rows != 1)
        bad |= self._spin & (rows != -1) & (rows != 1)
        bad |= self._integer & ((rows != np.round(rows)) | (rows < self._lower) | (rows > self._upper))
        bad |= ~np.isfinite(rows)
        in_domain = np.asarray(~bad.any(axis=1))
        feasible = in_domain & ~broken.any(axis=1) & np.isfinite(objectives)
        out = [[self.labels[j] for j in np.flatnonzero(b)] for b in bad]
        return Verdicts(objectives, violations, in_domain, feasible, self.constraint_labels, broken, out)
