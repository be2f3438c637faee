"""README.md's examples run as written, in order, in one folder, against the local workspace.

Notebook examples (```python blocks) run in one real IPython shell with jupyter_mlep loaded;
terminal examples (```bash blocks, every line a ``jupyter-mlep …`` or ``jupyter mlep …`` command)
run line by line as subprocesses. The folder starts with a copy of ``examples/`` (the README's
terminal lines run from the root of a clone); every other file the examples use is written by the
README's own set-up block. Deployments run as local processes (``MLEP_RUNTIME=process``) on the
workspace of this test's MLEP_HOME: the first example that needs it starts it, as it would for a
reader, and the README's ``jupyter-mlep workspace stop`` (or this test, whatever happened) stops it.

A block that cannot run here is marked in the README by an HTML comment just before it,
``<!-- not run … -->``: :data:`NOT_RUN` names those blocks, and the test fails when the README
marks another one or leaves a block of another language unmarked. Unlabelled blocks show output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
VENV_BIN = Path(sys.executable).parent

RUN = ("python", "bash")
"""The languages of the blocks that run: notebook examples and terminal examples."""

NOT_RUN = {
    "scripts/demo": "they install the project into .venv and run every test",
    "0 3 * * 1": "a crontab line for an Azure workspace",
    "# in the SDK's environment": "it needs azure-ai-ml, which tests/sdk runs in its own environment",
    "import os\nfrom ml_service_client": "it needs the client openapi-python-client generates, in its own environment",
}
"""The blocks the README marks as not run (by the start of their first line), and why."""

COMMAND = re.compile(r"^jupyter(-| )mlep\b")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
MARKER = re.compile(r"^<!--\s*not run\b.*-->$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    line: int
    """The line of its opening fence (1-based)."""
    lang: str
    code: str
    marked: bool
    """Whether a ``<!-- not run … -->`` comment stands just before it."""

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.lang or 'output'})"

    def commands(self) -> list[str]:
        """The lines of a terminal example, without blank lines."""
        return [line.strip() for line in self.code.splitlines() if line.strip()]


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, in order."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        assert end < len(lines), f"README.md:{index + 1}: the code block is not closed"
        before = index - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        marked = before >= 0 and MARKER.match(lines[before].strip()) is not None
        code = "\n".join(lines[index + 1 : end]) + "\n"
        blocks.append(Block(index + 1, fence["lang"], code, marked))
        index = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_marks_exactly_the_blocks_it_does_not_run() -> None:
    for block in BLOCKS:
        if block.lang and block.lang not in RUN:
            assert block.marked, f"{block.where} is neither run nor marked <!-- not run: why -->"
        if block.lang == "bash" and not block.marked:
            for command in block.commands():
                assert COMMAND.match(command), f"{block.where}: {command!r} is not a jupyter-mlep command"
    skipped = {
        next((key for key in NOT_RUN if block.code.startswith(key)), block.code.splitlines()[0])
        for block in BLOCKS
        if block.marked
    }
    assert skipped == set(NOT_RUN)
    assert [block.lang for block in BLOCKS if block.lang in RUN and not block.marked].count("python") >= 5


def _run_python(shell: Any, block: Block) -> None:
    result = shell.run_cell(block.code)
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        pytest.fail(f"{block.where} failed: {type(error).__name__}: {error}\n{block.code}", pytrace=False)


def _run_terminal(block: Block, folder: Path, env: dict[str, str]) -> None:
    for command in block.commands():
        done = subprocess.run(
            command, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            pytest.fail(
                f"{block.where}: `{command}` exited with {done.returncode}\n"
                f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}",
                pytrace=False,
            )


def test_every_readme_example_runs_as_written(
    ip: Any, tmp_path: Path, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlep.workspace import control

    monkeypatch.setenv("MLEP_RUNTIME", "process")
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    env = dict(os.environ)
    timings: list[str] = []
    try:
        for block in BLOCKS:
            if block.marked:
                timings.append(f"{block.where}: not run (marked in the README)")
            if block.marked or block.lang not in RUN:
                continue
            started = time.perf_counter()
            if block.lang == "python":
                _run_python(ip, block)
            else:
                _run_terminal(block, tmp_path, env)
            timings.append(f"{block.where}: {time.perf_counter() - started:.1f} s")
    finally:
        control.stop(isolated_settings)
        print("\n".join(timings))
