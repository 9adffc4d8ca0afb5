"""The backend contract: implement ``run``, get a dimod Sampler for free.

A backend receives a *compiled* problem in minimisation form -- a
:class:`dimod.ConstrainedQuadraticModel` if its capabilities accept CQMs,
otherwise a :class:`dimod.BinaryQuadraticModel` -- plus a :class:`Budget` and
a seed. It returns a :class:`BackendOutput`: the samples, an optional proven
lower bound, a status hint and its own timings/facts. ``solve`` does the rest
(verification on the original model, penalty tuning, Result).

Because :class:`Backend` is a :class:`dimod.Sampler`, every hqopt backend also
slots into Ocean code::

    >>> from hqopt.backends import get_backend
    >>> import dimod
    >>> sa = get_backend("sa")
    >>> ss = sa.sample(dimod.BQM({"a": -1, "b": 1}, {}, 0, "BINARY"), seed=1)
    >>> {v: int(x) for v, x in ss.first.sample.items()}
    {'a': 1, 'b': 0}
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import dimod
import numpy as np

from hqopt.budget import Budget
from hqopt.errors import BackendError, BackendOptionError


@dataclass(frozen=True)
class Capabilities:
    """What a backend accepts and offers.

    Attributes:
        accepts: ``"cqm"`` (constraints stay constraints) or ``"bqm"`` (needs
            penalty compilation).
        integer_variables: accepts integer variables natively (CQM backends).
        proves_bounds: can prove a lower bound / optimality / infeasibility.
        kind: ``"classical"``, ``"quantum"`` or ``"hybrid"``.
        max_variables: largest problem it takes (``None`` = no fixed limit).
        extra: the pip extra it needs (``pip install hqopt[extra]``), if any.
        needs_credentials: needs an account (e.g. D-Wave Leap).
    """

    accepts: Literal["cqm", "bqm"]
    integer_variables: bool = False
    proves_bounds: bool = False
    kind: Literal["classical", "quantum", "hybrid"] = "classical"
    max_variables: int | None = None
    extra: str | None = None
    needs_credentials: bool = False

    @property
    def quantum(self) -> bool:
        return self.kind != "classical"


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here, and if not why."""

    available: bool
    reason: str = ""


@dataclass
class BackendOutput:
    """What one ``Backend.run`` returns (energies in the compiled minimisation form).

    Attributes:
        sampleset: the samples found, over the compiled problem's variables.
        bound: a proven lower bound on the compiled objective, if any.
        status: ``"optimal"``, ``"infeasible"`` (both proven) or ``"unknown"``.
        info: backend facts for the Result (timings in seconds, counts, ...).
    """

    sampleset: dimod.SampleSet
    bound: float | None = None
    status: Literal["optimal", "infeasible", "unknown"] = "unknown"
    info: dict[str, Any] = field(default_factory=dict)


class Backend(dimod.Sampler, abc.ABC):
    """Base class of every hqopt backend.

    Subclasses set ``name``, ``capabilities`` and ``description``, accept their
    options as keyword arguments in ``__init__`` (validated there) and
    implement :meth:`run`. Optionally override :meth:`availability` (must not
    import heavy dependencies when they are missing).
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    description: ClassVar[str] = ""
    #: option names accepted by ``__init__`` (shown by ``hqopt backends``)
    option_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.option_names))
        if unknown:
            allowed = ", ".join(self.option_names) or "none"
            raise BackendOptionError(f"backend '{self.name}' has no option {unknown[0]!r} (options: {allowed})")
        self.options = options

    @classmethod
    def availability(cls) -> Availability:
        return Availability(True)

    def int_option(self, name: str, default: int | None, minimum: int = 1) -> int | None:
        """Option ``name`` as an integer >= ``minimum`` (``default`` when unset); a clear error otherwise."""
        value = self.options.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise BackendOptionError(f"backend '{self.name}': {name} must be {wanted}, got {value!r}")
        return int(value)

    def expect_problem(self, problem: object) -> None:
        """Raise a clear error unless ``problem`` is what this backend accepts.

        ``solve`` always hands over the right kind (and never an empty
        problem); this guards direct calls of :meth:`run`.
        """
        expected = dimod.ConstrainedQuadraticModel if self.capabilities.accepts == "cqm" else dimod.BinaryQuadraticModel
        if not isinstance(problem, expected):
            raise BackendError(
                f"backend '{self.name}' takes a {self.capabilities.accepts.upper()}, got {type(problem).__name__}"
            )

    @abc.abstractmethod
    def run(
        self,
        problem: dimod.BinaryQuadraticModel | dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        """Solve ``problem`` (minimise) within ``budget``; see :class:`BackendOutput`.

        ``problem`` is read-only, as a dimod sampler's input is: it may be the
        user's own CQM, on which every answer is verified afterwards.
        ``initial`` is an optional warm-start assignment (a hint).
        """

    # -------------------------------------------------------- dimod Sampler API
    @property
    def parameters(self) -> dict[str, list]:
        return {"time_limit": [], "seed": []}

    @property
    def properties(self) -> dict[str, Any]:
        return {"name": self.name, "capabilities": self.capabilities, "options": dict(self.options)}

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        time_limit: float | None = None,
        seed: int | None = None,
        **parameters: Any,
    ) -> dimod.SampleSet:
        """Minimise a BQM, as a dimod Sampler; energies are the BQM's own.

        Unknown keyword arguments (``num_reads=`` from Ocean code, ...) are
        dropped with a :class:`dimod.exceptions.SamplerUnknownArgWarning`, as
        dimod's reference samplers do; configure a backend through its
        constructor options instead.
        """
        self.remove_unknown_kwargs(**parameters)  # warns for each one
        if bqm.num_variables == 0:
            return dimod.SampleSet.from_samples_bqm(([[]], []), bqm)
        binary = standard_bqm(bqm)
        binary = binary if binary.vartype is dimod.BINARY else binary.change_vartype(dimod.BINARY, inplace=False)
        problem: Any = dimod.ConstrainedQuadraticModel.from_bqm(binary) if self.capabilities.accepts == "cqm" else binary
        t0 = time.perf_counter()
        out = self.run(problem, Budget(time_limit), seed)
        found = out.sampleset
        records = (found.record.sample, list(found.variables)) if len(found) else ([], list(binary.variables))
        samples = dimod.SampleSet.from_samples_bqm(records, binary)
        if bqm.vartype is dimod.SPIN:
            samples = samples.change_vartype(dimod.SPIN, inplace=False)
        samples.info.update(out.info)
        samples.info["wall_time"] = time.perf_counter() - t0
        return samples

    def sample_cqm(
        self,
        cqm: dimod.ConstrainedQuadraticModel,
        time_limit: float | None = None,
        seed: int | None = None,
        **parameters: Any,
    ) -> dimod.SampleSet:
        """Solve a CQM through ``hqopt.solve`` (penalties if this is a BQM backend).

        Unknown keyword arguments are dropped with a warning, as in :meth:`sample`.
        """
        from hqopt.solve import solve

        self.remove_unknown_kwargs(**parameters)

        result = solve(cqm, backend=self, time_limit=time_limit, seed=seed)
        assert result.sampleset is not None
        return result.sampleset


def standard_bqm(bqm: dimod.BinaryQuadraticModel) -> dimod.BinaryQuadraticModel:
    """``bqm`` as dimod's standard (array-backed) BQM; a :class:`dimod.DictBQM` is rebuilt.

    >>> type(standard_bqm(dimod.DictBQM({"a": 1}, {}, 0, "BINARY")).variables).__name__
    'Variables'
    """
    if type(bqm) is dimod.BinaryQuadraticModel and isinstance(bqm.variables, dimod.variables.Variables):
        return bqm
    return dimod.BinaryQuadraticModel(bqm.linear, bqm.quadratic, bqm.offset, bqm.vartype)


def seed_sequence(seed: int | None, count: int) -> list[int]:
    """``count`` independent 31-bit seeds derived deterministically from ``seed``.

    >>> seed_sequence(7, 2) == seed_sequence(7, 2)
    True
    """
    ss = np.random.SeedSequence(seed)
    return [int(s) & 0x7FFFFFFF for s in ss.generate_state(count, dtype=np.uint32)]
