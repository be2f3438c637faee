"""``jupyter-mlep check-score`` as a real subprocess: ``python -m jupyter_mlep`` and the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.samples import SCORE_MODEL_1_SHORT

CONSOLE_SCRIPT = Path(sys.executable).with_name("jupyter-mlep")


def cli(
    *args: str | Path, console: bool = False, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(CONSOLE_SCRIPT)] if console else [sys.executable, "-m", "jupyter_mlep"]
    return subprocess.run(
        [*command, "check-score", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def score(tmp_path: Path) -> Path:
    path = tmp_path / "score.py"
    path.write_text(SCORE_MODEL_1_SHORT, encoding="utf-8")
    return path


def test_check_passes(score: Path) -> None:
    out = cli(score)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"{score}: 3 checks passed\n  ok       compiles\n")
    assert out.stderr == ""


def test_check_and_test_with_the_console_script(score: Path, model_1: Path) -> None:
    out = cli(score, "--model-dir", model_1, "--test", model_1 / "sample-request.json", console=True)
    assert out.returncode == 0, out.stderr
    assert "test passed in" in out.stdout
    assert "response: [11055.97" in out.stdout and "InconsistentVersionWarning" in out.stdout
    assert out.stderr.startswith(f"Testing {score}: init() then run(request) in a fresh process")


def test_literal_json_request(tmp_path: Path) -> None:
    (tmp_path / "echo.py").write_text("def init():\n    pass\ndef run(raw):\n    return raw\n")
    out = cli("echo.py", "--test", '{"a": 1}', cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"response: {json.dumps(json.dumps({'a': 1}))}" in out.stdout


def test_broken_script_exits_1_with_the_message(tmp_path: Path) -> None:
    path = tmp_path / "score.py"
    path.write_text("def init():\n    pass\ndef run(data, **kwargs):\n    return data\n")
    out = cli(path, console=True)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith(f"ScoreScriptError: {path} breaks the Azure ML inference server contract:\n")
    assert "run() declares **kwargs" in out.stderr
    assert "Traceback" not in out.stderr


def test_failing_test_exits_1_with_the_users_traceback(score: Path, tmp_path: Path) -> None:
    out = cli(score, "--model-dir", tmp_path, "--test", '{"data": [[1]]}')
    assert out.returncode == 1
    assert out.stderr.count("Traceback (most recent call last):") == 1
    assert "ScoreTestError: score.py: init() raised FileNotFoundError" in out.stderr
    assert f'File "{score}", line 6, in init' in out.stderr
    assert "jupyter_mlep" not in out.stderr.split("Traceback", 1)[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env-var", "BAD"], "--env-var 'BAD' is not of the form NAME=VALUE"),
        (["--test", "$request"], "$variables work only in the %%score_script magic"),
        (["--no-check"], "unrecognized arguments: --no-check"),
        (["--model-dir", "/nonexistent"], "The model folder /nonexistent does not exist"),
    ],
)
def test_usage_errors_exit_2(score: Path, args: list[str], message: str) -> None:
    out = cli(score, *args)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ")
    assert message in out.stderr


def test_missing_path_argument_exits_2() -> None:
    out = cli()
    assert out.returncode == 2
    assert "the following arguments are required: path" in out.stderr


def test_missing_script_exits_1(tmp_path: Path) -> None:
    out = cli(tmp_path / "nope.py")
    assert out.returncode == 1
    assert "The scoring script" in out.stderr and "does not exist" in out.stderr


def test_help(score: Path) -> None:
    out = cli("--help", console=True)
    assert out.returncode == 0
    assert "usage: jupyter-mlep check-score [-h] [--model-dir DIR] [--test REQUEST]" in out.stdout
