"""Compare hqopt's classical backends on development-set QUBO and QAP instances.

For every instance and backend it prints the objective (in the instance's own
sense), the gap to the best-known value, whether the answer is feasible and
proven, and the wall time. Every figure comes from ``hqopt.solve`` -- the same
path users take -- with the same time limit and seed for every backend.

Usage::

    python benchmarks/bench_core.py                       # default sets, 2 s per run
    python benchmarks/bench_core.py --time-limit 5 --backends tabu,sa,cpsat \\
        --sets bqp50,gka-a,qap12 --csv results.csv

Instance sets (development set only): bqp50, bqp100, bqp250 (OR-Library,
maximise), gka-a, gka-b, gka-c, gka-d (Biq Mac, minimise), qap12 / qap-small
(QAPLIB n <= 12 / n <= 20, minimise).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import hqopt
import hqopt.io

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"

QAP12 = ["chr12a", "had12", "nug12", "rou12", "scr12", "tai12a"]
QAP_SMALL = QAP12 + ["had14", "chr15a", "nug15", "esc16a", "had16", "tai15a", "nug20", "had20", "rou20"]


def best_known(folder: str) -> dict[str, float]:
    rows = csv.DictReader((SHARED / folder / "best_known.csv").open())
    return {row["instance"]: float(row["best_known"]) for row in rows}


def instances(set_name: str) -> list[tuple[str, str, float]]:
    """(display name, file reference for hqopt.io.load, best-known value)."""
    if set_name.startswith("bqp"):
        known = best_known("bqp_orlib")
        return [(f"{set_name}.{k}", f"{SHARED / 'bqp_orlib' / (set_name + '.txt')}#{k}", known[f"{set_name}.{k}"]) for k in range(1, 11)]
    if set_name.startswith("gka-"):
        letter = set_name[-1]
        known = best_known("bqp_gka")
        names = sorted((n for n in known if n.endswith(letter) and (SHARED / "bqp_gka" / f"{n}.sparse").exists()),
                       key=lambda n: int(n[3:-1]))
        return [(n, str(SHARED / "bqp_gka" / f"{n}.sparse"), known[n]) for n in names]
    if set_name in ("qap12", "qap-small"):
        known = best_known("qaplib")
        names = QAP12 if set_name == "qap12" else QAP_SMALL
        return [(n, str(SHARED / "qaplib" / f"{n}.dat"), known[n]) for n in names if n in known]
    raise SystemExit(f"unknown instance set {set_name!r}")


def gap(objective: float | None, target: float, sense: hqopt.Sense) -> float | None:
    """Relative gap to the best-known value, positive when worse."""
    if objective is None:
        return None
    return sense.sign * (objective - target) / max(abs(target), 1e-9) + 0.0  # no "-0.00"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="bqp50,bqp100,gka-a,qap12")
    parser.add_argument("--backends", default="tabu,sa,steepest,cpsat")
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", type=Path, help="also write the rows to this CSV file")
    args = parser.parse_args(argv)

    rows = []
    header = f"{'instance':<12} {'backend':<9} {'objective':>12} {'best-known':>12} {'gap %':>8} {'status':<10} {'time s':>7}"
    print(header)
    print("-" * len(header))
    for set_name in args.sets.split(","):
        for name, reference, target in instances(set_name):
            model = hqopt.io.load(reference)
            for backend in args.backends.split(","):
                t0 = time.perf_counter()
                result = hqopt.solve(model, backend=backend, time_limit=args.time_limit, seed=args.seed)
                wall = time.perf_counter() - t0
                g = gap(result.objective if result.feasible else None, target, model.sense)
                row = {
                    "instance": name,
                    "backend": backend,
                    "objective": result.objective if result.feasible else None,
                    "best_known": target,
                    "gap": g,
                    "status": result.status.value,
                    "time": wall,
                }
                rows.append(row)
                shown = "-" if row["objective"] is None else f"{row['objective']:.0f}"
                shown_gap = "-" if g is None else f"{100 * g:.2f}"
                print(f"{name:<12} {backend:<9} {shown:>12} {target:>12.0f} {shown_gap:>8} {row['status']:<10} {wall:>7.2f}", flush=True)
    print()
    print("mean gap % / instances at best-known, per backend:")
    for backend in args.backends.split(","):
        mine = [r for r in rows if r["backend"] == backend]
        gaps = [r["gap"] for r in mine if r["gap"] is not None]
        hits = sum(1 for g in gaps if g <= 1e-9)
        mean = 100 * sum(gaps) / len(gaps) if gaps else float("nan")
        print(f"  {backend:<9} {mean:7.3f}   {hits}/{len(mine)}   (infeasible: {len(mine) - len(gaps)})")
    if args.csv:
        with args.csv.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
