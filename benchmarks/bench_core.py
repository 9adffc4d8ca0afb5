"""Compare hqopt's classical backends on development-set QUBO and QAP sets, through ``hqopt bench``.

The runs, metrics, plots and resumable output directory are ``hqopt bench``'s
(:func:`hqopt.bench.run_bench`); this script only names the instance sets and
prints one line per (set, backend): instances where the best-known value was
reached in every seed / instances, mean success probability and mean gap.

Usage::

    python benchmarks/bench_core.py                       # default sets, 2 s per run, 1 seed
    python benchmarks/bench_core.py --time-limit 5 --backends tabu,sa,cpsat \\
        --sets bqp50,gka-a,qap12 --seeds 3 --out results/bench-core

Instance sets (development set only): bqp50, bqp100, bqp250 (OR-Library,
maximise), gka-a, gka-b, gka-c, gka-d (Biq Mac, minimise), qap12 / qap-small
(QAPLIB n <= 12 / n <= 20, minimise).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from hqopt.bench import run_bench

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"

QAP12 = ["chr12a", "had12", "nug12", "rou12", "scr12", "tai12a"]
QAP_SMALL = QAP12 + ["had14", "chr15a", "nug15", "esc16a", "had16", "tai15a", "nug20", "had20", "rou20"]


def instance_files(set_name: str) -> list[str]:
    """File references (for ``hqopt.io.load``) of a development-set instance set."""
    if set_name.startswith("bqp"):
        return [f"{SHARED / 'bqp_orlib' / (set_name + '.txt')}#{k}" for k in range(1, 11)]
    if set_name.startswith("gka-"):
        letter = set_name[-1]
        with (SHARED / "bqp_gka" / "best_known.csv").open() as fh:
            names = [row["instance"] for row in csv.DictReader(fh)]
        names = sorted((n for n in names if n.endswith(letter) and (SHARED / "bqp_gka" / f"{n}.sparse").exists()),
                       key=lambda n: int(n[3:-1]))  # fmt: skip
        return [str(SHARED / "bqp_gka" / f"{n}.sparse") for n in names]
    if set_name in ("qap12", "qap-small"):
        names = QAP12 if set_name == "qap12" else QAP_SMALL
        return [str(SHARED / "qaplib" / f"{n}.dat") for n in names]
    raise SystemExit(f"unknown instance set {set_name!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="bqp50,bqp100,gka-a,qap12")
    parser.add_argument("--backends", default="tabu,sa,steepest,cpsat")
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("results/bench-core"), help="hqopt bench output directory (results/ is git-ignored)")
    args = parser.parse_args(argv)

    sets = {name: instance_files(name) for name in args.sets.split(",")}
    backends = args.backends.split(",")
    report = run_bench([f for files in sets.values() for f in files], backends, seeds=args.seeds,
                       time_limit=args.time_limit, out=args.out, workers=args.workers)  # fmt: skip
    by_instance = {(s["instance"], s["solver"]): s for s in report.summary}
    instance_of = {r["file"]: r["instance"] for r in report.runs}
    print(f"| set | inst. | {' | '.join(backends)} |")
    print("|---|---|" + "---|" * len(backends))
    for name, files in sets.items():
        cells = []
        for backend in backends:
            rows = [by_instance[instance_of[f], backend] for f in files if (instance_of.get(f), backend) in by_instance]
            always = sum(1 for s in rows if s["success"] == 1.0)
            gaps = [s["mean_gap"] for s in rows if s["mean_gap"] == s["mean_gap"]]  # not NaN
            p = sum(s["success"] for s in rows) / len(rows) if rows else float("nan")
            gap = f"{100 * sum(gaps) / len(gaps):.2f} %" if gaps else "no feasible run"
            none = len(rows) - len(gaps)
            if rows and all(s["errors"] == s["runs"] for s in rows):
                cells.append("error (see runs.csv)")
                continue
            cells.append(f"{always}/{len(rows)}, p={p:.2f}, {gap}" + (f" ({none} none)" if none and gaps else ""))
        print(f"| {name} | {len(files)} | {' | '.join(cells)} |")
    print(f"\nfull report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
