"""Backend ``ls`` side by side with the anchors, in ONE run (development set only).

Per instance the solvers run one after the other at the same budget:
  ls     hqopt.solve(backend="ls")               auto   hqopt.solve(backend="auto")
  M      MQLib BURER2002 (--mqlib PATH)           B      dwave-samplers SA restarts
  D      OpenJij SA restarts (if installed)       E      CP-SAT alone, 2 workers
  Ft     tabu on dimod's naive penalty BQM        R      HiGHS reference (facility location)
Generated placements (``place1`` .. ``place3``: 200 services, 20 sites, seed k):
ls at the budget (and its time to the first feasible answer) against CP-SAT
alone at the budget and at 6x the budget.

Extra checks: ``--throughput`` (move evaluations/s of ls SA against
dwave-samplers SA on a 2000-node sparse graph, one thread each) and
``--memory [BACKEND ...]`` (a 20 000-node sparse Max-Cut, 5 s, peak RSS; default ``ls``),
``--jit`` (compiling every kernel with an empty numba cache, then with it warm).

Usage (from the repository root; wrap in flock on the shared machine):
    python benchmarks/bench_engine.py --instances G1 bqp50.1 nug12 cap71 place1 \\
        --budget 10 --mqlib "$(../shared/anchors/build-mqlib)" --throughput --memory
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dimod
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import hqopt  # noqa: E402 - after the sys.path line, so the checkout's hqopt is used
from hqopt.errors import HqoptError  # noqa: E402
from hqopt.formulations.placement import Placement  # noqa: E402
from hqopt.formulations.placement_generator import generate_placement  # noqa: E402

QUBO_SOLVERS = ["ls", "auto", "M", "B", "D"]
CONSTRAINED_SOLVERS = ["ls", "auto", "E", "Ft"]


def _anchors(path: Path):
    sys.path.insert(0, str(path))
    import anchor_baselines as ab
    import side_by_side as sbs

    return ab, sbs


def placement_rows(name: str, budget: float, seed: int) -> list[dict]:
    spec = generate_placement(200, 20, int(name.removeprefix("place")))
    spec.pop("kind")
    model = Placement.from_spec(spec).to_model()
    rows = []
    # ls and auto start from the formulation's greedy plan; E is CP-SAT alone (no warm start)
    runs = (("ls", "ls", budget, None), ("auto", "auto", budget, None), ("E", "cpsat", budget, {}), ("E x6", "cpsat", 6 * budget, {}))
    for solver, backend, limit, start in runs:
        t0 = time.perf_counter()
        try:
            r = hqopt.solve(model, backend=backend, time_limit=limit, seed=seed, initial=start)
        except HqoptError as refusal:  # e.g. CP-SAT's model build would not fit the limit
            rows.append({"instance": name, "solver": solver, "objective": None, "gap_pct": None, "ttt_s": None,
                         "time_s": time.perf_counter() - t0, "note": f"refused: {str(refusal)[:60]}"})
            continue
        first = r.history[0][0] if r.history else None
        rows.append({"instance": name, "solver": solver, "objective": r.objective if r.feasible else None,
                     "gap_pct": None, "ttt_s": first, "time_s": time.perf_counter() - t0,
                     "note": "ttt = first feasible"})
    best = min(row["objective"] for row in rows if row["objective"] is not None)
    for row in rows:
        if row["objective"] is not None:
            row["gap_pct"] = 100 * (row["objective"] - best) / abs(best)
    return rows


def anchor_rows(name: str, budget: float, seed: int, solvers: list[str], mqlib: str | None, ab, sbs) -> list[dict]:
    inst = ab.load_instance(name)
    if isinstance(inst.data, ab.CFLPData):
        obj, *_ = ab.cflp_reference(inst.data, 60.0)
        inst.target = obj
    runners = {
        "ls": lambda i: sbs.run_hqopt(i, budget, seed, "ls"),
        "auto": lambda i: sbs.run_hqopt(i, budget, seed, "auto"),
        "M": lambda i: sbs.run_mqlib(i, budget, seed, mqlib),
        "B": lambda i: ab.run_sa_loop(i, budget, seed),
        "D": lambda i: ab.run_openjij_loop(i, budget, seed),
        "E": lambda i: ab.run_cpsat(i, budget, seed),
        "Ft": lambda i: ab.run_naive_pipeline(i, budget, seed, use_tabu=True),
    }
    rows = []
    for s in solvers:
        if (s == "M" and not mqlib) or (s == "D" and importlib.util.find_spec("openjij") is None):
            continue
        try:
            r = runners[s](inst)
            rows.append({"instance": name, "solver": s, "objective": r.objective, "gap_pct": r.gap_pct,
                         "ttt_s": r.time_to_target_s, "time_s": r.time_s, "note": ""})
        except Exception as exc:  # noqa: BLE001 -- a failing anchor is a finding, not a crash of the run
            rows.append({"instance": name, "solver": s, "objective": None, "gap_pct": None, "ttt_s": None,
                         "time_s": None, "note": f"{type(exc).__name__}: {exc}"[:80]})
    return rows


def _fmt(v, nd=3) -> str:
    return "-" if v is None else (f"{v:.{nd}f}" if isinstance(v, float) else str(v))


def throughput(seed: int) -> dict:
    """Move evaluations per second, one thread each, on a 2000-node sparse random graph (Max-Cut)."""
    from dwave.samplers import SimulatedAnnealingSampler

    from hqopt.budget import Budget
    from hqopt.engine import build_problem, search

    rng = np.random.default_rng(seed)
    n, m = 2000, 6000
    edges = {tuple(sorted(rng.choice(n, 2, replace=False))) for _ in range(m)}
    bqm = dimod.BQM("BINARY")
    for u, v in edges:
        bqm.add_linear(u, -1)
        bqm.add_linear(v, -1)
        bqm.add_quadratic(u, v, 2)
    sweeps = 2000
    t0 = time.perf_counter()
    SimulatedAnnealingSampler().sample(bqm, num_reads=1, num_sweeps=sweeps, seed=seed)
    dwave = sweeps * n / (time.perf_counter() - t0)
    cqm = dimod.CQM.from_bqm(bqm)
    problem = build_problem(cqm)
    search(problem, cqm, Budget(None), seed, workers=1, strategy="sa")  # warm (JIT)
    found = search(problem, cqm, Budget(None), seed, workers=1, strategy="sa")
    ls = found.info["work_per_chain"] / found.info["search_seconds"]
    return {"dwave_sa_moves_per_s": dwave, "ls_sa_moves_per_s": ls, "ratio": ls / dwave}


MEMORY_SCRIPT = """
import resource, sys, time, dimod, numpy as np, hqopt
rng = np.random.default_rng(0)
n = 20000
u = rng.integers(0, n, 3 * n); v = rng.integers(0, n, 3 * n); keep = u != v
bqm = dimod.BQM.from_numpy_vectors(np.zeros(n), (u[keep], v[keep], np.ones(keep.sum())), 0, "SPIN")
t0 = time.perf_counter()
r = hqopt.solve(bqm, backend=sys.argv[1], time_limit=5, seed=1)
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, r.objective)
"""


def memory(backends: list[str]) -> list[dict]:
    """Peak RSS of a 5 s solve of a 20 000-node sparse Max-Cut, one fresh process per backend."""
    rows = []
    for backend in backends:
        out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, backend], capture_output=True, text=True, check=False,
                             cwd=ROOT, timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        try:
            wall, mb, obj = out.stdout.split()[-3:]
            rows.append({"backend": backend, "wall_s": float(wall), "peak_mb": float(mb), "energy": float(obj)})
        except ValueError:
            rows.append({"backend": backend, "error": (out.stderr or out.stdout)[-200:]})
    return rows


def jit_seconds() -> dict:
    """Seconds of ``hqopt.engine.warmup()`` in a fresh process: cold (empty numba cache) then warm."""
    import os
    import tempfile

    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        for label in ("cold", "warm"):
            run = subprocess.run([sys.executable, "-c", "import hqopt.engine as e; print(e.warmup())"],
                                 capture_output=True, text=True, env=env, timeout=600, check=False)
            out[label] = float(run.stdout.split()[-1]) if run.returncode == 0 else run.stderr[-200:]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", nargs="*", default=["G1", "bqp50.1", "nug12", "cap71", "place1"])
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--mqlib", default=None, help="MQLib binary (../shared/anchors/build-mqlib prints it)")
    ap.add_argument("--anchors", type=Path, default=ROOT.parent / "shared" / "anchors")
    ap.add_argument("--solvers", nargs="*", default=None, help="override the solver list")
    ap.add_argument("--throughput", action="store_true")
    ap.add_argument("--memory", nargs="*", default=None, metavar="BACKEND",
                    help="20 000-node Max-Cut peak memory (default backend: ls; name auto only once it routes to ls "
                         "-- today's auto picks a dense tabu that needs ~15 GB)")
    ap.add_argument("--jit", action="store_true", help="cold and warm JIT (numba cache) seconds")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    ab, sbs = _anchors(args.anchors)
    rows: list[dict] = []
    print("| instance | solver | objective | gap % | time-to-target s | wall s | note |\n|---|---|---|---|---|---|---|")
    for name in args.instances:
        if name.startswith("place"):
            new = placement_rows(name, args.budget, args.seed)
        else:
            constrained = ab.load_instance(name).constrained
            solvers = args.solvers or (CONSTRAINED_SOLVERS if constrained else QUBO_SOLVERS)
            new = anchor_rows(name, args.budget, args.seed, solvers, args.mqlib, ab, sbs)
        for r in new:
            print(f"| {r['instance']} | {r['solver']} | {_fmt(r['objective'], 1)} | {_fmt(r['gap_pct'])} | "
                  f"{_fmt(r['ttt_s'], 2)} | {_fmt(r['time_s'], 2)} | {r['note']} |", flush=True)
        rows.extend(new)
    by_solver: dict[str, list[float]] = {}
    for r in rows:
        if r["gap_pct"] is not None:
            by_solver.setdefault(r["solver"], []).append(r["gap_pct"])
    if by_solver:
        print("\n| solver | runs | mean gap % | max gap % |\n|---|---|---|---|")
        for s, gaps in by_solver.items():
            print(f"| {s} | {len(gaps)} | {statistics.mean(gaps):.3f} | {max(gaps):.3f} |")
    extra = {}
    if args.throughput:
        extra["throughput"] = throughput(args.seed)
        print("\nthroughput (moves/s, 1 thread):", json.dumps({k: round(v, 3) for k, v in extra["throughput"].items()}))
    if args.memory is not None:
        extra["memory"] = memory(args.memory or ["ls"])
        print("\n20 000-node Max-Cut, 5 s:", json.dumps(extra["memory"]))
    if args.jit:
        extra["jit"] = jit_seconds()
        print("\nJIT, warmup() of all kernels (s):", json.dumps(extra["jit"]))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, **extra}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
