"""hqopt bench end to end (tiny), resume, Ctrl-C, anchors, targets, the CLI."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import hqopt
import hqopt.io
from hqopt.bench import run_bench
from hqopt.bench.anchors import AnchorSpec, cpsat_alone, parse_objective, sa_restarts
from hqopt.bench.targets import lookup, read_best_known
from hqopt.cli.app import main
from hqopt.errors import BackendError

from conftest import brute_force

ANCHOR_SCRIPT = Path(__file__).parent / "data" / "anchor_random_search.py"
EXTERNAL = f"rand={sys.executable} {ANCHOR_SCRIPT} {{file}} {{time}} {{seed}}"


@pytest.fixture(scope="module")
def instances(tmp_path_factory) -> tuple[list[Path], dict[str, float]]:
    """Two 8-variable QUBOs (one min, one max) and a best-known CSV for the first only."""
    folder = tmp_path_factory.mktemp("inst")
    rng = np.random.default_rng(5)
    optimum = {}
    files = []
    for name, sense in (("qmin", "min"), ("qmax", "max")):
        Q = np.triu(rng.integers(-9, 10, size=(8, 8))).astype(float)
        model = hqopt.Model.from_qubo(Q, name=name)
        model.sense = hqopt.Sense.parse(sense)
        path = folder / f"{name}.lp"
        hqopt.io.save(model, path)
        loaded = hqopt.io.load(path)
        assert loaded.name == name and loaded.sense.value == sense
        optimum[name] = brute_force(loaded)
        files.append(path)
    (folder / "best_known.csv").write_text(f"instance,best_known,sense,source\nqmin,{optimum['qmin']:g},min,brute force\n")
    return files, optimum


@pytest.mark.slow
def test_tiny_bench_end_to_end_then_resume(instances, tmp_path) -> None:
    files, optimum = instances
    out = tmp_path / "out"
    seen: list[dict] = []
    kwargs = {"seeds": 2, "time_limit": 0.2, "out": out, "anchors": ["sa-restarts", EXTERNAL], "workers": 2}
    report = run_bench(files, ["exact", "sa"], on_run=seen.append, **kwargs)

    for name in ("runs.csv", "runs.json", "summary.csv", "report.md", "report.html", "runs.jsonl"):
        assert (out / name).stat().st_size > 0, name
    for png in ("quality_over_time.png", "ttt_ecdf.png", "gap_heatmap.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert png in (out / "report.md").read_text() and f'src="{png}"' in (out / "report.html").read_text()
    rows = list(csv.DictReader((out / "runs.csv").open()))
    assert len(rows) == len(seen) == 2 * 4 * 2  # instances x solvers x seeds
    assert len(json.loads((out / "runs.json").read_text())) == 16
    summary = {(s["instance"], s["solver"]): s for s in report.summary}
    assert set(summary) == {(i, s) for i in ("qmin", "qmax") for s in ("exact", "sa", "sa-restarts", "rand")}
    assert summary["qmin", "exact"]["target"] == optimum["qmin"] and summary["qmin", "exact"]["target_source"] == "best known"
    assert summary["qmax", "exact"]["target_source"] == "best found"
    for name in ("qmin", "qmax"):  # exact proves the optimum: every run succeeds, TTS is one run's time
        cell = summary[name, "exact"]
        assert cell["success"] == 1.0 and cell["mean_gap"] == 0.0 and cell["best_objective"] == optimum[name]
        assert cell["tts99"] == pytest.approx(cell["run_seconds"])
        assert cell["cpu_seconds"] > 0 and cell["peak_rss_mb"] > 0
    external = [r for r in report.runs if r["solver"] == "rand"]
    assert all(r["kind"] == "external" and r["verified"] is False and not r["error"] for r in external)
    for r in external:  # a feasible answer never beats the optimum
        assert hqopt.Sense.parse(r["sense"]).sign * (r["objective"] - optimum[r["instance"]]) >= 0
    assert "| qmin | rand |" in report.to_markdown() and "<table" in report._repr_html_()

    again: list[dict] = []  # a rerun skips every finished run ...
    run_bench(files, ["exact", "sa"], on_run=again.append, **kwargs)
    assert again == []
    kwargs["seeds"] = 3  # ... and runs only what is new
    run_bench(files, ["exact"], on_run=again.append, **{**kwargs, "anchors": [], "workers": 1})
    assert sorted((r["instance"], r["seed"]) for r in again) == [("qmax", 2), ("qmin", 2)]
    with pytest.raises(BackendError, match="holds runs at a 0.2 s time limit"):
        run_bench(files, ["exact"], **{**kwargs, "time_limit": 1.0})


def test_a_folder_whose_first_attempt_ran_nothing_takes_another_time_limit(tmp_path) -> None:
    from hqopt.bench.store import CONFIG_FILE, RunStore

    RunStore(tmp_path / "out", 0.5)  # a first attempt that stopped before any run (a typo in --backend)
    assert (tmp_path / "out" / CONFIG_FILE).exists()
    store = RunStore(tmp_path / "out", 1.0)  # the corrected rerun
    assert json.loads((tmp_path / "out" / CONFIG_FILE).read_text())["time_limit"] == 1.0 and store.records() == []


def test_ctrl_c_keeps_finished_runs_and_writes_the_report(instances, tmp_path) -> None:
    files, _ = instances

    def interrupt(record: dict) -> None:
        raise KeyboardInterrupt

    report = run_bench(files, ["exact"], seeds=3, time_limit=0.5, out=tmp_path, workers=1, plots=False, on_run=interrupt)
    assert report.interrupted
    assert len(report.runs) == 1 and (tmp_path / "report.md").exists()


def test_a_ctrl_c_the_solve_caught_stops_the_bench_too(instances, tmp_path, monkeypatch) -> None:
    # with one worker the solve runs here, catches Ctrl-C itself and returns an interrupted Result
    import dataclasses

    import hqopt.bench.runner as runner

    files, _ = instances
    real = runner.solve_in_worker
    calls = []

    def second_run_interrupted(*args, **kwargs):
        calls.append(args)
        result = real(*args, **kwargs)
        return dataclasses.replace(result, interrupted=True) if len(calls) == 2 else result

    monkeypatch.setattr(runner, "solve_in_worker", second_run_interrupted)
    report = run_bench(files, ["exact"], seeds=4, time_limit=0.5, out=tmp_path, workers=1, plots=False)
    assert report.interrupted and len(calls) == 2
    assert [(r["instance"], r["seed"]) for r in report.runs] == [("qmin", 0)]  # the interrupted run is not a measurement


@pytest.mark.parametrize(("option", "value"), [("--time-limit", "0"), ("--target", "nan"), ("--target", "inf")])
def test_bad_numbers_are_refused_before_the_out_folder_is_touched(instances, tmp_path, capsys, option, value) -> None:
    files, _ = instances
    args = ["bench", str(files[0]), "--backend", "exact", "--out", str(tmp_path / "b"), "--no-plots", "-t", "1"]
    assert main([*args, option, value]) == 2
    assert "\n" not in capsys.readouterr().err.strip() and not (tmp_path / "b").exists()
    assert main(args) == 0  # the folder is usable afterwards


def test_cli_bench(instances, tmp_path, capsys) -> None:
    files, _ = instances
    code = main(["bench", str(files[0]), "--backend", "exact", "--seeds", "2", "-t", "0.5",
                 "--out", str(tmp_path), "--no-plots", "--workers", "1"])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    assert "| qmin | exact | 2/2 | 1.00 [0.34, 1.00] |" in text  # Wilson: 2 of 2 is no proof of p = 1
    assert main(["bench", str(files[0]), "-t", "1", "--out", str(tmp_path / "x"), "--target", "soon"]) == 2
    assert main(["bench", str(files[0]), "-t", "1", "--out", str(tmp_path / "y"), "--anchor", "nope"]) == 2



def test_cli_bench_says_a_run_that_never_searched_in_one_line(instances, tmp_path, capsys, monkeypatch) -> None:
    import warnings

    import hqopt.bench.runner as runner

    real = runner.solve_in_worker

    def never_searched(*args, **kwargs):  # as a worker whose solve ran out of time before its backend started
        result = real(*args, **kwargs)
        result.info["compile"] = "the 0.5 s time limit ran out before cpsat could start"
        warnings.warn(result.info["compile"], hqopt.errors.NotSearchedWarning, stacklevel=1)
        return result

    monkeypatch.setattr(runner, "solve_in_worker", never_searched)
    files, _ = instances
    assert main(["bench", str(files[0]), "--backend", "exact", "-t", "0.5", "--out", str(tmp_path), "--no-plots", "-q", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "note: qmin exact seed 0: the 0.5 s time limit ran out before cpsat could start" in err and "NotSearchedWarning" not in err
    notes = {json.loads(line).get("note") for line in (tmp_path / "runs.jsonl").read_text().splitlines()}
    assert notes == {"the 0.5 s time limit ran out before cpsat could start"}  # kept in each run's record too


def test_parse_objective_rules() -> None:
    assert parse_objective("12 improved\n  \nbest 3.5e2 after 1 s\n\n") == 1.0  # last number, last non-empty line
    assert parse_objective("value -17\n") == -17.0
    assert parse_objective("cut=11624,time=2.0\ncut=11630,time=3.1", regex=r"cut=(\d+)") == 11630.0
    assert parse_objective("best inf") == float("inf")
    with pytest.raises(BackendError, match="no number"):
        parse_objective("done\n")
    with pytest.raises(BackendError, match="no match"):
        parse_objective("x", regex=r"cut=(\d+)")


def test_anchor_specs() -> None:
    assert AnchorSpec.parse("sa-restarts") == AnchorSpec("sa-restarts")
    assert AnchorSpec.parse("m=solver {file}", {"m": r"best (\S+)"}) == AnchorSpec("m", "solver {file}", r"best (\S+)")
    with pytest.raises(BackendError, match="unknown anchor"):
        AnchorSpec.parse("mqlib")
    with pytest.raises(BackendError, match="bad regex"):
        AnchorSpec.parse("m=x", {"m": "("})


def test_builtin_anchors_reach_the_optimum_of_small_models() -> None:
    m = hqopt.Model(sense="max")
    x = [m.binary(i) for i in range(6)]
    m.set_objective(sum((i + 1) * x[i] for i in range(6)) - 3 * x[0] * x[5])
    m.add_constraint(sum(x) <= 3, label="at-most-three")
    best = brute_force(m)
    assert best == 15.0
    outcome = cpsat_alone(m, 1.0, seed=0)
    assert outcome.objective == best and outcome.feasible and outcome.history[-1][1] == best
    qubo = hqopt.Model.from_qubo({(0, 0): -1, (0, 1): 2, (1, 1): -1, (2, 2): -3, (1, 2): -1})
    outcome = sa_restarts(qubo, 0.2, seed=0)
    assert outcome.objective == brute_force(qubo) and outcome.verified


def test_best_known_csv_lookup_and_sense_check(tmp_path) -> None:
    path = tmp_path / "best_known.csv"
    path.write_text("instance,best_known,sense,source\nbqp50.1,2098,max,OR-Library\ng1,7,min,x\n")
    known = read_best_known([path])
    assert lookup(known, "bqp50.1", "bqp50.txt#1", hqopt.Sense.MAX) == 2098.0
    assert lookup(known, "other", "dir/g1.txt", hqopt.Sense.MIN) == 7.0  # by file stem
    assert lookup(known, "nothing", "x.txt", hqopt.Sense.MIN) is None
    with pytest.raises(BackendError, match="maximisation but the model is a minimisation"):
        lookup(known, "bqp50.1", "bqp50.txt#1", hqopt.Sense.MIN)


def test_best_known_csv_is_validated_whole(tmp_path) -> None:
    from hqopt.errors import FormatError

    missing = tmp_path / "bk2.csv"
    missing.write_text("instance,best\ngka1b,-133\n")
    with pytest.raises(FormatError, match=r"bk2.csv: missing column 'best_known'"):
        read_best_known([missing])
    bad = tmp_path / "bad.csv"
    bad.write_text("instance,best_known,sense\nok,1,min\n\nx,abc,min\n")
    with pytest.raises(FormatError, match=r"bad.csv:4: best_known of x must be a number, got 'abc'"):
        read_best_known([bad])
    bad.write_text("instance,best_known,sense\nx,nan,min\n")
    with pytest.raises(FormatError, match=r"bad.csv:2: .* must be finite"):
        read_best_known([bad])
    bad.write_text("instance,best_known,sense\nx,3,sideways\n")
    with pytest.raises(FormatError, match=r"bad.csv:2: sense of x must be 'min' or 'max'"):
        read_best_known([bad])
    with pytest.raises(FormatError, match="cannot read best-known CSV"):
        read_best_known([tmp_path / "nope.csv"])
    bad.write_text("instance,best_known,sense,source\nx,3,Maximise,me\n")
    assert {k: v[:2] for k, v in read_best_known([bad]).items()} == {"x": (3.0, "max")}


def test_best_known_csv_rows_must_be_as_wide_as_the_header(tmp_path) -> None:
    from hqopt.errors import FormatError

    bad = tmp_path / "bk.csv"
    bad.write_text("instance,best_known\nbqp50.1,2,098\n")  # a thousands separator: csv.DictReader read (2.0, '')
    with pytest.raises(FormatError, match=r"bk.csv:2: expected 2 fields, saw 3$"):
        read_best_known([bad])
    bad.write_text("instance,best_known,sense,source\ng1,7,min,x\n\ng2,8\n")
    with pytest.raises(FormatError, match=r"bk.csv:4: expected 4 fields, saw 2$"):
        read_best_known([bad])
    bad.write_text('instance,best_known,sense\ng1,7,min\n""\n')  # a quoted empty field is a row, not a blank line
    with pytest.raises(FormatError, match=r"bk.csv:3: expected 3 fields, saw 1$"):
        read_best_known([bad])
    bad.write_text('instance,best_known,sense\r\n\r\n  \r\n"g1",7,min\r\n,,\r\n"g,2","8\r\n",max\r\n')
    assert {k: v[:2] for k, v in read_best_known([bad]).items()} == {"g1": (7.0, "min"), "g,2": (8.0, "max")}  # blank lines and empty rows skipped
    bad.write_bytes(b"instance,best_known\ng\xff,1\n")
    with pytest.raises(FormatError, match=r"bk.csv: not a readable CSV: 'utf-8' codec can't decode"):
        read_best_known([bad])


def test_best_known_csv_saved_by_excel_with_a_byte_order_mark_is_read(tmp_path) -> None:
    path = tmp_path / "bk.csv"
    path.write_bytes("\ufeffinstance,best_known,sense,source\r\nbqp50.1,2098,max,OR-Library\r\n".encode())
    assert {k: v[:2] for k, v in read_best_known([path]).items()} == {"bqp50.1": (2098.0, "max")}


def test_best_known_csv_is_checked_before_any_run(instances, tmp_path, capsys) -> None:
    files, optimum = instances
    wrong_sense = tmp_path / "bk.csv"
    wrong_sense.write_text(f"instance,best_known,sense,source\nqmin,{optimum['qmin']:g},max,me\n")
    ran: list[dict] = []
    with pytest.raises(BackendError, match="maximisation but the model is a minimisation"):
        run_bench([files[0]], ["sa"], seeds=1, time_limit=0.2, out=tmp_path / "o1", best_known=[wrong_sense],
                  workers=1, plots=False, on_run=ran.append)  # fmt: skip
    assert ran == [] and not (tmp_path / "o1" / "runs.jsonl").exists()
    missing = tmp_path / "bk2.csv"
    missing.write_text("instance,best\nqmin,1\n")
    code = main(["bench", str(files[0]), "--backend", "sa", "--best-known", str(missing), "--seeds", "1", "-t", "0.2",
                 "--out", str(tmp_path / "o2"), "--no-plots", "--workers", "1"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.strip() == f"error: {missing}: missing column 'best_known' (expected instance,best_known,sense,source)"


def test_an_out_that_cannot_be_a_folder_is_one_line_and_exit_2(instances, tmp_path, capsys) -> None:
    files, _ = instances
    a_file = tmp_path / "taken"
    a_file.write_text("")
    for out, reason in ((a_file, "is a file, not a folder"), (a_file / "below", "cannot use this as the benchmark's output folder")):
        code = main(["bench", str(files[0]), "--backend", "sa", "--seeds", "1", "-t", "0.2", "--out", str(out), "--no-plots"])
        err = capsys.readouterr().err
        assert code == 2 and reason in err and "Traceback" not in err


def test_a_rerun_naming_one_instance_keeps_the_others_targets(instances, tmp_path) -> None:
    """The report covers every run in --out: an instance not named again keeps its target and successes."""
    files, optimum = instances
    out = tmp_path / "out"
    run_bench(files, ["exact"], seeds=1, time_limit=1, out=out, workers=1, plots=False)
    report = run_bench(files[:1], ["exact"], seeds=2, time_limit=1, out=out, workers=1, plots=False)
    summary = {s["instance"]: s for s in report.summary}
    assert summary["qmax"]["target"] == optimum["qmax"] and summary["qmax"]["target_source"] == "best found"
    assert summary["qmax"]["success"] == 1.0 and summary["qmin"]["target_source"] == "best known"

    # a number given now is this call's instances' target, not the earlier ones'; a CSV that disagrees
    # with an earlier instance's sense is not this call's to refuse (the report is still written)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(f"instance,best_known,sense\nqmax,{optimum['qmax']},min\n")
    report = run_bench(files[:1], ["exact"], seeds=2, time_limit=1, out=out, workers=1, plots=False, target=-1e9, best_known=[wrong])
    summary = {s["instance"]: s for s in report.summary}
    assert summary["qmin"]["target_source"] == "given" and summary["qmin"]["success"] == 0.0
    assert summary["qmax"]["target_source"] == "best found" and summary["qmax"]["success"] == 1.0


def test_an_anchor_that_cannot_take_a_model_is_an_error_row_not_a_crash(tmp_path) -> None:
    lp = tmp_path / "small.lp"  # an integer 0..1: dimod's cqm_to_bqm refuses it
    lp.write_text("Minimize\n obj: x + y\nSubject To\n c1: x + y >= 1\nBounds\n 0 <= x <= 1\nGeneral\n x\nBinary\n y\nEnd\n")
    report = run_bench([lp], ["exact"], seeds=1, time_limit=1, out=tmp_path / "out", anchors=["sa-restarts"], workers=1, plots=False)
    rows = {r["solver"]: r for r in report.runs}
    assert "cqm_to_bqm cannot convert" in rows["sa-restarts"]["error"] and rows["sa-restarts"]["verified"] is False
    assert rows["exact"]["objective"] == 1.0 and not rows["exact"]["error"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"anchors": ['x=echo "unclosed']}, "cannot split the command"),
        ({"anchor_regex": {"x": "best=(.*)"}}, "no --anchor x=COMMAND defines"),
        ({"seeds": 10**8}, "from 1 to 10000"),
    ],
)
def test_bad_bench_arguments_are_refused_before_any_run(instances, tmp_path, kwargs, message) -> None:
    options = {"seeds": 1, "time_limit": 1, "out": tmp_path / "out", "workers": 1, "plots": False} | kwargs
    with pytest.raises(BackendError, match=message):
        run_bench(instances[0], ["exact"], **options)
    assert not (tmp_path / "out").exists()


def test_best_known_csv_errors_name_the_file_and_line(tmp_path) -> None:
    twice = tmp_path / "twice.csv"
    twice.write_text("instance,best_known,sense\ngka1a,-3500,min\ngka1a,-3414,min\n")
    with pytest.raises(hqopt.errors.FormatError, match=r"twice.csv:3: .*gka1a is listed twice, with -3500 min \(.*twice.csv:2\) and -3414 min"):
        read_best_known([twice])
    same = tmp_path / "same.csv"
    same.write_text("instance,best_known,sense\ngka1a,-3414,min\ngka1a,-3414,min\n")
    known = read_best_known([same])  # a repeated row that agrees is harmless
    with pytest.raises(BackendError, match=r"same.csv:3: the best-known value of gka1a is for a minimisation"):
        lookup(known, "gka1a", "gka1a.sparse", hqopt.Sense.MAX)
