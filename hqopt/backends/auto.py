"""``auto``: pick a backend from the model and the budget, and say why.

Rules, in order (the chosen name and the reason go into ``Result.backend``
and ``Result.backend_reason``):

1. at most :data:`EXACT_ASSIGNMENTS` assignments -> ``exact`` (proves optimality);
2. quadratic constraints -> ``cpsat`` (only CQM backends take them);
3. constraints or integers, and at most :data:`CPSAT_MAX_TERMS` variables plus
   quadratic terms -> ``portfolio`` of ``cpsat`` and ``sa``: CP-SAT keeps the
   constraints exact and proves bounds (and stops the race when it proves
   optimality), annealing often gives good feasible answers sooner -- neither
   wins everywhere (QAPLIB n=20: only sa finds solutions in 20 s; a 200x20
   placement: only cpsat does in 60 s);
4. constraints or integers, larger -> ``sa`` with per-constraint penalty tuning
   (building the CP-SAT model alone would take minutes);
5. unconstrained binary/spin -> ``tabu`` (the strongest local QUBO heuristic here),
   or ``sa`` above ``MAX_TABU_VARIABLES`` (tabu keeps dense n x n matrices).

Example:
    >>> from hqopt import Model
    >>> from hqopt.backends.auto import AutoBackend
    >>> backend, why = AutoBackend().select(Model.from_qubo({(i, i + 1): -1 for i in range(40)}), None)
    >>> backend.name
    'tabu'
"""

from __future__ import annotations

from typing import Any

import dimod

from hqopt.backends.anneal import MAX_TABU_VARIABLES
from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.backends.exact import assignment_count
from hqopt.backends.registry import get_backend
from hqopt.budget import Budget
from hqopt.model import Model

#: models with at most this many assignments are enumerated
EXACT_ASSIGNMENTS = 2**16
#: constrained models up to this many variables + quadratic terms get CP-SAT in the race
CPSAT_MAX_TERMS = 1_000_000


class AutoBackend(Backend):
    """Chooses a concrete backend per problem; see the module docstring for the rules."""

    name = "auto"
    description = "chooses exact, cpsat+sa portfolio, tabu or sa from the model's size and constraints"
    capabilities = Capabilities(accepts="cqm", integer_variables=True, proves_bounds=True)
    option_names = ()

    def select(self, model: Model, time_limit: float | None) -> tuple[Backend, str]:
        cqm = model.cqm
        has_real = any(cqm.vartype(v) is dimod.REAL for v in cqm.variables)
        count = assignment_count(cqm) if not has_real else None
        if count is not None and count <= EXACT_ASSIGNMENTS:
            return get_backend("exact"), f"{count} assignments: small enough to enumerate and prove optimal"
        constrained = model.is_constrained or model.has_vartype(dimod.INTEGER)
        if any(c.lhs.num_interactions for c in cqm.constraints.values()):
            return get_backend("cpsat"), "quadratic constraints: only a CQM backend keeps them exact"
        terms = len(cqm.variables) + cqm.objective.num_interactions
        if constrained and terms <= CPSAT_MAX_TERMS:
            return (
                get_backend("portfolio", members=("cpsat", "sa")),
                f"constrained, {terms} variables+terms: CP-SAT (exact constraints, proven bound) raced against annealing",
            )
        if constrained:
            return get_backend("sa"), f"constrained, {terms} variables+terms (too large for CP-SAT): annealing with per-constraint penalty tuning"
        if len(cqm.variables) > MAX_TABU_VARIABLES:
            return get_backend("sa"), f"unconstrained, {len(cqm.variables)} variables (too many for tabu's dense matrices): annealing"
        return get_backend("tabu"), "unconstrained binary model: tabu search"

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        """As a dimod Sampler: pick for the CQM and run it through ``solve``."""
        from hqopt.backends.portfolio import run_member

        backend, reason = self.select(Model.from_cqm(problem), budget.time_limit)
        out = run_member(problem, backend, budget, seed, initial)
        out.info["chosen"] = backend.name
        out.info["reason"] = reason
        return out
