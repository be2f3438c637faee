"""Log files of running deployments: the inference server's and the storage initializer's.

The storage initializer log records what happens before the server starts (environment build,
model and code mounting); the server log is the inference server's own output.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["LOG_SOURCES", "Reporter", "StorageLog", "follow", "is_milestone", "stderr_reporter", "tail"]

#: The log names :meth:`Backend.logs` accepts.
LOG_SOURCES = ("inference-server", "storage-initializer")

#: Receives one progress line at a time (for notebooks, terminals or a test).
Reporter = Callable[[str], None]


_MILESTONE = re.compile(r"^\s*(==>|Resolved \d|Prepared \d|Installed \d|Successfully installed|Step \d+/\d+)")


def is_milestone(line: str) -> bool:
    """True for the build output lines worth showing as progress (phases, resolved, installed)."""
    return bool(_MILESTONE.match(line))


def stderr_reporter(line: str) -> None:
    """The default reporter: progress lines on standard error."""
    print(f"[mlep] {line}", file=sys.stderr, flush=True)


class StorageLog:
    """Appends timestamped lines to a storage initializer log and passes milestones to a reporter."""

    def __init__(self, path: Path, reporter: Reporter | None = None) -> None:
        self.path = path
        self.reporter = reporter
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, line: str, *, report: bool = False) -> None:
        """Append ``line`` (and show it through the reporter when ``report``)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {line.rstrip()}\n")
        if report and self.reporter is not None:
            self.reporter(line)


def tail(path: Path, lines: int | None = 100) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist); None gives all of it."""
    try:
        with path.open("rb") as handle:
            if lines is None:
                return handle.read().decode("utf-8", "replace")
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            block, data = 8192, b""
            while size > 0 and data.count(b"\n") <= lines:
                step = min(block, size)
                size -= step
                handle.seek(size)
                data = handle.read(step) + data
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", "replace")
    kept = text.splitlines(keepends=True)[-lines:] if lines > 0 else []
    return "".join(kept)


def follow(
    path: Path,
    *,
    lines: int | None = 10,
    stop: Callable[[], bool] | None = None,
    poll: float = 0.1,
) -> Iterator[str]:
    """Yield the last ``lines`` lines of ``path``, then new lines as they are written.

    Stops when ``stop()`` turns true (checked while the file is idle) or when the caller
    closes the generator. A file replaced meanwhile (``path`` a link moved to a new server's
    log) is read from its start.
    """
    start = tail(path, lines)
    yield from start.splitlines(keepends=True)
    position = path.stat().st_size if path.exists() else 0
    inode = path.stat().st_ino if path.exists() else None
    pending = b""
    while True:
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                if stat.st_size < position or (inode is not None and stat.st_ino != inode):
                    position = 0  # the file was truncated or replaced
                inode = stat.st_ino
                handle.seek(position)
                chunk = handle.read()
                position = handle.tell()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                yield raw.decode("utf-8", "replace") + "\n"
            continue
        if stop is not None and stop():
            if pending:
                yield pending.decode("utf-8", "replace")
            return
        time.sleep(poll)
