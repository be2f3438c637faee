"""The sockets the agent creates: mode 0600, and given to ``MLEP_SOCKET_OWNER`` (a container runs as
root while the runtime on the host may not), with a real gunicorn and the real launcher.

Giving a file away needs root, as in a container: the tests run as root.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from jupyter_mlep.runtime import uds_request
from jupyter_mlep.runtime.agent import GUNICORN_CONF, LAUNCHER

APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""
NOBODY = "65534:65534"


def _wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while not path.is_socket() or path.stat().st_uid != 65534:
        assert proc.poll() is None, "the process exited"
        assert time.monotonic() < deadline, f"{path} was not created and given away"
        time.sleep(0.02)


def test_the_server_socket_is_0600_and_given_to_the_owner(tmp_path: Path) -> None:
    (tmp_path / "ownapp.py").write_text(APP)
    socket = tmp_path / "s.sock"
    env = {
        **os.environ,
        "MLEP_GUNICORN_BIND": f"unix:{socket}",
        "MLEP_SOCKET_OWNER": NOBODY,
        "MLEP_SERVER_CWD": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "-b", "0.0.0.0:0", "ownapp:app"]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, start_new_session=True)
    try:
        _wait_for(socket, proc)
        assert socket.stat().st_mode & 0o777 == 0o600
        assert uds_request(socket, "GET", "/")[::2] == (200, b"ok")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    assert not socket.exists()  # gunicorn removes it when it stops


def test_the_launcher_control_socket_is_0600_and_given_to_the_owner(tmp_path: Path) -> None:
    control = tmp_path / "l.ctl"
    env = {**os.environ, "MLEP_SOCKET_OWNER": NOBODY}
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--control", str(control)], env=env, start_new_session=True
    )
    try:
        _wait_for(control, proc)
        assert control.stat().st_mode & 0o777 == 0o600
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
