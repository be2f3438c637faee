"""Fixtures of the runtime tests: both backends with the session's environment cache (root conftest).

Docker tests run against a real engine and fail (never skip) when none answers
(``scripts/setup-docker`` starts one). The environment cache and the test images are
shared by the whole session (images carry a per-session prefix and are removed at the end).
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.samples import AZURE_IMAGE, BASE_IMAGE

from jupyter_mlep._errors import DockerUnavailableError
from jupyter_mlep.runtime import Backend, get_backend

SESSION_PREFIX = f"mlep-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def docker_images() -> Iterator[str]:
    """The image prefix of this session; its images are removed afterwards."""
    yield SESSION_PREFIX
    out = subprocess.run(
        ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", SESSION_PREFIX],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    tags = out.stdout.split()
    if tags:
        subprocess.run(["docker", "rmi", "-f", *tags], capture_output=True, check=False, timeout=300)


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
