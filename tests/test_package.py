"""The package surface: exports, cheap loading, the command line entry points, error rendering."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_mlep
from jupyter_mlep import MlepError, ScoreTestError, UsageError

VENV_BIN = Path(sys.executable).parent
HEAVY = ["pydantic", "yaml", "httpx", "azure", "starlette", "uvicorn", "docker", "papermill", "ipywidgets"]


def test_public_names_are_exactly_the_intended_ones() -> None:
    assert jupyter_mlep.__all__ == sorted(jupyter_mlep.__all__)
    for name in jupyter_mlep.__all__:
        assert getattr(jupyter_mlep, name) is not None


def test_every_error_is_an_mlep_error_and_renders_short() -> None:
    for name in jupyter_mlep.__all__:
        obj = getattr(jupyter_mlep, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, MlepError)
            assert obj.__doc__, f"{name} needs a docstring saying when it is raised"
    error = UsageError("bad flag", hint="use --good")
    assert error._render_traceback_() == ["UsageError: bad flag\nuse --good"]


def test_score_test_error_shows_output_and_user_traceback() -> None:
    error = ScoreTestError("init() failed", user_traceback="Traceback...\nValueError: x", output="hello")
    text = str(error)
    assert text.index("init() failed") < text.index("hello") < text.index("ValueError: x")


def test_load_ext_imports_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'jupyter_mlep')\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('jupyter_mlep'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    heavy, ours = (json.loads(line) for line in out.stdout.strip().splitlines()[-2:])
    assert heavy == []
    assert all(
        not m.startswith(("jupyter_mlep.specs", "jupyter_mlep.scoring", "jupyter_mlep.runtime")) for m in ours
    )


def test_cli_version_and_status() -> None:
    out = subprocess.run(
        [str(VENV_BIN / "jupyter-mlep"), "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"jupyter-mlep {jupyter_mlep.__version__}"
    status = subprocess.run(
        [str(VENV_BIN / "jupyter"), "mlep", "status"], capture_output=True, text=True, check=True
    )
    assert "target" in status.stdout and "local" in status.stdout


def test_cli_usage_error_exits_2_without_traceback() -> None:
    out = subprocess.run([sys.executable, "-m", "jupyter_mlep", "frobnicate"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "invalid choice: 'frobnicate'" in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_settings_error_exits_1_with_the_fix(tmp_path: Path) -> None:
    env = {
        "PATH": str(VENV_BIN),
        "HOME": str(tmp_path),
        "MLEP_TARGET": "azure",
        "MLEP_IGNORE_CONFIG_JSON": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_mlep", "status"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 1
    assert out.stderr.startswith("SettingsError: The target is 'azure' but subscription_id")
    assert "AZURE_SUBSCRIPTION_ID" in out.stderr


@pytest.mark.parametrize("argv", [["--help"], ["status", "--help"]])
def test_cli_help_exits_0(argv: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "jupyter_mlep", *argv], capture_output=True, text=True)
    assert out.returncode == 0
    assert "usage: jupyter-mlep" in out.stdout
