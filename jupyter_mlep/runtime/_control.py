"""Client of the warm launcher's unix control socket (see ``agent/launcher.py``)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import RuntimeBackendError

__all__ = ["LauncherClient"]


class LauncherClient:
    """Sends commands to one launcher over its control socket."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def request(self, op: str, *, timeout: float = 30.0, **fields: Any) -> dict[str, Any]:
        """Send one command and return the launcher's answer."""
        payload = json.dumps({"op": op, **fields}).encode("utf-8") + b"\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            try:
                conn.connect(str(self.path))
                conn.sendall(payload)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError as exc:
                raise RuntimeBackendError(f"The launcher at {self.path} does not answer: {exc}") from None
        if not data:
            raise RuntimeBackendError(f"The launcher at {self.path} closed the connection without answering.")
        answer: dict[str, Any] = json.loads(data.decode("utf-8"))
        if "error" in answer:
            raise RuntimeBackendError(f"The launcher refused {op!r}: {answer['error']}")
        return answer

    def wait_ready(self, timeout: float, alive: Any = None) -> None:
        """Wait until the control socket answers (``alive()`` false stops the wait early)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.path.exists():
                try:
                    self.request("status", timeout=2.0)
                    return
                except RuntimeBackendError:
                    pass
            if time.monotonic() > deadline or (alive is not None and not alive()):
                raise RuntimeBackendError(f"The launcher did not open its control socket {self.path}.")
            time.sleep(0.01)

    def spawn(self, argv: list[str], env: Mapping[str, str], cwd: str, log: str) -> int:
        """Fork a new inference server; returns its pid (in the launcher's PID namespace)."""
        return int(self.request("spawn", argv=argv, env=dict(env), cwd=cwd, log=log)["pid"])

    def kill(self, pid: int, grace: float = 0.0) -> int | None:
        """Stop the server ``pid`` (SIGTERM, then SIGKILL after ``grace`` seconds); its exit code."""
        code = self.request("kill", pid=pid, grace=grace, timeout=grace + 30)["exit"]
        return None if code is None else int(code)

    def exit_code(self, pid: int) -> int | None:
        """The exit code of server ``pid``, or None while it runs."""
        code = self.request("status", timeout=5.0)["children"].get(str(pid))
        return None if code is None else int(code)

    def warm(self, modules_file: str) -> None:
        """Ask the launcher to import the modules listed in ``modules_file`` (fire and forget)."""
        payload = json.dumps({"op": "warm", "modules_file": modules_file}).encode("utf-8") + b"\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(2.0)
                conn.connect(str(self.path))
                conn.sendall(payload)
        except OSError:
            pass

    def restart(self, env: Mapping[str, str]) -> None:
        """Stop every server and re-execute the launcher (cold) with a new environment."""
        self.request("restart", env=dict(env), timeout=15.0)

    def shutdown(self) -> None:
        """Stop every server of this launcher, then the launcher."""
        self.request("shutdown", timeout=15.0)
