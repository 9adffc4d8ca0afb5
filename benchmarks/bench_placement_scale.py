"""Placement at scale: time, peak memory, objective, whole-objective bound and gap per size and backend.

Each (size, backend) runs in its own process so its peak RSS is its own.
Generated instances (``generate_placement(n, m, seed=1)``); the bound is
``Placement.lower_bound()`` (LP + forced traffic), the same for every backend.

    flock /tmp/hqopt-cpu.lock python benchmarks/bench_placement_scale.py --sizes 200x20:20 500x30:30 1000x50:60 --backends auto cpsat sa

A size may carry its own time limit (``1000x50:60``); otherwise ``--limit``.

Columns: build = generate + parse + to_model (s); total = build + solve (s), where
the solve gets what the build left of the limit (so load + build + solve fit in it);
rss = peak resident memory of the process (MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def one(size: str, backend: str, limit: float) -> dict:
    import hqopt
    from hqopt.formulations.placement import Placement
    from hqopt.formulations.placement_generator import generate_placement
    from hqopt.formulations.placement_heuristic import greedy_plan

    n, m = (int(x) for x in size.split("x"))
    t0 = time.perf_counter()
    spec = generate_placement(n, m, seed=1)
    spec.pop("kind")
    p = Placement.from_spec(spec)
    model = p.to_model()
    build = time.perf_counter() - t0
    result = hqopt.solve(model, backend=backend, time_limit=limit - build, seed=1)
    total = time.perf_counter() - t0
    bound = p.lower_bound()
    gap = (result.objective - bound.value) / result.objective if result.feasible else None
    plan = greedy_plan(p)  # the warm start solve() began from (Placement.warm_start)
    warm = p.check(plan).objective if plan else None
    return {
        "size": size, "backend": result.backend, "limit": limit, "build": build, "total": total,
        "solve": result.timing.total, "feasible": result.feasible, "objective": result.objective,
        "warm_start": warm, "bound": bound.value, "gap": gap, "bound_s": bound.seconds,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "variables": model.num_variables,
        "constraints": model.num_constraints,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["200x20", "500x30", "1000x50"])
    parser.add_argument("--backends", nargs="+", default=["auto", "cpsat", "sa"])
    parser.add_argument("--limit", type=float, default=60.0)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], args.limit)))
        return
    print("| size | limit s | backend | vars | build s | total s | peak RSS MB | objective | greedy start | bound | gap |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for item in args.sizes:
        size, _, own = item.partition(":")
        limit = float(own) if own else args.limit
        for backend in args.backends:
            cmd = [sys.executable, __file__, "--one", size, backend, "--limit", str(limit)]
            try:
                out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=limit * 4 + 60)
                r = json.loads(out.stdout.strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, IndexError, json.JSONDecodeError) as exc:
                print(f"| {size} | {limit:g} | {backend} | - | - | - | - | failed: {type(exc).__name__} | - | - | - |", flush=True)
                continue
            gap = "-" if r["gap"] is None else f"{100 * r['gap']:.1f} %"
            objective = f"{r['objective']:.0f}" if r["feasible"] else "no feasible"
            print(
                f"| {size} | {limit:g} | {backend} ({r['backend']}) | {r['variables']} | {r['build']:.1f} | {r['total']:.1f} | {r['rss_mb']:.0f} "
                f"| {objective} | {r['warm_start']} | {r['bound']:.0f} | {gap} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
