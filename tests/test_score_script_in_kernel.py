"""``%%score_script … --test … --in-kernel``: init() and run() run in the kernel itself, so an
exception reaches the cell unchanged and ``%debug`` opens the scoring script's frame."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlep import UsageError

SCRIPT = """\
import json
import os


def init():
    global scale
    scale = float(open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "scale.txt")).read())


def run(raw_data):
    data = json.loads(raw_data)["data"]
    divisor = len(data) - 3
    return {"scaled": sum(data) * scale / divisor}
"""


def _model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "scale.txt").write_text("2")
    return folder


def test_in_kernel_answers_like_the_server(ip: Any, tmp_path: Path) -> None:
    model = _model(tmp_path)
    result = ip.run_cell_magic(
        "score_script", f"score.py --model-dir {model} --test '{{\"data\": [1, 2]}}' --in-kernel", SCRIPT
    )
    assert result.test.response == {"scaled": -6.0}
    assert result.test.python == sys.executable and result.test.status_code == 200
    assert "AZUREML_MODEL_DIR" not in os.environ or os.environ["AZUREML_MODEL_DIR"] != str(model)


def test_in_kernel_error_opens_in_debug(ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(tmp_path)
    cell = ip.run_cell(
        f"%%score_script score.py --model-dir {model} --test '{{\"data\": [1, 2, 3]}}' --in-kernel\n{SCRIPT}"
    )
    error = cell.error_in_exec
    assert isinstance(error, ZeroDivisionError)  # the script's own exception, not a summary
    frame = error.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    assert frame.tb_frame.f_code.co_filename == str((tmp_path / "score.py").resolve())

    # %debug: post-mortem in the script's frame, where the request's data is in scope
    monkeypatch.setattr(sys, "stdin", io.StringIO("p data, divisor\nq\n"))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    ip.run_line_magic("debug", "")
    monkeypatch.undo()
    shown = out.getvalue()
    assert "score.py" in shown and "([1, 2, 3], 0)" in shown, shown


def test_in_kernel_needs_test(ip: Any) -> None:
    with pytest.raises(UsageError, match="needs --test"):
        ip.run_cell_magic("score_script", "score.py --in-kernel", SCRIPT)
