"""``portfolio``: race several backends on the same problem and keep the best.

``solve(model, backend="portfolio", members=("cpsat", "sa"))`` is the same as
``solve(model, backend=["cpsat", "sa"])``: the members race at the solve level
(:mod:`hqopt.race`) under one budget and one tracker, so each member's
improvements reach the live display, ``target=`` and the history at once, a
proof stops everyone, and the tightest proven bound of any member is kept.
Used as a dimod Sampler (``PortfolioBackend().sample(bqm)``), it runs the same
race on the BQM.

Example:
    >>> import hqopt
    >>> r = hqopt.solve(hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 3}),
    ...                 backend="portfolio", members=("tabu", "cpsat"), seed=1, time_limit=1)
    >>> r.objective, sorted(r.info["members"])
    (-1.0, ['cpsat', 'tabu'])
"""

from __future__ import annotations

from typing import Any

import dimod

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.backends.registry import get_backend
from hqopt.budget import Budget
from hqopt.errors import BackendOptionError

DEFAULT_MEMBERS = ("cpsat", "tabu", "sa")


class PortfolioBackend(Backend):
    """Races ``members`` (default cpsat, tabu, sa) under one budget; best verified answer wins."""

    name = "portfolio"
    description = "races several backends under one deadline; best answer, tightest bound"
    capabilities = Capabilities(accepts="cqm", integer_variables=True, proves_bounds=True, kind="hybrid")
    option_names = ("members",)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        members = options.get("members", DEFAULT_MEMBERS)
        if isinstance(members, str):
            members = [m.strip() for m in members.split(",") if m.strip()]
        if not members:
            raise BackendOptionError("portfolio needs at least one member backend")
        if "portfolio" in members or "auto" in members:
            raise BackendOptionError("portfolio members must be concrete backends (not portfolio or auto)")
        self.members = [get_backend(m) for m in members]

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        """As a dimod Sampler: the race on ``problem`` (see :func:`hqopt.race.race_output`)."""
        from hqopt.race import race_output  # the race runs backends: imported when used

        return race_output(problem, self.members, budget, seed, initial)
