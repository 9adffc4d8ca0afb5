"""The shared backend contract: registry, errors, seeds, time limits, dimod conformance."""

from __future__ import annotations

import time

import dimod
import dimod.testing
import numpy as np
import pytest

import hqopt
from hqopt.backends import available_backends, backend_class, get_backend
from hqopt.backends.base import Backend, BackendOutput, Capabilities

from conftest import fractional_assignment, knapsack_model

CLASSICAL = ["sa", "tabu", "steepest", "sqa", "exact", "cpsat"]


def random_qubo(n: int, seed: int) -> hqopt.Model:
    rng = np.random.default_rng(seed)
    Q = np.triu(rng.integers(-10, 11, (n, n))).astype(float)
    return hqopt.Model.from_qubo(Q, name=f"random{n}")


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(hqopt.BackendError) as err:
        hqopt.solve(random_qubo(4, 0), backend="quantum-magic")
    for name in ("sa", "tabu", "cpsat", "exact"):
        assert name in str(err.value)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "soon"])
def test_bad_time_limit_is_a_clear_error(bad):
    with pytest.raises(hqopt.ArgumentError, match="time_limit"):
        hqopt.solve(random_qubo(4, 0), backend="sa", time_limit=bad)


@pytest.mark.parametrize("bad", [-3, 1.5, "7", True])
def test_bad_seed_is_a_clear_error(bad):
    with pytest.raises(hqopt.ArgumentError, match="seed"):
        hqopt.solve(random_qubo(4, 0), backend="sa", seed=bad)


def test_unknown_option_names_the_backend_and_its_options():
    with pytest.raises(hqopt.BackendError, match="num_sweeps"):
        hqopt.solve(random_qubo(4, 0), backend="sa", sweeps=10)


@pytest.mark.parametrize(
    ("backend", "options", "message"),
    [
        ("sa", {"beta_schedule_type": "foo"}, "beta_schedule_type must be one of linear, geometric"),
        ("sa", {"beta_range": "abc"}, "beta_range must be two positive numbers"),
        ("sa", {"beta_range": [1, 2, 3]}, "beta_range must be two positive numbers"),
        ("sqa", {"beta_range": [-1, 2]}, "beta_range must be two positive numbers"),
        ("sa", {"num_sweeps": 0}, "num_sweeps must be a positive integer"),
        ("sa", {"randomize_order": 3}, "randomize_order must be true or false"),
        ("tabu", {"timeout": "abc"}, "timeout must be a positive integer"),
        ("tabu", {"timeout": -1}, "timeout must be a positive integer"),
        ("tabu", {"tenure": -2}, "tenure must be an integer >= 0"),
        ("cpsat", {"num_workers": -3}, "num_workers must be a positive integer"),
        ("cpsat", {"linearization_level": "x"}, "linearization_level must be an integer >= 0"),
        ("cpsat", {"max_time": float("nan")}, "max_time must be a number of seconds >= 0"),
        ("ls", {"workers": 10_000}, "workers must be at most"),
    ],
)
def test_a_bad_option_value_is_refused_before_the_run_naming_the_option(backend, options, message):
    """Values the wrapped library would refuse with a traceback mid-run, or misread as "no solution"."""
    with pytest.raises(hqopt.errors.BackendOptionError, match=message):
        hqopt.solve(random_qubo(4, 0), backend=backend, seed=1, **options)


def test_good_sampler_options_still_run():
    result = hqopt.solve(random_qubo(4, 0), backend="sa", seed=1, beta_range=[0.1, 4.0], beta_schedule_type="geometric", num_sweeps=50)
    assert result.objective == hqopt.solve(random_qubo(4, 0), backend="exact").objective


def test_exact_refuses_models_too_large_to_enumerate():
    with pytest.raises(hqopt.BackendError, match="assignments"):
        hqopt.solve(random_qubo(30, 0), backend="exact")


@pytest.mark.parametrize("name", CLASSICAL)
def test_same_seed_same_result(name):
    model = knapsack_model([6, 5, 8, 9, 6, 7, 3], [2, 3, 6, 7, 5, 9, 4], 15)
    options = {"num_workers": 1} if name == "cpsat" else {}
    first = hqopt.solve(model, backend=name, seed=11, **options)
    second = hqopt.solve(model, backend=name, seed=11, **options)
    assert first.solution == second.solution
    assert first.objective == second.objective
    assert first.penalty_weights == second.penalty_weights
    assert first.seed == second.seed == 11


def test_seed_is_drawn_and_recorded_when_omitted():
    model = random_qubo(8, 1)
    result = hqopt.solve(model, backend="sa")
    replay = hqopt.solve(model, backend="sa", seed=result.seed)
    assert replay.solution == result.solution


@pytest.mark.parametrize("name", ["sa", "tabu", "steepest", "sqa", "cpsat"])
def test_time_limit_is_respected(name):
    model = random_qubo(60, 3)
    t0 = time.perf_counter()
    result = hqopt.solve(model, backend=name, time_limit=0.6, seed=0)
    wall = time.perf_counter() - t0
    assert result.time_limit == 0.6
    # contract: overrun at most max(0.5 s, 10 %); generous here because CI machines are shared
    assert wall < 0.6 + 1.5
    assert result.timing.total <= wall


@pytest.mark.parametrize("name", CLASSICAL)
def test_every_backend_is_a_conforming_dimod_sampler(name):
    backend = get_backend(name)
    assert isinstance(backend, dimod.Sampler)
    dimod.testing.assert_sampler_api(backend)
    bqm = dimod.generators.gnp_random_bqm(6, 0.6, "BINARY", random_state=2)
    samples = backend.sample(bqm, seed=3)
    dimod.testing.assert_sampleset_energies(samples, bqm)
    spin = dimod.generators.gnp_random_bqm(6, 0.6, "SPIN", random_state=2)
    samples = backend.sample(spin, seed=3)
    assert samples.vartype is dimod.SPIN
    dimod.testing.assert_sampleset_energies(samples, spin)
    ground = dimod.ExactSolver().sample(bqm).first.energy
    assert backend.sample(bqm, seed=3).first.energy == pytest.approx(ground)


def test_sample_qubo_and_ising_come_from_the_mixin():
    sa = get_backend("sa")
    assert sa.sample_qubo({(0, 0): -1.0, (0, 1): 2.0, (1, 1): -1.0}, seed=1).first.energy == -1.0
    assert sa.sample_ising({"a": 1.0}, {}, seed=1).first.sample == {"a": -1}


def test_cqm_through_a_bqm_backend_sampler():
    model = fractional_assignment(seed=0)
    samples = get_backend("tabu").sample_cqm(model.cqm, seed=1)
    feasible = samples.filter(lambda d: d.is_feasible)  # dimod's CQM convention, as in Leap's sampler
    assert len(feasible) > 0
    assert model.evaluate(feasible.first.sample).feasible


def test_any_dimod_sampler_is_wrapped():
    result = hqopt.solve(knapsack_model([3, 4], [1, 1], 1), backend=dimod.ExactSolver())
    assert result.objective == 4.0 and result.feasible
    assert result.backend == "dimod:ExactSolver"


def test_registry_lists_builtins_and_loads_classes():
    names = available_backends()
    for name in CLASSICAL + ["auto", "portfolio"]:
        assert name in names
        assert issubclass(backend_class(name), Backend)


def test_a_custom_backend_instance_can_be_passed():
    class Greedy(Backend):
        name = "greedy-zero"
        capabilities = Capabilities(accepts="bqm")

        def run(self, problem, budget, seed, *, initial=None):
            zeros = {v: 0 for v in problem.variables}
            return BackendOutput(dimod.SampleSet.from_samples_bqm(zeros, problem))

    result = hqopt.solve(random_qubo(5, 4), backend=Greedy())
    assert result.backend == "greedy-zero"
    assert result.objective == 0.0
    with pytest.raises(hqopt.BackendError, match="constructor"):
        hqopt.solve(random_qubo(5, 4), backend=Greedy(), num_reads=3)


def test_auto_records_its_choice_and_reason():
    small = hqopt.solve(random_qubo(6, 0), seed=0)
    assert small.backend == "exact" and "enumerate" in small.backend_reason
    constrained = hqopt.solve(fractional_assignment(seed=1), seed=0, time_limit=10)
    assert constrained.backend == "mip+cpsat" and "linear" in constrained.backend_reason
    assert constrained.status is hqopt.Status.OPTIMAL
    assert set(constrained.info["members"]) == {"mip", "cpsat"}


def test_portfolio_keeps_best_solution_and_proven_bound():
    model = fractional_assignment(seed=2)
    result = hqopt.solve(model, backend="portfolio", members="cpsat,sa", seed=0, time_limit=5)
    proven = hqopt.solve(model, backend="cpsat", seed=0, time_limit=5)
    assert result.feasible and result.objective == proven.objective
    assert result.bound == pytest.approx(proven.bound)
    assert set(result.info["members"]) == {"cpsat", "sa"}
    with pytest.raises(hqopt.BackendError, match="concrete"):
        hqopt.solve(model, backend="portfolio", members="auto")


@pytest.mark.parametrize("name", ["sa", "tabu", "cpsat"])
def test_stop_event_ends_a_long_run_with_the_best_so_far(name):
    import threading

    model = random_qubo(120, 5)
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    t0 = time.perf_counter()
    result = hqopt.solve(model, backend=name, time_limit=60, seed=0, stop=stop)
    assert time.perf_counter() - t0 < 20  # far below the 60 s limit
    assert not result.interrupted  # a stop event is not a Ctrl-C
    if result.solution is not None:  # CP-SAT may be stopped before its first solution
        assert model.evaluate(result.solution).objective == result.objective
    if name != "cpsat":
        assert result.feasible


@pytest.mark.parametrize("name", ["sa", "tabu", "cpsat", "exact"])
def test_a_model_without_variables_is_solved_without_the_backend(name):
    m = hqopt.Model(sense="max")
    m.set_objective(dimod.QuadraticModel() + 3)
    result = hqopt.solve(m, backend=name, seed=0)
    assert result.objective == 3.0 and result.solution == {} and result.status is hqopt.Status.OPTIMAL
    assert len(get_backend(name).sample(dimod.BQM("BINARY"))) == 1


def test_run_refuses_the_wrong_kind_of_problem():
    with pytest.raises(hqopt.BackendError, match="takes a BQM"):
        get_backend("sa").run(dimod.CQM(), hqopt.budget.Budget(None), 0)
    with pytest.raises(hqopt.BackendError, match="takes a CQM"):
        get_backend("cpsat").run(dimod.BQM("BINARY"), hqopt.budget.Budget(None), 0)


def test_stopped_tabu_hands_in_its_batch_and_its_solve_time():
    """A stop mid-run is honoured within the race's grace: tabu's batches are short, so the
    Result has the time spent searching and the backend's facts (it is not left behind)."""
    import threading
    from pathlib import Path

    import hqopt.io
    from hqopt.backends.anneal import MAX_TABU_BATCH_SECONDS

    model = hqopt.io.load(Path(__file__).resolve().parents[1] / "problems" / "maxcut" / "G1.txt")
    stop = threading.Event()
    threading.Timer(2.0, stop.set).start()
    t0 = time.perf_counter()
    result = hqopt.solve(model, backend="tabu", time_limit=20, seed=1, stop=stop)
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.0 + 0.5 + MAX_TABU_BATCH_SECONDS
    assert "abandoned" not in result.info and result.info["batches"] >= 2
    assert result.timing.solve > 1.0 and result.timing.backend["sampler_time"] > 1.0
    assert result.feasible


def test_num_sweeps_is_honoured_untimed_and_capped_to_fit_a_time_limit():
    """A read cannot be interrupted: sweeps a read could not finish within the limit are cut."""
    import time

    model = random_qubo(4, 0)
    exact = hqopt.solve(model, backend="exact").objective
    t0 = time.perf_counter()
    capped = hqopt.solve(model, backend="sa", time_limit=1, seed=1, num_sweeps=10**9)  # hours a read, uncapped
    assert time.perf_counter() - t0 < 5 and capped.objective == exact and "abandoned" not in capped.info
    from hqopt.backends.anneal import SimulatedAnnealingBackend, _sweeps_for
    from hqopt.budget import Budget

    bqm = dimod.BQM({0: 1.0}, {}, 0, "BINARY")
    assert _sweeps_for(bqm, Budget(None), 5) == 5 and _sweeps_for(bqm, Budget(10.0), 5) == 5  # a small ask stands
    assert SimulatedAnnealingBackend(num_sweeps=7).batch_params(bqm, Budget(None), 1) == {"num_sweeps": 7}
