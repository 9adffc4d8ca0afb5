"""QAOA on Qiskit: cost Hamiltonian from the BQM, angles by SciPy, samples by a SamplerV2.

The run, step by step:

1. The BQM becomes an Ising cost Hamiltonian (:class:`~qiskit.quantum_info.SparsePauliOp`),
   scaled so its largest coefficient is 1; qubit ``i`` is the ``i``-th
   variable and measuring ``1`` means the variable is 1.
2. :func:`qiskit.circuit.library.qaoa_ansatz` builds the ``reps``-layer circuit.
3. SciPy (COBYLA by default) tunes the angles from a linear ramp
   (gamma rising, beta falling -- the discretised annealing path), minimising
   the CVaR of the energy (the mean of the best ``alpha`` fraction; ``alpha=1``
   is the plain expectation). The objective is evaluated exactly on a local
   statevector (Qiskit Aer if installed, else ``qiskit.quantum_info.Statevector``),
   or with a user-supplied ``estimator`` (EstimatorV2, expectation) or
   ``sampler`` (SamplerV2, CVaR from counts) -- e.g. IBM Runtime primitives,
   used unchanged; pass ``pass_manager`` to transpile for their device.
4. The tuned circuit is sampled with a SamplerV2 (``shots`` bitstrings) and
   every distinct bitstring's energy is recomputed classically on the BQM.

Problems above ``max_qubits`` (default 20) are refused: use ``backend="hybrid"``
with ``sub_backend="qaoa"`` to decompose them.

Example:
    >>> import hqopt
    >>> m = hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 2})
    >>> hqopt.solve(m, backend="qaoa", seed=7).objective
    -1.0
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import Availability, Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.errors import BackendError, BackendOptionError

#: default largest problem (qubits) the backend accepts; see docs/quantum.md for timings
DEFAULT_MAX_QUBITS = 20
DEFAULT_REPS = 2
#: deepest circuit accepted: each layer adds a gate per variable and per interaction
#: (reps=10**6 used to spend 30 s building the circuit under a 2 s limit)
MAX_REPS = 32
#: seconds per gate per statevector amplitude of the local simulation (measured: 20 qubits, reps=32: ~30 s)
SIMULATION_SECONDS_PER_UNIT = 7e-9
DEFAULT_SHOTS = 1024
DEFAULT_ALPHA = 0.25
#: angle-sum scale of the linear-ramp start (Hamiltonian normalised to max |coefficient| 1)
RAMP_SCALE = 0.75


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def cost_hamiltonian(bqm: dimod.BinaryQuadraticModel) -> tuple[Any, float, float]:
    """``(H, offset, scale)`` with ``bqm.energy(x) == scale * <x|H|x> + offset`` (qubit i = variable i).

    ``H`` is a SparsePauliOp whose largest coefficient is 1 in magnitude.
    With ``x = 1`` measured as ``|1>`` (Z eigenvalue -1) the dimod spin is ``s = -Z``.

    >>> import dimod
    >>> H, offset, scale = cost_hamiltonian(dimod.BQM({"a": 2.0}, {}, 0.0, "BINARY"))
    >>> [(pauli, float(c.real)) for pauli, c in H.to_list()], offset, scale
    ([('Z', -1.0)], 1.0, 1.0)
    """
    from qiskit.quantum_info import SparsePauliOp

    index = {v: i for i, v in enumerate(bqm.variables)}
    h, j, offset = bqm.spin.to_ising()
    terms = [("Z", [index[v]], -b) for v, b in h.items() if b]
    terms += [("ZZ", [index[u], index[v]], b) for (u, v), b in j.items() if b]
    scale = max((abs(t[2]) for t in terms), default=1.0)
    if not terms:
        terms = [("Z", [0], 0.0)]
    op = SparsePauliOp.from_sparse_list([(p, q, c / scale) for p, q, c in terms], num_qubits=bqm.num_variables)
    return op.simplify(atol=0.0), float(offset), float(scale)


def import_qiskit() -> None:
    """Import the Qiskit modules this backend runs on, now, in the calling thread.

    Qiskit 2.x crashes the interpreter (segmentation fault) when its compiled
    extension was first imported by a thread that has since ended and is then
    used from another one. A timed solve runs each backend in a thread of its
    own that ends with the solve, so the import happens when the backend is
    built: in the thread that called ``solve`` (for ``lns`` and ``hybrid``
    sub-solvers too, which are built with them).
    """
    import qiskit.circuit.library  # noqa: F401
    import qiskit.primitives  # noqa: F401
    import qiskit.quantum_info  # noqa: F401

    if _has("qiskit_aer"):
        import qiskit_aer  # noqa: F401


def linear_ramp(reps: int, scale: float = RAMP_SCALE) -> tuple[np.ndarray, np.ndarray]:
    """Start angles ``(gammas, betas)``: gamma ramps up while beta ramps down.

    >>> linear_ramp(2)
    (array([0.1875, 0.5625]), array([0.5625, 0.1875]))
    """
    t = (np.arange(reps) + 0.5) / reps
    return scale * t, scale * (1 - t)


def cvar(energies: np.ndarray, probabilities: np.ndarray, alpha: float) -> float:
    """Mean energy of the lowest-energy ``alpha`` share of the distribution.

    >>> cvar(np.array([0.0, 1.0, 2.0]), np.array([0.25, 0.25, 0.5]), 0.5)
    0.5
    """
    order = np.argsort(energies, kind="stable")
    e, p = energies[order], probabilities[order] / probabilities.sum()
    taken = np.minimum(p, np.maximum(0.0, alpha - (np.cumsum(p) - p)))
    return float(np.dot(e, taken) / alpha)


class _Stop(Exception):
    """Raised inside the optimizer's objective when the time budget is spent."""


class QAOABackend(Backend):
    """QAOA on Qiskit for small BQMs (gate-model quantum or local simulation)."""

    name = "qaoa"
    capabilities = Capabilities(accepts="bqm", kind="quantum", max_variables=DEFAULT_MAX_QUBITS, extra="quantum")
    description = "QAOA on Qiskit (local statevector / Aer, or any SamplerV2/EstimatorV2), small problems"
    option_names = (
        "reps",
        "shots",
        "alpha",
        "optimizer",
        "maxiter",
        "max_qubits",
        "initial_angles",
        "sampler",
        "estimator",
        "pass_manager",
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for key, default in (("reps", DEFAULT_REPS), ("shots", DEFAULT_SHOTS), ("max_qubits", DEFAULT_MAX_QUBITS)):
            self.int_option(key, default)
        if self.reps > MAX_REPS:
            raise BackendOptionError(f"backend 'qaoa': reps must be at most {MAX_REPS}, got {self.reps}")
        alpha = self.options.get("alpha", DEFAULT_ALPHA)
        if not isinstance(alpha, (int, float)) or not 0 < alpha <= 1:
            raise BackendOptionError(f"alpha (CVaR share) must be in (0, 1], got {alpha!r}")
        if self.options.get("estimator") is not None and "alpha" in self.options and alpha != 1:
            raise BackendOptionError("an estimator gives expectation values only: leave alpha unset (or 1) with estimator=")
        if "initial_angles" in self.options:
            angles = np.asarray(self.options["initial_angles"], dtype=float)
            if angles.shape != (2 * self.reps,):
                raise BackendOptionError(f"initial_angles must be 2*reps = {2 * self.reps} numbers (gammas then betas)")
        if _has("qiskit"):
            import_qiskit()

    @classmethod
    def availability(cls) -> Availability:
        if not _has("qiskit"):
            return Availability(False, "needs qiskit: pip install 'hqopt[quantum]'")
        return Availability(True)

    @property
    def reps(self) -> int:
        return int(self.options.get("reps", DEFAULT_REPS))

    def run(
        self,
        problem: dimod.BinaryQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        self.expect_problem(problem)
        n = problem.num_variables
        limit = int(self.options.get("max_qubits", DEFAULT_MAX_QUBITS))
        if n > limit:
            raise BackendError(
                f"backend 'qaoa': the compiled problem needs {n} qubits, more than max_qubits={limit}; "
                "decompose it into small sub-problems with the hybrid backend and sub_backend 'qaoa' "
                "(Python: backend='hybrid', sub_backend='qaoa'; CLI: --backend hybrid --option sub_backend=qaoa), "
                "or raise max_qubits (simulation cost doubles per qubit)"
            )
        if budget.limited and self.options.get("sampler") is None and self.options.get("estimator") is None:
            estimate = simulation_seconds(problem, self.reps)
            if 3 * estimate > budget.remaining():
                raise BackendError(
                    f"backend 'qaoa': one simulation of this circuit ({n} qubits, reps={self.reps}) takes about "
                    f"{estimate:.2g} s and a run needs several; that does not fit in the {budget.remaining():.2g} s left. "
                    "Lower reps, raise the time limit or use backend='hybrid' with sub_backend='qaoa'"
                )
        from qiskit.circuit.library import qaoa_ansatz

        t0 = time.perf_counter()
        hamiltonian, offset, scale = cost_hamiltonian(problem)
        ansatz = qaoa_ansatz(hamiltonian, reps=self.reps)
        pass_manager = self.options.get("pass_manager")
        circuit = pass_manager.run(ansatz) if pass_manager is not None else ansatz
        observable = hamiltonian.apply_layout(circuit.layout) if pass_manager is not None else hamiltonian
        objective, evaluator = self._objective(problem, circuit, observable, offset, scale, seed)

        start = np.concatenate(linear_ramp(self.reps)) if "initial_angles" not in self.options else np.asarray(
            self.options["initial_angles"], dtype=float
        )
        angles, value, evaluations = self._optimize(objective, start, budget)
        optimize_time = time.perf_counter() - t0

        t1 = time.perf_counter()
        samples = self._sample(problem, circuit, angles, seed)
        budget.report(samples)
        info = {
            "qubits": n,
            "reps": self.reps,
            "circuit_depth": int(circuit.decompose().depth()) if pass_manager is None else int(circuit.depth()),
            "angle_evaluations": evaluations,
            "angles": [round(float(a), 6) for a in angles],
            "qaoa_objective": float(value),
            "objective_kind": "expectation" if self._alpha() == 1 else f"cvar(alpha={self._alpha():g})",
            "evaluator": evaluator,
            "shots": int(self.options.get("shots", DEFAULT_SHOTS)),
            "optimize_time": optimize_time,
            "sampling_time": time.perf_counter() - t1,
        }
        return BackendOutput(samples, info=info)

    # ------------------------------------------------------------------ pieces
    def _alpha(self) -> float:
        if self.options.get("estimator") is not None:
            return 1.0
        return float(self.options.get("alpha", DEFAULT_ALPHA))

    def _objective(
        self,
        bqm: dimod.BinaryQuadraticModel,
        circuit: Any,
        observable: Any,
        offset: float,
        scale: float,
        seed: int | None,
    ) -> tuple[Callable[[np.ndarray], float], str]:
        """The function of the angles to minimise (in BQM energy units) and what evaluates it."""
        alpha = self._alpha()
        reps = self.reps
        estimator = self.options.get("estimator")
        if estimator is not None:

            def by_estimator(x: np.ndarray) -> float:
                evs = estimator.run([(circuit, observable, _ordered(circuit, x, reps))]).result()[0].data.evs
                return float(scale * np.asarray(evs).item() + offset)

            return by_estimator, type(estimator).__name__
        sampler = self.options.get("sampler")
        if sampler is not None:
            measured = circuit.measure_all(inplace=False)
            shots = int(self.options.get("shots", DEFAULT_SHOTS))

            def by_sampler(x: np.ndarray) -> float:
                counts = _bits(sampler.run([(measured, _ordered(measured, x, reps))], shots=shots).result()[0], bqm.num_variables)
                rows, occurrences = np.unique(counts, axis=0, return_counts=True)
                return cvar(bqm.energies((rows, list(bqm.variables))), occurrences.astype(float), alpha)

            return by_sampler, type(sampler).__name__
        energies = _all_energies(bqm)
        probabilities, name = _statevector_probabilities(circuit, seed)
        return (lambda x: cvar(energies, probabilities(_ordered(circuit, x, reps)), alpha)), name

    def _optimize(
        self, objective: Callable[[np.ndarray], float], start: np.ndarray, budget: Budget
    ) -> tuple[np.ndarray, float, int]:
        from scipy.optimize import minimize

        best: list[Any] = [start, np.inf]
        count = [0]

        started = time.perf_counter()

        def tracked(x: np.ndarray) -> float:
            # stop while there is still time for the final sampling (about 3 evaluations' worth)
            per_evaluation = (time.perf_counter() - started) / max(count[0], 1)
            if count[0] and (budget.expired() or (budget.limited and budget.remaining() < 3 * per_evaluation)):
                raise _Stop
            count[0] += 1
            value = objective(x)
            if value < best[1]:
                best[0], best[1] = np.array(x, dtype=float), value
            return value

        maxiter = int(self.options.get("maxiter", 40 * len(start)))
        try:
            minimize(tracked, start, method=self.options.get("optimizer", "COBYLA"), options={"maxiter": maxiter})
        except _Stop:
            pass
        return best[0], float(best[1]), count[0]

    def _sample(self, bqm: dimod.BinaryQuadraticModel, circuit: Any, angles: np.ndarray, seed: int | None) -> dimod.SampleSet:
        sampler = self.options.get("sampler") or _default_sampler(seed)
        measured = circuit.measure_all(inplace=False)
        shots = int(self.options.get("shots", DEFAULT_SHOTS))
        bits = _bits(sampler.run([(measured, _ordered(measured, angles, self.reps))], shots=shots).result()[0], bqm.num_variables)
        rows, occurrences = np.unique(bits, axis=0, return_counts=True)
        samples = dimod.SampleSet.from_samples_bqm((rows, list(bqm.variables)), bqm, num_occurrences=occurrences)
        return samples


# ------------------------------------------------------------------ helpers
def simulation_seconds(bqm: dimod.BinaryQuadraticModel, reps: int) -> float:
    """Rough seconds of one local statevector simulation of the QAOA circuit (for refusing early).

    >>> simulation_seconds(dimod.BQM({0: 1.0, 1: 1.0}, {(0, 1): 1.0}, 0, "BINARY"), reps=2) < 1e-3
    True
    """
    gates = reps * (2 * bqm.num_variables + bqm.num_interactions)
    return 2.0**bqm.num_variables * gates * SIMULATION_SECONDS_PER_UNIT


def _ordered(circuit: Any, angles: np.ndarray, reps: int) -> np.ndarray:
    """Angles ``[gammas..., betas...]`` in the circuit's parameter order."""
    values = []
    for parameter in circuit.parameters:
        layer = parameter.index
        values.append(angles[layer] if parameter.vector.name == "γ" else angles[reps + layer])
    return np.asarray(values, dtype=float)


def _bits(pub_result: Any, n: int) -> np.ndarray:
    """Measured bitstrings as rows of 0/1 with column ``i`` = qubit ``i``."""
    register = next(iter(pub_result.data.values()))
    return register.to_bool_array(order="little")[:, :n].astype(np.int8)


def _all_energies(bqm: dimod.BinaryQuadraticModel) -> np.ndarray:
    """BQM energy of every basis state, indexed like a statevector (qubit 0 = lowest bit)."""
    n = bqm.num_variables
    states = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int8)
    return np.asarray(bqm.energies((states, list(bqm.variables))), dtype=float)


def _statevector_probabilities(circuit: Any, seed: int | None) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """Exact basis-state probabilities of the bound circuit: Aer if installed, else Qiskit's Statevector."""
    if _has("qiskit_aer"):
        from qiskit import transpile
        from qiskit_aer import AerSimulator

        simulator = AerSimulator(method="statevector", seed_simulator=seed, max_parallel_threads=1)
        compiled = transpile(circuit, simulator, optimization_level=0)
        compiled.save_probabilities()

        def aer(values: np.ndarray) -> np.ndarray:
            bound = compiled.assign_parameters(_rebind(circuit, compiled, values))
            return np.asarray(simulator.run(bound).result().data()["probabilities"], dtype=float)

        return aer, "qiskit-aer statevector"
    from qiskit.quantum_info import Statevector

    return (lambda values: Statevector(circuit.assign_parameters(values)).probabilities()), "qiskit statevector"


def _rebind(original: Any, compiled: Any, values: np.ndarray) -> dict[Any, float]:
    by_name = {p.name: v for p, v in zip(original.parameters, values)}
    return {p: by_name[p.name] for p in compiled.parameters}


def _default_sampler(seed: int | None) -> Any:
    """Aer's SamplerV2 if installed, else Qiskit's StatevectorSampler (both seeded)."""
    if _has("qiskit_aer"):
        from qiskit_aer.primitives import SamplerV2

        return SamplerV2(seed=seed, options={"backend_options": {"max_parallel_threads": 1}})
    from qiskit.primitives import StatevectorSampler

    return StatevectorSampler(seed=seed)
