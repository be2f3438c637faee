"""The tracking database: its tables (``mlflow_*`` in the workspace's SQLite database), one connection
to it, and the experiments and job tokens stored there.

:class:`TrackingTables` opens its own connection to the database file (WAL: the workspace's
connection and this one do not block readers) and creates the tables; runs, metrics and logged
models build on it in :class:`~._store.TrackingStore`. Times are milliseconds since the epoch, as
MLflow counts them.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..context import Workspace
from ._entities import Experiment, TrackingError, invalid, missing, now_ms

__all__ = ["ARTIFACT_ROOT", "DEFAULT_EXPERIMENT", "TrackingTables", "token_digest"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mlflow_experiments (
    experiment_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, artifact_location TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL, creation_time INTEGER NOT NULL, last_update_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mlflow_experiment_tags (
    experiment_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (experiment_id, key)
);
CREATE TABLE IF NOT EXISTS mlflow_runs (
    run_id TEXT PRIMARY KEY, experiment_id INTEGER NOT NULL, run_name TEXT NOT NULL, user_id TEXT NOT NULL,
    status TEXT NOT NULL, start_time INTEGER NOT NULL, end_time INTEGER, lifecycle_stage TEXT NOT NULL,
    artifact_uri TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mlflow_runs_by_experiment ON mlflow_runs (experiment_id, start_time);
CREATE TABLE IF NOT EXISTS mlflow_params (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS mlflow_tags (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS mlflow_metrics (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL, is_nan INTEGER NOT NULL, timestamp INTEGER NOT NULL,
    step INTEGER NOT NULL, model_id TEXT, dataset_name TEXT, dataset_digest TEXT
);
CREATE INDEX IF NOT EXISTS mlflow_metrics_by_key ON mlflow_metrics (run_id, key, step);
CREATE TABLE IF NOT EXISTS mlflow_latest_metrics (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL, is_nan INTEGER NOT NULL, timestamp INTEGER NOT NULL,
    step INTEGER NOT NULL, PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS mlflow_run_inputs (
    run_id TEXT NOT NULL, kind TEXT NOT NULL, ident TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (run_id, kind, ident)
);
CREATE TABLE IF NOT EXISTS mlflow_logged_models (
    model_id TEXT PRIMARY KEY, experiment_id INTEGER NOT NULL, name TEXT NOT NULL, model_type TEXT,
    source_run_id TEXT, status TEXT NOT NULL, status_message TEXT, artifact_uri TEXT NOT NULL,
    creation_time INTEGER NOT NULL, last_update_time INTEGER NOT NULL, tags TEXT NOT NULL, params TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mlflow_tokens (
    digest TEXT PRIMARY KEY, run_id TEXT NOT NULL, created INTEGER NOT NULL
);
"""

DEFAULT_EXPERIMENT = "Default"
ARTIFACT_ROOT = "mlflow-artifacts:"
"""Run artifacts live at ``mlflow-artifacts:/ExperimentRun/dcid.<run id>`` (Azure's layout of a run's
files, in the default datastore's container), logged models at ``…/LoggedModels/<model id>``."""


def token_digest(token: str) -> str:
    """The stored form of a job token (its SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TrackingTables:
    """The connection to the tracking tables, with the experiments and job tokens; safe to share
    between threads."""

    def __init__(self, ws: Workspace) -> None:
        self._db = sqlite3.connect(
            ws.paths.database, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        self._db.executescript(_SCHEMA)
        with self.transaction():
            if (
                self._db.execute("SELECT 1 FROM mlflow_experiments WHERE experiment_id = 0").fetchone()
                is None
            ):
                now = now_ms()
                self._db.execute(
                    "INSERT INTO mlflow_experiments VALUES (0, ?, ?, 'active', ?, ?)",
                    (DEFAULT_EXPERIMENT, f"{ARTIFACT_ROOT}/ExperimentRun", now, now),
                )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write (or consistent read) on the tracking tables."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # experiments -------------------------------------------------------------------------------

    def create_experiment(self, name: str, artifact_location: str | None, tags: dict[str, str]) -> str:
        """Create an experiment; its id."""
        if not name.strip():
            raise invalid("Invalid experiment name: ''. Experiment names must be non-empty.")
        now = now_ms()
        with self.transaction() as db:
            existing = db.execute(
                "SELECT lifecycle_stage FROM mlflow_experiments WHERE name = ?", (name,)
            ).fetchone()
            if existing is not None:
                raise TrackingError(
                    "RESOURCE_ALREADY_EXISTS",
                    f"Experiment '{name}' already exists"
                    + (
                        " in deleted state; restore it or delete it permanently."
                        if existing[0] == "deleted"
                        else "."
                    ),
                )
            cursor = db.execute(
                "INSERT INTO mlflow_experiments (name, artifact_location, lifecycle_stage, creation_time, "
                "last_update_time) VALUES (?, '', 'active', ?, ?)",
                (name, now, now),
            )
            experiment_id = int(cursor.lastrowid or 0)
            location = artifact_location or f"{ARTIFACT_ROOT}/ExperimentRun"
            db.execute(
                "UPDATE mlflow_experiments SET artifact_location = ? WHERE experiment_id = ?",
                (location, experiment_id),
            )
            db.executemany(
                "INSERT OR REPLACE INTO mlflow_experiment_tags VALUES (?, ?, ?)",
                [(experiment_id, k, v) for k, v in tags.items()],
            )
        return str(experiment_id)

    def experiments(self, where: str = "1", args: Iterable[Any] = ()) -> list[Experiment]:
        """Experiments matching an SQL condition, by id."""
        rows = self._rows(f"SELECT * FROM mlflow_experiments WHERE {where} ORDER BY experiment_id", args)
        found = [Experiment(str(r[0]), *r[1:]) for r in rows]
        if found:
            ids = {e.experiment_id: e for e in found}
            marks = ",".join("?" * len(ids))
            for eid, key, value in self._rows(
                f"SELECT * FROM mlflow_experiment_tags WHERE experiment_id IN ({marks})",
                [int(i) for i in ids],
            ):
                ids[str(eid)].tags[key] = value
        return found

    def experiment(self, experiment_id: str) -> Experiment:
        """One experiment by id (404 if unknown)."""
        found = self.experiments("experiment_id = ?", [_int_id(experiment_id, "experiment")])
        if not found:
            raise missing(f"No Experiment with id={experiment_id} exists")
        return found[0]

    def experiment_by_name(self, name: str) -> Experiment | None:
        """One experiment by name, or None."""
        found = self.experiments("name = ?", [name])
        return found[0] if found else None

    def update_experiment(self, experiment_id: str, **changes: Any) -> None:
        """Rename, delete or restore an experiment (deleting it deletes its runs, as MLflow does)."""
        experiment = self.experiment(experiment_id)
        eid = int(experiment.experiment_id)
        with self.transaction() as db:
            if "name" in changes:
                clash = db.execute(
                    "SELECT 1 FROM mlflow_experiments WHERE name = ? AND experiment_id != ?",
                    (changes["name"], eid),
                ).fetchone()
                if clash is not None:
                    raise TrackingError(
                        "RESOURCE_ALREADY_EXISTS", f"Experiment '{changes['name']}' already exists."
                    )
            for column, value in changes.items():
                db.execute(
                    f"UPDATE mlflow_experiments SET {column} = ? WHERE experiment_id = ?", (value, eid)
                )
            if "lifecycle_stage" in changes:
                db.execute(
                    "UPDATE mlflow_runs SET lifecycle_stage = ? WHERE experiment_id = ?",
                    (changes["lifecycle_stage"], eid),
                )
            db.execute(
                "UPDATE mlflow_experiments SET last_update_time = ? WHERE experiment_id = ?", (now_ms(), eid)
            )

    def set_experiment_tag(self, experiment_id: str, key: str, value: str | None) -> None:
        """Set (or with None delete) one experiment tag."""
        eid = int(self.experiment(experiment_id).experiment_id)
        with self.transaction() as db:
            if value is None:
                db.execute(
                    "DELETE FROM mlflow_experiment_tags WHERE experiment_id = ? AND key = ?", (eid, key)
                )
            else:
                db.execute(
                    "INSERT OR REPLACE INTO mlflow_experiment_tags VALUES (?, ?, ?)", (eid, key, value)
                )

    # runs --------------------------------------------------------------------------------------
    # job tokens --------------------------------------------------------------------------------

    def issue_token(self, run_id: str) -> str:
        """A new bearer token for the MLflow routes, tied to a job's run until it is revoked."""
        token = "mlflow-" + secrets.token_urlsafe(32)
        digest = token_digest(token)
        with self._lock:
            self._db.execute("INSERT INTO mlflow_tokens VALUES (?, ?, ?)", (digest, run_id, now_ms()))
        return token

    def token_run(self, token: str) -> str | None:
        """The run a valid job token was issued for, or None (read from the database every time, so a
        token revoked by any process is refused at once)."""
        rows = self._rows("SELECT run_id FROM mlflow_tokens WHERE digest = ?", [token_digest(token)])
        return str(rows[0][0]) if rows else None

    def revoke_tokens(self, run_id: str) -> None:
        """Revoke every token issued for a run."""
        with self._lock:
            self._db.execute("DELETE FROM mlflow_tokens WHERE run_id = ?", (run_id,))


def _int_id(value: str, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise missing(f"No {what.capitalize()} with id={value} exists") from None
