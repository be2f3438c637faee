"""Start, stop and find the local workspace server (a detached process shared by all kernels)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import WorkspaceError, WorkspaceStartError
from ._identity import WORKSPACE_PATH
from ._paths import WorkspacePaths
from .tls import TLS_ENV, tls_requested

__all__ = ["WorkspaceInfo", "change_marker", "ensure_running", "start", "status", "stop"]

_START_TIMEOUT = 15.0


@dataclass(frozen=True)
class WorkspaceInfo:
    """A running local workspace: where it listens and the admin token to call it with."""

    base_url: str
    port: int
    pid: int
    started_at: str
    home: Path
    token: str = field(repr=False)
    workspace_path: str = WORKSPACE_PATH
    ca_file: Path | None = None
    """The certificate of the local authority clients trust when it serves HTTPS; None: HTTP."""

    @property
    def tls(self) -> bool:
        """True when the workspace serves HTTPS."""
        return self.ca_file is not None

    @property
    def token_hint(self) -> str:
        """The first characters of the token, for displays (never the whole token)."""
        return self.token[:4] + "…"

    @property
    def workspace_url(self) -> str:
        """The ARM URL of the workspace resource."""
        return self.base_url + self.workspace_path


def _home(home: Path | str | None) -> Path:
    if home is not None:
        return Path(home).expanduser()
    from ..settings import resolve

    return resolve().home


def _lock_held(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def status(home: Path | str | None = None) -> WorkspaceInfo | None:
    """The running workspace of ``home`` (default: ``MLEP_HOME``), or None when none runs."""
    paths = WorkspacePaths.under(_home(home))
    if not paths.server_lock.exists() or not _lock_held(paths.server_lock):
        return None
    try:
        record = json.loads(paths.server_file.read_text(encoding="utf-8"))
        token = paths.token.read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None
    return WorkspaceInfo(
        base_url=record["url"],
        port=int(record["port"]),
        pid=int(record["pid"]),
        started_at=record["startedAt"],
        home=paths.root.parent,
        token=token,
        ca_file=Path(record["ca"]) if record.get("ca") else None,
    )


@contextlib.contextmanager
def _start_lock(paths: WorkspacePaths) -> Iterator[None]:
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(paths.start_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(
    home: Path | str | None = None,
    *,
    port: int | None = None,
    tls: bool | None = None,
    timeout: float = _START_TIMEOUT,
) -> WorkspaceInfo:
    """Start the workspace server detached (it survives this process); returns when it answers.

    ``tls`` True serves HTTPS on the same loopback address (certificates under ``$MLEP_HOME/tls``),
    False HTTP; None: what ``MLEP_WORKSPACE_TLS`` says (HTTP when unset). Raises
    :class:`~jupyter_mlep.WorkspaceStartError` when one already runs on another port than ``port``
    or with the other protocol than the one asked, or when it does not come up (with its log tail).
    """
    resolved = _home(home)
    paths = WorkspacePaths.under(resolved)
    wanted = tls_requested() if tls is None else tls
    with _start_lock(paths):
        running = status(resolved)
        if running is not None:
            if port is not None and running.port != port:
                raise WorkspaceStartError(
                    f"The local workspace already runs on port {running.port} (pid {running.pid}).",
                    hint="Stop it first (jupyter-mlep workspace stop) to start it on another port.",
                )
            _check_protocol(running, wanted)
            return running
        paths.ensure()
        command = [sys.executable, "-m", "jupyter_mlep.workspace", "serve", "--home", str(resolved)]
        if port is not None:
            command += ["--port", str(port)]
        if wanted:
            command.append("--tls")
        old_umask = os.umask(0o077)
        try:
            with paths.log.open("ab") as log_file:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=log_file,
                    start_new_session=True,
                    close_fds=True,
                    cwd=str(paths.root),
                )
        finally:
            os.umask(old_umask)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = status(resolved)
            if info is not None and info.pid == process.pid:
                return info
            code = process.poll()
            if code is not None:
                raise WorkspaceStartError(
                    f"The local workspace server exited at start (status {code}).",
                    hint=f"Its log ({paths.log}) ends with:\n{_log_tail(paths.log)}",
                )
            time.sleep(0.01)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        raise WorkspaceStartError(
            f"The local workspace server did not answer within {timeout:g} s.",
            hint=f"Its log ({paths.log}) ends with:\n{_log_tail(paths.log)}",
        )


def _check_protocol(running: WorkspaceInfo, wanted: bool | None) -> None:
    if wanted is None or running.tls == wanted:
        return
    now, asked = ("HTTPS", "HTTP") if running.tls else ("HTTP", "HTTPS")
    raise WorkspaceStartError(
        f"The local workspace already runs with {now} at {running.base_url} (pid {running.pid}), not {asked}.",
        hint=f"Stop it first (jupyter-mlep workspace stop), or unset {TLS_ENV} to use it as it runs.",
    )


def change_marker(home: Path | str | None = None) -> tuple[int, ...]:
    """A value that changes whenever the workspace's state may have changed: the size and
    modification time of its database files (a few ``stat`` calls; no request, no query)."""
    paths = WorkspacePaths.under(_home(home))
    marker: list[int] = []
    for path in (paths.database, paths.database.with_name(paths.database.name + "-wal"), paths.server_file):
        try:
            found = path.stat()
        except OSError:
            marker += [0, 0]
        else:
            marker += [found.st_mtime_ns, found.st_size]
    return tuple(marker)


def ensure_running(home: Path | str | None = None) -> WorkspaceInfo:
    """The running local workspace, started (detached) first when none runs (with HTTPS when
    ``MLEP_WORKSPACE_TLS`` asks for it; a running one must then serve HTTPS)."""
    info = status(home)
    if info is None:
        return start(home)
    _check_protocol(info, tls_requested())
    return info


def stop(
    home: Path | str | None = None, *, timeout: float = 20.0, report: Callable[[str], None] | None = None
) -> bool:
    """Stop the workspace server (SIGTERM, then SIGKILL after ``timeout``); False if none ran.

    Then every deployment server the workspace started and did not stop (it was killed, or an
    engine did not answer) is stopped too, on whichever runtime runs it, and so are the processes
    of jobs it left running; ``report`` gets a line for each, and for each that could not be stopped.
    """
    resolved = _home(home)
    paths = WorkspacePaths.under(resolved)
    stopped = _stop_server(resolved, paths, timeout)
    if paths.servers.exists() or (paths.root / "jobs").is_dir():
        with _start_lock(paths):
            if status(resolved) is None:
                for line in _stop_owned_servers(resolved, paths):
                    if report is not None:
                        report(line)
    return stopped


def _stop_server(resolved: Path, paths: WorkspacePaths, timeout: float) -> bool:
    info = status(resolved)
    if info is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _lock_held(paths.server_lock):
            return True
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(info.pid, signal.SIGKILL)
    while _lock_held(paths.server_lock) and time.monotonic() < deadline + 5:
        time.sleep(0.02)
    if _lock_held(paths.server_lock):
        raise WorkspaceError(f"The local workspace server (pid {info.pid}) did not stop.")
    return True


def _stop_owned_servers(home: Path, paths: WorkspacePaths) -> list[str]:
    """Stop what the workspace's ledger still names (no server runs); lines saying what happened."""
    from .jobrun import stop_leftover_jobs
    from .supervisor import Supervisor

    lines: list[str] = []
    if paths.servers.exists():
        Supervisor(home, ledger=paths.servers).stop_unwanted(lambda *_: False, lines.append)
    return lines + stop_leftover_jobs(home, paths.root)
