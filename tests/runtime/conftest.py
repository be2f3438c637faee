"""Fixtures of the runtime tests: both backends with the session's environment cache (root conftest).

Docker tests run against a real engine and fail (never skip) when none answers
(``scripts/setup-docker`` starts one). The environment cache and the test images are
shared by the whole session (images carry a per-session prefix and are removed at the end).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from support.samples import AZURE_IMAGE, BASE_IMAGE, write_script

from jupyter_mlep._errors import DockerUnavailableError
from jupyter_mlep.runtime import Backend, get_backend

SESSION_PREFIX = f"mlep-test-{uuid.uuid4().hex[:8]}"


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


@pytest.fixture
def model_1_code(tmp_path: Path) -> Path:
    """A code folder holding the fixture model-1's scoring script (score.py)."""
    return write_script(tmp_path / "model-1-code")


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
