"""Domain formulations: data in the user's terms -> Model -> solution in the user's terms.

Every formulation is a class with:

* ``from_spec(spec: dict, source: str = "<spec>") -> instance`` -- build from a
  YAML/JSON spec dict (the ``kind:`` key already removed); unknown or bad
  fields raise :class:`~hqopt.errors.SpecError` naming the field;
* ``to_model() -> Model`` -- the CQM (sense, labels in domain terms, decoder set);
* ``decode(solution: dict) -> dict`` -- a JSON-friendly domain answer;
* ``check(...)`` -- an independent checker that recomputes feasibility and
  objective from the domain answer alone, without the Model.

:data:`FORMULATIONS` maps a spec's ``kind`` to ``"module:Class"``.
"""

from __future__ import annotations

import importlib
from typing import Any

from hqopt.errors import SpecError

#: spec ``kind`` -> "module:Class"
FORMULATIONS: dict[str, str] = {
    "placement": "hqopt.formulations.placement:Placement",
    "qap": "hqopt.formulations.qap:QAP",
    "facility": "hqopt.formulations.facility:FacilityLocation",
    "maxcut": "hqopt.formulations.maxcut:MaxCut",
    "knapsack": "hqopt.formulations.knapsack:Knapsack",
}


def formulation_class(kind: str) -> Any:
    """The class for a spec ``kind``; SpecError listing the kinds otherwise."""
    if kind not in FORMULATIONS:
        known = ", ".join(sorted(FORMULATIONS)) or "none"
        raise SpecError("kind", f"unknown kind {kind!r}; known kinds: {known}")
    module_name, _, attr = FORMULATIONS[kind].partition(":")
    return getattr(importlib.import_module(module_name), attr)
