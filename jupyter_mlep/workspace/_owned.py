"""The servers the workspace started: which runtime runs which deployment, in ``servers.json``.

Written before a runtime starts anything for a deployment and cleared once it stopped, so a
workspace restarted after ``kill -9`` (or ``jupyter-mlep workspace stop`` without a server) finds
every server it owns, on either runtime, whatever engines appeared or disappeared meanwhile.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from ._paths import write_private

__all__ = ["OwnedServers"]

Owned = tuple[str, str, str]  # (runtime, endpoint, deployment)


class OwnedServers:
    """A small JSON ledger of ``(runtime, endpoint, deployment)`` entries (thread-safe, atomic writes)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._memory: set[Owned] = set()

    def entries(self) -> set[Owned]:
        """Every entry (an unreadable ledger counts as empty)."""
        with self._lock:
            return self._read()

    def add(self, runtime: str, endpoint: str, name: str) -> None:
        """Record that ``runtime`` may run servers of ``endpoint/name``."""
        self._change(lambda entries: entries.add((runtime, endpoint, name)))

    def discard(self, runtime: str, endpoint: str, name: str) -> None:
        """Forget an entry (its servers are stopped)."""
        self._change(lambda entries: entries.discard((runtime, endpoint, name)))

    def _read(self) -> set[Owned]:
        if self.path is None:
            return set(self._memory)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {(str(r), str(e), str(n)) for r, e, n in data.get("servers", [])}
        except (OSError, ValueError, TypeError, AttributeError):
            return set()

    def _change(self, change: Callable[[set[Owned]], None]) -> None:
        with self._lock:
            entries = self._read()
            before = set(entries)
            change(entries)
            if entries == before:
                return
            if self.path is None:
                self._memory = entries
            else:
                write_private(self.path, json.dumps({"servers": sorted(map(list, entries))}, indent=1))
