"""Notebooks using ``%%score_script``, executed by papermill in a real kernel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

PAPERMILL = Path(sys.executable).with_name("papermill")

GOOD_SCRIPT = """\
import json, os
import joblib, numpy as np

def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl"))

def run(raw_data):
    return model.predict(np.array(json.loads(raw_data)["data"])).tolist()
"""

BROKEN_SCRIPT = """\
def init():
    pass

def run(*args):
    return 1
"""


def notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def outputs_text(path: Path) -> str:
    texts = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(str(output.get("data", {}).get("text/plain", "")))
            texts.extend(output.get("traceback", []))
            texts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return "\n".join(texts)


def test_good_notebook_runs(tmp_path: Path, model_1: Path) -> None:
    source = notebook(
        tmp_path / "good.ipynb",
        "%load_ext jupyter_mlep",
        f"%%score_script --model-dir {model_1} --test {model_1 / 'sample-request.json'}\n{GOOD_SCRIPT}",
        "result = _\nassert abs(result.test.response[0] - 11055.977) < 1e-3, result.test.response",
    )
    output = tmp_path / "good-out.ipynb"
    papermill.execute_notebook(
        str(source), str(output), kernel_name="python3", cwd=str(tmp_path), progress_bar=False
    )
    text = outputs_text(output)
    assert "Writing score.py" in text
    assert "test passed in" in text and "[11055.97" in text
    assert (tmp_path / "score.py").read_text() == GOOD_SCRIPT


def test_broken_notebook_fails_in_papermill(tmp_path: Path) -> None:
    source = notebook(
        tmp_path / "broken.ipynb", "%load_ext jupyter_mlep", f"%%score_script\n{BROKEN_SCRIPT}", "1 + 1"
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
    source = notebook(tmp_path / "broken.ipynb", "%load_ext jupyter_mlep", f"%%score_script\n{BROKEN_SCRIPT}")
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
