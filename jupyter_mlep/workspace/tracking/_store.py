"""The tracking state: MLflow's runs, params, tags, metrics, inputs and logged models, on top of the
tracking tables and experiments of :mod:`._tables`.

The store is opened on first use for the workspace's :class:`~..store.Store` and dropped with it.
Times are milliseconds since the epoch, as MLflow counts them.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterable
from typing import Any

from ..context import Workspace
from ..store import Store
from ._entities import LoggedModel, MetricRow, Run, TrackingError, invalid, missing, now_ms
from ._tables import ARTIFACT_ROOT, DEFAULT_EXPERIMENT, TrackingTables, token_digest

__all__ = ["ARTIFACT_ROOT", "DEFAULT_EXPERIMENT", "TrackingStore", "token_digest"]

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


class TrackingStore(TrackingTables):
    """Typed access to the tracking tables (experiments and job tokens included); safe to share
    between threads."""

    @classmethod
    def of(cls, ws: Workspace) -> TrackingStore:
        """The tracking store of workspace ``ws`` (opened on first use)."""
        with _stores_lock:
            found = _stores.get(ws.store)
            if found is None:
                found = cls(ws)
                _stores[ws.store] = found
            return found

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
