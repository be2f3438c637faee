"""The wire forms of the MLflow REST API: request arguments in, entities and errors out.

Requests carry their arguments as a JSON body (POST, PATCH, DELETE) or as query parameters (GET,
repeated for lists), named as in MLflow's protobuf messages; answers are the protobuf JSON forms
(field names as in the ``.proto`` files, non-finite doubles as ``"NaN"``/``"Infinity"``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..blobstore import BlobStore
from ..context import Workspace
from ._entities import Experiment, LoggedModel, MetricRow, Run, TrackingError, invalid
from ._store import TrackingStore

__all__ = [
    "Ctx",
    "error_response",
    "experiment_json",
    "logged_model_json",
    "metric_json",
    "ok",
    "run_info_json",
    "run_json",
]


@dataclass
class Ctx:
    """One MLflow request: the workspace, its tracking store, blob store, and the arguments."""

    request: Request
    ws: Workspace
    store: TrackingStore
    blobs: BlobStore
    path: str
    """The path below the tracking URI (``/api/2.0/mlflow/runs/get``)."""
    body: dict[str, Any]
    params: dict[str, str]
    """Parameters taken from the path (``{model_id}``)."""

    @classmethod
    async def read(
        cls,
        request: Request,
        ws: Workspace,
        blobs: BlobStore,
        path: str,
        params: dict[str, str],
        *,
        raw: bool,
    ) -> Ctx:
        """The context of a request; its JSON body is parsed unless ``raw`` (artifact uploads)."""
        body: dict[str, Any] = {}
        if not raw and request.method != "GET":
            data = await request.body()
            if data.strip():
                try:
                    parsed = json.loads(data)
                except ValueError as exc:
                    raise TrackingError(
                        "MALFORMED_REQUEST", f"The request body is not JSON: {exc}."
                    ) from None
                if not isinstance(parsed, dict):
                    raise TrackingError("MALFORMED_REQUEST", "The request body must be a JSON object.")
                body = parsed
        return cls(request, ws, TrackingStore.of(ws), blobs, path, body, params)

    def get(self, name: str, default: Any = None) -> Any:
        """One argument (body first, then query), or ``default``."""
        if name in self.body and self.body[name] is not None:
            return self.body[name]
        value = self.request.query_params.get(name)
        return default if value is None else value

    def text(self, name: str, *, required: bool = True) -> str:
        """A string argument (400 when required and missing)."""
        value = self.get(name)
        if value is None or value == "":
            if required:
                raise invalid(f"Missing value for required parameter '{name}'.")
            return ""
        return str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer argument (int64 fields may come as strings)."""
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid(f"Invalid value {value!r} for parameter '{name}': expected an integer.") from None

    def items(self, name: str) -> list[Any]:
        """A repeated argument."""
        if name in self.body:
            value = self.body[name]
            return list(value) if isinstance(value, list) else [value]
        return list(self.request.query_params.getlist(name))

    def run_id(self) -> str:
        """``run_id`` (or the older ``run_uuid``)."""
        value = self.get("run_id") or self.get("run_uuid")
        if not value:
            raise invalid("Missing value for required parameter 'run_id'.")
        return str(value)

    def pairs(self, name: str) -> dict[str, str]:
        """A repeated ``{key, value}`` argument as a mapping."""
        found: dict[str, str] = {}
        for item in self.items(name):
            if not isinstance(item, dict) or not item.get("key"):
                raise invalid(f"Each of '{name}' needs a key.")
            found[str(item["key"])] = "" if item.get("value") is None else str(item["value"])
        return found


def ok(body: Any = None, status: int = 200) -> Response:
    """A JSON answer (``{}`` when there is nothing to say)."""
    content = json.dumps({} if body is None else body, separators=(",", ":"), allow_nan=False)
    return Response(content, status_code=status, media_type="application/json")


def error_response(error: TrackingError) -> Response:
    """MLflow's error body with the error's HTTP status."""
    headers = {"WWW-Authenticate": 'Bearer realm="mlflow"'} if error.status == 401 else None
    return Response(
        json.dumps({"error_code": error.code, "message": error.message}),
        status_code=error.status,
        media_type="application/json",
        headers=headers,
    )


def number(value: float) -> float | str:
    """A double as protobuf JSON writes it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def parse_number(value: Any, name: str) -> float:
    """A double from protobuf JSON (numbers, or ``"NaN"``/``"Infinity"``/``"-Infinity"`` strings)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value {value!r} for metric '{name}': expected a number.") from None


def _pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    """An ``Experiment``."""
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
        "tags": _pairs(experiment.tags),
    }


def metric_json(metric: MetricRow, *, run_id: bool = False) -> dict[str, Any]:
    """A ``Metric`` (with its run id for the bulk history)."""
    body: dict[str, Any] = {
        "key": metric.key,
        "value": number(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if run_id:
        body["run_id"] = metric.run_id
    else:
        for name in ("dataset_name", "dataset_digest", "model_id"):
            if getattr(metric, name):
                body[name] = getattr(metric, name)
    return body


def run_info_json(run: Run) -> dict[str, Any]:
    """A ``RunInfo``."""
    info: dict[str, Any] = {
        "run_id": run.run_id,
        "run_uuid": run.run_id,
        "run_name": run.run_name,
        "experiment_id": run.experiment_id,
        "user_id": run.user_id,
        "status": run.status,
        "start_time": run.start_time,
        "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage,
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def run_json(run: Run) -> dict[str, Any]:
    """A ``Run``: info, data (latest metrics), inputs and outputs."""
    datasets = [body for kind, body in run.inputs if kind == "dataset"]
    model_inputs = [body for kind, body in run.inputs if kind == "model_input"]
    model_outputs = [body for kind, body in run.inputs if kind == "model_output"]
    return {
        "info": run_info_json(run),
        "data": {
            "metrics": [metric_json(m) for m in run.metrics.values()],
            "params": _pairs(run.params),
            "tags": _pairs(run.tags),
        },
        "inputs": {"dataset_inputs": datasets, "model_inputs": model_inputs},
        "outputs": {"model_outputs": model_outputs},
    }


def logged_model_json(model: LoggedModel, metrics: Iterable[MetricRow] = ()) -> dict[str, Any]:
    """A ``LoggedModel``."""
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_time,
        "last_updated_timestamp_ms": model.last_update_time,
        "artifact_uri": model.artifact_uri,
        "status": model.status,
        "tags": _pairs(model.tags),
    }
    for name in ("model_type", "source_run_id", "status_message"):
        if getattr(model, name):
            info[name] = getattr(model, name)
    return {
        "info": info,
        "data": {"params": _pairs(model.params), "metrics": [metric_json(m) for m in metrics]},
    }
