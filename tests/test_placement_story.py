"""docs/placement.md's SRE story, run command by command: place 60 services, lose a site, re-plan."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from hqopt.formulations.placement import Placement

from conftest import run_cli

DOC = Path(__file__).resolve().parents[1] / "docs" / "placement.md"


def story_commands() -> list[list[str]]:
    """The ``hqopt`` commands of the story's bash blocks, in order."""
    story = DOC.read_text().split("## The SRE story", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in story.split("```bash\n")[1:]:
        for line in block.split("```", 1)[0].splitlines():
            if line.startswith("hqopt "):
                commands.append(shlex.split(line, comments=True)[1:])
    return commands


def _placement(path: Path) -> Placement:
    spec = yaml.safe_load(path.read_text())
    spec.pop("kind")
    return Placement.from_spec(spec)


def test_the_story_has_the_commands_it_tells():
    names = [c[0] for c in story_commands()]
    assert names == ["generate", "solve", "analyze", "solve", "solve", "solve"]
    replan = story_commands()[3]
    for flag in ("--current", "--site-down", "--max-moves", "--move-cost", "--plot"):
        assert flag in replan


def test_sre_story_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    generate, place, _analyze, replan, second_failure, back_up = story_commands()
    assert run_cli(*generate)[0] == 0
    code, out, _ = run_cli(*place)
    assert code == 0
    assert "sites (utilisation per resource)" in out and "objective by term" in out and "anti-affinity:" in out
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["feasible"] and (tmp_path / "plan.png").stat().st_size > 10_000

    code, out, _ = run_cli(*replan)
    assert code == 0
    down = replan[replan.index("--site-down") + 1]
    cap = int(replan[replan.index("--max-moves") + 1])
    again = json.loads((tmp_path / "replan.json").read_text())
    assert again["feasible"]
    was_there = {s for s, site in plan["decoded"]["assignment"].items() if site == down}
    moves = again["decoded"]["moves"]
    moved = {m["service"] for m in moves}
    assert was_there <= moved and len(moves) <= cap  # every displaced service moves, within the cap
    # no more, unless capacity forces it: an extra mover makes room on a site a displaced service went to
    landed = {m["to"] for m in moves if m["service"] in was_there}
    extra = [m for m in moves if m["service"] not in was_there]
    assert len(extra) <= 2 and all(m["from"] in landed for m in extra), extra
    assert all(m["to"] != down for m in moves)
    assert down not in again["decoded"]["assignment"].values()
    assert f"{down} (down) →" in out and "down" in out
    # the re-plan keeps every rule, checked without the model
    p = _placement(tmp_path / "dc.yaml").replan(plan, down=[down], max_moves=cap)
    check = p.check(again["decoded"]["assignment"])
    assert check.feasible, check.violations
    assert (tmp_path / "replan.png").stat().st_size > 10_000

    # a second failure, re-planned from the re-plan: the first down site stays down (a note says so)
    assert second_failure[second_failure.index("--current") + 1] == "replan.json"
    code, out, err = run_cli(*second_failure, "--json")
    assert code == 0 and f"note: site {down} is down in the current plan's result and stays down" in err
    second_down = second_failure[second_failure.index("--site-down") + 1]
    third = json.loads(out)["decoded"]
    assert third["feasible"] and not {down, second_down} & set(third["assignment"].values())
    # the first site is back: services may use it again, and nothing is down
    assert back_up[back_up.index("--site-up") + 1] == down
    code, out, err = run_cli(*back_up, "--json")
    assert code == 0 and "note:" not in err and not [r for r in json.loads(out)["decoded"]["sites"] if r["down"]]


@pytest.mark.slow
def test_story_analyze_gives_a_verdict(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    generate, _place, analyze, *_replans = story_commands()
    assert run_cli(*generate)[0] == 0
    code, out, _ = run_cli(*analyze)
    assert code == 0
    assert "verdict: does not fit the QPU" in out
    assert "sub_size=180" in out and "services of" in out
