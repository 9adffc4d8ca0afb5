"""`hqopt tune`: spec checking (errors name the field), datasets, the CLI on a shipped spec, resuming."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml

from hqopt.automl.tune import build_estimator, load_dataset, load_spec, parse_spec, run_tune
from hqopt.cli.app import main
from hqopt.errors import SpecError

SPECS = Path(__file__).resolve().parents[1] / "problems" / "hpo"
GOOD = {
    "estimator": "sklearn.tree.DecisionTreeClassifier",
    "estimator_params": {"random_state": 0},
    "dataset": {"loader": "load_breast_cancer"},
    "cv": 3,
    "search_space": {
        "max_depth": {"type": "int", "low": 1, "high": 8},
        "criterion": {"type": "categorical", "choices": ["gini", "entropy"]},
    },
    "trials": 6,
    "sampler": {"name": "qubo", "startup_trials": 3},
}


def spec_with(**changes: object) -> dict:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trials": 0}, "trials"),
        ({"trials": None}, "trials"),
        ({"cv": 1}, "cv"),
        ({"colour": "red"}, "colour"),
        ({"estimator": "not a path"}, "estimator"),
        ({"dataset": {"loader": "fetch_openml"}}, "dataset.loader"),
        ({"dataset": {"loader": "load_nothing"}}, "dataset.loader"),
        ({"dataset": {"csv": "x.csv"}}, "dataset"),
        ({"search_space": {"C": {"type": "float", "low": 0, "high": 1, "log": True}}}, "search_space.C"),
        ({"search_space": {"C": {"type": "float", "low": "a", "high": 1}}}, "search_space.C.low"),
        ({"search_space": {"k": {"type": "categorical", "choices": []}}}, "search_space.k"),
        ({"search_space": {"k": {"type": "complex"}}}, "search_space.k.type"),
        ({"sampler": {"name": "cmaes"}}, "sampler.name"),
        ({"sampler": {"name": "qubo", "surrogate": "gp"}}, "sampler.surrogate"),
        ({"scoring": "accurasy"}, "scoring"),
        ({"storage": "results.db"}, "storage"),
    ],
)
def test_bad_spec_fields_are_named(changes: dict, field: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(spec_with(**changes), source="t.yaml")
    assert info.value.field == field
    assert f"field '{field}'" in str(info.value) and str(info.value).startswith("t.yaml: ")


def test_estimator_allow_list_and_parameter_names() -> None:
    spec = parse_spec(spec_with(estimator="subprocess.Popen"), source="t.yaml")
    with pytest.raises(SpecError, match="allow-list"):
        build_estimator(spec)
    spec = parse_spec(spec_with(estimator="collections.OrderedDict"), source="t.yaml")
    with pytest.raises(SpecError, match="not an estimator"):
        build_estimator(spec, allow_import=True)  # allowed to import, but it has no fit()
    spec = parse_spec(spec_with(search_space={"depth": {"type": "int", "low": 1, "high": 3}}), source="t.yaml")
    with pytest.raises(SpecError) as info:
        build_estimator(spec)
    assert info.value.field == "search_space.depth"


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_specs_are_valid(path: Path) -> None:
    spec = load_spec(path)
    build_estimator(spec)
    X, y = load_dataset(spec)
    assert len(X) == len(y) > 100


def test_csv_dataset_runs_and_resumes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    labels = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    lines = ["a,b,c,label"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{lab}" for r, lab in zip(X, labels)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    data = spec_with(dataset={"csv": "data.csv", "target": "label"}, storage=f"sqlite:///{tmp_path / 's.db'}")
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(data))
    spec = load_spec(tmp_path / "spec.yaml")
    first = run_tune(spec, trials=4)
    assert first.n_new == 4 and first.n_complete == 4
    again = run_tune(spec, trials=6)  # the same SQLite study resumes
    assert again.n_new == 2 and again.n_complete == 6
    assert again.best_score >= first.best_score and again.best_score > 0.8
    trials = optuna.load_study(study_name="spec", storage=spec.storage).trials
    assert len({(t.params["max_depth"], t.params["criterion"]) for t in trials}) == 6

    (tmp_path / "bad.csv").write_text("a,label\n1,yes\nx,no\n2,no\n")
    bad = load_spec_from(tmp_path, spec_with(dataset={"csv": "bad.csv", "target": "label"}))
    with pytest.raises(SpecError, match="line 3: column 'a' is not a number"):
        load_dataset(bad)
    missing = load_spec_from(tmp_path, spec_with(dataset={"csv": "data.csv", "target": "y"}))
    with pytest.raises(SpecError, match="no column 'y'"):
        load_dataset(missing)


def load_spec_from(folder: Path, data: dict):
    (folder / "other.yaml").write_text(yaml.safe_dump(data))
    return load_spec(folder / "other.yaml")


def test_cli_runs_a_shipped_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    db, png = tmp_path / "tree.db", tmp_path / "history.png"
    code = main(["tune", str(SPECS / "dtree_breast_cancer.yaml"), "--trials", "12",
                 "--storage", f"sqlite:///{db}", "--plot", str(png)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("score") >= 12 and "best configuration:" in out and "max_depth:" in out
    default = float(out.split("default configuration score: ")[1].split()[0])
    best = float(out.split("best score: ")[1].split()[0])
    assert best > default  # the tuned tree beats scikit-learn's defaults
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_cli_bad_spec_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec_with(estimator="os.system")))
    assert main(["tune", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "field 'estimator'" in err and "--allow-import" in err
    assert "\n" not in err
    path.write_text("estimator: [unclosed")
    assert main(["tune", str(path)]) == 2
    assert "not valid YAML" in capsys.readouterr().err
