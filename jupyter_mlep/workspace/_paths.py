"""Where the local workspace keeps its files under ``$MLEP_HOME/workspace``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WorkspacePaths", "write_private"]


@dataclass(frozen=True)
class WorkspacePaths:
    """The file layout of one local workspace (everything below ``root``)."""

    root: Path

    @classmethod
    def under(cls, home: Path) -> WorkspacePaths:
        """The layout below ``home`` (the resolved ``MLEP_HOME``)."""
        return cls(Path(home).expanduser() / "workspace")

    @property
    def database(self) -> Path:
        """SQLite state (WAL): resources, operations, keys, blob metadata."""
        return self.root / "state.sqlite"

    @property
    def token(self) -> Path:
        """The admin bearer token (mode 0600)."""
        return self.root / "admin-token"

    @property
    def server_file(self) -> Path:
        """JSON record of the running server: pid, port, url, start time."""
        return self.root / "server.json"

    @property
    def server_lock(self) -> Path:
        """Held (flock) by the running server for its whole life."""
        return self.root / "server.lock"

    @property
    def start_lock(self) -> Path:
        """Held while a server is being started, so that two starters do not race."""
        return self.root / "start.lock"

    @property
    def log(self) -> Path:
        """The server's own log (never holds keys or tokens)."""
        return self.root / "server.log"

    @property
    def blobs(self) -> Path:
        """Blob store content: one file per blob, below ``<container>/``."""
        return self.root / "blobs"

    @property
    def servers(self) -> Path:
        """JSON ledger of the deployment servers the workspace started, per runtime."""
        return self.root / "servers.json"

    @property
    def metrics(self) -> Path:
        """The metric series kept across restarts (bounded: see :mod:`.metrics`)."""
        return self.root / "metrics.json"

    @property
    def deployments(self) -> Path:
        """Per-deployment working folders (logs, runtime state)."""
        return self.root / "deployments"

    def ensure(self) -> None:
        """Create the folders (mode 0700)."""
        for folder in (self.root, self.blobs, self.deployments):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600 (for tokens and keys)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
