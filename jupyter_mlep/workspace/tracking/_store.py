"""The tracking state: MLflow's experiments, runs, params, tags, metrics, inputs, logged models
and job tokens, as tables of their own (``mlflow_*``) in the workspace's SQLite database.

The store has its own connection to the database file (WAL: the workspace's connection and this
one do not block readers), opened on first use for the workspace's :class:`~..store.Store` and
dropped with it. Times are milliseconds since the epoch, as MLflow counts them.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..context import Workspace
from ..store import Store
from ._entities import Experiment, LoggedModel, MetricRow, Run, TrackingError, invalid, missing, now_ms

__all__ = ["ARTIFACT_ROOT", "DEFAULT_EXPERIMENT", "TrackingStore", "token_digest"]

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

_LATEST = """
INSERT INTO mlflow_latest_metrics VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
    timestamp = excluded.timestamp, step = excluded.step
WHERE (excluded.step, excluded.timestamp, COALESCE(excluded.value, -1e308))
    >= (mlflow_latest_metrics.step, mlflow_latest_metrics.timestamp, COALESCE(mlflow_latest_metrics.value, -1e308))
"""


_stores: weakref.WeakKeyDictionary[Store, TrackingStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def _value(value: float) -> tuple[float | None, int]:
    return (None, 1) if math.isnan(value) else (value, 0)


def _metric(row: tuple[Any, ...]) -> MetricRow:
    value = math.nan if row[2] else float(row[1])
    return MetricRow(row[0], value, int(row[3]), int(row[4]), *row[5:])


def token_digest(token: str) -> str:
    """The stored form of a job token (its SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TrackingStore:
    """Typed access to the tracking tables; safe to share between threads."""

    @classmethod
    def of(cls, ws: Workspace) -> TrackingStore:
        """The tracking store of workspace ``ws`` (opened on first use)."""
        with _stores_lock:
            found = _stores.get(ws.store)
            if found is None:
                found = cls(ws)
                _stores[ws.store] = found
            return found

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

    def create_run(
        self,
        experiment_id: str,
        *,
        run_id: str | None = None,
        run_name: str,
        user_id: str,
        start_time: int,
        tags: dict[str, str],
        status: str = "RUNNING",
    ) -> str:
        """Create a run (with a new id unless ``run_id`` is given); its id."""
        experiment = self.experiment(experiment_id)
        if experiment.lifecycle_stage != "active":
            raise invalid(f"The experiment {experiment_id} must be in the 'active' state; it is deleted.")
        run_id = run_id or uuid.uuid4().hex
        if experiment.artifact_location.startswith(ARTIFACT_ROOT):
            artifact_uri = f"{ARTIFACT_ROOT}/ExperimentRun/dcid.{run_id}"
        else:
            artifact_uri = f"{experiment.artifact_location.rstrip('/')}/{run_id}/artifacts"
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM mlflow_runs WHERE run_id = ?", (run_id,)).fetchone() is not None:
                raise TrackingError("RESOURCE_ALREADY_EXISTS", f"Run '{run_id}' already exists.")
            db.execute(
                "INSERT INTO mlflow_runs VALUES (?, ?, ?, ?, ?, ?, NULL, 'active', ?)",
                (run_id, int(experiment.experiment_id), run_name, user_id, status, start_time, artifact_uri),
            )
            db.executemany(
                "INSERT OR REPLACE INTO mlflow_tags VALUES (?, ?, ?)",
                [(run_id, k, v) for k, v in tags.items()],
            )
        return run_id

    def run_exists(self, run_id: str) -> bool:
        """True if a run has this id."""
        return bool(self._rows("SELECT 1 FROM mlflow_runs WHERE run_id = ?", [run_id]))

    def runs(self, where: str, args: Iterable[Any] = ()) -> list[Run]:
        """The runs matching an SQL condition on ``mlflow_runs``, with their data."""
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM mlflow_runs WHERE {where}", tuple(args)).fetchall()
            runs = {r[0]: Run(r[0], str(r[1]), *r[2:]) for r in rows}
            if not runs:
                return []
            selection = f"SELECT run_id FROM mlflow_runs WHERE {where}"
            for run_id, key, value in self._db.execute(
                f"SELECT * FROM mlflow_params WHERE run_id IN ({selection})", tuple(args)
            ):
                runs[run_id].params[key] = value
            for run_id, key, value in self._db.execute(
                f"SELECT * FROM mlflow_tags WHERE run_id IN ({selection})", tuple(args)
            ):
                runs[run_id].tags[key] = value
            for row in self._db.execute(
                "SELECT run_id, value, is_nan, timestamp, step, key FROM mlflow_latest_metrics "
                f"WHERE run_id IN ({selection})",
                tuple(args),
            ):
                value = math.nan if row[2] else float(row[1])
                runs[row[0]].metrics[row[5]] = MetricRow(row[5], value, int(row[3]), int(row[4]), row[0])
            for run_id, kind, _, body in self._db.execute(
                f"SELECT * FROM mlflow_run_inputs WHERE run_id IN ({selection}) ORDER BY rowid", tuple(args)
            ):
                runs[run_id].inputs.append((kind, json.loads(body)))
        return list(runs.values())

    def run(self, run_id: str) -> Run:
        """One run by id (404 if unknown)."""
        found = self.runs("run_id = ?", [run_id])
        if not found:
            raise missing(f"Run with id={run_id} not found")
        return found[0]

    def _active_run(self, db: sqlite3.Connection, run_id: str) -> None:
        row = db.execute("SELECT lifecycle_stage FROM mlflow_runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise missing(f"Run with id={run_id} not found")
        if row[0] != "active":
            raise invalid(f"The run {run_id} must be in the 'active' state. Current state is {row[0]}.")

    def update_run(self, run_id: str, **changes: Any) -> None:
        """Change a run's status, end time, name or lifecycle stage."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM mlflow_runs WHERE run_id = ?", (run_id,)).fetchone() is None:
                raise missing(f"Run with id={run_id} not found")
            for column, value in changes.items():
                db.execute(f"UPDATE mlflow_runs SET {column} = ? WHERE run_id = ?", (value, run_id))
            if "run_name" in changes:
                db.execute(
                    "INSERT OR REPLACE INTO mlflow_tags VALUES (?, 'mlflow.runName', ?)",
                    (run_id, changes["run_name"]),
                )

    def log_batch(
        self,
        run_id: str,
        metrics: list[MetricRow],
        params: dict[str, str],
        tags: dict[str, str],
    ) -> None:
        """Log metrics, params and tags in one transaction (a param cannot change its value)."""
        with self.transaction() as db:
            self._active_run(db, run_id)
            if params:
                marks = ",".join("?" * len(params))
                for key, old in db.execute(
                    f"SELECT key, value FROM mlflow_params WHERE run_id = ? AND key IN ({marks})",
                    (run_id, *params),
                ):
                    if old != params[key]:
                        raise invalid(
                            f"Changing param values is not allowed. Param with key='{key}' was already logged "
                            f"with value='{old}' for run ID='{run_id}'. Attempted logging new value "
                            f"'{params[key]}'."
                        )
                db.executemany(
                    "INSERT OR IGNORE INTO mlflow_params VALUES (?, ?, ?)",
                    [(run_id, k, v) for k, v in params.items()],
                )
            if tags:
                db.executemany(
                    "INSERT OR REPLACE INTO mlflow_tags VALUES (?, ?, ?)",
                    [(run_id, k, v) for k, v in tags.items()],
                )
                if "mlflow.runName" in tags:
                    db.execute(
                        "UPDATE mlflow_runs SET run_name = ? WHERE run_id = ?",
                        (tags["mlflow.runName"], run_id),
                    )
            if metrics:
                rows = [(m.key, *_value(m.value), m.timestamp, m.step) for m in metrics]
                db.executemany(
                    "INSERT INTO mlflow_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (run_id, key, value, nan, ts, step, m.model_id, m.dataset_name, m.dataset_digest)
                        for (key, value, nan, ts, step), m in zip(rows, metrics, strict=True)
                    ],
                )
                db.executemany(_LATEST, [(run_id, *row) for row in rows])

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete one run tag (404 if the run or the tag is unknown)."""
        with self.transaction() as db:
            self._active_run(db, run_id)
            if (
                db.execute("DELETE FROM mlflow_tags WHERE run_id = ? AND key = ?", (run_id, key)).rowcount
                == 0
            ):
                raise missing(f"No tag with name: {key} in run with id {run_id}")

    def log_inputs(self, run_id: str, inputs: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Record a run's dataset inputs, model inputs and model outputs (kind, identity, body)."""
        with self.transaction() as db:
            self._active_run(db, run_id)
            db.executemany(
                "INSERT OR REPLACE INTO mlflow_run_inputs VALUES (?, ?, ?, ?)",
                [(run_id, kind, ident, json.dumps(body)) for kind, ident, body in inputs],
            )

    def metric_history(
        self, run_ids: list[str], key: str, *, start_step: int | None = None, end_step: int | None = None
    ) -> list[MetricRow]:
        """Every value of a metric of these runs, by run, step and time."""
        marks = ",".join("?" * len(run_ids))
        sql = (
            "SELECT key, value, is_nan, timestamp, step, run_id, model_id, dataset_name, dataset_digest "
            f"FROM mlflow_metrics WHERE key = ? AND run_id IN ({marks})"
        )
        args: list[Any] = [key, *run_ids]
        if start_step is not None:
            sql += " AND step >= ?"
            args.append(start_step)
        if end_step is not None:
            sql += " AND step <= ?"
            args.append(end_step)
        return [_metric(row) for row in self._rows(sql + " ORDER BY run_id, step, timestamp, rowid", args)]

    # logged models -----------------------------------------------------------------------------

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None,
        model_type: str | None,
        source_run_id: str | None,
        tags: dict[str, str],
        params: dict[str, str],
    ) -> LoggedModel:
        """Create a logged model (status pending) in an experiment."""
        experiment = self.experiment(experiment_id)
        model_id = f"m-{uuid.uuid4().hex}"
        now = now_ms()
        model = LoggedModel(
            model_id,
            experiment.experiment_id,
            name or f"model-{model_id[2:10]}",
            model_type,
            source_run_id,
            "LOGGED_MODEL_PENDING",
            None,
            f"{ARTIFACT_ROOT}/LoggedModels/{model_id}",
            now,
            now,
            tags,
            params,
        )
        self.save_logged_model(model)
        return model

    def save_logged_model(self, model: LoggedModel) -> None:
        """Create or replace a logged model."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO mlflow_logged_models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    model.model_id,
                    int(model.experiment_id),
                    model.name,
                    model.model_type,
                    model.source_run_id,
                    model.status,
                    model.status_message,
                    model.artifact_uri,
                    model.creation_time,
                    model.last_update_time,
                    json.dumps(model.tags),
                    json.dumps(model.params),
                ),
            )

    def logged_models(self, where: str = "1", args: Iterable[Any] = ()) -> list[LoggedModel]:
        """Logged models matching an SQL condition, newest first."""
        rows = self._rows(
            f"SELECT * FROM mlflow_logged_models WHERE {where} ORDER BY creation_time DESC, model_id", args
        )
        return [
            LoggedModel(
                model_id=r[0],
                experiment_id=str(r[1]),
                name=r[2],
                model_type=r[3],
                source_run_id=r[4],
                status=r[5],
                status_message=r[6],
                artifact_uri=r[7],
                creation_time=r[8],
                last_update_time=r[9],
                tags=json.loads(r[10]),
                params=json.loads(r[11]),
            )
            for r in rows
        ]

    def logged_model(self, model_id: str) -> LoggedModel:
        """One logged model (404 if unknown)."""
        found = self.logged_models("model_id = ?", [model_id])
        if not found:
            raise missing(f"Logged model with ID '{model_id}' not found.")
        return found[0]

    def delete_logged_model(self, model_id: str) -> None:
        """Forget a logged model."""
        self.logged_model(model_id)
        with self._lock:
            self._db.execute("DELETE FROM mlflow_logged_models WHERE model_id = ?", (model_id,))

    def model_metrics(self, model_id: str) -> list[MetricRow]:
        """The metrics logged against a logged model (latest value per key and run)."""
        return [
            _metric(row)
            for row in self._rows(
                "SELECT key, value, is_nan, timestamp, step, run_id, model_id, dataset_name, dataset_digest "
                "FROM mlflow_metrics WHERE model_id = ? ORDER BY rowid",
                [model_id],
            )
        ]

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
