"""Parsing a ``kind: placement`` spec into a :class:`~hqopt.formulations.placement.Placement`.

Every field is validated (``SpecError`` names it); the operational fields
(``current``, ``sites_down``, ``max_moves``, ``migration_cost``) are applied by
:func:`apply_operations`, which :meth:`Placement.replan` reuses.

Example:
    >>> p = parse({"sites": [{"name": "a", "capacity": {"cpu": 2}}], "services": [{"name": "s", "demand": {"cpu": 1}}]})
    >>> p.allowed
    {'s': ['a']}
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from hqopt.errors import SpecError
from hqopt.formulations import fields as F
from hqopt.formulations.placement import (
    DEFAULT_HIERARCHY,
    SCOPES,
    TERMS,
    Affinity,
    AntiAffinity,
    Placement,
    Service,
    Site,
)

_TOP_FIELDS = ("name", "resources", "sites", "services", "traffic", "latency", "rules", "current", "sites_down", "max_moves", "migration_cost", "objective")


def parse(spec: Mapping[str, Any]) -> Placement:
    """The Placement a spec mapping (without ``kind``) describes."""
    F.no_unknown_keys(spec, _TOP_FIELDS, "")
    sites = _parse_sites(F.sequence(spec.get("sites"), "sites") if "sites" in spec else None)
    resources = _parse_resources(spec, sites)
    services = _parse_services(F.sequence(spec["services"], "services") if "services" in spec else None, resources)
    service_names = {s.name for s in services}
    traffic = _parse_traffic(spec.get("traffic", []), service_names)
    latency = _parse_latency(spec.get("latency"), sites)
    rules = F.mapping(spec.get("rules", {}) or {}, "rules")
    F.no_unknown_keys(rules, ("anti_affinity", "affinity", "pin", "forbid"), "rules")
    allowed = _parse_allowed(rules, services, sites)
    _check_demand_fits(services, sites, allowed)
    groups = {s.group for s in services if s.group is not None}
    anti = [_parse_anti(item, F.join("rules.anti_affinity", k), groups) for k, item in enumerate(F.sequence(rules.get("anti_affinity", []), "rules.anti_affinity"))]
    affinity = [_parse_affinity(item, F.join("rules.affinity", k), service_names) for k, item in enumerate(F.sequence(rules.get("affinity", []), "rules.affinity"))]
    _check_rules_agree(anti, affinity, services)
    weights = {t: 1.0 for t in TERMS}
    objective = F.mapping(spec.get("objective", {}) or {}, "objective")
    F.no_unknown_keys(objective, TERMS, "objective")
    for term in TERMS:
        weights[term] = F.number(objective, term, "objective", default=1.0, minimum=0)
    base = Placement(
        sites=sites,
        services=services,
        resources=resources,
        traffic=traffic,
        latency=latency,
        allowed=allowed,
        anti_affinity=anti,
        affinity=affinity,
        weights=weights,
        name=F.text(spec, "name", "", default="placement") or "placement",
    )
    return apply_operations(base, spec)


def plan_of(data: Any) -> dict[str, Any]:
    """``{service: site}`` from a plain mapping, a decoded answer or a whole Result JSON dict."""
    data = F.mapping(data, "current")
    if "decoded" in data and "solution" in data:  # a Result (hqopt solve --output)
        if data["solution"] is None or not isinstance(data["decoded"], Mapping):
            raise SpecError("current", "the result holds no feasible plan to start from (no solution, an infeasible one, or another kind of problem's)")
        if not isinstance(data["decoded"].get("assignment"), Mapping):
            raise SpecError("current", "the result is not a placement plan (it answers another kind of problem)")
        data = data["decoded"]
    elif "services" in data and "sites" in data:
        raise SpecError("current", "a placement spec, not a plan: give {service: site} or a result of hqopt solve --output")
    if isinstance(data.get("assignment"), Mapping):
        data = data["assignment"]
    return dict(data)


def down_of(data: Any) -> list[str]:
    """The sites a Result JSON dict or a decoded answer marks down (``decoded.sites[*].down``); [] for a
    plain ``{service: site}`` plan.

    >>> down_of({"assignment": {"s": "b"}, "sites": [{"site": "a", "down": True}, {"site": "b", "down": False}]})
    ['a']
    """
    if not isinstance(data, Mapping):
        return []
    if isinstance(data.get("decoded"), Mapping):  # a Result
        data = data["decoded"]
    rows = data.get("sites") if isinstance(data.get("assignment"), Mapping) else None
    if not isinstance(rows, list):
        return []
    return [str(row["site"]) for row in rows if isinstance(row, Mapping) and row.get("down") is True and "site" in row]


def apply_operations(p: Placement, spec: Mapping[str, Any]) -> Placement:
    """``p`` with the operational fields of ``spec``: current, sites_down, max_moves, migration_cost."""
    site_names = {s.name for s in p.sites}
    service_names = {s.name for s in p.services}
    down = [F.known(F.name(d, F.join("sites_down", k)), site_names, F.join("sites_down", k), "site") for k, d in enumerate(F.sequence(spec.get("sites_down", []) or [], "sites_down"))]
    if down and site_names <= set(down):
        raise SpecError("sites_down", f"every site is down ({len(site_names)} of {len(site_names)}): no service can run anywhere")
    permitted = p.permitted or p.allowed  # (a site back up is allowed again)
    allowed = {svc: [s for s in sites if s not in down] for svc, sites in permitted.items()}
    for svc, sites in allowed.items():
        if not sites:
            which = "it is down" if len(permitted[svc]) == 1 else f"all {len(permitted[svc])} are down"
            raise SpecError("sites_down", f"service {svc!r} may only run on {', '.join(permitted[svc])} (rules.pin/forbid), and {which}")
    if down:
        _check_demand_fits(p.services, p.sites, allowed, down)
    current = {}
    for svc, site in F.mapping(spec.get("current", {}) or {}, "current").items():
        where = F.join("current", str(svc))
        # the service before its site: another estate's plan is named by its unknown services first
        service = F.known(F.name(svc, where), service_names, where, "service")
        current[service] = F.known(F.name(site, where), site_names, where, "site")
    max_moves = F.number(spec, "max_moves", "", default=None, minimum=0, integer=True)
    if max_moves is not None and not current:  # nothing moves without a placement to move from
        raise SpecError("max_moves", "counts moves from a current placement: give one (current:, or --current)")
    if max_moves is not None:
        forced = sorted(s for s, site in current.items() if site not in allowed[s])
        if len(forced) > max_moves:
            raise SpecError("max_moves", f"{len(forced)} services must move (their sites are down or not allowed: {', '.join(forced[:5])}...) but at most {int(max_moves)} may")
    return replace(
        p,
        permitted=permitted,
        allowed=allowed,
        current=current,
        down=tuple(down),
        max_moves=None if max_moves is None else int(max_moves),
        move_cost=F.number(spec, "migration_cost", "", default=1.0, minimum=0),
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
    return _zones_within_regions(sites)


def _zones_within_regions(sites: list[Site]) -> list[Site]:
    """Sites whose zone name recurs in another region (zone ``a`` of ``eu`` and of ``us``) get the zone
    ``region/zone``: zones nest in regions, so those are two zones, not one spanning both.

    >>> [s.zone for s in _zones_within_regions([Site("x", {}, zone="a", region="eu"), Site("y", {}, zone="a", region="us")])]
    ['eu/a', 'us/a']
    """
    regions: dict[str, set[str]] = {}
    for site in sites:
        regions.setdefault(site.zone, set()).add(site.region)
    scoped = [replace(s, zone=f"{s.region}/{s.zone}") if len(regions[s.zone]) > 1 else s for s in sites]
    for k, (before, after) in enumerate(zip(sites, scoped)):
        if after.zone != before.zone and after.zone in regions:
            raise SpecError(F.join(F.join("sites", k), "zone"), f"zone {before.zone!r} is in several regions, and {after.zone!r}, its name within {before.region!r}, is another zone's: rename one")
    return scoped


def _parse_resources(spec: Mapping[str, Any], sites: list[Site]) -> list[str]:
    if "resources" in spec:
        names = [F.name(r, F.join("resources", k)) for k, r in enumerate(F.sequence(spec["resources"], "resources"))]
        for k, r in enumerate(names):
            if r in names[:k]:
                raise SpecError(F.join("resources", k), f"duplicate resource name {r!r}")
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
            for j, b in enumerate(names[i:], start=i):  # each pair once: the matrix is symmetric
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
    """A symmetric ``n`` x ``n`` matrix of numbers >= 0 (traffic or latency: one value a pair)."""
    rows = F.sequence(value, where)
    if len(rows) != n:
        raise SpecError(where, f"must have {n} rows, got {len(rows)}")
    out = []
    for i, row in enumerate(rows):
        row = F.sequence(row, f"{where}[{i}]")
        if len(row) != n:
            raise SpecError(f"{where}[{i}]", f"must have {n} entries, got {len(row)}")
        out.append([F.to_number(x, f"{where}[{i}][{j}]", minimum=0) for j, x in enumerate(row)])
    for i in range(n):
        for j in range(i):
            if out[i][j] != out[j][i]:
                raise SpecError(
                    f"{where}[{i}][{j}]",
                    f"is {out[i][j]:g} but [{j}][{i}] is {out[j][i]:g}: the matrix is symmetric "
                    "(one value for each pair, whichever comes first)",
                )
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


def _check_demand_fits(
    services: list[Service], sites: list[Site], allowed: dict[str, list[str]], down: Sequence[str] = ()
) -> None:
    """Refuse demand no plan can meet: a service that fits on no site it may run on (say which and
    why), or a resource the services need more of in all than the sites have together.

    With ``down`` (sites_down, a re-plan) the sites left are checked and the field named is ``sites_down``.
    Demand that fits in total but cannot be packed (no site has room for what is left) is left to the solvers.
    """
    by_name = {s.name: s for s in sites}
    for k, svc in enumerate(services):
        candidates = [by_name[name] for name in allowed[svc.name]]
        if any(all(need <= site.capacity.get(r, 0.0) for r, need in svc.demand.items()) for site in candidates):
            continue
        short = [r for r, need in svc.demand.items() if need > max(site.capacity.get(r, 0.0) for site in candidates)]
        what = short[0] if short else next(iter(svc.demand))
        most = max(site.capacity.get(what, 0.0) for site in candidates)
        scope = "that is up" if down else "it may run on" if len(candidates) < len(sites) else ""
        reason = (f"needs {what} {svc.demand[what]:g}, more than any site {scope} has (at most {most:g})" if short
                  else "needs more of its resources together than any one site has")  # fmt: skip
        field = "sites_down" if down else F.join(F.join("services", k), "demand")
        raise SpecError(field, f"{svc.name!r} fits on no site: {reason.replace('  ', ' ')}")
    up = [site for site in sites if site.name not in down]
    for r in dict.fromkeys(r for svc in services for r in svc.demand):  # every service runs: the sum must fit
        need = math.fsum(svc.demand.get(r, 0.0) for svc in services)
        have = math.fsum(site.capacity.get(r, 0.0) for site in up)
        if need > have * (1 + 1e-12):
            where = "that are up " if down else ""
            raise SpecError("sites_down" if down else "services", f"the services need {r} {need:.15g} in all, more than the sites {where}have together ({have:.15g})")


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
    repeated = sorted({s for s in names if names.count(s) > 1})
    if repeated:
        raise SpecError(F.join(where, "services"), f"names {', '.join(map(repr, repeated))} twice")
    return Affinity(tuple(names), F.choice(item, "scope", where, SCOPES, "site"))


def _check_rules_agree(anti: list[AntiAffinity], affinity: list[Affinity], services: list[Service]) -> None:
    """Refuse an affinity rule that puts more services of a group in one domain than an anti-affinity
    rule of that group allows there (same site implies same zone and region): no plan could keep both.

    >>> _check_rules_agree([AntiAffinity("db", "zone")], [Affinity(("a", "b"), "site")], [Service("a", {}, group="db"), Service("b", {}, group="db")])
    Traceback (most recent call last):
    ...
    hqopt.errors.SpecError: field 'rules.affinity[0]': puts a, b on one site, but rules.anti_affinity[0] allows at most 1 of group 'db' per zone
    """
    group_of = {s.name: s.group for s in services}
    for j, together in enumerate(affinity):
        for k, apart in enumerate(anti):
            if SCOPES.index(apart.scope) < SCOPES.index(together.scope):
                continue  # apart on sites, together in a zone: both can hold
            members = [s for s in together.services if group_of[s] == apart.group]
            if len(members) > apart.max_per_domain:
                raise SpecError(
                    F.join("rules.affinity", j),
                    f"puts {', '.join(members)} on one {together.scope}, but {F.join('rules.anti_affinity', k)} "
                    f"allows at most {apart.max_per_domain} of group {apart.group!r} per {apart.scope}",
                )
