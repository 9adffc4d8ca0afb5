"""Translate a minimisation CQM into an OR-Tools CP-SAT model.

* binary variables become Boolean variables, integers keep their bounds;
* each product ``x*y`` in the objective or a constraint becomes one auxiliary
  variable: for two Booleans ``z <-> x AND y`` (clauses), otherwise
  ``AddMultiplicationEquality``; products are shared between terms;
* CP-SAT needs integer coefficients: the objective and each constraint are
  multiplied by the smallest power of ten (at most 10^6) that makes their
  coefficients integral; what rounding remains is reported as the scaling
  error, and the proven bound is widened by it so it stays valid.

Example:
    >>> import dimod
    >>> cqm = dimod.CQM()
    >>> x, y = dimod.Binary("x"), dimod.Binary("y")
    >>> cqm.set_objective(0.5 * x - y + 2 * x * y)
    >>> built = CpSatModel.from_cqm(cqm)
    >>> built.objective_scale, built.objective_error
    (10.0, 0.0)
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import dimod
from ortools.sat.python import cp_model

from hqopt.budget import Budget
from hqopt.compile.linearize import product_key as _key
from hqopt.errors import BackendError

Label = Hashable

#: largest power of ten used to make coefficients integral
MAX_DECIMALS = 6
#: CP-SAT works with 64-bit integers; keep scaled coefficients well inside
MAX_SCALED = 2**50
#: the fastest build pace seen (seconds per product, unloaded machine): a build projected
#: beyond the budget even at this pace is refused before it starts
FASTEST_SECONDS_PER_PRODUCT = 1.5e-5
#: RLT equations are added only while the model keeps at most this many products
#: (they tighten bounds on small models but slow the search for first solutions on big ones)
RLT_MAX_PRODUCTS = 30_000


def _scale_for(coefficients: Iterable[float]) -> float:
    """Smallest 10^k (k <= MAX_DECIMALS) making every coefficient integral (within 1e-9)."""
    values = [abs(c) for c in coefficients if c != 0]
    if not values:
        return 1.0
    largest = max(values)
    for k in range(MAX_DECIMALS + 1):
        scale = 10.0**k
        if largest * scale > MAX_SCALED:
            return 10.0 ** max(k - 1, 0)
        if all(abs(c * scale - round(c * scale)) <= 1e-9 * max(1.0, c * scale) for c in values):
            return scale
    return 10.0**MAX_DECIMALS


@dataclass
class CpSatModel:
    """A CP-SAT model built from a CQM, with its scaling facts."""

    model: cp_model.CpModel
    variables: dict[Label, cp_model.IntVar]
    objective_scale: float
    objective_offset: float
    objective_error: float  # largest |scaled - rounded| of any objective coefficient, in objective units
    objective_error_total: float  # sum of coefficient rounding errors times their largest term value
    constraint_errors: dict[str, float] = field(default_factory=dict)
    rlt: bool = False
    bounds: dict[Label, tuple[int, int]] = field(default_factory=dict, repr=False)
    products: dict[tuple[Label, Label], cp_model.IntVar] = field(default_factory=dict, repr=False)
    _pace: _Pace | None = field(default=None, repr=False)

    @classmethod
    def from_cqm(cls, cqm: dimod.ConstrainedQuadraticModel, rlt: bool = True, budget: Budget | None = None) -> CpSatModel:
        """Build the CP-SAT model; with a ``budget``, refuse as soon as the build is seen not to fit.

        Building costs tens of microseconds per term in Python (QAPLIB n = 30:
        370 000 products, ~25 s). The pace is measured while building and a
        :class:`BuildTooSlow` error is raised once the projected total exceeds
        what is left of the budget.
        """
        pace = _Pace(budget, _term_count(cqm)) if budget is not None and budget.limited else None
        if pace is not None:
            pace.check(pace.total * FASTEST_SECONDS_PER_PRODUCT)  # hopeless builds are refused before starting
        model = cp_model.CpModel()
        variables: dict[Label, cp_model.IntVar] = {}
        bounds: dict[Label, tuple[int, int]] = {}
        for v in cqm.variables:
            vartype = cqm.vartype(v)
            name = str(v)
            if vartype is dimod.BINARY:
                variables[v] = model.NewBoolVar(name)
                bounds[v] = (0, 1)
            elif vartype is dimod.INTEGER:
                lb, ub = cqm.lower_bound(v), cqm.upper_bound(v)
                if abs(lb) > 2**53 or abs(ub) > 2**53:
                    raise BackendError(f"integer variable {v!r} needs finite bounds within ±2^53 for cpsat")
                bounds[v] = (math.ceil(lb), math.floor(ub))
                variables[v] = model.NewIntVar(*bounds[v], name)
            else:
                raise BackendError(f"cpsat cannot take the {vartype.name.lower()} variable {v!r}")
        built = cls(model, variables, 1.0, 0.0, 0.0, 0.0, bounds=bounds)
        built._pace = pace

        objective = cqm.objective
        coefficients = list(objective.linear.values()) + [b for _, _, b in objective.iter_quadratic()]
        scale = _scale_for(coefficients)
        expr, error, total = built._linear_expression(objective, scale)
        built.objective_scale, built.objective_offset = scale, float(objective.offset)
        built.objective_error, built.objective_error_total = error, total
        model.Minimize(expr)

        for label, constraint in cqm.constraints.items():
            lhs = constraint.lhs
            coefficients = list(lhs.linear.values()) + [b for _, _, b in lhs.iter_quadratic()]
            rhs = float(constraint.rhs) - float(lhs.offset)
            c_scale = _scale_for(coefficients + [rhs])
            c_expr, c_error, _ = built._linear_expression(lhs, c_scale)
            scaled_rhs = rhs * c_scale
            sense = constraint.sense
            if sense is dimod.sym.Sense.Le:
                model.Add(c_expr <= math.floor(scaled_rhs + 1e-9))
            elif sense is dimod.sym.Sense.Ge:
                model.Add(c_expr >= math.ceil(scaled_rhs - 1e-9))
            else:
                if abs(scaled_rhs - round(scaled_rhs)) > 1e-9:
                    c_error = max(c_error, abs(scaled_rhs - round(scaled_rhs)) / c_scale)
                model.Add(c_expr == round(scaled_rhs))
            if c_error:
                built.constraint_errors[str(label)] = c_error
        if rlt:
            built.rlt = built._add_rlt_equations(cqm)
        return built

    def _add_rlt_equations(self, cqm: dimod.ConstrainedQuadraticModel) -> bool:
        """Multiply one-hot equations by the binaries that share products with them.

        Returns False (and adds nothing) when the model would grow past RLT_MAX_PRODUCTS.
        """
        if len(self.products) > RLT_MAX_PRODUCTS:  # too big already: skip the costly count of new pairs
            return False
        partners: dict[Label, set[Label]] = {}
        for u, v in list(self.products):
            if u != v:
                partners.setdefault(u, set()).add(v)
                partners.setdefault(v, set()).add(u)
        one_hots = [c for c in cqm.constraints.values() if self._is_one_hot(c)]
        new_pairs = {
            _key(u, v)
            for c in one_hots
            for u in {u for v in c.lhs.linear for u in partners.get(v, ())}
            for v in c.lhs.linear
            if u != v
        } - set(self.products)
        if not one_hots or len(self.products) + len(new_pairs) > RLT_MAX_PRODUCTS:
            return False
        for constraint in one_hots:
            members = set(constraint.lhs.linear)
            touching = {u for v in members for u in partners.get(v, ())}
            for u in touching:
                if self.bounds[u] != (0, 1):
                    continue
                if u in members:  # x_u x_v = 0 for the other members
                    for v in members - {u}:
                        self.model.Add(self._product(u, v) == 0)
                else:
                    self.model.Add(sum(self._product(u, v) for v in members) == self.variables[u])
        return True

    def _is_one_hot(self, constraint: object) -> bool:
        lhs = constraint.lhs  # type: ignore[attr-defined]
        return (
            constraint.sense is dimod.sym.Sense.Eq  # type: ignore[attr-defined]
            and not lhs.num_interactions
            and float(constraint.rhs) - float(lhs.offset) == 1.0  # type: ignore[attr-defined]
            and all(b == 1.0 and self.bounds[v] == (0, 1) for v, b in lhs.linear.items())
        )

    def _linear_expression(self, qm: object, scale: float) -> tuple[cp_model.LinearExpr, float, float]:
        """Scaled, rounded linear form of a quadratic model (products linearised)."""
        terms: list[cp_model.IntVar] = []
        weights: list[int] = []
        worst = 0.0
        total = 0.0
        for v, bias in qm.linear.items():  # type: ignore[attr-defined]
            if bias:
                w, err = _rounded(bias, scale)
                worst, total = max(worst, err), total + err * self._magnitude(v)
                terms.append(self.variables[v])
                weights.append(w)
        for u, v, bias in qm.iter_quadratic():  # type: ignore[attr-defined]
            if self._pace is not None:
                self._pace.tick()
            if bias:
                w, err = _rounded(bias, scale)
                worst, total = max(worst, err), total + err * self._magnitude(u) * self._magnitude(v)
                terms.append(self._product(u, v))
                weights.append(w)
        return cp_model.LinearExpr.WeightedSum(terms, weights), worst, total

    def _magnitude(self, v: Label) -> float:
        lo, hi = self.bounds[v]
        return float(max(abs(lo), abs(hi)))

    def _product(self, u: Label, v: Label) -> cp_model.IntVar:
        key = _key(u, v)
        if key in self.products:
            return self.products[key]
        x, y = self.variables[key[0]], self.variables[key[1]]
        boolean = self.bounds[key[0]] == (0, 1) and self.bounds[key[1]] == (0, 1)
        if boolean and key[0] == key[1]:
            z = x  # b * b = b
        elif boolean:
            z = self.model.NewBoolVar(f"{key[0]}*{key[1]}")
            self.model.AddBoolAnd([x, y]).OnlyEnforceIf(z)
            self.model.AddBoolOr([x.Not(), y.Not()]).OnlyEnforceIf(z.Not())
        else:
            corners = [a * b for a in self.bounds[key[0]] for b in self.bounds[key[1]]]
            z = self.model.NewIntVar(min(corners), max(corners), f"{key[0]}*{key[1]}")
            self.model.AddMultiplicationEquality(z, [x, y])
        self.products[key] = z
        return z

    def to_minimisation_value(self, scaled_objective: float) -> float:
        """A value of CP-SAT's scaled objective in the CQM's units."""
        return scaled_objective / self.objective_scale + self.objective_offset


class BuildTooSlow(BackendError):
    """Building the CP-SAT model would not finish within the time limit."""


def _term_count(cqm: dimod.ConstrainedQuadraticModel) -> int:
    """Quadratic terms to linearise (the part of the build that costs)."""
    return cqm.objective.num_interactions + sum(c.lhs.num_interactions for c in cqm.constraints.values())


class _Pace:
    """Watches the build's pace against a budget (checked every 1024 terms)."""

    def __init__(self, budget: Budget, total: int) -> None:
        self.budget, self.total, self.done = budget, max(total, 1), 0
        self.start = 0.0

    def tick(self) -> None:
        self.done += 1
        if self.done % 1024:
            if self.done == 1:
                self.start = time.perf_counter()
            return
        elapsed = time.perf_counter() - self.start
        self.check(elapsed * (self.total / self.done - 1))

    def check(self, seconds_to_go: float) -> None:
        """Raise :class:`BuildTooSlow` unless ``seconds_to_go`` more of building fits in the budget."""
        if self.budget.stopped or seconds_to_go > self.budget.remaining():
            raise BuildTooSlow(
                f"cpsat: building the CP-SAT model ({self.total:,} products) needs about {seconds_to_go:.2g} s more, "
                f"beyond the time limit ({self.budget.remaining():.2g} s left); "
                "give more time or use a penalty backend (sa, tabu)"
            )


def _rounded(bias: float, scale: float) -> tuple[int, float]:
    scaled = bias * scale
    if abs(scaled) > MAX_SCALED:
        raise BackendError(f"coefficient {bias:g} is too large for cpsat after scaling")
    w = int(round(scaled))
    return w, abs(scaled - w) / scale
