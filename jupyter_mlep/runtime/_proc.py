"""Process identity that survives pid reuse: a pid together with its start time (from /proc)."""

from __future__ import annotations

import contextlib
import os
import signal
import time

__all__ = ["alive", "kill_group", "start_time"]


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, or None if it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def alive(pid: int | None, started: int | None) -> bool:
    """True when ``pid`` runs and is the same process that started at ``started``."""
    return pid is not None and started is not None and start_time(pid) == started


def kill_group(pid: int, started: int | None, *, grace: float = 1.0) -> None:
    """SIGTERM the process group led by ``pid`` (if it is still the same process), then SIGKILL."""
    if not alive(pid, started):
        _reap(pid)
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if start_time(pid) is None:
                break
            time.sleep(0.01)
        else:
            continue
        break
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
