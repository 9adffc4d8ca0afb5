"""benchmarks/bocs_landscape.py: basins and barriers of an enumerated binary landscape."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bocs_landscape.py"


@pytest.fixture(scope="module")
def landscape():
    spec = importlib.util.spec_from_file_location("bocs_landscape", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_two_basins_and_the_wall_between_them(landscape) -> None:
    # 3 bits, configuration k = bits of k: minima at 000 (value 1) and 111 (value 0);
    # every path from 000 to 111 passes a configuration with two bits set (value 5 or more)
    values = np.array([1.0, 2.0, 3.0, 6.0, 4.0, 5.0, 7.0, 0.0])
    nbr = landscape.neighbours(3)
    assert sorted(nbr[0].tolist()) == [1, 2, 4]
    dest = landscape.basins(values, nbr)
    assert dest.tolist() == [0, 0, 0, 7, 0, 7, 7, 7]
    climb = landscape.barriers(values, nbr, target=7)
    assert climb[7] == 0.0
    assert climb[0] == 5.0  # 000 -> 001 (2) -> 101 (5) -> 111: the lowest wall
    assert climb[5] == 5.0 and climb[3] == 6.0


def test_3x3_ising_instance_matches_its_stored_optimum(landscape, capsys) -> None:
    configs, values, optimum = landscape.enumerate_values("ising9_l0")
    assert len(values) == 4096
    assert values.min() == pytest.approx(optimum, abs=1e-9)
    assert configs[np.argmin(values)].tolist() == [1] * 12  # lambda = 0: keeping every edge is exact
    landscape.main(["ising9_l0"])
    out = capsys.readouterr().out
    assert "2 local minima" in out
    assert "| 111111111111 | 12 | 0.0000 | 448 | 0.000 |" in out
