"""binder/: a fresh virtual environment built the way Binder builds it (requirements.txt, then the
project as postBuild installs it) runs ``jupyter-mlep demo``: the quickstart recipe, executed by
papermill in a kernel of that environment.

uv stands in for pip for speed; the packages and the editable install are the same.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from support.samples import REPO

from jupyter_mlep.workspace import WorkspaceInfo

UV = Path(sys.executable).with_name("uv")


def _postbuild_install_arguments() -> list[str]:
    """The arguments of postBuild's ``pip install`` (without pip-only options)."""
    for line in (REPO / "binder" / "postBuild").read_text().splitlines():
        words = shlex.split(line)
        if "pip" in words and "install" in words:
            arguments = words[words.index("install") + 1 :]
            return [word for word in arguments if word != "--no-cache-dir"]
    raise AssertionError("binder/postBuild installs nothing with pip")


def test_binder_environment_runs_the_demo(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    assert _postbuild_install_arguments() == ["-e", ".[examples]"]
    venv = tmp_path / "binder-venv"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_SYSTEM_CERTS": "1", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    python = venv / "bin" / "python"

    def uv(*args: str) -> None:
        subprocess.run([str(UV), *args], cwd=REPO, env=env, check=True, capture_output=True, timeout=600)

    uv("venv", "--quiet", "--python", f"{sys.version_info.major}.{sys.version_info.minor}", str(venv))
    uv("pip", "install", "--quiet", "--python", str(python), "-r", str(REPO / "binder" / "requirements.txt"))
    uv("pip", "install", "--quiet", "--python", str(python), *_postbuild_install_arguments())

    finished = subprocess.run(
        [str(venv / "bin" / "jupyter-mlep"), "demo", "--output", str(tmp_path / "runs")],
        cwd=REPO,
        env={**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "invoke: 200 from blue" in finished.stdout
    [output] = (tmp_path / "runs").glob("quickstart-*.ipynb")
    assert f"Executed notebook: {output}" in finished.stdout
