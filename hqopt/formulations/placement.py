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

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from hqopt.errors import ModelError, SpecError
from hqopt.formulations import fields as F
from hqopt.model import Model

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

    def __post_init__(self) -> None:
        self._by_name = {s.name: s for s in self.services}

    # ------------------------------------------------------------------ spec
    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], source: str = "<spec>") -> Placement:
        """Build from a spec dict (the ``kind`` key removed); SpecError names any bad field."""
        try:
            return _parse(F.mapping(spec, "spec"))
        except SpecError as exc:
            if exc.source is None:
                raise SpecError(exc.field, exc.reason, source=source) from None
            raise

    # ------------------------------------------------------------ lookups
    @property
    def site_index(self) -> dict[str, int]:
        return {s.name: k for k, s in enumerate(self.sites)}

    @property
    def site_by_name(self) -> dict[str, Site]:
        return {s.name: s for s in self.sites}

    def move_cost_of(self, service: Service) -> float:
        return self.move_cost if service.move_cost is None else service.move_cost

    def groups(self) -> dict[str, list[str]]:
        """Replica group -> its services, in spec order."""
        members: dict[str, list[str]] = defaultdict(list)
        for s in self.services:
            if s.group is not None:
                members[s.group].append(s.name)
        return dict(members)

    # ------------------------------------------------------------------ model
    def to_model(self) -> Model:
        """The CQM: one-hot assignment, capacities, rules, weighted cost objective."""
        sites = self.site_by_name
        index = self.site_index
        labels: list[tuple[str, ...]] = []
        var: dict[tuple[str, str], int] = {}
        for svc in self.services:
            for site in self.allowed[svc.name]:
                var[(svc.name, site)] = len(labels)
                labels.append(("x", svc.name, site))
        opening = self.weights["opening"] > 0
        open_var = {}
        for site in self.sites:
            if opening and site.open_cost > 0:
                open_var[site.name] = len(labels)
                labels.append(("open", site.name))

        # ---- objective, built from arrays
        linear = np.zeros(len(labels))
        offset = 0.0
        w = self.weights
        for (svc_name, site_name), k in var.items():
            svc, site = self._service(svc_name), sites[site_name]
            linear[k] += w["energy"] * sum(svc.demand.get(r, 0.0) * site.price.get(r, 0.0) for r in self.resources)
        for site_name, k in open_var.items():
            linear[k] += w["opening"] * sites[site_name].open_cost
        for svc in self.services:
            if svc.name in self.current:
                cost = w["migration"] * self.move_cost_of(svc)
                offset += cost
                k = var.get((svc.name, self.current[svc.name]))
                if k is not None:
                    linear[k] -= cost
        rows, cols, data = [], [], []
        if w["communication"] > 0:
            for (a, b), volume in self.traffic.items():
                ka = np.array([var[(a, s)] for s in self.allowed[a]])
                kb = np.array([var[(b, s)] for s in self.allowed[b]])
                sa = [index[s] for s in self.allowed[a]]
                sb = [index[s] for s in self.allowed[b]]
                block = w["communication"] * volume * self.latency[np.ix_(sa, sb)]
                rr, cc = np.meshgrid(ka, kb, indexing="ij")
                keep = block != 0
                rows.append(rr[keep])
                cols.append(cc[keep])
                data.append(block[keep])
        quadratic = (
            (np.concatenate(rows), np.concatenate(cols), np.concatenate(data))
            if rows
            else (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
        )
        objective = dimod.BQM.from_numpy_vectors(linear, quadratic, offset, dimod.BINARY, variable_order=labels)

        cqm = dimod.ConstrainedQuadraticModel()
        cqm.set_objective(objective)
        for svc in self.services:
            terms = [(("x", svc.name, s), 1.0) for s in self.allowed[svc.name]]
            cqm.add_constraint_from_iterable(terms, "==", rhs=1, label=f"assign[{svc.name}]")
        self._capacity_constraints(cqm, open_var)
        self._rule_constraints(cqm)
        return Model(cqm, sense="min", name=self.name, decoder=self.decode, metadata={"kind": "placement"})

    def _service(self, name: str) -> Service:
        return self._by_name[name]

    def _hosted(self) -> dict[str, list[Service]]:
        hosted: dict[str, list[Service]] = defaultdict(list)
        for svc in self.services:
            for site in self.allowed[svc.name]:
                hosted[site].append(svc)
        return hosted

    def _capacity_constraints(self, cqm: dimod.ConstrainedQuadraticModel, open_var: dict[str, int]) -> None:
        hosted = self._hosted()
        for site in self.sites:
            guests = hosted.get(site.name, [])
            linked = site.name in open_var
            y = ("open", site.name)
            for r in self.resources:
                terms = [(("x", s.name, site.name), s.demand.get(r, 0.0)) for s in guests if s.demand.get(r, 0.0) > 0]
                if not terms:
                    continue
                cap = site.capacity.get(r, 0.0)
                if linked:
                    cqm.add_constraint_from_iterable(terms + [(y, -cap)], "<=", rhs=0, label=f"capacity[{site.name},{r}]")
                elif sum(c for _, c in terms) > cap:
                    cqm.add_constraint_from_iterable(terms, "<=", rhs=cap, label=f"capacity[{site.name},{r}]")
            if linked:
                # a site is open exactly when it hosts something
                for s in guests:
                    if not any(s.demand.get(r, 0.0) > 0 for r in self.resources):
                        cqm.add_constraint_from_iterable(
                            [(("x", s.name, site.name), 1.0), (y, -1.0)], "<=", rhs=0, label=f"open-if-used[{site.name},{s.name}]"
                        )
                terms = [(("x", s.name, site.name), -1.0) for s in guests] + [(y, 1.0)]
                cqm.add_constraint_from_iterable(terms, "<=", rhs=0, label=f"used-if-open[{site.name}]")

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
        placed: dict[str, list[str]] = {s.name: [] for s in self.services}
        for label, value in solution.items():
            if isinstance(label, tuple) and len(label) == 3 and label[0] == "x" and round(value) == 1:
                if label[1] in placed:
                    placed[label[1]].append(label[2])
        bad = {s: v for s, v in placed.items() if len(v) != 1}
        if bad:
            svc, where = next(iter(bad.items()))
            raise ModelError(f"service {svc!r} is on {len(where)} sites; the solution breaks its assign constraint")
        return {s: v[0] for s, v in placed.items()}

    def solution_of(self, assignment: Mapping[str, str]) -> dict[tuple[str, ...], int]:
        """The model's 0/1 values for ``{service: site}`` (sites open exactly when used); e.g. a warm start."""
        solution: dict[tuple[str, ...], int] = {
            ("x", svc.name, site): int(assignment.get(svc.name) == site) for svc in self.services for site in self.allowed[svc.name]
        }
        used = set(assignment.values())
        if self.weights["opening"] > 0:
            solution.update({("open", s.name): int(s.name in used) for s in self.sites if s.open_cost > 0})
        return solution

    def decode(self, solution: Mapping[Any, float]) -> dict[str, Any]:
        """The assignment table, per-site utilisation and the cost by term (JSON-friendly)."""
        assignment = self.assignment(solution)
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
                    "services": guests,
                    "used": used,
                    "utilisation": {r: (used[r] / site.capacity[r] if site.capacity.get(r) else 0.0) for r in self.resources},
                }
            )
        return {
            "assignment": assignment,
            "sites": rows,
            "costs": report.costs,
            "weights": dict(self.weights),
            "objective": report.objective,
            "moves": report.moves,
            "feasible": report.feasible,
            "violations": report.violations,
        }

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
        costs = {"communication": communication, "energy": energy, "opening": opening, "migration": migration}
        objective = sum(self.weights[t] * costs[t] for t in TERMS)
        return PlacementCheck(not violations, violations, costs, float(objective), usage, moves)


# ---------------------------------------------------------------------- parsing
_TOP_FIELDS = ("name", "resources", "sites", "services", "traffic", "latency", "rules", "current", "migration_cost", "objective")


def _parse(spec: Mapping[str, Any]) -> Placement:
    F.no_unknown_keys(spec, _TOP_FIELDS, "")
    sites = _parse_sites(F.sequence(spec.get("sites"), "sites") if "sites" in spec else None)
    resources = _parse_resources(spec, sites)
    services = _parse_services(F.sequence(spec["services"], "services") if "services" in spec else None, resources)
    site_names = {s.name for s in sites}
    service_names = {s.name for s in services}
    traffic = _parse_traffic(spec.get("traffic", []), service_names)
    latency = _parse_latency(spec.get("latency"), sites)
    rules = F.mapping(spec.get("rules", {}) or {}, "rules")
    F.no_unknown_keys(rules, ("anti_affinity", "affinity", "pin", "forbid"), "rules")
    allowed = _parse_allowed(rules, services, sites)
    groups = {s.group for s in services if s.group is not None}
    anti = [_parse_anti(item, F.join("rules.anti_affinity", k), groups) for k, item in enumerate(F.sequence(rules.get("anti_affinity", []), "rules.anti_affinity"))]
    affinity = [_parse_affinity(item, F.join("rules.affinity", k), service_names) for k, item in enumerate(F.sequence(rules.get("affinity", []), "rules.affinity"))]
    current = {}
    for svc, site in F.mapping(spec.get("current", {}) or {}, "current").items():
        where = F.join("current", str(svc))
        current[F.known(F.name(svc, where), service_names, where, "service")] = F.known(F.name(site, where), site_names, where, "site")
    move_cost = F.number(spec, "migration_cost", "", default=1.0, minimum=0)
    weights = {t: 1.0 for t in TERMS}
    objective = F.mapping(spec.get("objective", {}) or {}, "objective")
    F.no_unknown_keys(objective, TERMS, "objective")
    for term in TERMS:
        weights[term] = F.number(objective, term, "objective", default=1.0, minimum=0)
    return Placement(
        sites=sites,
        services=services,
        resources=resources,
        traffic=traffic,
        latency=latency,
        allowed=allowed,
        anti_affinity=anti,
        affinity=affinity,
        current=current,
        move_cost=move_cost,
        weights=weights,
        name=F.text(spec, "name", "", default="placement") or "placement",
    )


def _parse_sites(items: list[Any] | None) -> list[Site]:
    if not items:
        raise SpecError("sites", "at least one site is required")
    sites, seen = [], set()
    for k, item in enumerate(items):
        where = F.join("sites", k)
        item = F.mapping(item, where)
        F.no_unknown_keys(item, ("name", "capacity", "price", "open_cost", "zone", "region"), where)
        site_name = F.name(item.get("name"), F.join(where, "name"))
        if site_name in seen:
            raise SpecError(F.join(where, "name"), f"duplicate site name {site_name!r}")
        seen.add(site_name)
        if "capacity" not in item:
            raise SpecError(F.join(where, "capacity"), "is required")
        zone = F.text(item, "zone", where, default=site_name) or site_name
        sites.append(
            Site(
                name=site_name,
                capacity=F.number_map(item["capacity"], F.join(where, "capacity"), minimum=0),
                price=F.number_map(item.get("price", {}) or {}, F.join(where, "price"), minimum=0),
                open_cost=F.number(item, "open_cost", where, default=0.0, minimum=0),
                zone=zone,
                region=F.text(item, "region", where, default=zone) or zone,
            )
        )
    return sites


def _parse_resources(spec: Mapping[str, Any], sites: list[Site]) -> list[str]:
    if "resources" in spec:
        names = [F.name(r, F.join("resources", k)) for k, r in enumerate(F.sequence(spec["resources"], "resources"))]
    else:
        names = []
        for site in sites:
            names += [r for r in site.capacity if r not in names]
    for k, site in enumerate(sites):
        for key in ("capacity", "price"):
            for r in getattr(site, key):
                if r not in names:
                    raise SpecError(f"sites[{k}].{key}.{r}", f"unknown resource (resources: {', '.join(names)})")
    return names


def _parse_services(items: list[Any] | None, resources: list[str]) -> list[Service]:
    if not items:
        raise SpecError("services", "at least one service is required")
    services, seen = [], set()
    for k, item in enumerate(items):
        where = F.join("services", k)
        item = F.mapping(item, where)
        F.no_unknown_keys(item, ("name", "demand", "group", "migration_cost"), where)
        svc_name = F.name(item.get("name"), F.join(where, "name"))
        if svc_name in seen:
            raise SpecError(F.join(where, "name"), f"duplicate service name {svc_name!r}")
        seen.add(svc_name)
        demand = F.number_map(item.get("demand", {}) or {}, F.join(where, "demand"), minimum=0)
        for r in demand:
            if r not in resources:
                raise SpecError(F.join(where, f"demand.{r}"), f"unknown resource (resources: {', '.join(resources)})")
        move = F.number(item, "migration_cost", where, default=None, minimum=0)
        services.append(Service(svc_name, demand, F.text(item, "group", where), move))
    return services


def _parse_traffic(value: Any, services: set[str]) -> dict[tuple[str, str], float]:
    """Pairs ``[a, b, volume]`` / ``{between: [a, b], volume: v}``, or ``{services: [...], matrix: [[...]]}``."""
    traffic: dict[tuple[str, str], float] = defaultdict(float)

    def add(a: Any, b: Any, volume: Any, where: str) -> None:
        a = F.known(F.name(a, where), services, where, "service")
        b = F.known(F.name(b, where), services, where, "service")
        v = F.to_number(volume, where, minimum=0)
        if a == b:
            if v:
                raise SpecError(where, f"traffic from {a!r} to itself")
            return
        if v:
            traffic[(a, b) if a < b else (b, a)] += v

    if isinstance(value, Mapping):
        F.no_unknown_keys(value, ("services", "matrix"), "traffic")
        names = [F.name(s, F.join("traffic.services", k)) for k, s in enumerate(F.sequence(value.get("services"), "traffic.services"))]
        matrix = _square(value.get("matrix"), len(names), "traffic.matrix")
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if i != j or matrix[i][j]:
                    add(a, b, matrix[i][j], f"traffic.matrix[{i}][{j}]")
        return dict(traffic)
    for k, item in enumerate(F.sequence(value, "traffic")):
        where = F.join("traffic", k)
        if isinstance(item, Mapping):
            F.no_unknown_keys(item, ("between", "volume"), where)
            pair = F.sequence(item.get("between"), F.join(where, "between"))
            if len(pair) != 2:
                raise SpecError(F.join(where, "between"), "must name two services")
            add(pair[0], pair[1], item.get("volume", 1.0), F.join(where, "volume"))
        else:
            triple = F.sequence(item, where)
            if len(triple) not in (2, 3):
                raise SpecError(where, "must be [service, service, volume]")
            add(triple[0], triple[1], triple[2] if len(triple) == 3 else 1.0, where)
    return dict(traffic)


def _square(value: Any, n: int, where: str) -> list[list[float]]:
    rows = F.sequence(value, where)
    if len(rows) != n:
        raise SpecError(where, f"must have {n} rows, got {len(rows)}")
    out = []
    for i, row in enumerate(rows):
        row = F.sequence(row, f"{where}[{i}]")
        if len(row) != n:
            raise SpecError(f"{where}[{i}]", f"must have {n} entries, got {len(row)}")
        out.append([F.to_number(x, f"{where}[{i}][{j}]", minimum=0) for j, x in enumerate(row)])
    return out


def _parse_latency(value: Any, sites: list[Site]) -> np.ndarray:
    """Site-by-site latency: ``matrix``, ``hierarchy`` (default) and/or ``pairs`` overriding it."""
    n = len(sites)
    index = {s.name: k for k, s in enumerate(sites)}
    spec = F.mapping(value if value is not None else {}, "latency")
    F.no_unknown_keys(spec, ("matrix", "sites", "hierarchy", "pairs"), "latency")
    if "matrix" in spec:
        if "hierarchy" in spec:
            raise SpecError("latency", "give either a matrix or a hierarchy, not both")
        order = [F.known(F.name(s, f"latency.sites[{k}]"), index, f"latency.sites[{k}]", "site") for k, s in enumerate(F.sequence(spec["sites"], "latency.sites"))] if "sites" in spec else [s.name for s in sites]
        if sorted(order) != sorted(index):
            raise SpecError("latency.sites", "must list every site exactly once")
        matrix = np.array(_square(spec["matrix"], n, "latency.matrix"))
        perm = [index[s] for s in order]
        latency = np.zeros((n, n))
        latency[np.ix_(perm, perm)] = matrix
    else:
        if "sites" in spec:
            raise SpecError("latency.sites", "only goes with latency.matrix")
        levels = dict(DEFAULT_HIERARCHY)
        given = F.mapping(spec.get("hierarchy", {}) or {}, "latency.hierarchy")
        F.no_unknown_keys(given, DEFAULT_HIERARCHY, "latency.hierarchy")
        levels.update({k: F.number(given, k, "latency.hierarchy", minimum=0) for k in given})
        latency = np.empty((n, n))
        for i, a in enumerate(sites):
            for j, b in enumerate(sites):
                level = "same_site" if i == j else "same_zone" if a.zone == b.zone else "same_region" if a.region == b.region else "other"
                latency[i, j] = levels[level]
    for k, item in enumerate(F.sequence(spec.get("pairs", []), "latency.pairs")):
        where = F.join("latency.pairs", k)
        triple = F.sequence(item, where)
        if len(triple) != 3:
            raise SpecError(where, "must be [site, site, latency]")
        a = index[F.known(F.name(triple[0], where), index, where, "site")]
        b = index[F.known(F.name(triple[1], where), index, where, "site")]
        latency[a, b] = latency[b, a] = F.to_number(triple[2], where, minimum=0)
    return latency


def _names_or_one(value: Any, where: str) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [F.name(v, F.join(where, k) if isinstance(value, (list, tuple)) else where) for k, v in enumerate(items)]


def _parse_allowed(rules: Mapping[str, Any], services: list[Service], sites: list[Site]) -> dict[str, list[str]]:
    site_names = [s.name for s in sites]
    service_names = {s.name for s in services}
    allowed = {s.name: list(site_names) for s in services}
    for key in ("pin", "forbid"):
        for svc, value in F.mapping(rules.get(key, {}) or {}, f"rules.{key}").items():
            where = f"rules.{key}.{svc}"
            svc = F.known(F.name(svc, where), service_names, where, "service")
            chosen = {F.known(s, set(site_names), where, "site") for s in _names_or_one(value, where)}
            if key == "pin":
                allowed[svc] = [s for s in allowed[svc] if s in chosen]
            else:
                allowed[svc] = [s for s in allowed[svc] if s not in chosen]
            if not allowed[svc]:
                raise SpecError(where, f"service {svc!r} has no site left to run on")
    return allowed


def _parse_anti(item: Any, where: str, groups: set[str]) -> AntiAffinity:
    item = F.mapping(item, where)
    F.no_unknown_keys(item, ("group", "scope", "max_per_domain"), where)
    group = F.known(F.name(item.get("group"), F.join(where, "group")), groups, F.join(where, "group"), "group")
    return AntiAffinity(group, F.choice(item, "scope", where, SCOPES, "site"), int(F.number(item, "max_per_domain", where, default=1, minimum=1, integer=True)))


def _parse_affinity(item: Any, where: str, services: set[str]) -> Affinity:
    item = F.mapping(item, where)
    F.no_unknown_keys(item, ("services", "scope"), where)
    names = [F.known(F.name(s, F.join(F.join(where, "services"), k)), services, F.join(where, "services"), "service") for k, s in enumerate(F.sequence(item.get("services"), F.join(where, "services")))]
    if len(names) < 2:
        raise SpecError(F.join(where, "services"), "must name at least two services")
    return Affinity(tuple(names), F.choice(item, "scope", where, SCOPES, "site"))
