"""benchmarks/automl_targets.py: the issue-15 targets read from bench_automl.py results, with bootstrap intervals."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "automl_targets.py"


@pytest.fixture(scope="module")
def targets():
    spec = importlib.util.spec_from_file_location("automl_targets", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass looks its module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def write(folder: Path, problem: str, sampler: str, seeds: list[int], finals: list[float], optimum: float | None = 0.0) -> None:
    """A bench_automl.py result: flat best-so-far curves of 100 trials ending at ``finals`` (plus the optimum)."""
    folder.mkdir(exist_ok=True)
    base = optimum or 0.0
    curves = [[base + v] * 100 for v in finals]
    cell = {"problem": problem, "sampler": sampler, "seeds": seeds, "optimum": optimum, "curves": curves}
    (folder / f"{problem}__{sampler}.json").write_text(json.dumps(cell))


def row(lines: list[str], label: str) -> str:
    return next(line for line in lines if line.startswith(f"| {label} |"))


def test_verdicts_separate_clear_results_from_noise(targets, tmp_path) -> None:
    write(tmp_path, "ising9_l1", "qubo", list(range(10)), [0.0] * 10)
    write(tmp_path, "ising9_l1", "gp", list(range(10)), [1.0 + 0.01 * k for k in range(10)])
    write(tmp_path, "ising16_l0", "qubo", list(range(10)), [0.5, 0.7] * 5)
    write(tmp_path, "ising16_l0", "gp", list(range(10)), [0.4, 0.9] * 5)  # mean 0.65 against 0.6
    write(tmp_path, "contamination", "qubo", list(range(10)), [3.0] * 10, optimum=None)
    write(tmp_path, "contamination", "gp", list(range(10)), [3.0] * 10, optimum=None)
    lines = targets.check([tmp_path])
    assert row(lines, "ising9_l1 @25 vs gp").endswith("| met |")  # better on every seed
    assert row(lines, "ising16_l0 @50 vs gp").endswith("| met (within noise) |")  # 0.6 against 0.65, overlapping
    assert row(lines, "contamination @100 vs gp").endswith("| met |")  # equal on every seed: no noise
    assert not any(line.startswith("| ising9_l0 ") for line in lines)  # no results, no row


def test_a_miss_is_reported_and_seed_folders_are_pooled(targets, tmp_path) -> None:
    first, second = tmp_path / "s0", tmp_path / "s10"
    write(first, "dtree_breast_cancer", "qubo", list(range(10)), [0.01] * 10)
    write(first, "dtree_breast_cancer", "tpe", list(range(10)), [0.0] * 10)
    write(second, "dtree_breast_cancer", "qubo", list(range(10, 20)), [0.01] * 10)
    write(second, "dtree_breast_cancer", "tpe", list(range(10, 20)), [0.0] * 10)
    line = row(targets.check([first, second]), "dtree_breast_cancer @25 vs tpe")
    assert "| 20/20 |" in line and line.endswith("| missed |")
    with pytest.raises(SystemExit, match="seeds"):
        targets.check([first, first])
