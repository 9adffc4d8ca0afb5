"""QuboSampler inside Ray Tune through OptunaSearch(sampler=...) on a local Ray instance (the `ray` extra)."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")
tune = pytest.importorskip("ray.tune")
optuna_search = pytest.importorskip("ray.tune.search.optuna")

from optuna.distributions import CategoricalDistribution, IntDistribution  # noqa: E402

from hqopt.automl import QuboSampler  # noqa: E402


@pytest.mark.slow
def test_qubo_sampler_runs_under_ray_tune(tmp_path) -> None:
    def objective(config: dict) -> dict:  # nested: Ray's workers get it by value, not by module name
        return {"loss": (config["x"] - 3) ** 2 + (config["kind"] == "b")}

    space = {"x": IntDistribution(-5, 5), "kind": CategoricalDistribution(["a", "b"])}
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        search = optuna_search.OptunaSearch(
            space=space, metric="loss", mode="min", sampler=QuboSampler(n_startup_trials=4, seed=0)
        )
        tuner = tune.Tuner(
            objective,
            tune_config=tune.TuneConfig(search_alg=search, num_samples=8, max_concurrent_trials=1, reuse_actors=True),
            run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
        )
        results = tuner.fit()
    finally:
        ray.shutdown()
    configs = [(r.config["x"], r.config["kind"]) for r in results]
    assert len(configs) == 8 and len(set(configs)) == 8  # the sampler never repeats a configuration
    best = results.get_best_result(metric="loss", mode="min")
    assert best.metrics["loss"] == min((x - 3) ** 2 + (k == "b") for x, k in configs)
    assert all(-5 <= x <= 5 and k in ("a", "b") for x, k in configs)
