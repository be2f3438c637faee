"""The workspace state: one SQLite database (WAL) under ``$MLEP_HOME/workspace``.

Resources are stored as their JSON bodies, keyed by their lower-cased path below the
workspace (``onlineendpoints/blue-ep``), so lookups are case-insensitive as in ARM.
Secrets (endpoint keys, the storage account key, the token-signing key) live in their
own table; the database files are mode 0600.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .arm import now_iso

__all__ = ["BlobMeta", "Operation", "Record", "Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, parent TEXT NOT NULL, name TEXT NOT NULL,
    path TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, modified_at TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (kind, parent, seq);
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY, resource TEXT NOT NULL, action TEXT NOT NULL, status TEXT NOT NULL,
    error TEXT, start_time TEXT NOT NULL, end_time TEXT
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
    container TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, content_type TEXT,
    content_md5 TEXT, etag TEXT NOT NULL, modified_at TEXT NOT NULL, PRIMARY KEY (container, name)
);
"""


@dataclass
class Record:
    """One stored resource."""

    id: str
    kind: str
    parent: str
    name: str
    path: str
    body: dict[str, Any]
    created_at: str
    modified_at: str


@dataclass
class Operation:
    """One long-running operation (its status resource)."""

    id: str
    resource: str
    action: str
    status: str
    error: dict[str, Any] | None
    start_time: str
    end_time: str | None

    @property
    def done(self) -> bool:
        """True once the operation reached a terminal status."""
        return self.status in ("Succeeded", "Failed", "Canceled")


@dataclass
class BlobMeta:
    """Properties of one stored blob (its bytes are a file in the blob folder)."""

    container: str
    name: str
    size: int
    content_type: str | None
    content_md5: str | None
    etag: str
    modified_at: str


class Store:
    """Typed access to the workspace database; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        old_umask = os.umask(0o077)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        finally:
            os.umask(old_umask)
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(f"{path}{suffix}")
            if candidate.exists():
                os.chmod(candidate, 0o600)
        self._lock = threading.RLock()
        self.generation = 0
        """Incremented by every change of a resource or secret (lets readers cache derived views)."""

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes into one atomic transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # resources ---------------------------------------------------------------------------------

    def get(self, rid: str) -> Record | None:
        """The resource stored at ``rid`` (case-insensitive), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, kind, parent, name, path, body, created_at, modified_at FROM resources WHERE id = ?",
                (rid.lower(),),
            ).fetchone()
        return None if row is None else _record(row)

    def put(self, path: str, kind: str, parent: str, name: str, body: dict[str, Any]) -> Record:
        """Create or replace the resource at ``path``; keeps its creation time and list position."""
        now = now_iso()
        key = path.lower()
        with self._lock:
            old = self._db.execute("SELECT created_at, seq FROM resources WHERE id = ?", (key,)).fetchone()
            if old is None:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM resources").fetchone()[0]
                created = now
            else:
                created, seq = old
            self._db.execute(
                "INSERT OR REPLACE INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, kind, parent.lower(), name, path, json.dumps(body), created, now, seq),
            )
            self.generation += 1
        return Record(key, kind, parent.lower(), name, path, body, created, now)

    def delete(self, rid: str) -> bool:
        """Delete a resource and everything below it; True if it existed."""
        key = rid.lower()
        with self._lock:
            cursor = self._db.execute("DELETE FROM resources WHERE id = ?", (key,))
            self._db.execute("DELETE FROM resources WHERE parent = ? OR parent LIKE ?", (key, key + "/%"))
            self.generation += 1
            return cursor.rowcount > 0

    def children(self, kind: str, parent: str = "") -> list[Record]:
        """The resources of ``kind`` directly below ``parent``, in creation order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, parent, name, path, body, created_at, modified_at FROM resources "
                "WHERE kind = ? AND parent = ? ORDER BY seq",
                (kind, parent.lower()),
            ).fetchall()
        return [_record(row) for row in rows]

    # secrets -----------------------------------------------------------------------------------

    def secret(self, name: str) -> str | None:
        """A stored secret, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_secret(self, name: str, value: str) -> None:
        """Store (or replace) a secret."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO secrets VALUES (?, ?)", (name, value))
            self.generation += 1

    def delete_secrets(self, prefix: str) -> None:
        """Delete every secret whose name starts with ``prefix``."""
        with self._lock:
            self._db.execute("DELETE FROM secrets WHERE name LIKE ?", (prefix + "%",))

    # operations --------------------------------------------------------------------------------

    def save_operation(self, op: Operation) -> None:
        """Create or update an operation record."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO operations VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    op.id,
                    op.resource,
                    op.action,
                    op.status,
                    None if op.error is None else json.dumps(op.error),
                    op.start_time,
                    op.end_time,
                ),
            )

    def operation(self, op_id: str) -> Operation | None:
        """The operation with this id, or None."""
        with self._lock:
            row = self._db.execute("SELECT * FROM operations WHERE id = ?", (op_id,)).fetchone()
        return None if row is None else _operation(row)

    def operations_in_progress(self) -> list[Operation]:
        """Every operation that has not finished."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM operations WHERE status = 'InProgress'").fetchall()
        return [_operation(row) for row in rows]

    # blobs -------------------------------------------------------------------------------------

    def blob(self, container: str, name: str) -> BlobMeta | None:
        """Metadata of one blob, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM blobs WHERE container = ? AND name = ?", (container, name)
            ).fetchone()
        return None if row is None else BlobMeta(*row)

    def save_blob(self, meta: BlobMeta) -> None:
        """Create or replace a blob's metadata."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    meta.container,
                    meta.name,
                    meta.size,
                    meta.content_type,
                    meta.content_md5,
                    meta.etag,
                    meta.modified_at,
                ),
            )

    def delete_blob(self, container: str, name: str) -> None:
        """Forget one blob's metadata."""
        with self._lock:
            self._db.execute("DELETE FROM blobs WHERE container = ? AND name = ?", (container, name))

    def list_blobs(self, container: str, prefix: str = "") -> list[BlobMeta]:
        """The blobs of a container whose names start with ``prefix``, sorted by name."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM blobs WHERE container = ? AND substr(name, 1, ?) = ? ORDER BY name",
                (container, len(prefix), prefix),
            ).fetchall()
        return [BlobMeta(*row) for row in rows]


def _record(row: tuple[Any, ...]) -> Record:
    return Record(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7])


def _operation(row: tuple[Any, ...]) -> Operation:
    return Operation(
        row[0], row[1], row[2], row[3], None if row[4] is None else json.loads(row[4]), row[5], row[6]
    )
