"""solve()'s arguments and the error classes (issue 13): bad values are ValueErrors,
unknown names LookupErrors, all of them HqoptErrors with one clear line."""

from __future__ import annotations

import threading

import dimod
import numpy as np
import pytest

import hqopt
from hqopt.backends.registry import backend_class, get_backend
from hqopt.errors import ArgumentError, BackendError, HqoptError, UnknownBackendError


def small_model() -> hqopt.Model:
    m = hqopt.Model()
    x, y = m.binary("x"), m.binary("y")
    n = m.integer("n", 0, 3)
    m.set_objective(-x - y + n)
    m.add_constraint(x + y + n <= 2, label="cap")
    return m


BAD_ARGUMENTS = [
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"seed": "7"}, "seed"),
    ({"time_limit": 0}, "time_limit"),
    ({"time_limit": float("nan")}, "time_limit"),
    ({"time_limit": float("inf")}, "time_limit"),
    ({"time_limit": True}, "time_limit"),
    ({"time_limit": "5"}, "time_limit"),
    ({"penalty_growth": 1.0}, "penalty_growth"),
    ({"penalty_growth": float("inf")}, "penalty_growth"),
    ({"penalty_growth": float("nan")}, "penalty_growth"),
    ({"penalty_growth": "2"}, "penalty_growth"),
    ({"penalty_rounds": 1.5}, "penalty_rounds"),
    ({"penalty_rounds": 0}, "penalty_rounds"),
    ({"penalty": float("nan")}, "penalty"),
    ({"penalty": -1}, "penalty"),
    ({"initial": [1]}, "initial"),
    ({"initial": {"ghost": 1}}, "ghost"),
    ({"initial": {"x": 2}}, "domain"),
    ({"initial": {"n": 7}}, "domain"),
    ({"initial": {"x": float("nan")}}, "initial"),
    ({"on_progress": 42}, "on_progress"),
    ({"stop": True}, "stop"),
    ({"target": float("nan")}, "target"),
    ({"target": "best"}, "target"),
]


@pytest.mark.parametrize(("kwargs", "word"), BAD_ARGUMENTS, ids=[f"{k}" for k, _ in BAD_ARGUMENTS])
def test_bad_solve_argument_is_a_one_line_value_error(kwargs, word):
    with pytest.raises(ValueError, match=word) as info:
        hqopt.solve(small_model(), backend="sa", **kwargs)
    assert isinstance(info.value, ArgumentError) and isinstance(info.value, HqoptError)
    assert "\n" not in str(info.value)


def test_good_arguments_still_solve():
    stop = threading.Event()
    seen = []
    r = hqopt.solve(
        small_model(), backend="cpsat", seed=np.int64(3), time_limit=5, penalty_rounds=2,
        penalty_growth=3, initial={"x": 1, "n": 0}, on_progress=seen.append, stop=stop, target=-2,
    )
    assert r.feasible and r.objective == -2.0


def test_unknown_backend_is_a_lookup_error_with_a_suggestion():
    with pytest.raises(LookupError, match="did you mean 'tabu'") as info:
        hqopt.solve(small_model(), backend="tabo")
    assert isinstance(info.value, UnknownBackendError) and isinstance(info.value, BackendError)


@pytest.mark.parametrize("name", ["SA", "Tabu", "CPSAT"])
def test_backend_names_are_case_insensitive(name):
    assert backend_class(name).name == name.lower()
    assert get_backend(name).name == name.lower()


def test_bad_backend_option_is_a_value_error():
    with pytest.raises(ValueError, match="num_sweeps"):
        get_backend("sa", sweeps=10)
    with pytest.raises(ValueError, match="num_reads"):
        get_backend("sa", num_reads=0)


def test_unknown_problem_variable_in_initial_is_rejected_not_ignored():
    bqm = dimod.BQM({"a": -1}, {}, 0, "BINARY")
    with pytest.raises(ArgumentError, match="'b'"):
        hqopt.solve(bqm, backend="sa", seed=1, initial={"b": 1})


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e400"])
def test_cli_time_limit_is_checked_before_anything_is_printed(value, capsys, tmp_path):
    from hqopt.cli.app import main

    path = tmp_path / "tiny.yaml"
    path.write_text("kind: maxcut\nedges: [[0, 1, 1]]\n")
    for command in (["solve", str(path)], ["bench", str(path), "--out", str(tmp_path / "b"), "--no-plots"]):
        assert main([*command, "--time-limit", value]) == 2
        captured = capsys.readouterr()
        shown = "inf" if value == "1e400" else value
        must = "a positive number of seconds for a benchmark (each run is timed)" if command[0] == "bench" else "a finite number of seconds >= 0"
        assert captured.out == "" and captured.err == f"error: --time-limit must be {must}, got {shown}\n"
    assert not (tmp_path / "b").exists()
