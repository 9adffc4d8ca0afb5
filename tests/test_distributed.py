"""solve_many: order kept, seeds derived deterministically, the same results on every executor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hqopt
import hqopt.io
from hqopt.backends.base import seed_sequence
from hqopt.distributed import map_tasks, peak_memory_mb, reset_peak_memory, solve_many
from hqopt.errors import BackendError, FormatError


def _qubos(count: int, n: int = 10) -> list[hqopt.Model]:
    rng = np.random.default_rng(42)
    models = []
    for k in range(count):
        Q = np.triu(rng.integers(-9, 10, size=(n, n))).astype(float)
        models.append(hqopt.Model.from_qubo(Q, name=f"q{k}"))
    return models


def _fingerprint(results: list[hqopt.Result]) -> list[tuple]:
    return [(r.model_name, r.objective, r.seed, sorted(r.solution.items())) for r in results]


def test_sequential_keeps_order_and_derives_seeds() -> None:
    models = _qubos(4)
    results = hqopt.solve_many(models, backend="sa", seed=7, workers=1)
    assert [r.model_name for r in results] == ["q0", "q1", "q2", "q3"]
    assert [r.seed for r in results] == seed_sequence(7, 4)
    for model, result in zip(models, results):  # each answer is the one solve() gives with that seed
        alone = hqopt.solve(model, backend="sa", seed=result.seed)
        assert alone.objective == result.objective and alone.solution == result.solution
    assert all(r.info["peak_rss_mb"] > 0 for r in results)


def test_processes_equal_sequential_and_decode_here(tmp_path) -> None:
    models = _qubos(3)
    offset = 5  # a closure decoder: never pickled, applied here to the returned solution
    models[0].decoder = lambda sol: {"ones": sum(int(v) for v in sol.values()) + offset}
    path = tmp_path / "q.lp"
    hqopt.io.save(_qubos(1)[0], path)
    problems = [*models, str(path)]
    seeds = [3, 1, 4, 1]
    sequential = hqopt.solve_many(problems, backend="sa", seed=seeds, workers=1)
    parallel = hqopt.solve_many(problems, backend="sa", seed=seeds, workers=2)
    assert _fingerprint(parallel) == _fingerprint(sequential)
    assert parallel[0].decoded == sequential[0].decoded == {"ones": sum(parallel[0].solution.values()) + offset}
    assert parallel[3].objective == hqopt.solve(hqopt.io.load(path), backend="sa", seed=1).objective


def test_on_result_sees_every_item() -> None:
    seen = []
    hqopt.solve_many(_qubos(3, n=4), backend="exact", workers=1, on_result=lambda i, r: seen.append((i, r.status.value)))
    assert sorted(seen) == [(0, "optimal"), (1, "optimal"), (2, "optimal")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"executor": "dask"}, "executor must be one of"),
        ({"workers": 0}, "workers must be a positive integer"),
        ({"address": "auto"}, "address= is for executor='ray'"),
        ({"seed": [1]}, "got 1 seeds for 2 problems"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, message) -> None:
    with pytest.raises(BackendError, match=message):
        hqopt.solve_many(_qubos(2, n=3), backend="exact", **kwargs)


def test_map_tasks_is_empty_for_no_tasks() -> None:
    assert list(map_tasks(max, [])) == []


def test_peak_memory_sees_a_large_allocation() -> None:
    reset = reset_peak_memory()
    before, _ = peak_memory_mb(reset)
    block = np.ones(50 * 2**20 // 8)  # 50 MB, touched
    after, method = peak_memory_mb(reset)
    del block
    assert after - before > 40 or not reset, (before, after, method)


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_equals_local_executor(local_ray) -> None:
    models = _qubos(20)
    local = hqopt.solve_many(models, backend="sa", seed=2026, workers=2)
    on_ray = hqopt.solve_many(models, backend="sa", seed=2026, executor="ray", workers=2)
    assert _fingerprint(on_ray) == _fingerprint(local)
    assert len({r.seed for r in on_ray}) == 20


def test_bench_runs_on_ray(local_ray, tmp_path) -> None:
    from hqopt.bench import run_bench

    models = _qubos(2, n=6)
    files = []
    for model in models:
        files.append(tmp_path / f"{model.name}.lp")
        hqopt.io.save(model, files[-1])
    report = run_bench(files, ["exact"], seeds=2, time_limit=1.0, out=tmp_path / "out", ray_address="local", plots=False)
    assert [(s["instance"], s["runs"], s["success"]) for s in report.summary] == [("q0", 2, 1.0), ("q1", 2, 1.0)]


def test_a_missing_file_is_refused_before_anything_is_solved(tmp_path, monkeypatch) -> None:
    """A typo in the 40th path used to surface after 39 solves, their results lost with the raise."""
    import hqopt.distributed as distributed

    monkeypatch.setattr(distributed, "map_tasks", lambda *a, **k: pytest.fail("solving started"))
    good = str(Path(__file__).resolve().parents[1] / "problems" / "qubo" / "bqp50.txt") + "#2"
    with pytest.raises(FormatError, match=r"no such file \(item 2 of the 2 given\)"):
        solve_many([good, str(tmp_path / "typo.txt")], backend="sa")
