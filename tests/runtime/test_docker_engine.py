"""The Docker engine through its API: errors mapped to ours, timeouts, and no ``docker`` command needed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from jupyter_mlep._errors import DockerUnavailableError, RuntimeBackendError
from jupyter_mlep.runtime import Backend, get_backend, select_backend
from jupyter_mlep.runtime._docker_engine import DockerEngine, split_tag
from jupyter_mlep.runtime._venv import find_uv

BASE_IMAGE = os.environ.get("MLEP_BASE_IMAGE", "mlep-base:bookworm")


@pytest.fixture
def silent_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DOCKER_HOST pointing at a socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    host = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.setenv("MLEP_DOCKER_TIMEOUT", "1")
    yield host
    server.close()


def test_split_tag() -> None:
    assert split_tag("mlep-env:0123") == ("mlep-env", "0123")
    assert split_tag("mlep-env") == ("mlep-env", None)
    assert split_tag("registry:5000/team/env") == ("registry:5000/team/env", None)
    assert split_tag("registry:5000/team/env:v1") == ("registry:5000/team/env", "v1")


def test_no_engine_is_docker_unavailable_with_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    engine = DockerEngine(timeout=2)
    assert engine.problem() == "no such file or directory"
    with pytest.raises(DockerUnavailableError) as caught:
        engine.require()
    assert "unix:///nonexistent/docker.sock" in caught.value.message
    assert "dockerd" in str(caught.value) and "MLEP_RUNTIME=process" in str(caught.value)
    with pytest.raises(DockerUnavailableError) as call:
        engine.call("list containers", lambda api: api.containers())
    assert "list containers" in call.value.message and "MLEP_RUNTIME=process" in str(call.value)
    assert engine.running("0123456789ab") is False  # what cannot be asked counts as not running


def test_an_engine_that_never_answers_times_out(silent_engine: str) -> None:
    started = time.monotonic()
    choice = select_backend()
    assert choice.name == "process"
    assert silent_engine in choice.reason and "no answer within 1 s" in choice.reason
    with pytest.raises(DockerUnavailableError) as caught:
        get_backend("docker", reporter=None)
    assert "no answer within 1 s" in str(caught.value) and "MLEP_RUNTIME=process" in str(caught.value)
    with pytest.raises(RuntimeBackendError) as slow:
        DockerEngine(timeout=1).call("list containers", lambda api: api.containers(), timeout=2)
    assert (
        slow.value.message == "The Docker engine did not answer within 2 s (while trying to list containers)."
    )
    assert slow.value.hint and "restart it" in slow.value.hint
    assert time.monotonic() - started < 15


def test_engine_errors_become_runtime_errors_with_hints(docker_client: docker.DockerClient) -> None:
    engine = DockerEngine()
    missing = f"mlep-test-missing-{uuid.uuid4().hex[:8]}"
    assert engine.image(f"{missing}:latest") is None and not engine.image_exists(f"{missing}:latest")
    assert engine.running(missing) is False
    engine.remove(missing)  # removing what is gone is no error
    assert engine.logs(missing, 5) == ""
    with pytest.raises(RuntimeBackendError, match="Docker could not inspect the container"):
        engine.call("inspect the container", lambda api: api.inspect_container(missing))
    with pytest.raises(RuntimeBackendError, match=f"create a container of {missing}"):
        engine.create(f"{missing}:latest", ["true"], name=missing, network="none")
    first = engine.create(BASE_IMAGE, ["true"], name=missing, network="none", labels={"mlep.test": "1"})
    try:
        assert docker_client.containers.get(first).labels["mlep.test"] == "1"
        with pytest.raises(RuntimeBackendError) as conflict:
            engine.create(BASE_IMAGE, ["true"], name=missing, network="none")
        assert "Docker could not create a container" in conflict.value.message
        assert conflict.value.hint and "remove it" in conflict.value.hint
    finally:
        engine.remove(first)
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(first)
    assert engine.output(BASE_IMAGE, ["sh", "-c", "echo hello"]) == "hello\n"
    assert engine.output(BASE_IMAGE, ["sh", "-c", "exit 3"]) == ""


def _path_without_docker(tmp_path: Path) -> str:
    """This PATH with every ``docker*`` program left out (other programs stay reachable)."""
    parts = []
    for index, folder in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        entries = sorted(Path(folder).glob("docker*")) if folder and Path(folder).is_dir() else []
        if not entries:
            parts.append(folder)
            continue
        shadow = tmp_path / f"path{index}"
        shadow.mkdir()
        for entry in Path(folder).iterdir():
            if not entry.name.startswith("docker"):
                (shadow / entry.name).symlink_to(entry)
        parts.append(str(shadow))
    return os.pathsep.join(parts)


DEPLOY_WITHOUT_CLI = """\
import json, shutil, sys
from pathlib import Path
from jupyter_mlep.runtime import DeploymentSpec, EnvironmentSpec, ProbeSettings, get_backend, uds_request

model, code, image = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
spec = DeploymentSpec(
    "nocli", "blue", code=code, scoring_script="score.py", model=model / "model",
    environment=EnvironmentSpec(conda_file=model / "environment" / "conda.yaml", image=image),
    readiness_probe=ProbeSettings(initial_delay=0, period=1, timeout=2, failure_threshold=90, success_threshold=1),
)
backend = get_backend("docker", reporter=None)
info = backend.start(spec)
status, _, body = uds_request(
    info.socket, "POST", "/score", (model / "sample-request.json").read_bytes(),
    {"Content-Type": "application/json"}, timeout=30,
)
assert status == 200, body
scores = json.loads(body)
again = get_backend("docker", reporter=None)
listed = [(d.endpoint, d.name, d.state) for d in again.list() if d.endpoint == "nocli"]
logs = again.logs("nocli", "blue")
container = info.instances[0].container
again.stop("nocli", "blue")
print(json.dumps({
    "which": shutil.which("docker"), "scores": scores, "listed": listed, "container": container,
    "init": "Init complete" in logs, "after": [d.name for d in again.list() if d.endpoint == "nocli"],
}))
"""


def test_a_docker_deployment_needs_no_docker_command(
    docker_backend: Backend,
    docker_client: docker.DockerClient,
    model_1: Path,
    model_1_code: Path,
    tmp_path: Path,
) -> None:
    path = _path_without_docker(tmp_path)
    assert shutil.which("docker", path=path) is None
    azure_image = os.environ["MLEP_IMAGE_MAP"].split("=", 1)[0]
    out = subprocess.run(
        [sys.executable, "-c", DEPLOY_WITHOUT_CLI, str(model_1), str(model_1_code), azure_image],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["which"] is None
    assert result["scores"] == pytest.approx([11055.977245525679, 4503.079536107787])
    assert result["listed"] == [["nocli", "blue", "Running"]]
    assert result["init"] is True and result["after"] == []
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(result["container"])


def test_environments_are_built_with_the_uv_of_the_installed_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import uv

    monkeypatch.setenv("PATH", "/nonexistent")
    found = find_uv()
    assert found is not None and found == uv.find_uv_bin()
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True, timeout=30)
    assert version.stdout.startswith("uv ")
