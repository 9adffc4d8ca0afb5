"""What each sub-solver was asked, on what size, and what it earned -- and which to ask next.

The :class:`Ledger` is what ``Result.info["subsolvers"]`` shows: per sub-solver
``calls``, ``improvements``, ``gain`` (objective gained on the full model),
``seconds``, ``errors``, ``not_searched`` (calls whose sub-solve ran out of
time before its backend could search: a cold compile, chains still starting),
sub-problem ``variables`` (min/median/max) and, where a sub-result reports one,
``qpu_access_time`` (seconds).
:meth:`Ledger.choose` is an epsilon-greedy bandit on gain per second: every
sub-solver is tried once, then the best earner is asked, with probability
:data:`EXPLORE` another one.

Example:
    >>> import numpy as np
    >>> ledger = Ledger(["cpsat", "qaoa"])
    >>> ledger.record("cpsat", variables=12, seconds=0.1, gain=5.0)
    >>> ledger.record("qaoa", variables=8, seconds=2.0, gain=0.0)
    >>> ledger.summary()["cpsat"]["improvements"], ledger.choose(np.random.default_rng(0), explore=0.0)
    (1, 'cpsat')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: probability of asking a sub-solver other than the best earner
EXPLORE = 0.2


@dataclass
class _Entry:
    calls: int = 0
    improvements: int = 0
    gain: float = 0.0
    seconds: float = 0.0
    errors: int = 0
    not_searched: int = 0
    sizes: list[int] = field(default_factory=list)
    qpu_access_time: float | None = None


class Ledger:
    """Per sub-solver accounts; see the module docstring."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        self.entries = {name: _Entry() for name in names}

    def record(
        self,
        name: str,
        *,
        variables: int,
        seconds: float,
        gain: float,
        error: bool = False,
        searched: bool = True,
        qpu_access_time: float | None = None,
    ) -> None:
        """One call of ``name`` on a sub-problem of ``variables`` variables; ``gain`` > 0 is an improvement;
        ``searched``: False when the sub-solve's backend never searched (its result's ``info["compile"]``)."""
        e = self.entries[name]
        e.calls += 1
        e.seconds += seconds
        e.sizes.append(variables)
        e.errors += bool(error)
        e.not_searched += not searched
        if gain > 0:
            e.improvements += 1
            e.gain += gain
        if qpu_access_time is not None:
            e.qpu_access_time = (e.qpu_access_time or 0.0) + qpu_access_time

    def choose(self, rng: np.random.Generator, explore: float = EXPLORE) -> str:
        """The sub-solver to ask next (deterministic given ``rng``)."""
        untried = [n for n in self.names if self.entries[n].calls == 0]
        if untried:
            return untried[0]
        if len(self.names) > 1 and rng.random() < explore:
            return self.names[int(rng.integers(len(self.names)))]
        rates = [self.entries[n].gain / max(self.entries[n].seconds, 1e-3) for n in self.names]
        return self.names[int(np.argmax(rates))]

    def summary(self) -> dict[str, dict[str, Any]]:
        """The ledger as plain data (JSON-friendly), keyed by sub-solver name."""
        out: dict[str, dict[str, Any]] = {}
        for name, e in self.entries.items():
            row: dict[str, Any] = {
                "calls": e.calls,
                "improvements": e.improvements,
                "gain": e.gain,
                "seconds": round(e.seconds, 4),
                "errors": e.errors,
                "not_searched": e.not_searched,
                "variables": {
                    "min": int(min(e.sizes)) if e.sizes else 0,
                    "median": float(np.median(e.sizes)) if e.sizes else 0.0,
                    "max": int(max(e.sizes)) if e.sizes else 0,
                },
            }
            if e.qpu_access_time is not None:
                row["qpu_access_time"] = e.qpu_access_time
            out[name] = row
        return out
