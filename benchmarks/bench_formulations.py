"""Formulations benchmark: objective, gap and time per backend on QAPLIB, cap files and generated placements.

Every feasible result is re-checked by the formulation's independent checker
(from the domain answer alone) and must agree with the model's objective.
Gap: to the best-known value where there is one (QAPLIB, cap; for cap the
multi-source capopt value, a lower bound for single-source), otherwise to the
cpsat bound of the same instance.

Run (development set only; about 5-8 minutes with the defaults):
    python benchmarks/bench_formulations.py --time-limit 10
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import hqopt
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement
from hqopt.io.orlib_cap import read_cap
from hqopt.io.qaplib import read_qap

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
QAP_INSTANCES = ["chr12a", "nug12", "had12", "tai12a"]
CAP_INSTANCES = ["cap71", "cap61"]
PLACEMENTS = [(20, 5, 1), (30, 6, 2)]
BACKENDS = ["cpsat", "sa", "tabu"]


def _best_known(folder: str) -> dict[str, float]:
    with open(SHARED / folder / "best_known.csv") as fh:
        return {row["instance"]: float(row["best_known"]) for row in csv.DictReader(fh)}


def _checked(problem, result) -> float | None:
    """The checker's objective of a feasible result (None otherwise); asserts agreement."""
    if not result.feasible:
        return None
    if isinstance(problem, Placement):
        value = problem.check(problem.assignment(result.solution)).objective
    elif hasattr(problem, "cost") and callable(problem.cost):
        value = problem.cost(problem.permutation(result.solution))
    else:
        decoded = problem.decode(result.solution)
        value = problem.check(decoded["open"], decoded["assignment"])[1]
    assert abs(value - result.objective) <= 1e-6 * max(1.0, abs(value)), (value, result.objective)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per solve")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    backends = args.backends.split(",")

    cases = []
    qap_best, cap_best = _best_known("qaplib"), _best_known("facility_location")
    for name in QAP_INSTANCES:
        cases.append((f"qap {name}", read_qap(SHARED / "qaplib" / f"{name}.dat"), qap_best[name]))
    for name in CAP_INSTANCES:
        cases.append((f"cap {name}", read_cap(SHARED / "facility_location" / f"{name}.txt"), cap_best[name]))
    for services, sites, seed in PLACEMENTS:
        spec = generate_placement(services, sites, seed, migration=True)
        spec.pop("kind")
        cases.append((f"placement {services}x{sites} s{seed}", Placement.from_spec(spec), None))

    print(f"{'instance':26} {'backend':7} {'status':9} {'objective':>12} {'reference':>12} {'gap%':>7} {'time s':>7}")
    for label, problem, best in cases:
        reference, ref_kind = best, "best"
        for backend in backends:
            t0 = time.perf_counter()
            options = {"num_workers": 2} if backend == "cpsat" else {}
            result = hqopt.solve(problem, backend=backend, time_limit=args.time_limit, seed=0, **options)
            elapsed = time.perf_counter() - t0
            value = _checked(problem, result)
            if reference is None and backend == "cpsat" and result.bound is not None:
                reference, ref_kind = result.bound, "bound"
            gap = "" if value is None or reference is None else f"{100 * (value - reference) / max(abs(reference), 1e-9):7.2f}"
            shown = "infeasible" if value is None else f"{value:12.1f}"
            ref = "" if reference is None else f"{reference:12.1f}"
            print(f"{label:26} {backend:7} {result.status.value:9} {shown:>12} {ref:>12} {gap:>7} {elapsed:7.1f}", flush=True)
        if ref_kind == "bound":
            print(f"{'':26} (reference = cpsat proven bound)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
