"""Fixtures of the runtime tests: both backends, a shared environment cache, scoring helpers.

Docker tests run against a real engine and fail (never skip) when none answers
(``scripts/setup-docker`` starts one). The environment cache and the test images are
shared by the whole session (images carry a per-session prefix and are removed at the end).
"""

from __future__ import annotations

import json
import os
import textwrap
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from jupyter_mlep._errors import DockerUnavailableError
from jupyter_mlep.runtime import (
    Backend,
    DeploymentSpec,
    EnvironmentSpec,
    ProbeSettings,
    RuntimeSettings,
    get_backend,
)

AZURE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
BASE_IMAGE = os.environ.get("MLEP_BASE_IMAGE", "mlep-base:bookworm")
SESSION_PREFIX = f"mlep-test-{uuid.uuid4().hex[:8]}"
EXPECTED = [11055.977245525679, 4503.079536107787]
FAST_PROBE = ProbeSettings(initial_delay=0, period=1, timeout=2, failure_threshold=90, success_threshold=1)

SCORE_MODEL_1 = """\
import json
import os

import joblib
import numpy as np


def init():
    global model
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "sklearn_regression_model.pkl")
    model = joblib.load(path)
    print("Init complete")


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
"""


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Virtual environments shared by the session's tests (each is built once)."""
    return tmp_path_factory.mktemp("mlep-envs")


@pytest.fixture(scope="session")
def docker_images() -> Iterator[str]:
    """The image prefix of this session; its images are removed afterwards."""
    yield SESSION_PREFIX
    try:
        client = docker.from_env(timeout=300)
    except docker.errors.DockerException:
        return  # no engine: the Docker tests failed already, nothing was built
    try:
        for image in client.images.list(name=SESSION_PREFIX):
            for tag in image.tags:
                client.images.remove(tag, force=True)
    finally:
        client.close()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of the test machine's Docker engine, to look at what the runtime did."""
    client = docker.from_env(timeout=60)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def runtime_env(monkeypatch: pytest.MonkeyPatch, env_cache: Path) -> None:
    """Runtime settings of the tests: shared caches, the local base image for Azure's image."""
    monkeypatch.setenv("MLEP_ENVS_DIR", str(env_cache))
    monkeypatch.setenv("MLEP_IMAGE_MAP", f"{AZURE_IMAGE}={BASE_IMAGE}")
    monkeypatch.setenv("MLEP_IMAGE_PREFIX", SESSION_PREFIX)
    monkeypatch.delenv("MLEP_RUNTIME", raising=False)


def _docker_backend(docker_images: str) -> Backend:
    try:
        return get_backend("docker", reporter=None)
    except DockerUnavailableError as exc:
        pytest.fail(f"Docker tests need a Docker engine (scripts/setup-docker starts one): {exc}")


@pytest.fixture(params=["process", "docker"])
def backend(request: pytest.FixtureRequest, docker_images: str) -> Iterator[Backend]:
    """Each backend in turn; whatever a test leaves running is stopped and reported as a failure."""
    chosen = (
        _docker_backend(docker_images) if request.param == "docker" else get_backend("process", reporter=None)
    )
    yield chosen
    _cleanup(chosen)


@pytest.fixture
def process_backend() -> Iterator[Backend]:
    """The process backend."""
    chosen = get_backend("process", reporter=None)
    yield chosen
    _cleanup(chosen)


@pytest.fixture
def docker_backend(docker_images: str) -> Iterator[Backend]:
    """The Docker backend (a real engine)."""
    chosen = _docker_backend(docker_images)
    yield chosen
    _cleanup(chosen)


def _cleanup(backend: Backend) -> None:
    for info in backend.list():
        backend.stop(info.endpoint, info.name)


@pytest.fixture
def model_1_code(tmp_path: Path) -> Path:
    """A code folder holding the fixture model-1's scoring script (score.py)."""
    return write_script(tmp_path / "model-1-code")


def write_script(folder: Path, body: str = SCORE_MODEL_1, name: str = "score.py") -> Path:
    """Write a scoring script into ``folder`` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return folder


def model_1_spec(
    model_1: Path, code: Path, *, endpoint: str = "ep", name: str = "blue", **extra: Any
) -> DeploymentSpec:
    """The fixture model-1 deployment with its conda file on Azure's base image."""
    env = EnvironmentSpec(conda_file=model_1 / "environment" / "conda.yaml", image=AZURE_IMAGE)
    fields: dict[str, Any] = {
        "model": model_1 / "model",
        "environment": env,
        "readiness_probe": FAST_PROBE,
        **extra,
    }
    return DeploymentSpec(endpoint, name, code=code, scoring_script="score.py", **fields)


def post_json(url: str, payload: Any, timeout: float = 10.0) -> tuple[int, Any]:
    """POST a JSON body; (status, parsed JSON or text)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """GET a URL; (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


def runtime_settings() -> RuntimeSettings:
    """The settings the tests run with."""
    return RuntimeSettings.from_env()
