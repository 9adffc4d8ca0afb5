"""Realistic placement instances, feasible by construction.

:func:`generate_placement` returns a ``kind: placement`` spec dict with

* sites spread over regions and zones (about 4 sites per zone, 2-3 zones per
  region) and a same-site/zone/region latency hierarchy;
* heterogeneous sites: small, medium and large servers (cpu, memory), some
  with GPUs, prices that vary by site, opening costs;
* services grouped into applications of 3-8 microservices; traffic is dense
  inside an application and sparse between applications; some tiers are
  replicated (a replica ``group``) with an anti-affinity rule;
* optionally a current placement with a cost per move, and a pin and a forbid.

Feasibility: a witness placement that keeps every rule is built while the
instance is generated, and capacities are raised wherever the witness needs
it. All numbers are integers (CP-SAT and penalty slack encodings like that).

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
SERVER_TYPES = {"small": (16, 64, 0), "medium": (32, 128, 0), "large": (64, 256, 4)}
#: microservice sizes: (cpu, memory GiB)
SERVICE_SIZES = [(1, 2), (2, 4), (2, 8), (4, 8), (4, 16), (8, 32)]
#: latency between sites by how much of the hierarchy they share
HIERARCHY = {"same_site": 0, "same_zone": 1, "same_region": 5, "other": 25}
#: total capacity is about this multiple of total demand
HEADROOM = 1.6


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
        migration: add a current placement (the witness placement) with a
            move cost of 10, and a higher one for about 20% of the services.
        rules: add anti-affinity for replica groups, one pin and one forbid.
        name: the spec's name (default ``gen-<services>x<sites>-s<seed>``).
    """
    if services < 1 or sites < 1:
        raise SpecError("services" if services < 1 else "sites", "must be at least 1")
    rng = np.random.default_rng(seed)

    # ---- sites: regions > zones > sites
    n_zones = max(1, math.ceil(sites / 4))
    zones_per_region = 3 if n_zones >= 3 else n_zones
    site_specs = []
    for k in range(sites):
        zone = k % n_zones
        region = zone // zones_per_region
        kind = rng.choice(list(SERVER_TYPES), p=[0.3, 0.5, 0.2])
        cpu, mem, gpu = SERVER_TYPES[kind]
        capacity = {"cpu": cpu, "memory": mem}
        if gpu:
            capacity["gpu"] = gpu
        site_specs.append(
            {
                "name": f"r{region + 1}-z{zone + 1}-s{k + 1}",
                "zone": f"r{region + 1}-z{zone + 1}",
                "region": f"r{region + 1}",
                "capacity": capacity,
                "price": {"cpu": int(rng.integers(2, 6)), "memory": 1, **({"gpu": 20} if gpu else {})},
                "open_cost": int(rng.integers(2, 7)) * 10,
            }
        )
    has_gpu = any("gpu" in s["capacity"] for s in site_specs)

    # ---- services: applications of microservices, some tiers replicated
    service_specs: list[dict[str, Any]] = []
    apps: list[list[str]] = []
    groups: list[list[int]] = []
    while len(service_specs) < services:
        app = len(apps) + 1
        members: list[str] = []
        size = int(rng.integers(3, 9))
        tier = 0
        while len(members) < size and len(service_specs) < services:
            tier += 1
            cpu, mem = SERVICE_SIZES[int(rng.integers(len(SERVICE_SIZES)))]
            replicas = int(rng.integers(2, 4)) if rules and rng.random() < 0.4 else 1
            replicas = min(replicas, services - len(service_specs), max(1, sites))
            group = f"app{app}-t{tier}" if replicas > 1 else None
            start = len(service_specs)
            for r in range(replicas):
                spec: dict[str, Any] = {"name": f"app{app}-t{tier}" + (f"-{r + 1}" if replicas > 1 else ""), "demand": {"cpu": cpu, "memory": mem}}
                if has_gpu and rng.random() < 0.05:
                    spec["demand"]["gpu"] = 1
                if group:
                    spec["group"] = group
                service_specs.append(spec)
                members.append(spec["name"])
            if group:
                groups.append(list(range(start, len(service_specs))))
        apps.append(members)

    # ---- traffic: dense inside an application, sparse between
    traffic: list[list[Any]] = []
    for members in apps:
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if rng.random() < 0.6:
                    traffic.append([a, b, int(rng.integers(1, 11))])
    for k in range(len(apps) - 1):
        for _ in range(int(rng.integers(1, 3))):
            other = int(rng.integers(k + 1, len(apps)))
            a = apps[k][int(rng.integers(len(apps[k])))]
            b = apps[other][int(rng.integers(len(apps[other])))]
            traffic.append([a, b, int(rng.integers(1, 4))])

    # ---- capacities scaled to the demand, then a witness placement
    _scale_capacities(site_specs, service_specs, rng)
    anti = []
    for members in groups:
        scope = "zone" if n_zones >= len(members) and rng.random() < 0.5 else "site"
        anti.append({"group": service_specs[members[0]]["group"], "scope": scope})
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
        pinned = service_specs[int(rng.integers(services))]["name"]
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
            if rng.random() < 0.2:
                s["migration_cost"] = int(rng.integers(20, 60))
    return spec


def _scale_capacities(site_specs: list[dict[str, Any]], service_specs: list[dict[str, Any]], rng: np.random.Generator) -> None:
    """Scale cpu and memory so that total capacity is about HEADROOM x total demand."""
    for r in ("cpu", "memory"):
        need = sum(s["demand"][r] for s in service_specs)
        have = sum(s["capacity"][r] for s in site_specs)
        factor = HEADROOM * need / have
        for s in site_specs:
            s["capacity"][r] = max(1, int(math.ceil(s["capacity"][r] * factor * rng.uniform(0.9, 1.1))))


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
    order = rng.permutation(len(service_specs))
    for i in sorted(order, key=lambda i: -service_specs[i]["demand"]["cpu"]):
        svc = service_specs[i]
        group = svc.get("group")
        scope = scope_of.get(group) if group else None
        key = "name" if scope == "site" else scope
        candidates = [k for k in range(len(site_specs)) if not (scope and site_specs[k][key] in taken.get(group, set()))]

        def slack(k: int) -> float:
            cap = site_specs[k]["capacity"]
            return min((cap.get(r, 0) - used[k].get(r, 0) - d) / max(cap.get(r, 0), 1) for r, d in svc["demand"].items())

        best = max(candidates, key=slack)
        for r, d in svc["demand"].items():
            used[best][r] = used[best].get(r, 0) + d
            if used[best][r] > site_specs[best]["capacity"].get(r, 0):
                site_specs[best]["capacity"][r] = used[best][r]
                site_specs[best]["price"].setdefault(r, 20)
        witness[svc["name"]] = site_specs[best]["name"]
        if scope:
            taken.setdefault(group, set()).add(site_specs[best][key])
    return witness
