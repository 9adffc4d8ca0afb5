"""The answer of a solve: verified, timed, replayable and serialisable.

Example:
    >>> import hqopt
    >>> r = hqopt.solve(hqopt.Model.from_qubo({(0, 0): -1, (1, 1): 2}), backend="exact")
    >>> r.objective, r.feasible, r.status.value
    (-1.0, True, 'optimal')
    >>> hqopt.Result.from_json(r.to_json()).solution == r.solution
    True
"""

from __future__ import annotations

import enum
import html
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import dimod

from hqopt.cost import Cost
from hqopt.jsontext import readable_json
from hqopt.model import Label, Sense


class Status(str, enum.Enum):
    """What is known about the answer when the solve ends."""

    OPTIMAL = "optimal"  # feasible and proven optimal
    FEASIBLE = "feasible"  # a feasible solution, optimality not proven
    INFEASIBLE = "infeasible"  # the model was proven to have no feasible solution
    UNKNOWN = "unknown"  # no feasible solution found, nothing proven


@dataclass
class Timing:
    """Wall-clock seconds: total, prepare, compile, solve (backend runs), verify; plus backend-reported times.

    ``prepare`` is the time before any backend started: checking the model, the
    formulation's warm start, choosing the backends. ``total`` also holds building
    the answer after the backends stopped.

    >>> Timing(total=1.5, prepare=0.6, solve=0.75, verify=0.05).describe()
    '1.500 s (prepare 0.600, compile 0.000, solve 0.750, verify 0.050)'
    """

    total: float = 0.0
    compile: float = 0.0
    solve: float = 0.0
    verify: float = 0.0
    backend: dict[str, float] = field(default_factory=dict)
    prepare: float = 0.0

    def describe(self) -> str:
        """The total and its parts, in one line."""
        return f"{self.total:.3f} s (prepare {self.prepare:.3f}, compile {self.compile:.3f}, solve {self.solve:.3f}, verify {self.verify:.3f})"


@dataclass
class Result:
    """Everything ``hqopt.solve`` knows about its answer.

    ``solution`` is the best feasible sample (labels kept from the source);
    when nothing feasible was found it is the least-violating sample and
    ``feasible`` is False. ``objective`` and ``bound`` are in the problem's
    own sense. ``gap`` is ``|objective - bound| / max(|objective|, 1e-9)``.
    """

    solution: dict[Label, float] | None
    objective: float | None
    feasible: bool
    status: Status
    sense: Sense = Sense.MIN
    violations: dict[str, float] = field(default_factory=dict)
    bound: float | None = None
    timing: Timing = field(default_factory=Timing)
    backend: str = ""
    backend_reason: str = ""
    seed: int | None = None
    time_limit: float | None = None
    penalty_weights: dict[str, float] = field(default_factory=dict)
    history: list[tuple[float, float]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    decoded: Any = None
    interrupted: bool = False
    model_name: str = ""
    cost: Cost | None = None
    sampleset: dimod.SampleSet | None = field(default=None, repr=False, compare=False)

    @property
    def gap(self) -> float | None:
        """Relative gap between objective and proven bound (0.0 when proven optimal)."""
        if self.objective is None or self.bound is None or not self.feasible:
            return None
        if self.status is Status.OPTIMAL:
            return 0.0
        diff = abs(self.objective - self.bound)
        return diff / max(abs(self.objective), 1e-9)

    # ------------------------------------------------------------- reporting
    def __repr__(self) -> str:
        """One line: the headline facts and the decoded answer's own short repr, not every variable."""
        parts = [f"model={self.model_name!r}", f"objective={_fmt(self.objective)}", f"feasible={self.feasible}", f"status={self.status.value}"]
        if self.bound is not None:
            parts.append(f"bound={_fmt(self.bound)}")
        parts += [f"backend={self.backend!r}", f"time={self.timing.total:.3g}s", f"seed={self.seed}"]
        parts.append(f"solution=<{0 if self.solution is None else len(self.solution)} variables>")
        if self.decoded is not None:
            text = repr(self.decoded)
            parts.append(f"decoded={text if len(text) <= 200 else text[:197] + '...'}")
        return "Result(" + ", ".join(parts) + ")"

    def summary(self) -> str:
        """A short plain-text report."""
        lines = [
            f"model      {self.model_name} ({self.sense.value}imise)",
            f"backend    {self.backend}" + (f"  [{self.backend_reason}]" if self.backend_reason else ""),
            f"status     {self.status.value}" + ("  (interrupted)" if self.interrupted else ""),
            f"objective  {_fmt(self.objective)}",
            f"feasible   {self.feasible}",
        ]
        if self.bound is not None:
            gap = self.gap
            lines.append(f"bound      {_fmt(self.bound)}  gap {'-' if gap is None else f'{gap:.3%}'}")
        violated = {k: v for k, v in self.violations.items() if v > 0}
        if violated:
            worst = sorted(violated.items(), key=lambda kv: -kv[1])[:5]
            lines.append("violated   " + ", ".join(f"{k}={v:g}" for k, v in worst))
        t = self.timing
        lines.append(f"time       {t.describe()}")
        lines.append(f"seed       {self.seed}")
        if self.cost is not None:
            c = self.cost
            qpu = f", QPU {c.qpu_seconds:.6g} s, price {c.price:.4g}" if c.qpu_seconds else ""
            lines.append(f"cost       CPU {c.cpu_seconds:.3f} s, {c.energy_joules:.3g} J{qpu}")
        if self.penalty_weights:
            ws = list(self.penalty_weights.values())
            lines.append(f"penalties  {len(ws)} constraints, weights {min(ws):g} .. {max(ws):g}")
        if "compile" in self.info:  # a backend never searched: the answer is its start
            lines.append(f"note       {self.info['compile']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The summary as an HTML table (Jupyter shows it for a bare ``result``)."""
        rows = []
        for line in self.summary().splitlines():
            key, _, value = line.partition(" ")
            rows.append(f"<tr><th style='text-align:left'>{html.escape(key)}</th><td>{html.escape(value.strip())}</td></tr>")
        return "<table class='hqopt-result'>" + "".join(rows) + "</table>"

    # ---------------------------------------------------------- serialisation
    def to_dict(self, include_sampleset: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; labels are encoded so that tuples survive."""
        data = {
            "model_name": self.model_name,
            "sense": self.sense.value,
            "status": self.status.value,
            "feasible": self.feasible,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "interrupted": self.interrupted,
            "solution": None
            if self.solution is None
            else [[_encode_label(k), _plain_number(v)] for k, v in self.solution.items()],
            "violations": self.violations,
            "timing": asdict(self.timing),
            "backend": self.backend,
            "backend_reason": self.backend_reason,
            "seed": self.seed,
            "time_limit": self.time_limit,
            "penalty_weights": self.penalty_weights,
            "history": [list(h) for h in self.history],
            "info": self.info,
            "decoded": self.decoded,
            "cost": None if self.cost is None else self.cost.to_dict(),
        }
        if include_sampleset and self.sampleset is not None:
            data["sampleset"] = self.sampleset.to_serializable(use_bytes=False)
        return data

    def to_json(self, include_sampleset: bool = False, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text: a line per variable of the solution, members ``indent`` spaces in
        (:func:`hqopt.jsontext.readable_json`); ``indent=None``: all on one line."""
        data = self.to_dict(include_sampleset)
        if indent is None:
            return json.dumps(data, default=_json_default, allow_nan=True)
        return readable_json(data, indent=indent, default=_json_default)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        solution = data.get("solution")
        sampleset = data.get("sampleset")
        timing = Timing(**data.get("timing", {}))
        cost = data.get("cost")
        return cls(
            solution=None if solution is None else {_decode_label(k): v for k, v in solution},
            objective=data.get("objective"),
            feasible=bool(data["feasible"]),
            status=Status(data["status"]),
            sense=Sense.parse(data.get("sense", "min")),
            violations=dict(data.get("violations", {})),
            bound=data.get("bound"),
            timing=timing,
            backend=data.get("backend", ""),
            backend_reason=data.get("backend_reason", ""),
            seed=data.get("seed"),
            time_limit=data.get("time_limit"),
            penalty_weights=dict(data.get("penalty_weights", {})),
            history=[tuple(h) for h in data.get("history", [])],
            info=dict(data.get("info", {})),
            decoded=data.get("decoded"),
            interrupted=bool(data.get("interrupted", False)),
            model_name=data.get("model_name", ""),
            cost=None if cost is None else Cost.from_dict(cost),
            sampleset=None if sampleset is None else dimod.SampleSet.from_serializable(sampleset),
        )

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls.from_dict(json.loads(text))


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.10g}"


def _plain_number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() and math.isfinite(number) else number


def _encode_label(label: Any) -> Any:
    """Tuples become {"t": [...]} so JSON keeps them apart from lists/strings."""
    if isinstance(label, tuple):
        return {"t": [_encode_label(x) for x in label]}
    if isinstance(label, (str, int, float, bool)) or label is None:
        return label
    if hasattr(label, "item"):  # NumPy scalars
        return label.item()
    return str(label)


def _decode_label(label: Any) -> Any:
    if isinstance(label, dict) and set(label) == {"t"}:
        return tuple(_decode_label(x) for x in label["t"])
    return label


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return str(obj)
