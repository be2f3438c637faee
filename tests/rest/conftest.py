"""Fixtures for the REST client tests: one real local workspace for the session, Azurite, clients.

Every process a fixture starts runs in its own process group and is stopped when the fixture
ends (SIGTERM, then SIGKILL), even when tests failed.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from workspace.conftest import _kill_group, running_workspace

from jupyter_mlep.rest import RestClient, RetryPolicy, StaticTokenCredential
from jupyter_mlep.workspace import WorkspaceInfo

REPO = Path(__file__).resolve().parents[2]
AZURITE_DIR = REPO / ".cache" / "azurite"
AZURITE_MAIN = AZURITE_DIR / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
API = "2026-07-01"
FAST_RETRY = RetryPolicy(
    attempts=6, total=15.0, backoff=0.05, max_backoff=0.5, conflict_wait=30.0, conflict_interval=0.3
)


@pytest.fixture(scope="package")
def workspace_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MLEP_HOME of the session's workspace."""
    return tmp_path_factory.mktemp("rest-ws-home")


@pytest.fixture(scope="package")
def workspace(workspace_home: Path) -> Iterator[WorkspaceInfo]:
    """One running local workspace for the REST tests (process runtime), stopped after them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLEP_RUNTIME", "process")
        patch.setenv("MLEP_HOME", str(workspace_home))
        with running_workspace(workspace_home) as info:
            yield info


class Admin:
    """The workspace's own ``/mlep/v1`` routes: fault injection."""

    def __init__(self, info: WorkspaceInfo) -> None:
        self.http = httpx.Client(
            base_url=info.base_url, headers={"Authorization": f"Bearer {info.token}"}, timeout=30.0
        )

    def fault(self, path: str, kind: str, count: int = 1, **options: Any) -> None:
        """Arm a fault on the next ``count`` requests of ``path``."""
        answer = self.http.post(
            "/mlep/v1/faults", json={"path": path, "kind": kind, "count": count, **options}
        )
        assert answer.status_code == 201, answer.text

    def armed(self) -> list[dict[str, Any]]:
        """The faults still armed."""
        return list(self.http.get("/mlep/v1/faults").json()["value"])

    def slow_operations(self, seconds: float) -> None:
        """Make every long-running operation last at least ``seconds``."""
        answer = self.http.post("/mlep/v1/faults/operations", json={"minimumSeconds": seconds})
        assert answer.status_code == 200, answer.text

    def clear(self) -> None:
        """Disarm every fault."""
        self.http.delete("/mlep/v1/faults")


@pytest.fixture(scope="package")
def admin(workspace: WorkspaceInfo) -> Iterator[Admin]:
    """Fault injection on the session's workspace."""
    control_client = Admin(workspace)
    try:
        yield control_client
    finally:
        control_client.http.close()


@pytest.fixture
def faults(admin: Admin) -> Iterator[Admin]:
    """Fault injection, cleared after the test."""
    admin.clear()
    try:
        yield admin
    finally:
        admin.clear()


def make_client(info: WorkspaceInfo, **options: Any) -> RestClient:
    """A local-target client of ``info`` with fast retries (unless overridden)."""
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("api_version", API)
    return RestClient(
        info.base_url,
        StaticTokenCredential(info.token),
        workspace_path=info.workspace_path,
        target="local",
        **options,
    )


@pytest.fixture
def client(workspace: WorkspaceInfo) -> Iterator[RestClient]:
    """A REST client of the session's workspace."""
    with make_client(workspace) as rest:
        yield rest


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Azurite:
    """A running Azurite blob service."""

    account_url: str
    account: str = AZURITE_ACCOUNT
    key: str = AZURITE_KEY


@pytest.fixture(scope="package")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite's blob service on 127.0.0.1 (npm-installed into .cache/azurite when missing)."""
    if not AZURITE_MAIN.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install Azurite (apt-get install npm)")
        AZURITE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AZURITE_DIR),
                "--no-audit",
                "--no-fund",
                "--silent",
                "azurite@3",
            ],
            check=True,
            timeout=300,
        )
    node = shutil.which("node")
    assert node is not None, "node is needed to run Azurite"
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    process = subprocess.Popen(
        [
            node,
            str(AZURITE_MAIN),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(location),
            "--silent",
            "--skipApiVersionCheck",
            "--disableTelemetry",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"Azurite did not start: {process.stderr.read().decode() if process.stderr else ''}"
                )
            time.sleep(0.05)
        yield Azurite(f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}")
    finally:
        _kill_group(process.pid)
        if process.stderr is not None:
            process.stderr.close()
        process.wait(timeout=10)
