"""``hqopt.analyze(model)``: what a problem costs on quantum hardware, before paying for it.

The report covers

* **compiled size**: logical variables after penalty compilation (slack and
  integer-encoding bits counted separately), interactions and density;
* **coefficients**: the dynamic range of the Ising biases and how many of them
  fall below the QPU's precision once auto-scaled into ``h`` in [-4, 4] and
  ``J`` in [-1, 1] (penalties widen the range);
* **embedding** on D-Wave Advantage (Pegasus P16) and Advantage2 (Zephyr Z12):
  physical qubits, longest and mean chain, time to embed -- or why not. It is
  the same seeded minorminer call the ``dwave``/``dwave-mock`` backends make
  (``embedding_seed`` 0 by default), so the figures are the ones a run uses;
* **QAOA**: circuit width, and depth and two-qubit gate count after
  transpiling one QAOA layer per ``qaoa_reps`` onto a heavy-hex device
  (Qiskit's GenericBackendV2 on ``CouplingMap.from_heavy_hex``);
* **QPU access time**: the programming time and the time per read, from
  D-Wave's published timing model (Advantage4.1 ``problem_timing_data`` as
  shipped in dwave-cloud-client) for the embedded problem's qubit count;
* **verdict**: fits the QPU or not, and the suggested path: the QPU directly,
  or a decomposition whose sub-problems are no larger than the largest clique
  the QPU graph embeds (so any sub-problem fits, however dense), with the
  formulation's own advice on what a sub-problem is (e.g. placement: the
  services of a few sites).

Example:
    >>> import hqopt
    >>> m = hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 2})
    >>> report = hqopt.analyze(m, topologies=("pegasus",))
    >>> report.compiled["logical_variables"], report.embeddings["pegasus"]["physical_qubits"]
    (2, 2)
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import dimod
import numpy as np

from hqopt.backends.registry import BUILTIN_BACKENDS
from hqopt.compile import compile_for
from hqopt.errors import BackendError
from hqopt.model import as_model

#: relative precision of the QPU's h and J after auto-scaling (integrated control errors ~1-2 % of range)
QPU_PRECISION = 0.01
#: the QPU's bias ranges used for auto-scaling (Advantage)
H_RANGE = 4.0
J_RANGE = 1.0
#: default heavy-hex code distance of the QAOA target device (115 qubits)
HEAVY_HEX_DISTANCE = 7
_TWO_QUBIT_GATES = {"ecr", "cx", "cz", "swap", "rzz"}


@dataclass
class AnalysisReport:
    """The numbers :func:`analyze` measures; ``to_dict()``/``to_json()``/``to_text()`` present them."""

    model: dict[str, Any]
    compiled: dict[str, Any]
    coefficients: dict[str, Any]
    embeddings: dict[str, dict[str, Any]] = field(default_factory=dict)
    qaoa: dict[str, Any] = field(default_factory=dict)
    qpu_timing: dict[str, Any] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_text(self) -> str:
        """A terminal report, one fact per line."""
        m, c, k = self.model, self.compiled, self.coefficients
        lines = [
            f"model {m['name']!r}: {m['variables']} variables ({_counts(m['vartypes'])}), "
            f"{m['constraints']} constraints, sense {m['sense']}",
            f"compiled BQM: {c['logical_variables']} logical variables "
            f"(+{c['slack_variables']} slack, +{c['encoding_variables']} integer-encoding bits; "
            f"overhead x{c['overhead']:.2f}), {c['interactions']} interactions, density {c['density']:.4f}",
            f"coefficients: dynamic range {k['dynamic_range']:.3g} ({k['precision_bits']:.1f} bits); "
            f"after auto-scaling to h in [-{H_RANGE:g}, {H_RANGE:g}], J in [-{J_RANGE:g}, {J_RANGE:g}] "
            f"{k['below_precision']} of {k['nonzero']} biases fall under the ~{QPU_PRECISION:g} QPU precision",
        ]
        if "penalty_stretch" in k:
            lines.append(f"penalties: largest bias is x{k['penalty_stretch']:.3g} the objective's largest")
        for name, e in self.embeddings.items():
            if e.get("embedded"):
                lines.append(
                    f"embedding on {e['system']}: {e['physical_qubits']} physical qubits, "
                    f"max chain {e['max_chain_length']}, mean chain {e['mean_chain_length']:.2f}, "
                    f"found in {e['embedding_time']:.2f} s"
                )
            else:
                lines.append(f"embedding on {e['system']}: {e['embedding_failure']}")
        q = self.qaoa
        if q.get("transpiled"):
            lines.append(
                f"QAOA (p={q['reps']}): {q['width']} qubits; on {q['device']}: depth {q['depth']}, "
                f"{q['two_qubit_gates']} two-qubit gates"
            )
        elif q:
            lines.append(f"QAOA (p={q.get('reps')}): {q['width']} qubits; {q['reason']}")
        t = self.qpu_timing
        if t:
            lines.append(
                f"QPU access time ({t['qubits']} qubits): {t['programming_time'] * 1e3:.1f} ms programming + "
                f"{t['time_per_read'] * 1e6:.0f} us per read = {t['total_time'] * 1e3:.1f} ms for {t['num_reads']} reads"
            )
        if self.verdict:
            lines.append(f"verdict: {self.verdict['reason']}")
            lines.append(f"suggested: {self.verdict['suggested']}")
        return "\n".join(lines)


def analyze(
    problem: Any,
    *,
    topologies: Sequence[str] = ("pegasus", "zephyr"),
    embed: bool = True,
    embed_timeout: float = 10.0,
    embed_tries: int = 10,
    embedding_seed: int = 0,
    qaoa_reps: int = 1,
    heavy_hex_distance: int = HEAVY_HEX_DISTANCE,
    num_reads: int = 100,
    integer_encoding: str = "binary",
) -> AnalysisReport:
    """Measure what ``problem`` needs on a D-Wave QPU and as a QAOA circuit.

    Args:
        problem: a Model, BQM, CQM or anything with ``to_model()``.
        topologies: QPU graphs to embed on (``pegasus``, ``zephyr``).
        embed: set False to skip the (possibly slow) embedding search.
        embed_timeout: minorminer's timeout per topology; the search is ended after
            1.5 x that + 0.5 s (minorminer checks its timeout only between stages).
        embed_tries: minorminer restarts (the QPU backends' ``embedding_tries``, default 10).
        embedding_seed: minorminer's seed (the QPU backends use 0 by default).
        qaoa_reps: QAOA layers ``p`` of the transpiled circuit.
        heavy_hex_distance: code distance of the heavy-hex QAOA device (odd).
        num_reads: reads for the QPU access-time estimate.
        integer_encoding: as in :func:`hqopt.solve`.
    """
    model = as_model(problem)
    if num_reads < 1 or qaoa_reps < 1:
        raise BackendError("num_reads and qaoa_reps must be positive")
    compiled = compile_for(model, accepts="bqm", encoding=integer_encoding)
    bqm = compiled.problem()
    assert isinstance(bqm, dimod.BinaryQuadraticModel)
    penalty = compiled.penalty
    assert penalty is not None
    report = AnalysisReport(
        model=_model_facts(model),
        compiled=_compiled_facts(model, bqm, penalty.num_slack_variables),
        coefficients=_coefficient_facts(bqm, penalty.objective, bool(penalty.penalties)),
    )
    if _has("minorminer") and _has("dwave.system"):
        from hqopt.backends.dwave import TOPOLOGIES, find_embedding, mock_qpu

        for name in topologies:
            if name not in TOPOLOGIES:
                raise BackendError(f"unknown topology {name!r}; choose from {', '.join(TOPOLOGIES)}")
            facts: dict[str, Any] = {"system": TOPOLOGIES[name][2]}
            if embed:
                qpu = mock_qpu(name)
                found = find_embedding(
                    bqm, qpu.edgelist, qpu.nodelist, timeout=embed_timeout, tries=embed_tries, seed=embedding_seed
                )
                facts.update(found.facts())
            else:
                facts.update(embedded=False, embedding_failure="not attempted (embedding skipped)")
            report.embeddings[name] = facts
        qubits = report.embeddings.get("pegasus", {}).get("physical_qubits", bqm.num_variables)
        report.qpu_timing = _qpu_timing(qubits, num_reads)
    if _has("qiskit"):
        report.qaoa = _qaoa_facts(bqm, qaoa_reps, heavy_hex_distance, embedding_seed)
    report.verdict = _verdict(model, report, searched=embed and bool(report.embeddings))
    return report


# ------------------------------------------------------------------ sections
#: share of biases under the QPU precision above which answers are called noisy
NOISY_SHARE = 0.05


def _verdict(model: Any, report: AnalysisReport, searched: bool) -> dict[str, Any]:
    """Fits the QPU or not, why, and the suggested path (see the module docstring)."""
    c, k = report.compiled, report.coefficients
    if not searched:
        return _unknown_verdict(skipped=bool(report.embeddings))
    noisy = k["nonzero"] and k["below_precision"] / k["nonzero"] > NOISY_SHARE
    found = [e for e in report.embeddings.values() if e.get("embedded")]
    if found:
        best = min(found, key=lambda e: e["physical_qubits"])
        reason = f"fits the QPU: embeds on {best['system']} with {best['physical_qubits']} physical qubits (max chain {best['max_chain_length']})"
        if noisy:
            reason += f"; but {k['below_precision']} of {k['nonzero']} biases fall under the QPU precision, so expect noisy answers"
        return {"fits": True, "reason": reason, "sub_problem_size": None, "suggested": _qpu_path(best["embedding_time"])}
    cliques = {name: _largest_clique(name) for name in report.embeddings}
    size = min(cliques.values())
    systems = " or ".join(e["system"] for e in report.embeddings.values())
    reason = f"does not fit the QPU: {c['logical_variables']} logical variables and {c['interactions']} interactions do not embed on {systems}"
    if noisy:
        reason += f"; and {k['below_precision']} of {k['nonzero']} biases would fall under the QPU precision"
    advice = getattr(model.metadata.get("formulation"), "subproblem_advice", None)
    suggested = (
        f"decompose, sending sub-problems of at most {size} variables to the QPU (the largest fully connected problem that "
        f"embeds has {' / '.join(f'{v} variables on {n}' for n, v in cliques.items())}, so any sub-problem that size fits): "
        f"hqopt solve FILE --backend hybrid --option sub_backend=dwave --option sub_size={size}"
        + (" (or lns with that quantum sub-solver)" if "lns" in BUILTIN_BACKENDS else "")
        + "; rehearse with sub_backend=dwave-mock"
    )
    if callable(advice):
        suggested += f"; {advice(size)}"
    return {"fits": False, "reason": reason, "suggested": suggested, "sub_problem_size": size}


def _unknown_verdict(skipped: bool) -> dict[str, Any]:
    """The verdict when no embedding was searched: ``skipped`` (--no-embed) or the 'quantum' extra is missing."""
    if skipped:
        return {"fits": None, "reason": "unknown: no embedding was searched (--no-embed)",
                "suggested": "run hqopt analyze again without --no-embed", "sub_problem_size": None}
    return {"fits": None, "reason": "unknown: no embedding was searched (the 'quantum' extra is missing)",
            "suggested": "install hqopt[quantum] and run hqopt analyze again", "sub_problem_size": None}


def _qpu_path(embedding_seconds: float) -> str:
    """The suggested path for a problem that embeds, with a time limit that covers loading and embedding."""
    from hqopt.backends.dwave import TYPICAL_LOAD_SECONDS, suggested_time_limit

    limit = suggested_time_limit(TYPICAL_LOAD_SECONDS, embedding_seconds)
    return (
        f"hqopt solve FILE --backend dwave -t {limit:g} or more (loading and embedding come out of the time limit; "
        f"rehearse with --backend dwave-mock); compare with --backend sa"
    )


@functools.cache
def _largest_clique(topology: str) -> int:
    """Variables of the largest fully connected problem the topology embeds (minorminer's busclique)."""
    from minorminer import busclique

    from hqopt.backends.dwave import mock_qpu

    return len(busclique.busgraph_cache(mock_qpu(topology).to_networkx_graph()).largest_clique())


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _counts(vartypes: dict[str, int]) -> str:
    return ", ".join(f"{n} {t}" for t, n in vartypes.items() if n) or "none"


def _model_facts(model: Any) -> dict[str, Any]:
    cqm = model.cqm
    kinds = [cqm.vartype(v).name.lower() for v in cqm.variables]
    return {
        "name": model.name,
        "sense": model.sense.value,
        "variables": len(cqm.variables),
        "vartypes": {k: kinds.count(k) for k in ("binary", "spin", "integer", "real")},
        "constraints": len(cqm.constraints),
    }


def _compiled_facts(model: Any, bqm: dimod.BinaryQuadraticModel, slack: int) -> dict[str, Any]:
    n = bqm.num_variables
    original = len(model.cqm.variables)
    integers = sum(1 for v in model.cqm.variables if model.cqm.vartype(v) is dimod.INTEGER)
    encoding = n - slack - (original - integers)
    return {
        "logical_variables": n,
        "original_variables": original,
        "slack_variables": slack,
        "encoding_variables": encoding,
        "overhead": n / original if original else 1.0,
        "interactions": bqm.num_interactions,
        "density": 2 * bqm.num_interactions / (n * (n - 1)) if n > 1 else 0.0,
        "max_degree": max((bqm.degree(v) for v in bqm.variables), default=0),
    }


def _coefficient_facts(
    bqm: dimod.BinaryQuadraticModel, objective: dimod.BinaryQuadraticModel, penalized: bool
) -> dict[str, Any]:
    """Dynamic range of the Ising biases and what survives the QPU's auto-scaling."""
    h, j, _ = bqm.spin.to_ising()
    hv = np.abs(np.fromiter(h.values(), dtype=float, count=len(h)))
    jv = np.abs(np.fromiter(j.values(), dtype=float, count=len(j)))
    values = np.concatenate([hv, jv])
    nonzero = values[values > 0]
    if not len(nonzero):
        return {"nonzero": 0, "dynamic_range": 1.0, "precision_bits": 0.0, "below_precision": 0, "max_abs_h": 0.0, "max_abs_j": 0.0}
    max_h = float(hv.max()) if len(hv) else 0.0
    max_j = float(jv.max()) if len(jv) else 0.0
    scale = min(H_RANGE / max_h if max_h else math.inf, J_RANGE / max_j if max_j else math.inf)
    scaled = np.concatenate([hv * scale / H_RANGE, jv * scale / J_RANGE])  # as a share of each range
    dynamic = float(nonzero.max() / nonzero.min())
    facts: dict[str, Any] = {
        "nonzero": int(len(nonzero)),
        "max_abs_h": max_h,
        "max_abs_j": max_j,
        "min_abs_nonzero": float(nonzero.min()),
        "dynamic_range": dynamic,
        "precision_bits": math.log2(dynamic) if dynamic > 1 else 0.0,
        "below_precision": int(np.sum((scaled > 0) & (scaled < QPU_PRECISION))),
        "autoscale_factor": float(scale),
    }
    if penalized:
        oh, oj, _ = objective.spin.to_ising()
        objective_max = max([abs(b) for b in oh.values()] + [abs(b) for b in oj.values()], default=0.0)
        if objective_max > 0:
            facts["penalty_stretch"] = float(nonzero.max() / objective_max)
    return facts


def _qpu_timing(qubits: int, num_reads: int) -> dict[str, Any]:
    """Programming and per-read QPU access time from D-Wave's Advantage timing model."""
    from dwave.cloud.solver import StructuredSolver
    from dwave.cloud.testing.mocks import qpu_pegasus_solver_data, qpu_problem_timing_data

    solver = StructuredSolver(
        client=None, data=qpu_pegasus_solver_data(16, problem_timing_data=qpu_problem_timing_data("advantage"))
    )
    one = solver.estimate_qpu_access_time(num_qubits=qubits, num_reads=1) * 1e-6
    many = solver.estimate_qpu_access_time(num_qubits=qubits, num_reads=num_reads + 1) * 1e-6
    per_read = (many - one) / num_reads
    return {
        "qubits": int(qubits),
        "num_reads": int(num_reads),
        "programming_time": one - per_read,
        "time_per_read": per_read,
        "total_time": one - per_read + num_reads * per_read,
        "timing_model": "D-Wave Advantage4.1 problem_timing_data (2022), default 20 us anneal",
    }


def _qaoa_facts(bqm: dimod.BinaryQuadraticModel, reps: int, distance: int, seed: int) -> dict[str, Any]:
    """Width, and depth / two-qubit gates after transpiling to a heavy-hex device."""
    from qiskit import transpile
    from qiskit.circuit.library import qaoa_ansatz
    from qiskit.providers.fake_provider import GenericBackendV2
    from qiskit.transpiler import CouplingMap

    from hqopt.backends.qaoa import cost_hamiltonian

    coupling = CouplingMap.from_heavy_hex(distance)
    device = f"heavy-hex d={distance} ({coupling.size()} qubits, ECR/RZ/SX basis)"
    n = bqm.num_variables
    facts: dict[str, Any] = {"reps": reps, "width": n, "device": device}
    if n > coupling.size():
        facts.update(transpiled=False, reason=f"does not fit on the {device}")
        return facts
    hamiltonian, _, _ = cost_hamiltonian(bqm)
    circuit = qaoa_ansatz(hamiltonian, reps=reps)
    circuit.measure_all()
    backend = GenericBackendV2(
        num_qubits=coupling.size(), coupling_map=coupling, basis_gates=["ecr", "id", "rz", "sx", "x"], seed=seed
    )
    t0 = time.perf_counter()
    isa = transpile(circuit, backend, optimization_level=1, seed_transpiler=seed)
    ops = isa.count_ops()
    facts.update(
        transpiled=True,
        depth=int(isa.depth()),
        two_qubit_gates=int(sum(c for g, c in ops.items() if g in _TWO_QUBIT_GATES)),
        logical_two_qubit_terms=int(bqm.num_interactions),
        transpile_time=time.perf_counter() - t0,
    )
    return facts
