"""Realistic placement instances (10 to 2000+ services), seeded and feasible by construction.

:func:`generate_placement` returns a ``kind: placement`` spec dict modelled on a
microservice estate:

* **Sites in regions > zones > sites.** Zones hold 2-5 sites, regions 2-3
  zones. Latency follows the hierarchy ``0 / 1 / 5 / 25`` (same site / zone /
  region / other).
* **Heterogeneous sites.** Each zone has a hardware generation: older zones
  have small and medium servers, newer ones medium, large and GPU servers.
  Prices per unit differ by region (a factor 0.7-1.4) and site; the opening
  cost grows with the site's size. Capacities are scaled so that the estate
  has about :data:`HEADROOM` times the total demand.
* **Applications** of 3-12 microservices (a heavy-tailed size) plus one shared
  *platform* application (auth, config, ...) that other applications call.
  Tiers are replicated (2-4 replicas, a replica ``group``) with an
  anti-affinity rule per group (scope ``zone`` where there are enough zones,
  else ``site``); stateful data tiers also sync between their replicas.
* **Traffic from a call graph.** Inside an application each tier is called
  by one or two earlier tiers, preferring tiers that already call many
  (preferential attachment: a few hubs); volumes are log-normal (heavy
  tailed) and split over the replicas of the two tiers.
* **Rules.** A pin (a GPU service to a GPU site where there is one) and a
  forbid; with ``migration=True`` a current placement and move costs
  (stateful services cost more to move).

Feasibility: a witness placement keeping every rule is built as the instance
is generated, and capacities are raised wherever it needs room. With
``migration=True`` the witness is the current placement. All numbers are
integers.

Example:
    >>> from hqopt.formulations.placement import Placement
    >>> spec = generate_placement(12, 3, seed=1)
    >>> p = Placement.from_spec({k: v for k, v in spec.items() if k != "kind"})
    >>> len(p.services), len(p.sites)
    (12, 3)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hqopt.errors import SpecError

#: server types: (cpu, memory GiB, gpu)
SERVER_TYPES = {"small": (16, 64, 0), "medium": (32, 128, 0), "large": (64, 256, 0), "gpu": (64, 256, 4)}
#: server mix of an older and a newer zone
GENERATIONS = {"old": {"small": 0.5, "medium": 0.5}, "new": {"medium": 0.3, "large": 0.5, "gpu": 0.2}}
#: microservice sizes: (cpu, memory GiB); data tiers use the memory-heavy ones
SERVICE_SIZES = [(1, 2), (2, 4), (2, 8), (4, 8), (4, 16), (8, 32)]
DATA_SIZES = [(4, 32), (8, 64), (8, 32)]
#: latency between sites by how much of the hierarchy they share
HIERARCHY = {"same_site": 0, "same_zone": 1, "same_region": 5, "other": 25}
#: total capacity is about this multiple of total demand
HEADROOM = 1.6
PLATFORM = ("auth", "config", "metrics", "queue")


def generate_placement(
    services: int,
    sites: int,
    seed: int = 0,
    *,
    migration: bool = False,
    rules: bool = True,
    name: str | None = None,
) -> dict[str, Any]:
    """A feasible placement spec with ``services`` services on ``sites`` sites.

    Args:
        services: number of services (>= 1).
        sites: number of sites (>= 1).
        seed: the same seed gives the same instance.
        migration: add a current placement (the witness) with a move cost of
            10, 40 for stateful (data) services.
        rules: replica groups with anti-affinity, a pin and a forbid.
        name: the spec's name (default ``gen-<services>x<sites>-s<seed>``).
    """
    if services < 1 or sites < 1:
        raise SpecError("services" if services < 1 else "sites", "must be at least 1")
    rng = np.random.default_rng(seed)
    site_specs = _sites(sites, rng)
    n_zones = len({s["zone"] for s in site_specs})
    has_gpu = any("gpu" in s["capacity"] for s in site_specs)
    service_specs, traffic, groups = _services(services, min(sites, 4), rules, has_gpu, rng)
    _scale_capacities(site_specs, service_specs, rng)
    anti = []
    for group, members in groups.items():
        scope = "zone" if n_zones >= len(members) and rng.random() < 0.5 else "site"
        anti.append({"group": group, "scope": scope})
    witness = _witness(site_specs, service_specs, anti, rng)

    spec: dict[str, Any] = {
        "kind": "placement",
        "name": name or f"gen-{services}x{sites}-s{seed}",
        "resources": ["cpu", "memory"] + (["gpu"] if has_gpu else []),
        "sites": site_specs,
        "services": service_specs,
        "traffic": traffic,
        "latency": {"hierarchy": dict(HIERARCHY)},
        "objective": {"communication": 1, "energy": 1, "opening": 1, "migration": 1},
    }
    rule_spec: dict[str, Any] = {}
    if rules and anti:
        rule_spec["anti_affinity"] = anti
    if rules and sites > 1 and services > 1:
        gpu_users = [s["name"] for s in service_specs if "gpu" in s["demand"]]
        pinned = gpu_users[0] if gpu_users else service_specs[int(rng.integers(services))]["name"]
        rule_spec["pin"] = {pinned: witness[pinned]}
        candidates = [s["name"] for s in service_specs if s["name"] != pinned]
        forbidden = candidates[int(rng.integers(len(candidates)))]
        others = [s["name"] for s in site_specs if s["name"] != witness[forbidden]]
        rule_spec["forbid"] = {forbidden: others[int(rng.integers(len(others)))]}
    if rule_spec:
        spec["rules"] = rule_spec
    if migration:
        spec["current"] = {s["name"]: witness[s["name"]] for s in service_specs}
        spec["migration_cost"] = 10
        for s in service_specs:
            if "-db" in s["name"]:
                s["migration_cost"] = 40
    return spec


def _sites(count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Regions of 2-3 zones of 2-5 sites; hardware by zone generation, prices by region."""
    zone_sizes: list[int] = []
    while sum(zone_sizes) < count:
        zone_sizes.append(min(int(rng.integers(2, 6)), count - sum(zone_sizes)))
    specs = []
    region, zones_left, factor = 0, 0, 1.0
    for z, size in enumerate(zone_sizes):
        if zones_left == 0:
            region += 1
            zones_left = int(rng.integers(2, 4))
            factor = rng.uniform(0.7, 1.4)
        zones_left -= 1
        mix = GENERATIONS["new" if rng.random() < 0.5 else "old"]
        for _ in range(size):
            kind = str(rng.choice(list(mix), p=list(mix.values())))
            cpu, mem, gpu = SERVER_TYPES[kind]
            capacity = {"cpu": cpu, "memory": mem, **({"gpu": gpu} if gpu else {})}
            price = {"cpu": max(1, round(factor * rng.integers(2, 5))), "memory": 1, **({"gpu": 20} if gpu else {})}
            specs.append(
                {
                    "name": f"r{region}-z{z + 1}-s{len(specs) + 1}",
                    "zone": f"r{region}-z{z + 1}",
                    "region": f"r{region}",
                    "capacity": capacity,
                    "price": price,
                    "open_cost": int(10 * cpu / 16 + rng.integers(0, 20)),
                }
            )
    return specs


def _services(
    count: int, max_replicas: int, rules: bool, has_gpu: bool, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[list[Any]], dict[str, list[str]]]:
    """Services (platform first, then applications), call-graph traffic and replica groups."""
    specs: list[dict[str, Any]] = []
    traffic: list[list[Any]] = []
    groups: dict[str, list[str]] = {}
    platform: list[list[str]] = []

    def tier(name: str, size: tuple[int, int], replicas: int) -> list[str]:
        replicas = max(1, min(replicas if rules else 1, count - len(specs), max_replicas))
        names = [name + (f"-{r + 1}" if replicas > 1 else "") for r in range(replicas)]
        for n in names:
            specs.append({"name": n, "demand": {"cpu": size[0], "memory": size[1]}})
            if replicas > 1:
                specs[-1]["group"] = name
        if replicas > 1:
            groups[name] = names
        return names

    def call(a: list[str], b: list[str], volume: float) -> None:
        per_pair = max(1, round(volume / max(len(a), len(b))))
        traffic.extend([x, y, per_pair] for x in a for y in b)

    if count >= 40:
        for name in PLATFORM[: 1 + count // 200]:
            platform.append(tier(f"platform-{name}", SERVICE_SIZES[int(rng.integers(1, 4))], int(rng.integers(2, 4))))
    app = 0
    while len(specs) < count:
        app += 1
        size = min(3 + int(rng.geometric(0.25)), 12)
        tiers: list[list[str]] = []
        fan_out: list[int] = []
        for t in range(size):
            if len(specs) >= count:
                break
            data = t == size - 1 and size >= 4
            shape = DATA_SIZES[int(rng.integers(len(DATA_SIZES)))] if data else SERVICE_SIZES[int(rng.integers(len(SERVICE_SIZES)))]
            replicas = int(rng.integers(2, 4)) if (t == 0 or data or rng.random() < 0.3) else 1
            names = tier(f"app{app}-{'db' if data else f't{t + 1}'}", shape, replicas)
            if has_gpu and not data and rng.random() < 0.03:
                for n in names:
                    next(s for s in specs if s["name"] == n)["demand"]["gpu"] = 1
            if data and len(names) > 1:  # replicas of a stateful tier keep in sync
                sync = int(rng.integers(2, 6))
                traffic.extend([a, b, sync] for j, a in enumerate(names) for b in names[j + 1 :])
            if tiers:  # called by one or two earlier tiers, preferring busy callers
                weights = np.array(fan_out, float) + 1.0
                callers = rng.choice(len(tiers), size=min(len(tiers), int(rng.integers(1, 3))), replace=False, p=weights / weights.sum())
                for c in callers:
                    call(tiers[c], names, float(np.ceil(rng.lognormal(1.5, 1.0))))
                    fan_out[c] += 1
            tiers.append(names)
            fan_out.append(0)
        if platform and tiers:  # the application's entry tier uses a platform service
            call(tiers[0], platform[int(rng.integers(len(platform)))], float(np.ceil(rng.lognormal(1.0, 0.8))))
    return specs, traffic, groups


def _scale_capacities(site_specs: list[dict[str, Any]], service_specs: list[dict[str, Any]], rng: np.random.Generator) -> None:
    """Scale cpu and memory so that total capacity is about HEADROOM x total demand (sizes keep their ratios)."""
    for r in ("cpu", "memory"):
        need = sum(s["demand"][r] for s in service_specs)
        have = sum(s["capacity"][r] for s in site_specs)
        factor = HEADROOM * need / have
        for s in site_specs:
            s["capacity"][r] = max(1, math.ceil(s["capacity"][r] * factor * rng.uniform(0.9, 1.1)))


def _witness(
    site_specs: list[dict[str, Any]],
    service_specs: list[dict[str, Any]],
    anti: list[dict[str, Any]],
    rng: np.random.Generator,
) -> dict[str, str]:
    """A placement that keeps every rule; capacities are raised where it needs room."""
    used = [{r: 0 for r in s["capacity"]} for s in site_specs]
    scope_of = {rule["group"]: rule["scope"] for rule in anti}
    taken: dict[str, set[str]] = {}
    witness: dict[str, str] = {}

    def slack(k: int, demand: dict[str, int]) -> float:
        cap = site_specs[k]["capacity"]
        return min((cap.get(r, 0) - used[k].get(r, 0) - d) / max(cap.get(r, 0), 1) for r, d in demand.items())

    order = rng.permutation(len(service_specs))
    for i in sorted(order, key=lambda i: -service_specs[i]["demand"]["cpu"]):
        svc = service_specs[i]
        group = svc.get("group")
        scope = scope_of.get(group) if group else None
        key = "name" if scope == "site" else scope
        candidates = [k for k in range(len(site_specs)) if not (scope and site_specs[k][key] in taken.get(group, set()))]
        best = max(candidates, key=lambda k: slack(k, svc["demand"]))
        for r, d in svc["demand"].items():
            used[best][r] = used[best].get(r, 0) + d
            if used[best][r] > site_specs[best]["capacity"].get(r, 0):
                site_specs[best]["capacity"][r] = used[best][r]
                site_specs[best]["price"].setdefault(r, 20)
        witness[svc["name"]] = site_specs[best]["name"]
        if scope:
            taken.setdefault(group, set()).add(site_specs[best][key])
    return witness
