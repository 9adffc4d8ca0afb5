"""Issue 13 (part A): the CLI never loses a result -- SIGTERM, bad --output paths, failed writes.

Each test here failed before the fix it guards.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
import yaml

import hqopt
from hqopt import io
from hqopt.cli.app import EXIT_BAD_INPUT, EXIT_TERMINATED

from conftest import REPO, run_cli

PROBLEMS = Path(__file__).resolve().parents[1] / "problems"
BQP = str(PROBLEMS / "qubo/bqp50-1.txt")


@pytest.fixture
def no_solving(monkeypatch):
    """Fail the test if a solve starts: --output must be refused before any time is spent."""

    def refuse(*args, **kwargs):
        raise AssertionError("solve() ran although --output was unusable")

    monkeypatch.setattr(hqopt, "solve", refuse)


@pytest.mark.parametrize(
    "where, reason",
    [
        ("missing/result.json", "folder"),
        (".", "is a folder"),
        ("x" * 300 + ".json", "longer than"),
        ("afile.txt/result.json", "is not a folder"),
        ("/dev/null", "not a regular file"),
    ],
)
def test_unusable_output_is_refused_before_solving(tmp_path, no_solving, where, reason):
    (tmp_path / "afile.txt").write_text("not a folder")
    target = where if where.startswith("/") else str(tmp_path / where)
    code, out, err = run_cli("solve", BQP, "--output", target, "-t", "1")
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.count("\n") == 1 and err.startswith("error: --output") and reason in err
    assert not (tmp_path / "missing").exists()  # never created silently


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--output", "{spec}"], "--output {spec} is the problem file: writing there would destroy it"),
        (["--plot", "{spec}"], "--plot {spec} is the problem file"),
        (["--output", "{dir}/same.png", "--plot", "{dir}/./same.png"], "--output and --plot both name {dir}/same.png: one would overwrite the other"),
    ],
)
def test_a_file_read_or_written_twice_is_refused_before_solving(tmp_path, no_solving, extra, message):
    text = Path(SMALL_PLACEMENT).read_text()
    spec = tmp_path / "small.yaml"
    spec.write_text(text)
    (tmp_path / "start.json").write_text("{}")
    fill = {"spec": str(spec), "dir": str(tmp_path)}
    code, out, err = run_cli("solve", str(spec), "-t", "1", *(a.format(**fill) for a in extra))
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.startswith(f"error: {message.format(**fill)}") and err.count("\n") == 1
    assert spec.read_text() == text and sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml", "start.json"]


def test_a_start_file_may_be_updated_in_place(tmp_path):
    best = tmp_path / "best.json"
    assert run_cli("solve", BQP, "-b", "steepest", "-t", "0.5", "--seed", "1", "--output", str(best), "-q")[0] == 0
    first = json.loads(best.read_text())["objective"]
    code, _, err = run_cli("solve", BQP, "-b", "steepest", "-t", "0.5", "--seed", "2", "--initial", str(best), "--output", str(best), "-q")
    assert code == 0 and err == ""  # read before the solve, written atomically after it
    assert json.loads(best.read_text())["objective"] >= first  # bqp50 is maximised: never worse than its start


@pytest.mark.parametrize("ending", ["/", "/."])
@pytest.mark.parametrize(
    "argv, name",
    [
        (["solve", BQP, "-t", "1", "--output"], "--output"),
        (["solve", BQP, "-t", "1", "--plot"], "--plot"),
        (["generate", "placement", "--output"], "--output"),
        (["tune", str(PROBLEMS / "hpo/dtree_breast_cancer.yaml"), "--export"], "--export"),
        (["convert", BQP], "OUT"),
    ],
)
def test_a_folder_name_is_refused_not_written_as_a_file(tmp_path, no_solving, argv, name, ending):
    target = f"{tmp_path}/result.json{ending}"  # Path() would drop the ending and write tmp_path/result.json
    code, out, err = run_cli(*argv, target)
    assert code == EXIT_BAD_INPUT and out == ""
    assert err == f"error: {name}: cannot write {target}: it names a folder; give a file name\n"
    assert list(tmp_path.iterdir()) == []


def test_output_folders_are_never_created_by_convert_either(tmp_path):
    code, _, err = run_cli("convert", BQP, str(tmp_path / "new" / "deeper" / "x.lp"))
    assert code == EXIT_BAD_INPUT and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "new").exists()


def test_a_failed_write_after_solving_keeps_the_result_on_stdout(tmp_path, monkeypatch):
    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    target = tmp_path / "result.json"
    code, out, err = run_cli("solve", BQP, "--output", str(target), "-t", "1", "--seed", "1", "-q")
    assert code == EXIT_BAD_INPUT
    assert err.count("\n") == 1 and "No space left on device" in err and "the result is on stdout" in err
    result = hqopt.Result.from_json(out)
    assert result.feasible and io.load(BQP).evaluate(result.solution).objective == result.objective
    assert not target.exists() and list(tmp_path.iterdir()) == []  # no half-written or temporary file


def test_output_is_still_written_with_the_table(tmp_path):
    target = tmp_path / "r.json"
    code, out, _ = run_cli("solve", BQP, "--output", str(target), "-t", "1", "--seed", "2", "--backend", "tabu")
    assert code == 0 and "objective" in out
    assert hqopt.Result.from_json(target.read_text()).feasible


def test_sigterm_prints_best_so_far_writes_output_and_exits_143(tmp_path):
    out_file = tmp_path / "partial.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hqopt", "solve", str(PROBLEMS / "qubo/bqp50.txt#1"), "--backend", "sa", "--time-limit", "120",
         "--seed", "1", "--output", str(out_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"},
    )
    started = proc.stderr.readline()  # "solving ..." once the file is read and the solve begins
    assert started.startswith("solving bqp50.1"), started
    time.sleep(3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 30
    assert proc.returncode == EXIT_TERMINATED, err
    assert "terminated" in err and "Traceback" not in err
    assert "objective" in out and "feasible" in out
    saved = hqopt.Result.from_json(out_file.read_text())
    assert saved.interrupted and saved.feasible and saved.objective > 0
    assert io.load(PROBLEMS / "qubo/bqp50.txt#1").evaluate(saved.solution).objective == saved.objective


def test_cpsat_stopped_mid_search_reports_its_incumbent():
    """Stop CP-SAT right after its first solution: the result carries that incumbent, verified."""
    model = io.load(PROBLEMS / "maxcut/G1.txt")
    stop = threading.Event()
    seen: list[float] = []

    def on_progress(progress):
        if progress.best_objective is not None:
            seen.append(progress.best_objective)
            stop.set()

    result = hqopt.solve(model, backend="cpsat", time_limit=60, seed=1, stop=stop, on_progress=on_progress, num_workers=2)
    assert seen, "CP-SAT found no solution in 60 s"
    assert result.objective is not None and result.feasible and result.status.value == "feasible"
    assert model.evaluate(result.solution).objective == result.objective >= seen[0]
    assert result.timing.total < 30
    assert json.loads(result.to_json())["objective"] == result.objective


SMALL_PLACEMENT = str(PROBLEMS / "placement/small.yaml")


@pytest.mark.parametrize(
    "problem, where, reason",
    [
        (SMALL_PLACEMENT, "missing/plan.png", "cannot write"),  # a traceback after the solve, exit 1, before
        (BQP, "plan.png", "draws placement plans"),  # found only after the solve, with kind '?', before
        (SMALL_PLACEMENT, "plan.txt", "no picture format matplotlib writes"),  # a traceback after the solve, before
    ],
)
def test_unusable_plot_is_refused_before_solving(tmp_path, no_solving, problem, where, reason):
    pytest.importorskip("matplotlib")
    code, out, err = run_cli("solve", problem, "--plot", str(tmp_path / where), "-t", "1")
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.count("\n") == 1 and err.startswith("error: --plot") and reason in err
    assert "'?'" not in err


def test_plot_without_the_plot_extra_is_refused_before_solving(tmp_path, no_solving, monkeypatch):
    from hqopt.cli import domain

    monkeypatch.setattr(domain, "PLOT_EXTRA", "no_such_package_for_hqopt")
    code, out, err = run_cli("solve", SMALL_PLACEMENT, "--plot", str(tmp_path / "plan.png"), "-t", "1")
    assert code == EXIT_BAD_INPUT and "'plot' extra" in err and "no_such_package_for_hqopt" in err


def test_a_plot_with_no_feasible_plan_is_a_note_and_the_exit_code_stays_1(tmp_path):
    spec = tmp_path / "too-big.yaml"
    spec.write_text("kind: placement\nsites:\n  - {name: a, capacity: {cpu: 4}}\n  - {name: b, capacity: {cpu: 4}}\n"
                    "services:\n  - {name: one, demand: {cpu: 3}}\n  - {name: two, demand: {cpu: 3}}\n"
                    "  - {name: three, demand: {cpu: 2}}\n")  # each fits, and 8 of 8 cpu in all, but 2 does not fit beside 3
    code, _, err = run_cli("solve", str(spec), "--backend", "cpsat", "-t", "2", "--plot", str(tmp_path / "plan.png"))
    assert code == 1  # no feasible solution: not bad input
    assert f"note: --plot: no feasible solution to draw; {tmp_path / 'plan.png'} not written" in err
    assert not (tmp_path / "plan.png").exists()


def test_a_plot_that_fails_after_the_solve_keeps_the_result_and_names_the_file(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from hqopt.formulations.placement import Placement

    def disk_full(self, answer, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Placement, "plot", disk_full)
    output = tmp_path / "plan.json"
    code, out, err = run_cli("solve", SMALL_PLACEMENT, "--plot", str(tmp_path / "plan.png"), "--output", str(output), "-t", "2")
    assert code == EXIT_BAD_INPUT
    assert "objective" in out and json.loads(output.read_text())["feasible"]
    assert err.strip().splitlines()[-1] == f"error: --plot: cannot write {tmp_path / 'plan.png'}: No space left on device"


def test_the_table_says_when_the_warm_start_was_never_beaten_or_the_engine_never_ran(monkeypatch, tmp_path):
    from hqopt.engine import chains

    optimal = tmp_path / "optimal.json"
    assert run_cli("solve", SMALL_PLACEMENT, "--backend", "cpsat", "--output", str(optimal))[0] == 0
    code, out, _ = run_cli("solve", SMALL_PLACEMENT, "--backend", "sa", "-t", "1", "--initial", str(optimal))
    assert code == 0 and re.search(r"^found by\s+the warm start", out, re.M)
    code, out, _ = run_cli("solve", BQP, "--backend", "sa", "-t", "1")
    assert code == 0 and "found by" not in out  # no warm start: the backend found it

    monkeypatch.setattr(chains, "_start_all", lambda *args, **kwargs: None)  # the JIT compile outlasts the budget
    monkeypatch.setattr(chains, "jit_ready", lambda: False)  # (with a warm cache: "still starting its chains")
    code, out, err = run_cli("solve", BQP, "--backend", "ls", "-t", "1", "--seed", "0")
    assert "warning" in out and "still compiling" in " ".join(out.split())
    assert "RuntimeWarning" not in err  # said once, in the table


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("t.lp", "Maximize\n obj: 3 x1 + 2 x2 +\nSubject To\n c1: x1 + x2 <= 1\nBinary\n x1 x2\nEnd\n",
         "t.lp:2: not a valid LP file: the objective has a '+' with no term after it"),
        ("e.lp", "Maximize\n obj: x1\nSubject To\n c1: x1 + <= 1\nBinary\n x1\nEnd\n", "e.lp:4: not a valid LP file: this constraint has a '+'"),
        ("g.txt", "4 4\n1 2 1\n2 3 1\n3 3 1\n3 4 1\n", "g.txt:4: self-loop on vertex 3"),
        ("g3.txt", "4 4\n1 2 1\n2 3\n3 4 1\n1 4 1\n", "g3.txt:3: expected an edge 'i j w'"),
        ("k.yaml", "kind: knapsak\n", "known kinds: cqm, facility, knapsack, maxcut, placement, qap, qubo"),
        ("inf.qubo", "0 1 1e999\n1 1 2\n", "inf.qubo:1: the bias must be a plain decimal number like -1.5 (COO has no exponent, inf or nan), got '1e999'"),
        ("long.yaml", "kind: qubo\nterms:\n  - [a, a, " + "9" * 5000 + "]\n", "long.yaml:3: a whole number of 5000 digits: at most 4300 can be read"),
        ("long.json", '{"kind": "qubo", "terms": [["a", "a", ' + "9" * 5000 + "]]}", "long.json:1: a whole number of 5000 digits: at most 4300 can be read"),
    ],
)
def test_bad_files_once_read_silently_are_one_line_errors_exit_2(tmp_path, no_solving, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    for command in ("solve", "info"):
        code, out, err = run_cli(command, str(path))
        assert code == EXIT_BAD_INPUT and message in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_qaplib_row_with_an_extra_number_names_its_line(tmp_path, no_solving):
    lines = (PROBLEMS / "qap/nug12.dat").read_text().split("\n")
    path = tmp_path / "q.dat"
    path.write_text("\n".join(lines[:2] + [lines[2] + " 99"] + lines[3:]))
    code, _, err = run_cli("solve", str(path))
    assert code == EXIT_BAD_INPUT and "q.dat:3: row 1 of matrix A has 13 numbers" in err


def test_a_tune_spec_given_to_solve_points_to_tune(no_solving):
    code, _, err = run_cli("solve", str(PROBLEMS / "hpo/churn.yaml"))
    assert code == EXIT_BAD_INPUT and "this looks like an `hqopt tune` spec" in err


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_a_reader_closing_stdout_early_loses_no_file_and_no_exit_code(tmp_path, flag):
    """`hqopt solve ... --output r.json | head -1`: the files are written before stdout, and a closed pipe
    ends the printing quietly with the solve's own exit code (it was a silent exit 1 and no r.json)."""
    out_file, png = tmp_path / "r.json", tmp_path / "p.png"
    plot = ["--plot", str(png)] if importlib.util.find_spec("matplotlib") else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "hqopt", "solve", str(PROBLEMS / "placement/small.yaml"), "-t", "1", "--seed", "0",
         "--output", str(out_file), *plot, *flag],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    proc.stdout.close()  # the reader is gone before anything is printed
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "error" not in err
    assert hqopt.Result.from_json(out_file.read_text()).feasible
    assert not plot or png.stat().st_size > 0


def test_convert_says_what_it_negates_names_what_collides_and_keeps_its_input(tmp_path):
    code, _, err = run_cli("convert", str(PROBLEMS / "qubo/bqp50.txt#1"), str(tmp_path / "b.sparse"))
    assert code == 0 and "note: Biq Mac files are minimisations: wrote the minimisation form (objective negated)" in err
    code, _, err = run_cli("convert", str(tmp_path / "b.sparse"), str(tmp_path / "back.txt"), "--to", "orlib-bqp")
    assert code == 0 and "note: OR-Library BQP files are maximisations: wrote the maximisation form (objective negated)" in err
    lp = tmp_path / "k.lp"
    lp.write_text((PROBLEMS / "lp/knapsack.lp").read_text())
    before = lp.read_text()
    code, _, err = run_cli("convert", str(lp), str(tmp_path / "." / "k.lp"))
    assert code == 2 and err.startswith("error: OUT ") and "is the problem file" in err and lp.read_text() == before
    spec = tmp_path / "collide.yaml"
    spec.write_text('kind: cqm\nvariables: {"a-b": binary, "a_b": binary}\nobjective: {linear: {"a-b": 1, "a_b": 2}}\n')
    code, _, err = run_cli("convert", str(spec), str(tmp_path / "c.lp"))
    assert code == 2 and "variables 'a-b' and 'a_b' would both be named 'a_b'" in err


def test_a_placement_plan_given_as_initial_points_to_current(tmp_path):
    plan = tmp_path / "plan.json"
    spec = yaml.safe_load(Path(SMALL_PLACEMENT).read_text())
    plan.write_text(json.dumps({s["name"]: spec["sites"][0]["name"] for s in spec["services"]}))
    code, _, err = run_cli("solve", SMALL_PLACEMENT, "--initial", str(plan), "-t", "1")
    assert code == 2 and "is not in the model (a {service: site} plan to re-plan from is given with --current)" in err


def test_a_placement_whose_costs_overflow_is_one_line_without_numpy_warnings(tmp_path):
    spec = tmp_path / "huge.yaml"
    spec.write_text("kind: placement\nsites:\n  - {name: a, capacity: {cpu: 4}, price: {cpu: 1.0e+308}}\n"
                    "services:\n  - {name: s, demand: {cpu: 2}}\n")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow RuntimeWarning would fail here
        code, _, err = run_cli("info", str(spec))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "non-finite coefficient" in err


def test_convert_onto_its_input_is_refused_even_in_a_folder_named_with_a_hash(tmp_path):
    folder = tmp_path / "d#1"
    folder.mkdir()
    lp = folder / "k.lp"
    lp.write_text((PROBLEMS / "lp/knapsack.lp").read_text())
    before = lp.read_text()
    code, _, err = run_cli("convert", str(lp), str(lp))
    assert code == 2 and err.startswith(f"error: OUT {lp} is the problem file") and lp.read_text() == before


_CTRL_C_WHILE_LOADING = """
import os, signal, time
import hqopt  # installs the quiet handler first thing when the process is the `hqopt` command
os.kill(os.getpid(), signal.SIGINT)  # as if Ctrl-C came while the rest was still loading
time.sleep(5)
"""


@pytest.mark.parametrize("script", ["hqopt", "my-own-program"])
def test_ctrl_c_while_the_command_loads_is_one_line_and_a_host_program_keeps_pythons_handler(tmp_path, script):
    path = tmp_path / script  # the script Python starts with names the process: `hqopt` is the command
    path.write_text(_CTRL_C_WHILE_LOADING)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, cwd=REPO)
    if script == "hqopt":
        assert (run.returncode, run.stderr) == (130, "interrupted (Ctrl-C)\n")
    else:  # hqopt imported by another program: Python's KeyboardInterrupt, as that program expects
        assert run.returncode != 0 and "KeyboardInterrupt" in run.stderr


def test_a_worker_process_of_the_command_is_not_the_command(tmp_path):
    code = "import multiprocessing as mp, signal\nimport hqopt\n\ndef handler(_):\n    import signal\n    return signal.getsignal(signal.SIGINT).__name__\n\nif __name__ == '__main__':\n    with mp.get_context('spawn').Pool(1) as pool:\n        print(pool.map(handler, [0])[0])\n"
    path = tmp_path / "hqopt"
    path.write_text(code)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0 and run.stdout.strip() == "default_int_handler", run.stderr


def test_the_cli_puts_pythons_handler_back_once_loaded(monkeypatch):
    from hqopt import _startup

    signal.signal(signal.SIGINT, _startup.quiet_interrupt)
    try:
        assert run_cli("--version")[0] == 0
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
