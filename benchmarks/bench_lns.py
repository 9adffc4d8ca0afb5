"""MIP and LNS benchmark (issue 10), side by side in one run, development set only.

Section ``cap`` -- single-source capacitated facility location, cap61..cap94:
``mip`` through ``hqopt.solve`` (time and objective, status) against HiGHS on a
model built directly here with highspy arrays (same formulation, same HiGHS
seed; median of ``--repeats`` alternated timings, as these take 0.01-1 s), and any
extra backends given with ``--cap-backends`` (e.g. ``auto``).

Section ``placement`` -- generated placements (``hqopt generate placement``):
200x20 seeds 1..3 and 60x8 seed 1: ``lns``, ``ls`` and ``auto`` at ``--budget``
seconds (from the formulation's greedy start) against CP-SAT alone (no warm
start) at ``--budget`` and ``--long`` seconds. Gap: to the best bound known
(the formulation's whole-objective bound, or a better one a run proved).

Section ``quantum`` (not run by default; about 140 s) -- ``lns`` with QAOA
(Qiskit statevector) and ``dwave-mock`` (MockDWaveSampler on a Pegasus graph)
as sub-solvers, alone and beside cpsat, on a 60-service placement and QAPLIB
chr12a, from the greedy construction: the verified answer and each
sub-solver's ledger.

Every feasible answer is verified by ``solve``; placements are re-checked by
the formulation's independent checker.

Run (the full table is about 16 x (mip) + 4 x (3 x budget + long) seconds):
    python benchmarks/bench_lns.py                          # cap and placement, 10 s / 60 s
    python benchmarks/bench_lns.py --sections quantum
    python benchmarks/bench_lns.py --budget 5 --long 20 --instances cap61,cap71,p60x8s1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import hqopt
import hqopt.io
from hqopt.backends.registry import available_backends
from hqopt.errors import HqoptError
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement
from hqopt.io.orlib_cap import read_cap

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks"
CAP_INSTANCES = [f"cap{g}{i}" for g in (6, 7, 8, 9) for i in (1, 2, 3, 4)]
PLACEMENTS = {"p200x20s1": (200, 20, 1), "p200x20s2": (200, 20, 2), "p200x20s3": (200, 20, 3), "p60x8s1": (60, 8, 1)}


def direct_highs(instance, seed: int) -> tuple[float, float, str]:
    """HiGHS on the single-source model built straight from the data: (seconds, objective, status).

    HiGHS gets the same ``random_seed`` that ``mip`` passes it, so both search the same tree
    and the ratio measures what ``solve`` adds (compile, callbacks, verification).
    """
    import highspy

    from hqopt.backends.mip import new_highs

    t0 = time.perf_counter()
    m, n = instance.m, instance.n
    cost = np.concatenate([instance.fixed_cost, instance.cost.ravel()])  # open_i, then serve_ij row-major
    starts, index, value, lower, upper = [0], [], [], [], []
    for j in range(n):  # each customer served once
        index += [m + i * n + j for i in range(m)]
        value += [1.0] * m
        starts.append(len(index))
        lower.append(1.0)
        upper.append(1.0)
    for i in range(m):  # capacity of an open warehouse
        index += [m + i * n + j for j in range(n)] + [i]
        value += list(map(float, instance.demand)) + [-float(instance.capacity[i])]
        starts.append(len(index))
        lower.append(-highspy.kHighsInf)
        upper.append(0.0)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), len(lower)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.zeros(len(cost)), np.ones(len(cost))
    lp.row_lower_, lp.row_upper_ = np.array(lower), np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, index, value
    lp.integrality_ = [highspy.HighsVarType.kInteger] * len(cost)
    h = new_highs()
    h.passModel(lp)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("random_seed", seed)
    h.run()
    return time.perf_counter() - t0, h.getInfo().objective_function_value, h.modelStatusToString(h.getModelStatus())


def run_cap(names: list[str], budget: float, backends: list[str], repeats: int) -> None:
    """Per instance: the median of ``repeats`` timings of HiGHS direct and of ``mip``, alternated."""
    cols = ["instance", "HiGHS direct s", "HiGHS obj (status)", "mip s", "mip obj", "mip status", "mip/direct"]
    cols += [f"{b} {budget:g}s obj (status, s)" for b in backends]
    print("\n## cap (single-source), mip vs HiGHS on a direct model\n")
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for name in names:
        instance = read_cap(SHARED / "facility_location" / f"{name}.txt")
        model = instance.to_model()
        d_times, m_times = [], []
        for _ in range(repeats):
            d_time, d_obj, d_status = direct_highs(instance, seed=1)
            t0 = time.perf_counter()
            r = hqopt.solve(model, backend="mip", time_limit=60, seed=1)
            m_times.append(time.perf_counter() - t0)
            d_times.append(d_time)
        d_time, m_time = float(np.median(d_times)), float(np.median(m_times))
        row = [name, f"{d_time:.2f}", f"{d_obj:.3f} ({d_status})", f"{m_time:.2f}", _value(r), r.status.value, f"{m_time / d_time:.2f}x"]
        for b in backends:
            t0 = time.perf_counter()
            rb = hqopt.solve(model, backend=b, time_limit=budget, seed=1)
            row.append(f"{_value(rb)} ({rb.status.value}, {time.perf_counter() - t0:.2f})")
        print("| " + " | ".join(row) + " |", flush=True)


def _value(result: hqopt.Result) -> str:
    return f"{result.objective:.3f}" if result.feasible else "-"


def run_placements(names: list[str], budget: float, long: float) -> None:
    """``lns`` against ``ls`` and ``auto`` (all with the formulation's greedy start) and CP-SAT alone.

    "CP-SAT alone" is ``cpsat`` without the greedy warm start (``initial={}``): the library as a
    user would call it. Gap: to the best lower bound known -- the formulation's whole-objective
    bound (LP + forced traffic) or any bound a run proved, whichever is higher.
    """
    runs = [("lns", budget, None)]
    runs += [("ls", budget, None)] if "ls" in available_backends() else []
    runs += [("auto", budget, None), ("cpsat", budget, {}), ("cpsat", long, {})]
    print(f"\n## placements: objective (gap to the best bound known), lns {budget:g} s vs ls, auto and CP-SAT alone\n")
    cols = ["instance", "best bound"] + [f"{b}{' alone' if start == {} else ''} {t:g}s" for b, t, start in runs]
    cols += ["lns ledger (calls/improved, vars median)"]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for name in names:
        services, sites, seed = PLACEMENTS[name]
        spec = generate_placement(services, sites, seed=seed)
        problem = Placement.from_spec({k: v for k, v in spec.items() if k != "kind"})
        model = problem.to_model()
        results = []
        for backend, limit, start in runs:
            try:
                r = hqopt.solve(model, backend=backend, time_limit=limit, seed=1, initial=start)
            except HqoptError as refusal:  # e.g. CP-SAT's model build would not fit the limit
                results.append(refusal)
                continue
            if r.feasible:  # the independent checker agrees
                assert problem.check(problem.assignment(r.solution)).feasible
            results.append(r)
        bounds = [r.bound for r in results if isinstance(r, hqopt.Result) and r.bound is not None]
        bound = max(bounds + [problem.lower_bound().value])
        cells = []
        for r in results:
            if isinstance(r, HqoptError):
                cells.append("refused")
                continue
            if not r.feasible:
                cells.append("none")
                continue
            cells.append(f"{r.objective:.0f} ({(r.objective - bound) / max(abs(r.objective), 1e-9):.1%})")
        ledger = results[0].info.get("subsolvers", {}) if isinstance(results[0], hqopt.Result) else {}
        summary = ", ".join(f"{k} {v['calls']}/{v['improvements']}, {v['variables']['median']:g}" for k, v in ledger.items())
        print("| " + " | ".join([name, f"{bound:.0f}"] + cells + [summary]) + " |", flush=True)


#: (model name, sub-solver, seconds) of the quantum section, as issue 10 asks
QUANTUM_RUNS = [
    ("placement 60x8", "qaoa", 20.0),
    ("chr12a", "qaoa", 20.0),
    ("placement 60x8", "dwave-mock", 30.0),
    ("chr12a", "dwave-mock", 30.0),
    ("placement 60x8", "cpsat,qaoa", 20.0),
    ("chr12a", "cpsat,qaoa", 20.0),
]


def run_quantum() -> None:
    """``lns`` with simulated quantum sub-solvers (QAOA statevector, MockDWaveSampler) end to end:
    feasible verified answers and the ledger of each sub-solver (calls, sizes, gains, QPU seconds)."""
    placement = Placement.from_spec({k: v for k, v in generate_placement(60, 8, seed=1).items() if k != "kind"})
    models = {"placement 60x8": placement.to_model(), "chr12a": hqopt.io.load(ROOT / "problems" / "qap" / "chr12a.dat")}
    print("\n## lns with quantum sub-solvers (offline simulators), seed 1\n")
    cols = ["model", "subsolver", "T (s)", "wall (s)", "objective", "first verified", "ledger: calls / improvements / gain / seconds / vars min-med-max / errors / QPU s"]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for name, subsolver, limit in QUANTUM_RUNS:
        model = models[name]
        t0 = time.perf_counter()
        # from the greedy construction, not ls's plan (on chr12a ls alone finds the optimum at once):
        # the sub-solvers must have something to improve for the ledger to show what they earn
        r = hqopt.solve(model, backend="lns", time_limit=limit, seed=1, subsolver=subsolver, initial_backend="greedy")
        wall = time.perf_counter() - t0
        assert r.feasible, f"{name} with {subsolver}: no feasible answer"
        if name.startswith("placement"):  # the formulation's independent checker agrees
            assert placement.check(placement.assignment(r.solution)).feasible
        ledger = "; ".join(
            f"{k} {v['calls']} / {v['improvements']} / {v['gain']:g} / {v['seconds']:.1f} / "
            f"{v['variables']['min']}-{v['variables']['median']:g}-{v['variables']['max']} / {v['errors']}"
            + (f" / {v['qpu_access_time']:.3f}" if "qpu_access_time" in v else "")
            for k, v in r.info.get("subsolvers", {}).items()
        )
        first = r.history[0][1] if r.history else float("nan")
        print(f"| {name} | {subsolver} | {limit:g} | {wall:.1f} | {r.objective:g} | {first:g} | {ledger} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=10.0, help="seconds for lns, ls, cpsat-short and cap extra backends")
    parser.add_argument("--long", type=float, default=60.0, help="seconds for the long cpsat run on placements")
    parser.add_argument("--instances", default="", help="comma list (cap61.., p200x20s1.., p60x8s1); default: all")
    parser.add_argument("--sections", default="cap,placement", help="comma list of cap, placement, quantum")
    parser.add_argument("--cap-backends", default="", help="extra backends on cap at --budget, e.g. auto,cpsat")
    parser.add_argument("--repeats", type=int, default=5, help="timings per cap instance (median reported)")
    args = parser.parse_args(argv)
    chosen = [s for s in args.instances.split(",") if s]
    if not SHARED.is_dir():
        print(f"benchmark data not found at {SHARED}", file=sys.stderr)
        return 2
    sections = set(args.sections.split(","))
    t0 = time.perf_counter()
    if "cap" in sections:
        names = [n for n in CAP_INSTANCES if not chosen or n in chosen]
        if names:
            run_cap(names, args.budget, [b for b in args.cap_backends.split(",") if b], args.repeats)
    if "placement" in sections:
        names = [n for n in PLACEMENTS if not chosen or n in chosen]
        if names:
            run_placements(names, args.budget, args.long)
    if "quantum" in sections:
        run_quantum()
    print(f"\n(total {time.perf_counter() - t0:.0f} s; `python benchmarks/bench_lns.py {' '.join(argv or sys.argv[1:])}`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
