"""Process identity that survives pid reuse: a pid together with its start time (from /proc)."""

from __future__ import annotations

import contextlib
import os
import signal
import time

__all__ = ["alive", "kill_forks", "kill_group", "start_time"]


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
    _await_group_gone(pid)


def _await_group_gone(pgid: int, timeout: float = 5.0) -> None:
    """Wait until no live process of group ``pgid`` is left (they die of the SIGKILL just sent;
    zombies waiting for their reaper do not count)."""
    deadline = time.monotonic() + timeout
    while _live_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _live_members(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (read from ``/proc``: state and group)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def kill_forks(control: str, *, wait: float = 5.0) -> int:
    """SIGKILL what a launcher forked and left (its servers and their workers keep the launcher's
    command line, which names its control socket ``control``); how many. For after the launcher
    is gone: a server it did not stop in time dies with it, but not that server's workers.
    """
    if not control:
        return 0
    marker = b"--control\0" + os.fsencode(control) + b"\0"
    killed = [pid for pid in _with_cmdline(marker) if pid != os.getpid()]
    for pid in killed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while killed and time.monotonic() < deadline and any(start_time(pid) is not None for pid in killed):
        time.sleep(0.01)
    return len(killed)


def _with_cmdline(marker: bytes) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                if marker in handle.read():
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
