"""Fixtures for the local workspace tests: real servers on loopback, an ARM client over httpx.

Every server a fixture starts is stopped when the fixture ends, even when the test failed
(SIGTERM, then SIGKILL of its process group), so no process outlives the tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from jupyter_mlep.workspace import WORKSPACE_PATH, WorkspaceInfo, control

API = "2026-07-01"


class Arm:
    """A thin ARM client over httpx for the tests (no retries, no magic)."""

    def __init__(self, info: WorkspaceInfo) -> None:
        self.info = info
        self.http = httpx.Client(
            base_url=info.base_url, headers={"Authorization": f"Bearer {info.token}"}, timeout=60.0
        )

    def url(self, path: str) -> str:
        """Absolute path below the workspace (``""`` is the workspace itself)."""
        return WORKSPACE_PATH + path

    def request(self, method: str, path: str, *, api: str | None = API, **kwargs: Any) -> httpx.Response:
        """Call ``path`` below the workspace with the api-version."""
        params = dict(kwargs.pop("params", {}) or {})
        if api is not None:
            params["api-version"] = api
        return self.http.request(method, self.url(path), params=params, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is None:
            return self.request("POST", path, **kwargs)
        return self.request("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def wait(self, response: httpx.Response, timeout: float = 300.0) -> dict[str, Any]:
        """Poll the response's Azure-AsyncOperation until the operation ends; its status body."""
        status_url = response.headers["Azure-AsyncOperation"]
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.http.get(status_url).json()
            if body["status"] != "InProgress":
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"operation still InProgress after {timeout} s: {body}")
            time.sleep(0.05)

    def ok(self, response: httpx.Response, timeout: float = 300.0) -> dict[str, Any]:
        """Wait for the operation and assert that it succeeded."""
        assert response.status_code in (200, 201, 202), response.text
        status = self.wait(response, timeout)
        assert status["status"] == "Succeeded", status
        return status

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the workspace's own ``/mlep/v1/`` routes."""
        return self.http.request(method, f"/mlep/v1/{path}", **kwargs)

    def close(self) -> None:
        self.http.close()


def _kill_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.02)


@contextlib.contextmanager
def running_workspace(home: Path, **start_kwargs: Any) -> Iterator[WorkspaceInfo]:
    """A detached workspace server for ``home``; stopped (and its process group killed) at exit."""
    started: list[int] = []
    try:
        info = control.start(home, **start_kwargs)
        started.append(info.pid)
        yield info
    finally:
        with contextlib.suppress(Exception):
            control.stop(home, timeout=15)
        for pid in started:
            _kill_group(pid)
        _stop_leftover_deployments(home)


def _stop_leftover_deployments(home: Path) -> None:
    """Stop deployment servers a killed workspace left behind (through the runtime's own records)."""
    if not any((home / "runtime").glob("*/state.json")):
        return
    from jupyter_mlep.runtime import RuntimeSettings, get_backend

    settings = RuntimeSettings.from_env({**os.environ, "MLEP_HOME": str(home), "MLEP_RUNTIME": "process"})
    backend = get_backend("process", settings=settings, reporter=None)
    for info in backend.list():
        backend.stop(info.endpoint, info.name)


@pytest.fixture(scope="module")
def workspace_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLEP_HOME shared by the tests of one module."""
    return tmp_path_factory.mktemp("ws-home")


@pytest.fixture(scope="module")
def workspace(workspace_home: Path) -> Iterator[WorkspaceInfo]:
    """One running workspace for the tests of a module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLEP_RUNTIME", "process")
        patch.setenv("MLEP_HOME", str(workspace_home))
        with running_workspace(workspace_home) as info:
            yield info


@pytest.fixture(scope="module")
def arm(workspace: WorkspaceInfo) -> Iterator[Arm]:
    """An ARM client of the module's workspace."""
    client = Arm(workspace)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def anon(workspace: WorkspaceInfo) -> Iterator[httpx.Client]:
    """A plain HTTP client of the module's workspace, without credentials."""
    with httpx.Client(base_url=workspace.base_url, timeout=60.0) as client:
        yield client


@pytest.fixture
def clean_faults(arm: Arm) -> Iterator[None]:
    """Disarm every fault after the test."""
    try:
        yield
    finally:
        arm.admin("DELETE", "faults")
