"""The hqopt command line, in-process (main(argv)) and as a real subprocess: every exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hqopt
from hqopt import io
from hqopt.cli.app import main

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"


def hqopt_cmd() -> list[str]:
    return [sys.executable, "-m", "hqopt"]


# ---------------------------------------------------------------- exit code 0
def test_solve_json_reports_the_proven_optimum(tmp_path):
    out_file = tmp_path / "r.json"
    code, out, _ = run_cli("solve", str(PROBLEMS / "lp/knapsack.lp"), "--json", "--seed", "3", "--output", str(out_file))
    assert code == 0
    result = hqopt.Result.from_json(out)
    assert result.objective == 57 and result.feasible and result.status.value == "optimal"
    assert hqopt.Result.from_json(out_file.read_text()).solution == result.solution
    model = io.load(PROBLEMS / "lp/knapsack.lp")
    assert model.evaluate(result.solution).objective == 57


def test_solve_table_names_backend_and_decoded_answer():
    code, out, _ = run_cli("solve", str(PROBLEMS / "spec/knapsack.yaml"), "--backend", "cpsat", "--time-limit", "5", "--seed", "1")
    assert code == 0
    assert "26 (maximise)" in out and "cpsat" in out and "laptop" in out


def test_solve_instance_and_backend_options():
    code, out, _ = run_cli("solve", str(PROBLEMS / "qubo/bqp50.txt"), "--instance", "2", "--backend", "sa",
                       "--time-limit", "0", "--seed", "5", "--option", "num_reads=50", "--json")
    assert code == 0
    result = hqopt.Result.from_json(out)
    assert result.model_name == "bqp50.2" and result.seed == 5 and result.time_limit is None
    again = hqopt.Result.from_json(run_cli("solve", str(PROBLEMS / "qubo/bqp50.txt#2"), "-b", "sa", "-t", "0",
                                       "--seed", "5", "--option", "num_reads=50", "--json")[1])
    assert again.solution == result.solution  # same seed, same run


# ---------------------------------------------------------------- exit code 1
@pytest.mark.parametrize("backend", ["exact", "cpsat"])
def test_infeasible_lp_exits_1(backend):
    code, out, _ = run_cli("solve", str(PROBLEMS / "lp/infeasible.lp"), "--backend", backend, "--json", "-t", "5")
    assert code == 1
    result = hqopt.Result.from_json(out)
    assert not result.feasible and result.status.value == "infeasible"


# ---------------------------------------------------------------- exit code 2
@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "nosuch.lp"], "nosuch.lp: no such file"),
        (["solve", "PROBLEMS/qubo/bqp50.txt#12"], "instance 12 asked for"),
        (["solve", "PROBLEMS/lp/knapsack.lp", "--backend", "nope"], "unknown backend 'nope'"),
        (["solve", "PROBLEMS/lp/knapsack.lp", "--option", "oops"], "--option expects key=value"),
        (["solve", "PROBLEMS/lp/knapsack.lp", "--backend", "sa", "--option", "colour=red"], "has no option 'colour'"),
        (["solve", "PROBLEMS/lp/knapsack.lp", "--time-limit", "-1"], "--time-limit must be a finite number of seconds >= 0"),
        (["solve", "PROBLEMS/lp/knapsack.lp", "--no-such-flag"], "No such option"),
        (["solve"], "Missing argument"),
        (["convert", "PROBLEMS/lp/knapsack.lp", "out.qubo"], "unconstrained models only"),
        (["info", "PROBLEMS/lp/knapsack.lp", "--format", "nope"], "unknown format 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("PROBLEMS", str(PROBLEMS)) for a in argv]
    code, out, err = run_cli(*argv)
    assert code == 2
    assert message in err and "Traceback" not in err + out


def test_malformed_file_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.sparse"
    bad.write_text("3 2\n1 2 5\n1 x 4\n")
    code, _, err = run_cli("solve", str(bad))
    assert code == 2
    assert err.strip() == f"error: {bad}:3: expected a variable index, got 'x'"


# --------------------------------------------------------- info / convert / backends
def test_info_json_facts():
    code, out, _ = run_cli("info", str(PROBLEMS / "lp/assignment.lp"), "--json")
    facts = json.loads(out)
    assert code == 0
    assert facts["format"] == "lp" and facts["sense"] == "min" and facts["variables"] == {"BINARY": 9}
    assert facts["constraints"] == {"linear ==": 6} and facts["objective"]["quadratic_terms"] == 2
    code, out, _ = run_cli("info", str(PROBLEMS / "qubo/bqp50.txt#3"))
    assert code == 0 and "problem 3 of 10" in out and "maximise" in out


@pytest.mark.parametrize("source, target", [("qubo/bqp50.txt#1", "b.qubo"), ("qap/chr12a.dat", "q.lp"), ("spec/knapsack.yaml", "k.lp")])
def test_convert_round_trips_objective_values(tmp_path, source, target):
    code, _, err = run_cli("convert", str(PROBLEMS / source), str(tmp_path / target))
    assert code == 0 and "wrote" in err
    assert ("holds 10 problems; wrote problem 1" in err) == source.startswith("qubo/")  # the other nine are named
    model = io.load(PROBLEMS / source)
    if source.startswith("qap/"):  # the published optimal permutation
        from hqopt.io.qaplib import read_qap, read_solution

        solution = read_qap(PROBLEMS / source).solution_of(read_solution(PROBLEMS / "qap/chr12a.sln")[2])
    else:
        solution = hqopt.solve(model, backend="auto", seed=1, time_limit=5).solution
    expected = model.evaluate(solution)
    assert expected.feasible
    converted = io.load(tmp_path / target)
    assert converted.sense == model.sense
    if target.endswith(".lp"):
        from hqopt.io.lp import lp_name

        solution = {lp_name(v): val for v, val in solution.items()}
    check = converted.evaluate(solution)
    assert check.objective == pytest.approx(expected.objective) and check.feasible


def test_backends_lists_every_backend_and_survives_a_broken_one(monkeypatch):
    from hqopt.backends import registry

    monkeypatch.setitem(registry.BUILTIN_BACKENDS, "broken", "hqopt.no_such_module:Nothing")
    code, out, _ = run_cli("backends", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert code == 0
    assert set(rows) == set(hqopt.available_backends())
    assert rows["tabu"]["available"] and rows["tabu"]["accepts"] == "bqm" and rows["cpsat"]["proves_bounds"]
    assert not rows["broken"]["available"] and "ModuleNotFoundError" in rows["broken"]["reason"]
    code, out, _ = run_cli("backends")
    assert code == 0 and "broken" in out


@pytest.mark.parametrize("command", ["solve", "info", "convert", "backends"])
def test_help_has_an_example(command):
    code, out, _ = run_cli(command, "--help")
    assert code == 0 and "Example" in out and f"hqopt {command}" in out


# ------------------------------------------------------------------ subprocess
def test_subprocess_exit_codes_0_and_2():
    ok = subprocess.run([*hqopt_cmd(), "solve", str(PROBLEMS / "spec/production.yaml"), "--json"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["objective"] == 42
    bad = subprocess.run([*hqopt_cmd(), "solve", str(PROBLEMS / "lp/knapsack.lp"), "--seed", "x"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--seed" in bad.stderr


def test_subprocess_ctrl_c_prints_best_so_far_and_writes_output(tmp_path):
    out_file = tmp_path / "partial.json"
    proc = subprocess.Popen(
        [*hqopt_cmd(), "solve", str(PROBLEMS / "qubo/bqp50.txt#1"), "--backend", "tabu", "--time-limit", "120",
         "--seed", "1", "--output", str(out_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"},
    )
    started = proc.stderr.readline()  # "solving ... " once the file is read and the solve begins
    assert started.startswith("solving bqp50.1"), started
    time.sleep(3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 130, err
    assert "interrupted: reported the best solution found so far" in err and "Traceback" not in err
    assert "objective" in out and "feasible" in out
    result = hqopt.Result.from_json(out_file.read_text())
    assert result.interrupted and result.feasible and result.objective > 0
    assert io.load(PROBLEMS / "qubo/bqp50.txt#1").evaluate(result.solution).objective == result.objective


def test_usage_errors_need_no_separate_click_install():
    """typer vendors click; a core install may lack the `click` package (regression)."""
    code = (
        "import sys; sys.modules['click'] = None\n"  # any `import click` now fails
        "from hqopt.cli.app import main\n"
        "sys.exit(main(['solve', '--no-such-flag']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "no-such-flag" in done.stderr


def test_an_interrupt_before_any_solution_says_so(monkeypatch):
    real = hqopt.solve

    def interrupted_empty(model, **kwargs):
        result = real(model, backend="sa", time_limit=1, seed=0)
        result.interrupted, result.objective, result.solution, result.feasible = True, None, None, False
        return result

    monkeypatch.setattr(hqopt, "solve", interrupted_empty)
    code, out, err = run_cli("solve", str(PROBLEMS / "qubo/bqp50.txt#1"), "-t", "1")
    assert code == 130
    assert "interrupted: no solution was found before the interrupt" in err and "best solution" not in err


def test_a_ctrl_c_while_the_file_is_read_says_so(monkeypatch):
    """A Ctrl-C that no command handles (here: while the file is read) is one line and exit 130; typer alone said nothing."""
    import hqopt.io

    def interrupted_load(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(hqopt.io, "load", interrupted_load)
    code, out, err = run_cli("solve", str(PROBLEMS / "qubo/bqp50.txt#1"), "-t", "1")
    assert code == 130 and out == "" and err == "interrupted (Ctrl-C)\n"


def test_flag_errors_name_the_flag_given(tmp_path):
    code, _, err = run_cli("convert", str(PROBLEMS / "qubo/bqp50.txt#1"), str(tmp_path / "x.qubo"), "--to", "nosuch")
    assert code == 2 and err.startswith("error: --to: unknown format 'nosuch'")  # it named --format
    code, _, err = run_cli("solve", str(PROBLEMS / "qubo/bqp50.txt#1"), "--backend", ",")
    assert code == 2 and "--backend needs a backend name" in err
    code, out, _ = run_cli("solve", str(PROBLEMS / "qubo/bqp50.txt#1"), "--backend", "tabu,", "-t", "1")
    assert code == 0 and any(line.split()[:2] == ["backend", "tabu"] for line in out.splitlines())  # not a race of one



def test_option_values_may_be_json_lists_and_bad_json_is_one_line(capsys):
    spec = str(ROOT / "problems" / "spec" / "tiny-qubo.yaml")
    assert main(["solve", spec, "--backend", "sa", "--seed", "1", "-t", "0.5", "--option", "beta_range=[0.1, 4]", "-q"]) == 0
    assert main(["solve", spec, "--backend", "sa", "--option", "beta_range=[0.1, 4"]) == 2
    assert "--option beta_range: '[0.1, 4' is not a JSON list or object" in capsys.readouterr().err
