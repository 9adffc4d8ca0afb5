"""Result.cost: CPU-seconds (self and children), energy, QPU-seconds and price."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import hqopt
from hqopt.cost import DEFAULT_WATTS_PER_CORE, Cost, CostMeter
from hqopt.errors import BackendError


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_meter_counts_this_process_and_its_children() -> None:
    meter = CostMeter(watts_per_core=10.0).start()
    _busy(0.2)
    child = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", child], check=True)
    cost = meter.stop()
    assert cost.cpu_seconds >= 0.5 - 0.02  # 0.2 s here + 0.3 s in the child
    assert cost.energy_joules == pytest.approx(10.0 * cost.cpu_seconds)
    assert (cost.qpu_seconds, cost.price) == (0.0, 0.0)


def test_rates_from_arguments_environment_and_defaults(monkeypatch) -> None:
    monkeypatch.delenv("HQOPT_WATTS_PER_CORE", raising=False)
    monkeypatch.delenv("HQOPT_QPU_PRICE_PER_SECOND", raising=False)
    assert CostMeter().watts_per_core == DEFAULT_WATTS_PER_CORE == 270 / 40
    monkeypatch.setenv("HQOPT_WATTS_PER_CORE", "4.5")
    monkeypatch.setenv("HQOPT_QPU_PRICE_PER_SECOND", "2")
    meter = CostMeter()
    assert (meter.watts_per_core, meter.qpu_price_per_second) == (4.5, 2.0)
    assert CostMeter(watts_per_core=3.0).watts_per_core == 3.0  # an argument beats the environment
    cost = meter.start().stop({"qpu_access_time": 0.25})
    assert (cost.qpu_seconds, cost.price) == (0.25, 0.5)
    monkeypatch.setenv("HQOPT_WATTS_PER_CORE", "lots")
    with pytest.raises(BackendError, match="HQOPT_WATTS_PER_CORE must be a number"):
        CostMeter()
    with pytest.raises(BackendError, match="must be >= 0"):
        CostMeter(watts_per_core=-1.0, qpu_price_per_second=0.0)
    with pytest.raises(BackendError, match="before start"):
        CostMeter(1.0, 0.0).stop()


def test_every_result_carries_its_cost_through_json() -> None:
    result = hqopt.solve(hqopt.Model.from_qubo({(0, 0): -1, (0, 1): 2, (1, 1): -1}), backend="sa", seed=1)
    assert isinstance(result.cost, Cost) and result.cost.cpu_seconds > 0
    assert result.cost.energy_joules == pytest.approx(result.cost.cpu_seconds * CostMeter().watts_per_core)
    assert "cost       CPU" in result.summary() and "cost" in result._repr_html_()
    again = hqopt.Result.from_json(result.to_json())
    assert again.cost == result.cost
    data = result.to_dict()
    del data["cost"]  # results saved before the cost field existed still load
    assert hqopt.Result.from_dict(data).cost is None


def test_qpu_time_comes_from_the_backend_info() -> None:
    pytest.importorskip("dwave.system")
    result = hqopt.solve(hqopt.Model.from_qubo({(0, 0): -1, (0, 1): 2, (1, 1): -1}), backend="dwave-mock", seed=1)
    assert result.cost.qpu_seconds == result.info["qpu_access_time"] > 0
