"""What a solve cost: CPU-seconds, energy, QPU-seconds and price.

:class:`CostMeter` wraps a solve: ``start()`` before, ``stop(info)`` after,
which returns a :class:`Cost`. CPU time is the process's own (all threads)
plus its waited-for children (``resource.getrusage``), so subprocess solvers
count too. Energy is CPU-seconds times a per-core wattage; QPU time comes from
what the backend reported (``qpu_access_time`` in seconds, as the D-Wave
backends put it in their info) and is priced at a per-second rate.

Defaults and their sources:

- ``DEFAULT_WATTS_PER_CORE = 6.75``: Intel Xeon Platinum 8380 (Ice Lake
  server), 270 W TDP over 40 cores (Intel ARK). A rough upper estimate of a
  busy server core; set ``HQOPT_WATTS_PER_CORE`` or pass ``watts_per_core=``
  for your machine.
- ``DEFAULT_QPU_PRICE_PER_SECOND = 0.0``: no price is assumed; set
  ``HQOPT_QPU_PRICE_PER_SECOND`` (your contract's rate, in your currency per
  second of QPU access time) or pass ``qpu_price_per_second=``.

Example:
    >>> meter = CostMeter(watts_per_core=10.0).start()
    >>> _ = sum(i * i for i in range(10_000))
    >>> cost = meter.stop({"qpu_access_time": 0.002})
    >>> cost.qpu_seconds, cost.price, cost.energy_joules == cost.cpu_seconds * 10.0
    (0.002, 0.0, True)
"""

from __future__ import annotations

import os
import resource
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from hqopt.errors import BackendError

#: watts per busy core: Intel Xeon Platinum 8380, 270 W TDP / 40 cores (Intel ARK)
DEFAULT_WATTS_PER_CORE = 6.75
#: price of one second of QPU access time; 0 unless configured
DEFAULT_QPU_PRICE_PER_SECOND = 0.0
WATTS_ENV = "HQOPT_WATTS_PER_CORE"
PRICE_ENV = "HQOPT_QPU_PRICE_PER_SECOND"
#: the backend info key holding QPU access time in seconds
QPU_TIME_KEY = "qpu_access_time"


@dataclass(frozen=True)
class Cost:
    """The bill of one solve.

    >>> Cost(1.5, 10.125, 0.0, 0.0).energy_joules
    10.125
    """

    cpu_seconds: float
    energy_joules: float
    qpu_seconds: float = 0.0
    price: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cost:
        return cls(**{k: float(data[k]) for k in ("cpu_seconds", "energy_joules", "qpu_seconds", "price") if k in data})


def _rate(value: float | None, env: str, default: float) -> float:
    if value is None:
        text = os.environ.get(env)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise BackendError(f"{env} must be a number, got {text!r}") from None
    if not value >= 0:
        raise BackendError(f"{env.lower().removeprefix('hqopt_')} must be >= 0, got {value!r}")
    return float(value)


def cpu_seconds_now() -> float:
    """User + system CPU seconds of this process and its waited-for children so far."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class CostMeter:
    """Measures one solve; rates come from the arguments, else the environment, else the defaults."""

    def __init__(self, watts_per_core: float | None = None, qpu_price_per_second: float | None = None) -> None:
        self.watts_per_core = _rate(watts_per_core, WATTS_ENV, DEFAULT_WATTS_PER_CORE)
        self.qpu_price_per_second = _rate(qpu_price_per_second, PRICE_ENV, DEFAULT_QPU_PRICE_PER_SECOND)
        self._cpu0: float | None = None

    def start(self) -> CostMeter:
        self._cpu0 = cpu_seconds_now()
        return self

    def stop(self, info: Mapping[str, Any] | None = None) -> Cost:
        """The cost since :meth:`start`; ``info`` is the backend's (for QPU access time)."""
        if self._cpu0 is None:
            raise BackendError("CostMeter.stop() called before start()")
        cpu = max(0.0, cpu_seconds_now() - self._cpu0)
        qpu = info.get(QPU_TIME_KEY, 0.0) if info else 0.0
        qpu = float(qpu) if isinstance(qpu, (int, float)) and not isinstance(qpu, bool) else 0.0
        return Cost(
            cpu_seconds=cpu,
            energy_joules=cpu * self.watts_per_core,
            qpu_seconds=qpu,
            price=qpu * self.qpu_price_per_second,
        )


__all__ = ["DEFAULT_QPU_PRICE_PER_SECOND", "DEFAULT_WATTS_PER_CORE", "Cost", "CostMeter", "cpu_seconds_now"]
