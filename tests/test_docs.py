"""Every code block and shell command in README.md and docs/*.md runs (the docs stay true).

* ```python blocks run in order, one namespace per file (a later block may use an
  earlier one's names); a block of ``>>>`` lines runs as a doctest;
* ```bash blocks: every command must exit 0; ```console blocks: every ``$`` command
  must exit 0 and each documented output line's label (the text before its
  first ``:``) must still appear in the real output;
* ```yaml blocks with a ``kind:`` are problem specs: they must load;
* a block that cannot run here says why in an HTML comment on the line before
  it, ``<!-- no-run: needs D-Wave credentials -->``, and is skipped;
* the python blocks of a page in :data:`OWN_TESTS` are left to that page's own
  test module, which runs each of them and checks what it prints.

Commands run in a fresh temporary folder per page, holding links to ``problems`` and
``benchmarks``, with ``hqopt`` and ``python`` meaning this checkout and this
interpreter.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
NO_RUN = re.compile(r"<!--\s*no-run:\s*(.+?)\s*-->\s*$")
COMMAND_TIMEOUT = 180


@dataclass
class Block:
    file: Path
    line: int
    lang: str
    body: str
    no_run: str | None

    @property
    def id(self) -> str:
        return f"{self.file.name}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for path in DOCS:
        text = path.read_text()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            reason = NO_RUN.search(before)
            found.append(Block(path, line, m.group(1).lower(), m.group(2), reason.group(1) if reason else None))
    return found


ALL = blocks()
RUNNABLE = ("python", "bash", "console", "yaml")
#: pages whose python blocks a test module of their own runs, checking their output
OWN_TESTS = {"automl.md": "tests/test_automl_docs.py"}


def _runs_here(block: Block) -> bool:
    return block.lang in RUNNABLE and not (block.lang == "python" and block.file.name in OWN_TESTS)


def test_every_block_has_a_language():
    """Untagged blocks cannot be checked: tag them (text, bash, console, python, yaml, ...)."""
    assert [b.id for b in ALL if not b.lang] == []


@pytest.fixture(scope="module")
def workdirs(tmp_path_factory) -> Callable[[Path], Path]:
    """A fresh folder per page, as its reader starts (one page's files, e.g. a study's storage, stay out of the next)."""
    folders: dict[Path, Path] = {}

    def folder_for(page: Path) -> Path:
        if page not in folders:
            base = tmp_path_factory.mktemp(f"docs-{page.stem}")
            (base / "shared").symlink_to(ROOT.parent / "shared")  # docs refer to ../shared/benchmarks
            folder = base / "checkout"
            folder.mkdir()
            for name in ("problems", "benchmarks", "examples"):
                (folder / name).symlink_to(ROOT / name)
            folders[page] = folder
        return folders[page]

    return folder_for


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _commands(body: str, console: bool) -> list[tuple[str, list[str]]]:
    """(command, documented output lines) pairs; continuation lines joined, comments dropped."""
    out: list[tuple[str, list[str]]] = []
    pending = ""
    for raw in body.splitlines():
        line = raw.rstrip()
        if console and not pending and not line.startswith("$ "):
            if out and line:
                out[-1][1].append(line)
            continue
        line = line[2:] if console and not pending else line
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        command = (pending + line).strip()
        pending = ""
        if command and not command.startswith("#"):
            out.append((command, []))
    return out


def _shell(command: str) -> str:
    """The command with ``hqopt``/``python`` meaning this checkout's CLI and interpreter
    (the rest goes to the shell as written: variables, ``FILE#K``, trailing comments)."""
    first, _, rest = command.partition(" ")
    if first == "hqopt":
        return f"{shlex.quote(sys.executable)} -m hqopt {rest}"
    if first in ("python", "python3"):
        return f"{shlex.quote(sys.executable)} {rest}"
    return command


_namespaces: dict[Path, dict] = {}


@pytest.mark.parametrize("block", [b for b in ALL if _runs_here(b)], ids=lambda b: b.id)
def test_doc_block_runs(block: Block, workdirs: Callable[[Path], Path], monkeypatch: pytest.MonkeyPatch):
    if block.no_run:
        pytest.skip(f"no-run: {block.no_run}")
    workdir = workdirs(block.file)
    monkeypatch.chdir(workdir)
    where = f"{block.file.relative_to(ROOT)}:{block.line}"
    if block.lang == "python":
        namespace = _namespaces.setdefault(block.file, {"__name__": f"docs_{block.file.stem}"})
        if block.body.lstrip().startswith(">>>"):
            test = doctest.DocTestParser().get_doctest(block.body, namespace, where, str(block.file), block.line)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            runner.run(test)
            assert runner.failures == 0, f"{where}: doctest failed"
        else:
            exec(compile(block.body, where, "exec"), namespace)  # noqa: S102 - running the docs is the point
        return
    if block.lang == "yaml":
        if not re.search(r"^kind:", block.body, re.M):
            pytest.skip("not a problem spec")
        import hqopt.io

        spec = workdir / f"block{block.line}.yaml"
        spec.write_text(block.body)
        assert hqopt.io.load(spec).num_variables > 0
        return
    if block.lang == "bash":  # one shell for the block: variables set on one line are used on the next
        script = "set -e\n" + "\n".join(_shell(command) for command, _ in _commands(block.body, console=False))
        done = subprocess.run(script, shell=True, executable="/bin/bash", cwd=workdir, env=_env(), capture_output=True, text=True, timeout=COMMAND_TIMEOUT * 3, check=False)
        assert done.returncode == 0, f"{where}: exited {done.returncode}: {(done.stderr or done.stdout)[-800:]}"
        return
    for command, documented in _commands(block.body, console=True):
        done = subprocess.run(_shell(command), shell=True, cwd=workdir, env=_env(), capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
        assert done.returncode == 0, f"{where}: `{command}` exited {done.returncode}: {(done.stderr or done.stdout)[-800:]}"
        for expected in documented:
            label = expected.split(":", 1)[0].strip()
            if label and ":" in expected:
                assert label in done.stdout, f"{where}: `{command}` no longer prints {label!r} (documented: {expected!r})"
