"""Anchors: what a user would run instead of hqopt, measured in the same table.

Built-in anchors (each works on the model alone, never through ``solve``):

- ``sa-restarts``: plain dwave-samplers ``SimulatedAnnealingSampler``, one read
  per call, restarted (seed+k) until the time limit, on the model's BQM
  (``dimod.cqm_to_bqm`` with its default multiplier when there are constraints);
  every read is checked on the original model.
- ``cpsat-alone``: OR-Tools CP-SAT with 2 workers on a direct model of the CQM
  (binary products linearised, integer products as multiplication equalities,
  coefficients scaled to integers); every improving solution is checked on the
  original model.

External anchors: ``NAME=COMMAND`` with placeholders ``{file}`` (the file as
given to bench, ``#K`` included), ``{instance}``, ``{time}`` (the time limit in
seconds) and ``{seed}``. The command runs without a shell and is killed after
``2 * time + 30`` seconds (the grace covers an interpreter's start-up). Its objective, in the problem's own sense, is read
from its standard output: the first group of the last match of ``regex`` when
one is given, else **the last number on the last non-empty line**. An
external answer cannot be checked on the model: it is recorded as
``verified = False``; its time-to-target is its wall time when the objective
reaches the target (one history point at the end).

Example:
    >>> parse_objective("iter 1 best 12\\nfinal 10.5 after 2 s\\n")
    2.0
    >>> parse_objective("best=10.5 time=2", regex=r"best=(\\S+)")
    10.5
"""

from __future__ import annotations

import math
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dimod

from hqopt.errors import BackendError
from hqopt.model import Model

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf", re.IGNORECASE)
#: CP-SAT workers for cpsat-alone (as the shared anchors' E)
CPSAT_WORKERS = 2
#: most decimal digits kept when scaling coefficients to integers for CP-SAT
CPSAT_MAX_DIGITS = 6


@dataclass(frozen=True)
class AnchorSpec:
    """An anchor: a built-in ``name``, or an external ``command`` (and optional ``regex``)."""

    name: str
    command: str | None = None
    regex: str | None = None

    @classmethod
    def parse(cls, text: str, regexes: dict[str, str] | None = None) -> AnchorSpec:
        """``sa-restarts`` or ``NAME=COMMAND``.

        >>> AnchorSpec.parse("mine=python solver.py {file} {time}").command
        'python solver.py {file} {time}'
        """
        name, eq, command = text.partition("=")
        name = name.strip()
        if not eq:
            if name not in BUILTIN_ANCHORS:
                raise BackendError(f"unknown anchor {name!r}: built-in ones are {', '.join(BUILTIN_ANCHORS)}; else NAME=COMMAND")
            return cls(name)
        if not name or not command.strip():
            raise BackendError(f"anchor must be NAME=COMMAND, got {text!r}")
        try:
            shlex.split(command)
        except ValueError as exc:  # e.g. an unclosed quote: said before any run, not by every run
            raise BackendError(f"anchor {name!r}: cannot split the command into arguments: {exc}") from None
        regex = (regexes or {}).get(name)
        if regex is not None:
            try:
                re.compile(regex)
            except re.error as exc:
                raise BackendError(f"anchor {name!r}: bad regex {regex!r}: {exc}") from None
        return cls(name, command.strip(), regex)


@dataclass
class AnchorOutcome:
    """What an anchor found: best objective (own sense), feasibility, verified improvements."""

    objective: float | None
    feasible: bool
    history: list[tuple[float, float]] = field(default_factory=list)
    verified: bool = True


class _Best:
    """Keeps the best feasible objective of an anchor and its improvement times."""

    def __init__(self, model: Model, start: float) -> None:
        self.model, self.start, self.sign = model, start, model.sense.sign
        self.outcome = AnchorOutcome(None, False)

    def offer(self, sample: dict[Any, float]) -> None:
        evaluation = self.model.evaluate(sample)
        best = self.outcome.objective
        if evaluation.feasible and (best is None or self.sign * evaluation.objective < self.sign * best):
            self.outcome.objective, self.outcome.feasible = float(evaluation.objective), True
            self.outcome.history.append((time.perf_counter() - self.start, float(evaluation.objective)))


def sa_restarts(model: Model, time_limit: float, seed: int) -> AnchorOutcome:
    """dwave-samplers SA, one read per call, restarted until ``time_limit`` would be passed."""
    from dwave.samplers import SimulatedAnnealingSampler

    start = time.perf_counter()
    best = _Best(model, start)
    try:
        bqm, invert = dimod.cqm_to_bqm(model.minimization_cqm())
    except ValueError as exc:  # e.g. an integer of range 0..1, which dimod's conversion refuses
        raise BackendError(f"sa-restarts: dimod's cqm_to_bqm cannot convert this model: {exc}") from None
    sampler = SimulatedAnnealingSampler()
    k, longest = 0, 0.0
    while time.perf_counter() - start + longest < time_limit:
        t0 = time.perf_counter()
        sampleset = sampler.sample(bqm, num_reads=1, seed=(seed + k) % 2**31)
        best.offer(invert(sampleset.first.sample))
        longest = max(longest, time.perf_counter() - t0)
        k += 1
    return best.outcome


def cpsat_alone(model: Model, time_limit: float, seed: int) -> AnchorOutcome:
    """OR-Tools CP-SAT on a direct model of the CQM; improving solutions checked on the model."""
    from ortools.sat.python import cp_model

    start = time.perf_counter()
    best = _Best(model, start)
    cqm = model.minimization_cqm()
    cp = cp_model.CpModel()
    xs: dict[Any, Any] = {}
    for v in cqm.variables:
        vartype = cqm.vartype(v)
        if vartype is dimod.BINARY:
            xs[v] = cp.NewBoolVar(str(v))
        elif vartype is dimod.INTEGER:
            xs[v] = cp.NewIntVar(int(cqm.lower_bound(v)), int(cqm.upper_bound(v)), str(v))
        else:
            raise BackendError(f"cpsat-alone: variable {v!r} is {vartype.name}; only binary and integer are supported")
    products: dict[tuple[Any, Any], Any] = {}

    def product(u: Any, v: Any) -> Any:
        if (u, v) not in products:
            if cqm.vartype(u) is dimod.BINARY and cqm.vartype(v) is dimod.BINARY:
                y = cp.NewBoolVar(f"{u}*{v}")
                cp.AddImplication(y, xs[u])
                cp.AddImplication(y, xs[v])
                cp.AddBoolOr([xs[u].Not(), xs[v].Not(), y])
            else:
                corners = [a * b for a in (cqm.lower_bound(u), cqm.upper_bound(u)) for b in (cqm.lower_bound(v), cqm.upper_bound(v))]
                y = cp.NewIntVar(int(min(corners)), int(max(corners)), f"{u}*{v}")
                cp.AddMultiplicationEquality(y, [xs[u], xs[v]])
            products[(u, v)] = y
        return products[(u, v)]

    def term(u: Any, v: Any) -> Any:
        return xs[u] if u == v and cqm.vartype(u) is dimod.BINARY else product(u, v)

    def scaled(qm: Any, constant: float) -> tuple[Any, int]:
        """``qm`` without its offset, times the scale that makes it and ``constant`` integral."""
        scale = _integer_scale([*qm.linear.values(), *qm.quadratic.values(), constant])
        expr = sum(round(b * scale) * xs[v] for v, b in qm.linear.items() if b)
        expr += sum(round(b * scale) * term(u, v) for (u, v), b in qm.quadratic.items() if b)
        return expr, scale

    objective, _ = scaled(cqm.objective, 0.0)
    cp.Minimize(objective)
    for constraint in cqm.constraints.values():
        lhs, scale = scaled(constraint.lhs, constraint.rhs - constraint.lhs.offset)
        rhs = round((constraint.rhs - constraint.lhs.offset) * scale)
        sense = constraint.sense.value
        cp.Add(lhs <= rhs) if sense == "<=" else cp.Add(lhs >= rhs) if sense == ">=" else cp.Add(lhs == rhs)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = CPSAT_WORKERS
    solver.parameters.random_seed = seed % 2**31
    solver.parameters.max_time_in_seconds = max(0.01, time_limit - (time.perf_counter() - start))

    class Callback(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            best.offer({v: float(self.Value(x)) for v, x in xs.items()})

    solver.Solve(cp, Callback())
    return best.outcome


def _integer_scale(biases: list[float]) -> int:
    """The smallest power of ten (up to 10**CPSAT_MAX_DIGITS) that makes every bias an integer."""
    for digits in range(CPSAT_MAX_DIGITS + 1):
        scale = 10**digits
        if all(abs(b * scale - round(b * scale)) <= 1e-9 * max(1.0, abs(b * scale)) for b in biases):
            return scale
    return 10**CPSAT_MAX_DIGITS


def _timeout(time_limit: float) -> float:
    """Seconds after which an external anchor is killed."""
    return 2 * time_limit + 30


def parse_objective(stdout: str, regex: str | None = None) -> float:
    """The objective an external anchor printed (see the module docstring for the rule)."""
    if regex is not None:
        matches = list(re.finditer(regex, stdout, re.MULTILINE))
        if not matches:
            raise BackendError(f"no match of {regex!r} in the output")
        last = matches[-1]
        return float(last.group(1) if last.groups() else last.group(0))
    lines = [line for line in stdout.splitlines() if line.strip()]
    numbers = _NUMBER.findall(lines[-1]) if lines else []
    if not numbers:
        raise BackendError("no number on the last line of the output")
    return float(numbers[-1])


def run_external(spec: AnchorSpec, file_ref: str, instance: str, time_limit: float, seed: int) -> AnchorOutcome:
    """Run an external anchor command and read its objective."""
    assert spec.command is not None
    values = {"{file}": file_ref, "{instance}": instance, "{time}": f"{time_limit:g}", "{seed}": str(seed)}
    args = []
    for token in shlex.split(spec.command):
        for key, value in values.items():
            token = token.replace(key, value)
        args.append(token)
    if args and args[0] in ("python", "python3"):
        args[0] = sys.executable  # the same interpreter as hqopt's
    start = time.perf_counter()
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=_timeout(time_limit), check=False)
    except subprocess.TimeoutExpired:
        raise BackendError(f"anchor {spec.name!r} ran past {_timeout(time_limit):g} s") from None
    except OSError as exc:
        raise BackendError(f"anchor {spec.name!r} could not start: {exc}") from None
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [""])[-1]
        raise BackendError(f"anchor {spec.name!r} exited with code {done.returncode}: {tail}")
    objective = parse_objective(done.stdout, spec.regex)
    if not math.isfinite(objective):
        return AnchorOutcome(None, False, verified=False)
    return AnchorOutcome(objective, True, [(wall, objective)], verified=False)


#: built-in anchors: name -> function(model, time_limit, seed)
BUILTIN_ANCHORS: dict[str, Callable[[Model, float, int], AnchorOutcome]] = {
    "sa-restarts": sa_restarts,
    "cpsat-alone": cpsat_alone,
}


def run_anchor(spec: AnchorSpec, model: Model, file_ref: str, time_limit: float, seed: int) -> AnchorOutcome:
    """Run one anchor on one instance."""
    if spec.command is not None:
        return run_external(spec, file_ref, model.name, time_limit, seed)
    return BUILTIN_ANCHORS[spec.name](model, time_limit, seed)


__all__ = ["BUILTIN_ANCHORS", "AnchorOutcome", "AnchorSpec", "parse_objective", "run_anchor"]
