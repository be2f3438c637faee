"""Notebooks using ``%%score_script``, executed by papermill in a real kernel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import papermill
import pytest
from support.notebooks import notebook, outputs_text
from support.samples import SCORE_MODEL_1_SHORT

PAPERMILL = Path(sys.executable).with_name("papermill")

BROKEN_SCRIPT = """\
def init():
    pass

def run(*args):
    return 1
"""


def test_good_notebook_runs(tmp_path: Path, model_1: Path) -> None:
    source = notebook(
        tmp_path / "good.ipynb",
        "%load_ext jupyter_mlep",
        f"%%score_script --model-dir {model_1} --test {model_1 / 'sample-request.json'}\n{SCORE_MODEL_1_SHORT}",
        "result = _\nassert abs(result.test.response[0] - 11055.977) < 1e-3, result.test.response",
        parameters=None,
    )
    output = tmp_path / "good-out.ipynb"
    papermill.execute_notebook(
        str(source), str(output), kernel_name="python3", cwd=str(tmp_path), progress_bar=False
    )
    text = outputs_text(output)
    assert "Writing score.py" in text
    assert "test passed in" in text and "[11055.97" in text
    assert (tmp_path / "score.py").read_text() == SCORE_MODEL_1_SHORT


def test_broken_notebook_fails_in_papermill(tmp_path: Path) -> None:
    source = notebook(
        tmp_path / "broken.ipynb",
        "%load_ext jupyter_mlep",
        f"%%score_script\n{BROKEN_SCRIPT}",
        "1 + 1",
        parameters=None,
    )
    output = tmp_path / "broken-out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(
            str(source), str(output), kernel_name="python3", cwd=str(tmp_path), progress_bar=False
        )
    assert info.value.ename == "ScoreScriptError"
    assert "run() declares *args" in info.value.evalue
    text = outputs_text(output)
    assert "ScoreScriptError: score.py breaks the Azure ML inference server contract:" in text
    assert "jupyter_mlep/" not in text  # a short message, not a traceback of our code


def test_broken_notebook_fails_the_papermill_command(tmp_path: Path) -> None:
    source = notebook(
        tmp_path / "broken.ipynb",
        "%load_ext jupyter_mlep",
        f"%%score_script\n{BROKEN_SCRIPT}",
        parameters=None,
    )
    output = tmp_path / "broken-out.ipynb"
    run = subprocess.run(
        [
            str(PAPERMILL),
            str(source),
            str(output),
            "-k",
            "python3",
            "--cwd",
            str(tmp_path),
            "--no-progress-bar",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode != 0
    combined = run.stdout + run.stderr
    assert "ScoreScriptError" in combined
    assert "breaks the Azure ML inference server contract" in combined
    assert "run() declares *args" in combined
