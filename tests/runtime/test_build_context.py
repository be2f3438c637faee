"""Environments given as a Docker build context: built with docker build, or read for requirements."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.samples import BASE_IMAGE, FAST_PROBE, write_script
from support.servers import post_json

from jupyter_mlep.runtime import Backend, DeploymentSpec, EnvironmentSpec, EnvironmentWarning

SCRIPT = """\
import os


def init():
    pass


def run(raw_data):
    return {"marker": os.environ.get("MLEP_MARKER"), "requirements": os.path.exists("/opt/context/requirements.txt")}
"""


def _context(folder: Path) -> Path:
    folder.mkdir()
    (folder / "requirements.txt").write_text("joblib\n")
    (folder / "Dockerfile").write_text(
        f"FROM {BASE_IMAGE}\nCOPY requirements.txt /opt/context/requirements.txt\nENV MLEP_MARKER=from-dockerfile\n"
    )
    return folder


def test_docker_builds_the_context_and_adds_the_inference_server(
    docker_backend: Backend, tmp_path: Path
) -> None:
    code = write_script(tmp_path / "src", SCRIPT)
    env = EnvironmentSpec(build_context=_context(tmp_path / "context"))
    spec = DeploymentSpec(
        "ep", "ctx", code=code, scoring_script="score.py", environment=env, readiness_probe=FAST_PROBE
    )
    info = docker_backend.start(spec)
    assert post_json(info.socket, {}) == (200, {"marker": "from-dockerfile", "requirements": True})
    assert "docker build" in docker_backend.logs("ep", "ctx", source="storage-initializer")
    docker_backend.stop("ep", "ctx")


def test_process_backend_installs_the_requirements_of_a_context(
    process_backend: Backend, tmp_path: Path
) -> None:
    code = write_script(
        tmp_path / "src", "import joblib\n\ndef init():\n    pass\n\ndef run(d):\n    return 'ok'\n"
    )
    env = EnvironmentSpec(build_context=_context(tmp_path / "context"))
    spec = DeploymentSpec(
        "ep", "ctx", code=code, scoring_script="score.py", environment=env, readiness_probe=FAST_PROBE
    )
    with pytest.warns(EnvironmentWarning, match="ignores the Dockerfile"):
        info = process_backend.start(spec)
    assert post_json(info.socket, {}) == (200, "ok")
    process_backend.stop("ep", "ctx")
