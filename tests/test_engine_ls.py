"""Backend ls end to end: known optima, feasibility on the original model, replay, time limit."""

from __future__ import annotations

import time
from pathlib import Path

import dimod
import pytest

import hqopt
import hqopt.io
from hqopt.backends import get_backend
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement


def test_bqp50_known_optimum(benchmarks):
    result = hqopt.solve(hqopt.io.load(str(benchmarks / "bqp_orlib/bqp50.txt#3")), backend="ls", seed=1)
    assert result.objective == 4626
    assert result.info["structure"]["kind"] == "unconstrained"


def test_chr12a_known_optimum(benchmarks):
    result = hqopt.solve(hqopt.io.load(str(benchmarks / "qaplib/chr12a.dat")), backend="ls", seed=2)
    assert result.feasible and result.objective == 9552
    assert result.info["strategy"] == "rts"


def test_small_placement_matches_cpsat():
    spec = generate_placement(12, 3, seed=4)
    spec.pop("kind")
    model = Placement.from_spec(spec).to_model()
    ls = hqopt.solve(model, backend="ls", seed=3)
    exact = hqopt.solve(model, backend="cpsat", time_limit=20, seed=3)
    assert ls.feasible
    assert str(exact.status) == "Status.OPTIMAL" or exact.status.name == "OPTIMAL"
    assert ls.objective == pytest.approx(exact.objective)


def test_untimed_seeds_replay(benchmarks):
    model = hqopt.io.load(str(benchmarks / "bqp_orlib/bqp50.txt#3"))
    runs = [hqopt.solve(model, backend="ls", seed=11, workers=2, strategy=s) for s in ("sa", "sa", "tabu", "tabu")]
    assert runs[0].solution == runs[1].solution and runs[0].info["work_per_chain"] == runs[1].info["work_per_chain"]
    assert runs[2].solution == runs[3].solution


def test_time_limit_held(benchmarks):
    model = hqopt.io.load(str(benchmarks / "gset/G1.txt"))
    t0 = time.perf_counter()
    result = hqopt.solve(model, backend="ls", time_limit=1.5, seed=1)
    assert time.perf_counter() - t0 < 1.5 + 0.5
    assert result.feasible and result.objective > 11000


def test_integer_variables_and_general_rows():
    cqm = dimod.CQM()
    i, j = dimod.Integer("i", upper_bound=9), dimod.Integer("j", lower_bound=-3, upper_bound=3)
    x = dimod.Binary("x")
    cqm.set_objective((i - 4) * (i - 4) + 3 * j + 2 * x * j - x)
    cqm.add_constraint(i + j + x >= 3, label="cover")
    result = hqopt.solve(cqm, backend="ls", seed=5)
    exact = hqopt.solve(cqm, backend="exact")
    assert result.feasible and result.objective == pytest.approx(exact.objective)


def test_dimod_sampler_on_a_bqm():
    bqm = dimod.BQM({"a": -1, "b": -1, "c": 2}, {("a", "b"): 3, ("b", "c"): -4}, 0, "SPIN")
    best = dimod.ExactSolver().sample(bqm).first.energy
    assert get_backend("ls", workers=1).sample(bqm, seed=3).first.energy == pytest.approx(best)


def test_bad_options_are_clear_errors(benchmarks):
    model = hqopt.io.load(str(benchmarks / "qaplib/chr12a.dat"))
    with pytest.raises(hqopt.HqoptError, match="strategy 'tabu' needs an unconstrained"):
        hqopt.solve(model, backend="ls", strategy="tabu", seed=1)
    with pytest.raises(hqopt.HqoptError, match="workers must be a positive integer"):
        hqopt.solve(model, backend="ls", workers=0, seed=1)


def test_hierarchical_placement_is_searched_through_its_defined_binaries(monkeypatch):
    """With zone/region variables (the large-instance encoding), ls moves services with them:
    it reaches CP-SAT's proven optimum from no warm start, and the linking rows hold."""
    import hqopt.formulations.placement as placement

    monkeypatch.setattr(placement, "DENSE_MAX_TERMS", 0)  # force the hierarchical encoding
    spec = generate_placement(12, 8, seed=4)
    spec.pop("kind")
    model = Placement.from_spec(spec).to_model()
    assert model.metadata["communication_encoding"] == "hierarchy"
    ls = hqopt.solve(model, backend="ls", seed=3, initial={})
    structure = ls.info["structure"]
    zones = sum(label[0] == "zone" for label in model.cqm.variables)
    assert zones and structure["defined_variables"] == zones
    assert structure["free_variables"] == sum(label[0] == "open" for label in model.cqm.variables)
    exact = hqopt.solve(model, backend="cpsat", time_limit=20, seed=3, initial={})
    assert exact.status.name == "OPTIMAL"
    assert ls.feasible and ls.objective == pytest.approx(exact.objective)
    assert not any(v > 1e-6 for label, v in ls.violations.items() if label.startswith("in-"))


def _compile_stand_in(seconds: float):
    """A thread named as the engine's background compile, busy for ``seconds``."""
    import threading

    from hqopt.engine.chains import COMPILE_THREAD

    t = threading.Thread(target=time.sleep, args=(seconds,), name=COMPILE_THREAD, daemon=True)
    t.start()
    return t


def test_ctrl_c_during_either_wait_for_the_compile_is_a_line_not_a_traceback(capsys, monkeypatch):
    import hqopt.engine.chains as chains
    from hqopt.cli import finish_engine_compile

    def interrupted(timeout=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(chains, "jit_ready", lambda: False)  # a cold cache
    monkeypatch.setattr(chains, "finish_compile", interrupted)  # Ctrl-C in the silent wait, the first one
    finish_engine_compile()
    assert capsys.readouterr().err == "skipped: the next ls run compiles again\n"


def test_finish_compile_waits_for_the_background_compile():
    from hqopt.engine import compiling, finish_compile

    _compile_stand_in(0.5)
    assert compiling()
    assert finish_compile(timeout=0.01) is False  # still going
    assert finish_compile() is True
    assert not compiling()


def test_the_command_line_lets_a_background_compile_finish_before_exiting(capsys, monkeypatch):
    import hqopt.cli
    import hqopt.engine.chains as chains
    from hqopt.cli import finish_engine_compile
    from hqopt.engine import compiling

    monkeypatch.setattr(hqopt.cli, "SILENT_WAIT", 0.2)
    monkeypatch.setattr(chains, "jit_ready", lambda: False)  # a cold cache
    finish_engine_compile()  # nothing compiling: says nothing
    assert capsys.readouterr().err == ""
    _compile_stand_in(0.05)  # a compile about to end: waited for, not announced
    finish_engine_compile()
    assert not compiling() and capsys.readouterr().err == ""
    _compile_stand_in(0.6)  # a real compile: the wait is announced
    finish_engine_compile()
    assert not compiling()
    assert "one-time compile" in capsys.readouterr().err
    monkeypatch.setattr(chains, "jit_ready", lambda: True)  # compiled: chains still starting need no wait
    started = _compile_stand_in(0.6)
    finish_engine_compile()
    assert started.is_alive() and capsys.readouterr().err == ""
    started.join()


def test_chains_start_side_by_side_and_a_timed_repair_stops_at_its_share(monkeypatch) -> None:
    from hqopt.budget import Budget
    from hqopt.engine import chains

    calls = []

    def slow_start(problem, strategy, seed, enough):
        calls.append(enough)
        time.sleep(0.4)  # a large model's random start and greedy repair
        return strategy

    monkeypatch.setattr(chains, "_start", slow_start)
    t0 = time.perf_counter()
    started = chains._start_all(None, ["sa", "tabu"], [1, 2], Budget(2.0))
    assert started == ["sa", "tabu"] and time.perf_counter() - t0 < 0.75  # in parallel: 0.4 s, not 0.8
    assert not calls[0]()  # 0.4 s of a 2 s budget: repairs may go on ...
    time.sleep(chains.REPAIR_SHARE * 2.0 - (time.perf_counter() - t0) + 0.05)
    assert calls[0]() and calls[1]()  # ... until half of it is gone
    chains._start_all(None, ["sa"], [1], Budget(None))
    assert not calls[-1]()  # untimed: every repair attempt runs (the seed repeats the run)


def test_a_stale_numba_cache_is_not_ready(monkeypatch) -> None:
    from types import SimpleNamespace

    from hqopt.engine import chains
    from hqopt.engine import kernels as K

    def dispatcher(index: dict) -> SimpleNamespace:  # not loaded in this process; numba's index as read from disk
        return SimpleNamespace(signatures=[], _cache=SimpleNamespace(_cache_file=SimpleNamespace(_load_index=lambda: index)))

    monkeypatch.setattr(K, "greedy", dispatcher({("sig",): "entry"}))
    assert chains.jit_ready()
    monkeypatch.setattr(K, "greedy", dispatcher({}))  # numba disowns an index whose source stamp changed
    assert not chains.jit_ready()


@pytest.mark.parametrize("numba_first", [False, True])
def test_compiling_in_the_background_leaves_the_programs_streams_alone(numba_first):
    """numba highlights the messages it formats while compiling with colorama, whose init()/deinit() save and
    reset sys.stdout and sys.stderr: from the background compile thread that undid, at a random moment, a
    redirection the main thread had made since (on CI, where Ray puts its copy of colorama on the path, tests'
    captured output went elsewhere). The engine turns the highlighting off, also when numba came first."""
    import importlib.util
    import subprocess
    import sys

    colorama, ray = importlib.util.find_spec("colorama"), importlib.util.find_spec("ray")
    if colorama is not None and colorama.origin is not None:  # (on the path here: perhaps Ray's, once Ray is imported)
        path = [str(Path(colorama.origin).parents[1])]
    elif ray is not None and ray.origin is not None:  # Ray ships one
        path = [str(Path(ray.origin).parent / "thirdparty_files")]
    else:
        pytest.skip("colorama is not installed: numba does not highlight")
    code = "\n".join([
        "import sys",
        f"sys.path[:0] = {path!r}",
        "import colorama",
        "calls, real = [], colorama.init",
        "colorama.init = lambda *a, **k: calls.append(1) or real(*a, **k)  # where the streams get swapped",
        "from numba.core import errors" if numba_first else "",
        "import hqopt.engine",
        "from numba.core import errors",
        "message = errors.termcolor().errmsg('typing failed')  # what a compile formats",
        "print(len(calls), 'typing failed' in message)",
    ])  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["0", "True"], (done.stdout, done.stderr)
