"""The built wheel in a fresh virtual environment: JupyterLab lists the prebuilt extension and the
server extension as enabled and OK, with no Node.js involved (uv for speed, a shared cache)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from support.wheel import REPO, build_wheel

UV = Path(sys.executable).with_name("uv")


def test_a_fresh_environment_lists_both_extensions_enabled_and_ok(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "wheel")
    names = zipfile.ZipFile(wheel).namelist()
    data = "jupyter_mlep-" + wheel.name.split("-")[1] + ".data/data/"
    assert data + "share/jupyter/labextensions/jupyter-mlep/package.json" in names
    assert data + "share/jupyter/labextensions/jupyter-mlep/install.json" in names
    assert data + "etc/jupyter/jupyter_server_config.d/jupyter_mlep.json" in names

    venv = tmp_path / "venv"
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_SYSTEM_CERTS": "1",
        "UV_NO_PROGRESS": "1",
        "UV_CACHE_DIR": str(REPO / ".cache" / "uv"),
        "UV_LINK_MODE": "copy",
    }
    for variable in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        env.pop(variable, None)
    env["HOME"] = str(tmp_path / "home")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(UV), "venv", "--quiet", "--python", python, str(venv)], check=True, env=env)
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            f"{wheel}",
            "jupyterlab>=4.2,<5",
        ],
        check=True,
        env=env,
    )
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"

    def listing(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True, timeout=120)
        return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # without colours

    lab = listing(str(venv / "bin" / "jupyter"), "labextension", "list")
    assert re.search(r"jupyter-mlep v\S+ enabled OK", lab), lab
    assert "(python, jupyter-mlep)" in lab, lab
    server = listing(str(venv / "bin" / "jupyter"), "server", "extension", "list")
    assert re.search(r"jupyter_mlep\.server\s+enabled", server), server
    assert re.search(r"jupyter_mlep\.server\s+OK", server), server
