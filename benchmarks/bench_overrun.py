"""Do time limits hold? Wall time of ``hqopt.solve`` / time limit, every offline backend.

Every cell runs in its own process (killed at ``3 x limit + 20`` s, shown as
``killed``) on one of three problems that stress the parts outside a
backend's search loop -- model building, embedding, compilation:

* ``qubo2000``: a 2000-variable sparse random QUBO (about 10 neighbours each);
* ``qap30``: QAPLIB tai30a (n = 30, 900 binaries, 30+30 one-hot rows; timing only);
* ``place200``: a generated 200-service x 20-site placement (seed 1).

A cell reads ``wall/limit`` (``1.07`` = 7 % over), ``ok`` when the overrun is
at most max(0.5 s, 10 %) -- with solve()'s compile time (penalty model
building, outside the backends) when it is 0.1 s or more -- and ``refused`` when the backend declined at once
with a clear error (the error's first words are listed under the table).
The model is built before the clock starts: this measures ``solve()``.
With ``--warm`` each process first solves a 2-variable problem on the same
backend, so library imports (dwave-system ~4 s, dwave-hybrid ~3 s, Qiskit)
are not counted: a long-running service pays them once.

Usage::

    python benchmarks/bench_overrun.py                         # everything (~6 min)
    python benchmarks/bench_overrun.py --backends sa,hybrid --limits 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
OFFLINE = ["sa", "tabu", "steepest", "sqa", "exact", "cpsat", "portfolio", "auto", "hybrid", "dwave-mock", "qaoa"]
PROBLEMS = ["qubo2000", "qap30", "place200"]


def build(problem: str):  # noqa: ANN201 - returns an hqopt.Model
    """The named benchmark problem as an hqopt Model."""
    import dimod
    import numpy as np

    import hqopt
    import hqopt.io

    if problem == "qubo2000":
        rng = np.random.default_rng(2000)
        n, degree = 2000, 10
        edges = {tuple(sorted(map(int, rng.choice(n, 2, replace=False)))) for _ in range(n * degree // 2)}
        bqm = dimod.BQM({i: float(rng.integers(-100, 101)) for i in range(n)},
                        {e: float(rng.integers(-100, 101)) for e in edges}, 0.0, "BINARY")
        return hqopt.Model.from_bqm(bqm, name="qubo2000")
    if problem == "qap30":
        return hqopt.io.load(SHARED / "qaplib" / "tai30a.dat")
    if problem == "place200":
        from hqopt.formulations.placement import Placement
        from hqopt.formulations.placement_generator import generate_placement

        spec = generate_placement(200, 20, seed=1)
        return Placement.from_spec({k: v for k, v in spec.items() if k != "kind"}).to_model()
    raise SystemExit(f"unknown problem {problem!r}")


def cell(backend: str, problem: str, limit: float, warm: bool) -> dict:
    """One timed solve in this process (after an untimed tiny one when ``warm``: imports excluded)."""
    import hqopt

    model = build(problem)
    if warm:
        tiny = hqopt.Model.from_qubo({(0, 0): -1.0, (0, 1): 2.0, (1, 1): -1.0})
        hqopt.solve(tiny, backend=backend, seed=1)
    t0 = time.perf_counter()
    try:
        result = hqopt.solve(model, backend=backend, time_limit=limit, seed=1)
    except hqopt.HqoptError as exc:
        return {"wall": time.perf_counter() - t0, "refused": str(exc)[:160]}
    wall = time.perf_counter() - t0
    return {"wall": wall, "compile": result.timing.compile, "feasible": result.feasible, "objective": result.objective}


def run_cell(backend: str, problem: str, limit: float, warm: bool) -> dict:
    """``cell`` in a child process, killed when it runs far over."""
    cmd = [sys.executable, __file__, "--cell", backend, problem, str(limit)] + (["--warm"] if warm else [])
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=3 * limit + 20, check=False)
    except subprocess.TimeoutExpired:
        return {"wall": 3 * limit + 20, "killed": True}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"wall": float("nan"), "crashed": (done.stderr.strip().splitlines() or ["?"])[-1][:160]}
    return json.loads(lines[-1])


def verdict(out: dict, limit: float) -> str:
    if "killed" in out:
        return f">{out['wall'] / limit:.1f} killed"
    if "crashed" in out:
        return "CRASH"
    ratio = out["wall"] / limit
    if "refused" in out:
        return f"refused ({out['wall']:.2f} s)"
    ok = out["wall"] <= limit + max(0.5, 0.1 * limit)
    compile_note = f" (compile {out['compile']:.1f} s)" if out.get("compile", 0) >= 0.1 else ""
    return f"{ratio:.2f} {'ok' if ok else 'OVER'}{compile_note}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=",".join(OFFLINE))
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--limits", default="1,5")
    parser.add_argument("--warm", action="store_true", help="load each backend's libraries before the clock starts")
    parser.add_argument("--cell", nargs=3, metavar=("BACKEND", "PROBLEM", "LIMIT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cell:
        backend, problem, limit = args.cell
        print(json.dumps(cell(backend, problem, float(limit), args.warm)))
        return
    limits = [float(x) for x in args.limits.split(",")]
    problems = args.problems.split(",")
    columns = [f"{p} {limit:g}s" for p in problems for limit in limits]
    print("| backend | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    notes: dict[str, str] = {}
    for backend in args.backends.split(","):
        cells = []
        for problem in problems:
            for limit in limits:
                out = run_cell(backend, problem, limit, args.warm)
                cells.append(verdict(out, limit))
                for key in ("refused", "crashed"):
                    if key in out:
                        notes.setdefault(f"{backend} on {problem}", out[key])
        print(f"| {backend} | " + " | ".join(cells) + " |", flush=True)
    for where, why in notes.items():
        print(f"- {where}: {why}")


if __name__ == "__main__":
    main()
