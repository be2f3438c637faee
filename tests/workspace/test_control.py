"""Starting, finding and stopping the workspace server: detached, fast, private files, loopback only."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support.arm import API
from support.net import listening_addresses
from support.workspace import running_workspace

from jupyter_mlep._errors import WorkspaceStartError
from jupyter_mlep.workspace import WORKSPACE_PATH, control, ensure_running

CLI = [sys.executable, "-m", "jupyter_mlep"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cli_start_detaches_status_and_stop(tmp_path: Path) -> None:
    env = {**os.environ, "MLEP_HOME": str(tmp_path)}
    try:
        started = subprocess.run(
            [*CLI, "workspace", "start"], capture_output=True, text=True, env=env, timeout=60
        )
        assert started.returncode == 0, started.stderr
        info = control.status(tmp_path)
        assert info is not None, "the server did not outlive the command that started it"
        assert info.token not in started.stdout + started.stderr
        status = subprocess.run(
            [*CLI, "workspace", "status"], capture_output=True, text=True, env=env, timeout=60
        )
        assert status.returncode == 0 and info.base_url in status.stdout
        assert info.token not in status.stdout
        answer = httpx.get(
            info.workspace_url, params={"api-version": API}, headers={"Authorization": f"Bearer {info.token}"}
        )
        assert answer.status_code == 200
    finally:
        stopped = subprocess.run(
            [*CLI, "workspace", "stop"], capture_output=True, text=True, env=env, timeout=60
        )
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert control.status(tmp_path) is None
    after = subprocess.run([*CLI, "workspace", "status"], capture_output=True, text=True, env=env, timeout=60)
    assert after.returncode == 3 and "no local workspace" in after.stdout


def test_state_files_are_private_and_the_server_listens_on_loopback_only(tmp_path: Path) -> None:
    with running_workspace(tmp_path) as info:
        root = tmp_path / "workspace"
        assert _mode(root / "admin-token") == 0o600
        assert _mode(root / "state.sqlite") == 0o600
        assert _mode(root) == 0o700
        record = json.loads((root / "server.json").read_text())
        assert record["pid"] == info.pid and record["port"] == info.port and record["startedAt"]
        assert info.base_url == f"http://127.0.0.1:{info.port}"
        assert info.workspace_path == WORKSPACE_PATH
        assert info.token not in repr(info)
        listening = _listening_addresses(info.port)
        assert listening == {"127.0.0.1"}, listening
        assert info.token not in (root / "server.log").read_text()


def _listening_addresses(port: int) -> set[str]:
    """Dotted IPv4 (or hex IPv6) addresses of the sockets listening on ``port``."""
    return {
        socket.inet_ntoa(bytes.fromhex(host)[::-1]) if len(host) == 8 else host
        for host in listening_addresses(port)
    }


def _fastest_start(root: Path, attempts: int = 7, target: float = 1.5) -> float:
    """Seconds of the fastest of up to ``attempts`` starts in fresh homes (stops at the first under
    ``target``).

    A start's duration depends on the machine's load as much as on the code. Measured while this
    2-core machine ran two other test sessions (load average 4.7): 15 starts took 0.37 to 1.03 s,
    and one start of 1.87 s was seen. Taking P(one start > 1.5 s) = q <= 0.1 and the attempts as
    independent trials, all 7 are slow with P <= 0.1^7 = 1e-7; a fast machine needs one start.
    """
    best = float("inf")
    for attempt in range(attempts):
        started = time.perf_counter()
        with running_workspace(root / f"fresh-{attempt}"):
            best = min(best, time.perf_counter() - started)
        if best < target:
            break
    return best


def test_start_is_fast_idempotent_and_reuses_its_port(tmp_path: Path) -> None:
    elapsed = _fastest_start(tmp_path)
    assert elapsed < 1.5, f"start took {elapsed:.2f} s"
    with running_workspace(tmp_path) as info:
        assert ensure_running(tmp_path).pid == info.pid
        assert control.start(tmp_path).pid == info.pid
        with pytest.raises(WorkspaceStartError, match="already runs on port"):
            control.start(tmp_path, port=info.port + 1 if info.port < 65535 else info.port - 1)
        port = info.port
    with running_workspace(tmp_path) as again:
        assert again.port == port


def test_start_on_a_busy_port_fails_with_the_log(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(WorkspaceStartError, match="exited at start") as caught:
            control.start(tmp_path, port=busy.getsockname()[1])
        assert "Cannot listen" in str(caught.value)


def test_foreground_serves_until_interrupted(tmp_path: Path) -> None:
    env = {**os.environ, "MLEP_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [*CLI, "workspace", "start", "--foreground", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while control.status(tmp_path) is None:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        assert control.status(tmp_path).pid == process.pid  # type: ignore[union-attr]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert control.status(tmp_path) is None
    assert not (tmp_path / "workspace" / "server.json").exists()


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, jupyter_mlep.workspace\n"
        "print(sorted(m for m in ('IPython', 'starlette', 'uvicorn', 'httpx', 'jupyter_mlep.runtime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ensure_running_uses_mlep_home(isolated_settings: Path) -> None:
    try:
        info = ensure_running()
        assert info.home == isolated_settings
        assert (isolated_settings / "workspace" / "server.json").is_file()
        assert control.status() == info
    finally:
        assert control.stop() is True
    assert control.stop() is False
