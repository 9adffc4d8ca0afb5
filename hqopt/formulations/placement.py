"""Data-centre workload placement: put services on sites at least cost.

A spec (``kind: placement``, fully documented in ``docs/placement.md``) lists

* **sites** with a capacity per resource, a price per unit used, an optional
  opening cost and a fault domain (``zone`` inside ``region``);
* **services** with a demand per resource and an optional replica ``group``;
* **traffic** between services and **latency** between sites (a matrix, pairs,
  or a same-site/zone/region hierarchy);
* **rules**: anti-affinity, affinity, pinning, forbidding, and a ``current``
  placement with a cost per move;
* **objective** weights of the four cost terms.

The objective is ``w_comm * communication + w_energy * energy + w_open * opening
+ w_mig * migration`` with

* communication = sum over service pairs of traffic x latency of their sites,
* energy = sum over sites and resources of price x units used,
* opening = sum of the opening costs of the sites that host something,
* migration = sum of the move costs of services not on their current site.

Variables (binary): ``("x", service, site)`` = 1 when the service runs on the
site (only for allowed pairs: pins and forbids remove the others), and
``("open", site)`` for sites with an opening cost. Constraints are labelled
``assign[service]``, ``capacity[site,resource]``, ``open-if-used[site]``,
``used-if-open[site]``, ``anti-affinity[group,domain]`` and
``affinity[a,b,domain]``.

:meth:`Placement.check` recomputes feasibility and every cost term from an
assignment ``{service: site}`` alone, without the model.

Sibling modules: ``placement_spec`` (parsing), ``placement_report`` (report,
plan), ``placement_plot`` (pictures), ``placement_bound`` (lower bound),
``placement_heuristic`` (warm start), ``placement_generator`` (instances).

Example:
    >>> spec = {
    ...     "sites": [{"name": "a", "zone": "z1", "capacity": {"cpu": 4}},
    ...               {"name": "b", "zone": "z1", "capacity": {"cpu": 4}}],
    ...     "services": [{"name": "s1", "demand": {"cpu": 3}}, {"name": "s2", "demand": {"cpu": 3}}],
    ...     "traffic": [["s1", "s2", 1]],
    ... }
    >>> p = Placement.from_spec(spec)
    >>> p.check({"s1": "a", "s2": "b"}).objective   # 1 unit of traffic x same-zone latency 1
    1.0
    >>> p.check({"s1": "a", "s2": "a"}).feasible    # 6 cpu on a 4-cpu site
    False
"""

from __future__ import annotations

import functools
import math
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dimod
import numpy as np

from hqopt.errors import ModelError, SitesStillDownWarning, SpecError
from hqopt.formulations import fields as F
from hqopt.formulations.placement_bound import BOUND_SECONDS, LP_METHOD, PlacementBound, placement_lower_bound
from hqopt.formulations.placement_heuristic import greedy_plan
from hqopt.formulations.placement_report import (
    PlacementPlan,
    PlacementReport,
    build_report,
)
from hqopt.model import Model
from hqopt.result import Result

#: cost terms, in report order
TERMS = ("communication", "energy", "opening", "migration")
#: fault-domain scopes a rule can name
SCOPES = ("site", "zone", "region")
#: latency used when a spec gives traffic but no latency
DEFAULT_HIERARCHY = {"same_site": 0.0, "same_zone": 1.0, "same_region": 4.0, "other": 16.0}
#: slack when comparing usage with capacity in the checker
TOL = 1e-9


@dataclass(frozen=True)
class Site:
    """A server, rack or data centre."""

    name: str
    capacity: dict[str, float]
    price: dict[str, float] = field(default_factory=dict)
    open_cost: float = 0.0
    zone: str = ""
    region: str = ""

    def domain(self, scope: str) -> str:
        """This site's fault domain at ``scope`` (``site``, ``zone`` or ``region``)."""
        return {"site": self.name, "zone": self.zone, "region": self.region}[scope]


@dataclass(frozen=True)
class Service:
    """A VM, container or job."""

    name: str
    demand: dict[str, float]
    group: str | None = None
    move_cost: float | None = None


@dataclass(frozen=True)
class AntiAffinity:
    """At most ``max_per_domain`` services of ``group`` in any one domain at ``scope``."""

    group: str
    scope: str = "site"
    max_per_domain: int = 1


@dataclass(frozen=True)
class Affinity:
    """All ``services`` in the same domain at ``scope``."""

    services: tuple[str, ...]
    scope: str = "site"


@dataclass
class PlacementCheck:
    """The checker's verdict on an assignment."""

    feasible: bool
    violations: list[str]
    costs: dict[str, float]
    objective: float
    usage: dict[str, dict[str, float]]
    moves: list[str]


@dataclass
class Placement:
    """A placement instance (build it with :meth:`from_spec` or :func:`generate_placement`)."""

    sites: list[Site]
    services: list[Service]
    resources: list[str]
    traffic: dict[tuple[str, str], float]
    latency: np.ndarray
    allowed: dict[str, list[str]]
    anti_affinity: list[AntiAffinity] = field(default_factory=list)
    affinity: list[Affinity] = field(default_factory=list)
    current: dict[str, str] = field(default_factory=dict)
    move_cost: float = 1.0
    weights: dict[str, float] = field(default_factory=lambda: {t: 1.0 for t in TERMS})
    name: str = "placement"
    down: tuple[str, ...] = ()
    max_moves: int | None = None
    #: the sites each service may use by its pin/forbid rules alone, before sites went down (empty: ``allowed``)
    permitted: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_name = {s.name: s for s in self.services}
        self._site_index = {s.name: k for k, s in enumerate(self.sites)}
        self._site_by_name = {s.name: s for s in self.sites}
        self._bound: PlacementBound | None = None
        self._layout_left: tuple[Any, _Layout] | None = None  # model_size's layout, for the to_model that follows

    # ------------------------------------------------------------------ spec
    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], source: str = "<spec>") -> Placement:
        """Build from a spec dict (the ``kind`` key removed); SpecError names any bad field."""
        try:
            from hqopt.formulations.placement_spec import parse

            return parse(F.mapping(spec, "spec"))
        except SpecError as exc:
            if exc.source is None:
                raise SpecError(exc.field, exc.reason, source=source) from None
            raise

    # ------------------------------------------------------------ lookups
    @property
    def site_index(self) -> dict[str, int]:
        return self._site_index

    @property
    def site_by_name(self) -> dict[str, Site]:
        return self._site_by_name

    def _layout(self, *, keep: bool = False) -> _Layout:
        """The model's variable layout. :meth:`model_size` keeps the one it made (``keep``) for the
        :meth:`to_model` that follows it (a spec's size check, then the model: 0.3 s on 1000 x 50), which
        takes it if this placement still reads the same; anything else makes its own."""
        left, self._layout_left = self._layout_left, None
        key = self._layout_key() if left is not None or keep else None
        layout = left[1] if left is not None and left[0] == key else _Layout(self)
        if keep:
            self._layout_left = (key, layout)
        return layout

    def _layout_key(self) -> tuple[Any, ...]:
        """What the layout is made from, as a value to compare (a placement changed in between makes a new one)."""
        return (
            tuple(self.weights.items()), tuple(s.name for s in self.services), tuple(s.name for s in self.sites),
            tuple((k, tuple(v)) for k, v in self.allowed.items()), tuple(self.traffic), self.latency.tobytes(),
        )  # fmt: skip

    def move_cost_of(self, service: Service) -> float:
        return self.move_cost if service.move_cost is None else service.move_cost

    def groups(self) -> dict[str, list[str]]:
        """Replica group -> its services, in spec order."""
        members: dict[str, list[str]] = defaultdict(list)
        for s in self.services:
            if s.group is not None:
                members[s.group].append(s.name)
        return dict(members)

    def subproblem_advice(self, size: int) -> str:
        """What a decomposition's sub-problem of ``size`` variables is for this placement (``hqopt analyze``)."""
        per_site = len(self.services) / len(self.sites)
        k = max(1, min(len(self.sites), int(math.sqrt(size / per_site))))
        return (
            f"here a sub-problem is the services of {k} site{'s' if k > 1 else ''} re-placed among them "
            f"(about {round(k * per_site)} services x {k} sites = {round(k * k * per_site)} variables)"
        )

    # ------------------------------------------------------------ re-planning
    def replan(
        self,
        current: Mapping[str, Any] | None = None,
        *,
        down: str | Sequence[str] = (),
        up: str | Sequence[str] = (),
        max_moves: int | None = None,
        move_cost: float | None = None,
    ) -> Placement:
        """The same instance re-planned from ``current``, with sites ``down`` and at most ``max_moves`` moves.

        ``current`` is ``{service: site}``, a decoded answer (``{"assignment": ...}``)
        or a whole ``Result`` JSON dict (``hqopt solve --output``); it may name
        sites that are down. Sites down in the instance or in ``current``'s
        answer (a re-plan's result) stay down, with a :class:`SitesStillDownWarning`
        naming those of ``current``, unless ``up`` names them: they run again.
        ``move_cost`` replaces the spec's ``migration_cost`` (services with their
        own keep it). Arguments left out keep the instance's.

        >>> p = Placement.from_spec({"sites": [{"name": "a", "capacity": {"cpu": 2}}, {"name": "b", "capacity": {"cpu": 2}}],
        ...                          "services": [{"name": "s", "demand": {"cpu": 1}}]})
        >>> q = p.replan({"s": "a"}, down=["a"], max_moves=1)
        >>> q.allowed["s"], q.check({"s": "b"}).moves
        (['b'], ['s'])
        >>> q.replan({"s": "b"}, up="a").down
        ()
        """
        from hqopt.formulations.placement_spec import apply_operations, down_of, plan_of

        spec: dict[str, Any] = {"current": plan_of(current) if current is not None else self.current}
        if move_cost is not None and not spec["current"]:  # (max_moves: checked with the other fields)
            raise SpecError("migration_cost", "counts moves from a current placement: give one (--current, or current: in the spec)", source="re-plan")
        down, up = ([names] if isinstance(names, str) else list(names) for names in (down, up))  # one name is not a list of letters
        site_names = {site.name for site in self.sites}
        for name in up:
            if name not in site_names:
                raise SpecError("up", f"unknown site {name!r}", source="re-plan")
            if name in down:
                raise SpecError("up", f"site {name!r} is named both down and up", source="re-plan")
        carried = sorted((set(down_of(current)) & site_names) - set(self.down) - set(down) - set(up))  # (another estate's sites: current says)
        if carried:
            warnings.warn(SitesStillDownWarning(carried), stacklevel=2)
        spec["sites_down"] = sorted((set(self.down) | set(carried) | set(down)) - set(up))
        if max_moves is not None or self.max_moves is not None:
            spec["max_moves"] = self.max_moves if max_moves is None else max_moves
        spec["migration_cost"] = self.move_cost if move_cost is None else move_cost
        try:
            return apply_operations(self, spec)
        except SpecError as exc:
            raise SpecError(exc.field, exc.reason, source="re-plan") from None

    # ------------------------------------------------------------------ model
    @np.errstate(over="ignore", invalid="ignore")  # an overflowing cost is the model check's one-line error, not numpy's warning
    def to_model(self) -> Model:
        """The CQM: one-hot assignment, capacities, rules, weighted cost objective (built from arrays)."""
        layout = self._layout()
        labels, x, w = layout.labels, layout.x, self.weights
        ok = x >= 0
        linear = np.zeros(len(labels))
        offset = 0.0
        demand = np.array([[s.demand.get(r, 0.0) for r in self.resources] for s in self.services]).reshape(len(self.services), -1)
        price = np.array([[site.price.get(r, 0.0) for r in self.resources] for site in self.sites]).reshape(len(self.sites), -1)
        linear[x[ok]] += w["energy"] * (demand @ price.T)[ok]
        has_open = layout.open >= 0
        linear[layout.open[has_open]] += w["opening"] * np.array([s.open_cost for s in self.sites])[has_open]
        index = self.site_index
        for i, svc in enumerate(self.services):  # migration: paid unless the service stays
            if svc.name in self.current:
                cost = w["migration"] * self.move_cost_of(svc)
                offset += cost
                stay = x[i, index[self.current[svc.name]]]
                if stay >= 0:
                    linear[stay] -= cost
        quadratic, constant = self._communication(layout)
        objective = dimod.BQM.from_numpy_vectors(linear, quadratic, offset + constant, dimod.BINARY, variable_order=labels)

        cqm = dimod.ConstrainedQuadraticModel()
        cqm.add_variables(dimod.BINARY, labels)  # at once: set_objective would add them one by one (2.5x slower)
        cqm.set_objective(objective)
        for i, svc in enumerate(self.services):
            cqm.add_constraint_from_iterable([(labels[k], 1.0) for k in x[i][ok[i]]], "==", rhs=1, label=f"assign[{svc.name}]")
        for label, terms in layout.links:
            cqm.add_constraint_from_iterable(terms, "==", rhs=0, label=label)
        self._capacity_constraints(cqm, layout, demand)
        self._rule_constraints(cqm)
        self._move_constraint(cqm, layout)
        warm_start = functools.partial(self.warm_start, labels)  # this model's variables, not a second layout
        metadata = {"kind": "placement", "formulation": self, "warm_start": warm_start, "communication_encoding": layout.encoding}
        return Model(cqm, sense="min", name=self.name, decoder=self.decode, metadata=metadata)

    def model_size(self) -> tuple[int, int]:
        """(variables, most quadratic terms) of :meth:`to_model`'s model, known without building it.

        >>> p = Placement.from_spec({"sites": [{"name": "a", "capacity": {"cpu": 2}}, {"name": "b", "capacity": {"cpu": 2}}],
        ...                          "services": [{"name": "s", "demand": {"cpu": 1}}, {"name": "t", "demand": {"cpu": 1}}],
        ...                          "traffic": [["s", "t", 1]]})
        >>> p.model_size()  # x[s, a], x[s, b], x[t, a], x[t, b]; a term per pair of sites
        (4, 4)
        """
        layout = self._layout(keep=True)
        if not self.traffic or self.weights["communication"] == 0:
            return len(layout.labels), 0
        if layout.levels is None:
            return len(layout.labels), len(self.traffic) * len(self.sites) ** 2
        return len(layout.labels), len(self.traffic) * sum(ix.shape[1] for ix, _ in layout.levels[1])

    def _communication(self, layout: _Layout) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], float]:
        """Quadratic terms (rows, cols, data) and constant of ``w * sum traffic x latency``."""
        empty = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
        if self.weights["communication"] == 0 or not self.traffic:
            return empty, 0.0
        position = {s.name: i for i, s in enumerate(self.services)}
        ea = np.array([position[a] for a, _ in self.traffic])
        eb = np.array([position[b] for _, b in self.traffic])
        volume = self.weights["communication"] * np.fromiter(self.traffic.values(), float, len(self.traffic))
        parts = []
        if layout.levels is None:  # any latency matrix: a term per pair of sites
            a, b = layout.x[ea][:, :, None], layout.x[eb][:, None, :]
            parts.append(_terms(a, b, self.latency[None, :, :] * volume[:, None, None]))
            return _concat(parts), 0.0
        base, levels = layout.levels  # hierarchical: a constant, minus a term per shared region, zone, site
        for domain_index, coef in levels:
            a, b = domain_index[ea], domain_index[eb]
            parts.append(_terms(a, b, np.broadcast_to(coef * volume[:, None], a.shape)))
        return _concat(parts), base * float(volume.sum())

    def _service(self, name: str) -> Service:
        return self._by_name[name]

    def _capacity_constraints(self, cqm: dimod.ConstrainedQuadraticModel, layout: _Layout, demand: np.ndarray) -> None:
        labels = layout.labels
        for k, site in enumerate(self.sites):
            guests = np.flatnonzero(layout.x[:, k] >= 0)
            y = labels[layout.open[k]] if layout.open[k] >= 0 else None
            for j, r in enumerate(self.resources):
                need = guests[demand[guests, j] > 0]
                if not need.size:
                    continue
                terms = [(labels[layout.x[i, k]], float(demand[i, j])) for i in need]
                cap = site.capacity.get(r, 0.0)
                if y is not None:
                    cqm.add_constraint_from_iterable(terms + [(y, -cap)], "<=", rhs=0, label=f"capacity[{site.name},{r}]")
                elif demand[need, j].sum() > cap:
                    cqm.add_constraint_from_iterable(terms, "<=", rhs=cap, label=f"capacity[{site.name},{r}]")
            if y is not None:  # a site is open exactly when it hosts something
                for i in guests[demand[guests].sum(axis=1) == 0]:
                    svc = self.services[i].name
                    cqm.add_constraint_from_iterable([(labels[layout.x[i, k]], 1.0), (y, -1.0)], "<=", rhs=0, label=f"open-if-used[{site.name},{svc}]")
                terms = [(labels[layout.x[i, k]], -1.0) for i in guests] + [(y, 1.0)]
                cqm.add_constraint_from_iterable(terms, "<=", rhs=0, label=f"used-if-open[{site.name}]")

    def _move_constraint(self, cqm: dimod.ConstrainedQuadraticModel, layout: _Layout) -> None:
        """``max-moves``: at least ``len(current) - max_moves`` services stay where they are."""
        if self.max_moves is None or not self.current:
            return
        index = self.site_index
        stays = [layout.labels[layout.x[i, index[self.current[s.name]]]] for i, s in enumerate(self.services) if s.name in self.current and layout.x[i, index[self.current[s.name]]] >= 0]
        need = len(self.current) - self.max_moves
        if need > 0:
            cqm.add_constraint_from_iterable([(v, 1.0) for v in stays], ">=", rhs=need, label="max-moves")

    def _rule_constraints(self, cqm: dimod.ConstrainedQuadraticModel) -> None:
        groups = self.groups()
        for rule in self.anti_affinity:
            by_domain: dict[str, list[tuple[Any, float]]] = defaultdict(list)
            for svc_name in groups[rule.group]:
                for site_name in self.allowed[svc_name]:
                    by_domain[self.site_by_name[site_name].domain(rule.scope)].append((("x", svc_name, site_name), 1.0))
            for domain, terms in by_domain.items():
                if len(terms) > rule.max_per_domain:
                    label = f"anti-affinity[{rule.group},{domain}]"
                    cqm.add_constraint_from_iterable(terms, "<=", rhs=rule.max_per_domain, label=label)
        for rule in self.affinity:
            anchor = rule.services[0]
            domains = sorted({s.domain(rule.scope) for s in self.sites})
            for other in rule.services[1:]:
                for domain in domains:
                    terms = [(("x", anchor, s), 1.0) for s in self.allowed[anchor] if self.site_by_name[s].domain(rule.scope) == domain]
                    terms += [(("x", other, s), -1.0) for s in self.allowed[other] if self.site_by_name[s].domain(rule.scope) == domain]
                    if terms:
                        cqm.add_constraint_from_iterable(terms, "==", rhs=0, label=f"affinity[{anchor},{other},{domain}]")

    # ---------------------------------------------------------------- answers
    def assignment(self, solution: Mapping[Any, float]) -> dict[str, str]:
        """``{service: site}`` from a model solution; ModelError unless each service has one site."""
        assignment, misplaced = self.partial_assignment(solution)
        if misplaced:
            svc, where = next(iter(misplaced.items()))
            raise ModelError(f"service {svc!r} is on {len(where)} sites; the solution breaks its assign constraint")
        return assignment

    def partial_assignment(self, solution: Mapping[Any, float]) -> tuple[dict[str, str], dict[str, list[str]]]:
        """``{service: site}`` of the services on exactly one site, and ``{service: sites}`` of the others.

        An infeasible solution may leave a service on no site or on several; its report shows them.

        Example:
            >>> p = Placement.from_spec({"sites": [{"name": "a", "capacity": {"cpu": 2}}, {"name": "b", "capacity": {"cpu": 2}}],
            ...                          "services": [{"name": "s1", "demand": {"cpu": 1}}, {"name": "s2", "demand": {"cpu": 1}}]})
            >>> p.partial_assignment({("x", "s1", "a"): 1, ("x", "s2", "a"): 1, ("x", "s2", "b"): 1})
            ({'s1': 'a'}, {'s2': ['a', 'b']})
        """
        placed: dict[str, list[str]] = {s.name: [] for s in self.services}
        for label, value in solution.items():
            if isinstance(label, tuple) and len(label) == 3 and label[0] == "x" and round(value) == 1 and label[1] in placed:
                placed[label[1]].append(label[2])
        assignment = {s: v[0] for s, v in placed.items() if len(v) == 1}
        return assignment, {s: v for s, v in placed.items() if len(v) != 1}

    def solution_of(self, assignment: Mapping[str, str], labels: Sequence[tuple[str, ...]] | None = None) -> dict[tuple[str, ...], int]:
        """The model's 0/1 values for ``{service: site}`` (sites open exactly when used); e.g. a warm start.

        ``labels``: the variables of a model :meth:`to_model` built (default: those it would build now).
        """
        sites = self.site_by_name
        used = set(assignment.values())
        solution = {}
        for label in self._layout().labels if labels is None else labels:
            if label[0] == "x":
                solution[label] = int(assignment.get(label[1]) == label[2])
            elif label[0] == "open":
                solution[label] = int(label[1] in used)
            else:  # ("zone" | "region", service, domain)
                where = assignment.get(label[1])
                solution[label] = int(where in sites and sites[where].domain(label[0]) == label[2])
        return solution

    def warm_start(self, labels: Sequence[tuple[str, ...]] | None = None) -> dict[tuple[str, ...], int] | None:
        """A feasible starting point for ``hqopt.solve(..., initial=)`` from :func:`greedy_plan`, or None
        (``labels`` as in :meth:`solution_of`)."""
        plan = greedy_plan(self)
        return None if plan is None else self.solution_of(plan, labels)

    def decode(self, solution: Mapping[Any, float]) -> PlacementPlan:
        """The assignment table, per-site utilisation, the cost by term and the moves (a JSON-friendly dict)."""
        return self.plan(self.assignment(solution))

    def plan(self, assignment: Mapping[str, str]) -> PlacementPlan:
        """The decoded answer of ``{service: site}`` (see :meth:`decode`)."""
        assignment = dict(assignment)
        report = self.check(assignment)
        rows = []
        for site in self.sites:
            guests = [s for s, where in assignment.items() if where == site.name]
            used = report.usage[site.name]
            rows.append(
                {
                    "site": site.name,
                    "zone": site.zone,
                    "region": site.region,
                    "down": site.name in self.down,
                    "services": guests,
                    "used": used,
                    "utilisation": {r: (used[r] / site.capacity[r] if site.capacity.get(r) else 0.0) for r in self.resources},
                }
            )
        data = {
            "assignment": assignment,
            "sites": rows,
            "costs": report.costs,
            "weights": dict(self.weights),
            "objective": report.objective,
            "moves": [{"service": s, "from": self.current[s], "to": assignment.get(s)} for s in report.moves],
            "feasible": report.feasible,
            "violations": report.violations,
        }
        return PlacementPlan(data, self)

    def report(self, answer: Result | Mapping[str, str], *, bound: bool = True) -> PlacementReport:
        """Per-site table, cost by term, rule checks and moves of a Result or ``{service: site}``.

        ``bound=True`` adds :meth:`lower_bound` (covering every cost term) and its gap; for a
        Result of a timed solve the bound's LP gets at most that time limit (a report of a 2 s
        answer does not take 30 s: a 1000-service LP takes about 3).
        """
        result = answer if isinstance(answer, Result) else None
        limit = min(BOUND_SECONDS, result.time_limit) if result is not None and result.time_limit else BOUND_SECONDS  # (HiGHS gets 1 s at least)
        misplaced: dict[str, list[str]] = {}
        if result is not None and result.decoded is None and result.solution is not None:  # infeasible: a service may be on 0 or 2+ sites
            assignment, misplaced = self.partial_assignment(result.solution)
        else:
            assignment = self._assignment_of(answer)
        return build_report(self, assignment, result, self.lower_bound(limit) if bound else None, misplaced=misplaced)

    def plot(self, answer: Result | Mapping[str, str], path: str | Path) -> Path:
        """A PNG of a Result or ``{service: site}``: utilisation per site and the traffic graph by site (``plot`` extra)."""
        from hqopt.formulations.placement_plot import plot_placement

        return plot_placement(self, self.plan(self._assignment_of(answer)), path)

    def _assignment_of(self, answer: Result | Mapping[str, str]) -> dict[str, str]:
        if not isinstance(answer, Result):
            return dict(answer)
        if answer.decoded is not None:
            return dict(answer.decoded["assignment"])
        if answer.solution is not None:
            return self.assignment(answer.solution)
        raise ModelError("the result holds no solution")

    def lower_bound(self, time_limit: float = BOUND_SECONDS) -> PlacementBound:
        """A proven lower bound on the whole objective; see :mod:`~hqopt.formulations.placement_bound`.

        The LP's bound is kept once solved; a weaker one (the LP did not finish in ``time_limit``) is not.
        """
        if self._bound is not None:
            return self._bound
        bound = placement_lower_bound(self, time_limit=time_limit)
        if bound.method == LP_METHOD:
            self._bound = bound
        return bound

    def check(self, assignment: Mapping[str, str]) -> PlacementCheck:
        """Recompute feasibility and every cost term of ``{service: site}`` from the instance data alone."""
        sites = self.site_by_name
        violations: list[str] = []
        for svc in self.services:
            site = assignment.get(svc.name)
            if site is None:
                violations.append(f"service {svc.name} is not placed")
            elif site not in sites:
                violations.append(f"service {svc.name} is on unknown site {site}")
            elif site in self.down:
                violations.append(f"service {svc.name} is on site {site}, which is down")
            elif site not in self.allowed[svc.name]:
                violations.append(f"service {svc.name} may not run on {site} (pin/forbid)")
        extra = set(assignment) - {s.name for s in self.services}
        violations += [f"unknown service {s}" for s in sorted(extra)]
        placed = {s.name: assignment[s.name] for s in self.services if assignment.get(s.name) in sites}

        usage = {site.name: {r: 0.0 for r in self.resources} for site in self.sites}
        for svc in self.services:
            if svc.name in placed:
                for r, amount in svc.demand.items():
                    usage[placed[svc.name]][r] += amount
        for site in self.sites:
            for r in self.resources:
                if usage[site.name][r] > site.capacity.get(r, 0.0) + TOL:
                    violations.append(f"site {site.name} uses {usage[site.name][r]:g} {r} of {site.capacity.get(r, 0.0):g}")
        groups = self.groups()
        for rule in self.anti_affinity:
            count: dict[str, int] = defaultdict(int)
            for svc_name in groups[rule.group]:
                if svc_name in placed:
                    count[sites[placed[svc_name]].domain(rule.scope)] += 1
            for domain, n in count.items():
                if n > rule.max_per_domain:
                    violations.append(f"group {rule.group} has {n} replicas in {rule.scope} {domain} (max {rule.max_per_domain})")
        for rule in self.affinity:
            domains = {sites[placed[s]].domain(rule.scope) for s in rule.services if s in placed}
            if len(domains) > 1:
                violations.append(f"services {', '.join(rule.services)} are spread over {rule.scope}s {', '.join(sorted(domains))}")

        index = self.site_index
        communication = sum(
            volume * float(self.latency[index[placed[a]], index[placed[b]]])
            for (a, b), volume in self.traffic.items()
            if a in placed and b in placed
        )
        energy = sum(
            amount * sites[where].price.get(r, 0.0)
            for where, used in usage.items()
            for r, amount in used.items()
        )
        opened = {placed[s] for s in placed}
        opening = sum(sites[s].open_cost for s in opened)
        moves = [s.name for s in self.services if s.name in self.current and placed.get(s.name) != self.current[s.name]]
        migration = sum(self.move_cost_of(self._service(s)) for s in moves)
        if self.max_moves is not None and len(moves) > self.max_moves:
            violations.append(f"{len(moves)} services move (max_moves {self.max_moves})")
        costs = {"communication": communication, "energy": energy, "opening": opening, "migration": migration}
        objective = sum(self.weights[t] * costs[t] for t in TERMS)
        return PlacementCheck(not violations, violations, costs, float(objective), usage, moves)


# ---------------------------------------------------------------- model layout
#: above this many site-pair terms (traffic pairs x sites^2), a hierarchical latency is
#: encoded with per-zone/region variables instead (far fewer terms, so 1000 x 50 builds in
#: seconds). The engine (`ls`) sees those variables as defined by their service's site
#: (hqopt.engine.structure: a move carries them). Below it the site-pair form is kept
#: (CP-SAT, which auto races on models up to its CPSAT_RACE_MAX_TERMS, searches it better;
#: the engine does as well on either: generated 100 x 10 to 300 x 25, 8 s, means within 1 %).
DENSE_MAX_TERMS = 1_000_000


class _Layout:
    """Variable indices of the model.

    ``x[i, k]``: index of ``("x", service i, site k)`` or -1 where not allowed;
    ``open[k]``: index of ``("open", site k)`` or -1. With a hierarchical latency
    and more than :data:`DENSE_MAX_TERMS` site-pair terms, services also get binary
    ``("zone", service, zone)`` / ``("region", service, region)`` variables
    linked to x by ``in-zone[...]`` / ``in-region[...]`` equalities: the
    communication term then needs a term per shared domain (sites + zones +
    regions per traffic pair) instead of one per pair of sites.
    """

    def __init__(self, p: Placement) -> None:
        self.labels: list[tuple[str, ...]] = []
        index = p.site_index
        self.x = np.full((len(p.services), len(p.sites)), -1)
        for i, svc in enumerate(p.services):
            for site in p.allowed[svc.name]:
                self.x[i, index[site]] = self._new(("x", svc.name, site))
        self.open = np.full(len(p.sites), -1)
        if p.weights["opening"] > 0:
            for k, site in enumerate(p.sites):
                if site.open_cost > 0:
                    self.open[k] = self._new(("open", site.name))
        self.links: list[tuple[str, list[tuple[Any, float]]]] = []
        self.levels: tuple[float, list[tuple[np.ndarray, float]]] | None = None
        self.encoding = "site pairs"
        dense = len(p.traffic) * len(p.sites) ** 2 if p.weights["communication"] > 0 else 0
        hierarchy = _hierarchy(p.sites, p.latency) if dense > DENSE_MAX_TERMS else None
        if hierarchy is not None:
            base, coef = hierarchy
            parts: dict[frozenset[frozenset[int]], list[Any]] = {}  # partition of the sites -> [index, coefficient]
            for scope in SCOPES:
                names = [s.domain(scope) for s in p.sites]
                key = frozenset(frozenset(k for k, n in enumerate(names) if n == d) for d in set(names))
                if key in parts:
                    parts[key][1] += coef[scope]
                elif coef[scope] != 0:
                    single = len(key) == len(p.sites)
                    parts[key] = [self.x if single else self._domains(p, scope, names, sorted(set(names))), coef[scope]]
            self.levels = (base, [(ix, c) for ix, c in parts.values() if c != 0])
            self.encoding = "hierarchy"

    def _new(self, label: tuple[str, ...]) -> int:
        self.labels.append(label)
        return len(self.labels) - 1

    def _domains(self, p: Placement, scope: str, names: list[str], domains: list[str]) -> np.ndarray:
        """Binary (scope, service, domain) = sum of the service's x over the domain's sites."""
        column = {d: j for j, d in enumerate(domains)}
        ix = np.full((len(p.services), len(domains)), -1)
        for i, svc in enumerate(p.services):
            members: dict[str, list[tuple[Any, float]]] = defaultdict(list)
            for k in np.flatnonzero(self.x[i] >= 0):
                members[names[k]].append((self.labels[self.x[i, k]], 1.0))
            for domain, terms in members.items():
                label = (scope, svc.name, domain)
                ix[i, column[domain]] = self._new(label)
                self.links.append((f"in-{scope}[{svc.name},{domain}]", terms + [(label, -1.0)]))
        return ix


def _hierarchy(sites: list[Site], latency: np.ndarray) -> tuple[float, dict[str, float]] | None:
    """``latency = base + coef[region] [same region] + coef[zone] [same zone] + coef[site] [same site]``, or None.

    Exists when zones nest in regions and the latency depends only on what two
    sites share (site, zone, region, nothing). Relations no pair has get the
    next closer level's value, so their terms vanish.

    >>> s = [Site("a", {}, zone="z1", region="r"), Site("b", {}, zone="z1", region="r"), Site("c", {}, zone="z2", region="r")]
    >>> _hierarchy(s, np.array([[0, 1, 4], [1, 0, 4], [4, 4, 0]]))
    (4.0, {'region': 0.0, 'zone': -3.0, 'site': -1.0})
    """
    region_of: dict[str, str] = {}
    if any(region_of.setdefault(s.zone, s.region) != s.region for s in sites):
        return None
    zone = np.array([s.zone for s in sites])
    region = np.array([s.region for s in sites])
    same_site = np.eye(len(sites), dtype=bool)
    same_zone = zone[:, None] == zone[None, :]
    same_region = region[:, None] == region[None, :]
    values: list[float | None] = []
    for mask in (same_site, same_zone & ~same_site, same_region & ~same_zone, ~same_region):
        found = latency[mask]
        if found.size and not np.all(found == found[0]):
            return None
        values.append(float(found[0]) if found.size else None)
    site, zone_l, region_l, other = values
    assert site is not None
    zone_l = site if zone_l is None else zone_l
    region_l = zone_l if region_l is None else region_l
    other = region_l if other is None else other
    return other, {"region": region_l - other, "zone": zone_l - region_l, "site": site - zone_l}


def _terms(a: np.ndarray, b: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (row, col, value) triples of broadcast index arrays ``a``, ``b`` where both exist and ``coef != 0``."""
    a, b, coef = np.broadcast_arrays(a, b, coef)
    keep = (a >= 0) & (b >= 0) & (coef != 0)
    return a[keep], b[keep], coef[keep]


def _concat(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(3))  # type: ignore[return-value]
