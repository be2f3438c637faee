"""The entities of the tracking server (experiments, runs, metrics, logged models) and its error."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["Experiment", "LoggedModel", "MetricRow", "Run", "TrackingError", "invalid", "missing", "now_ms"]


class TrackingError(Exception):
    """An MLflow error answer: its ``error_code``, message and HTTP status."""

    STATUS: ClassVar[dict[str, int]] = {
        "RESOURCE_DOES_NOT_EXIST": 404,
        "ENDPOINT_NOT_FOUND": 404,
        "INVALID_PARAMETER_VALUE": 400,
        "BAD_REQUEST": 400,
        "MALFORMED_REQUEST": 400,
        "RESOURCE_ALREADY_EXISTS": 400,
        "INVALID_STATE": 500,
        "UNAUTHENTICATED": 401,
        "PERMISSION_DENIED": 403,
        "NOT_IMPLEMENTED": 501,
    }

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = self.STATUS.get(code, 500)


def invalid(message: str) -> TrackingError:
    """A 400 ``INVALID_PARAMETER_VALUE``."""
    return TrackingError("INVALID_PARAMETER_VALUE", message)


def missing(message: str) -> TrackingError:
    """A 404 ``RESOURCE_DOES_NOT_EXIST``."""
    return TrackingError("RESOURCE_DOES_NOT_EXIST", message)


def now_ms() -> int:
    """The current time in milliseconds."""
    return int(time.time() * 1000)


@dataclass
class Experiment:
    """One experiment row and its tags."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class MetricRow:
    """One logged metric value."""

    key: str
    value: float
    timestamp: int
    step: int
    run_id: str = ""
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass
class Run:
    """One run with its data (latest metrics), inputs and outputs."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, MetricRow] = field(default_factory=dict)
    inputs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class LoggedModel:
    """One MLflow 3 logged model."""

    model_id: str
    experiment_id: str
    name: str
    model_type: str | None
    source_run_id: str | None
    status: str
    status_message: str | None
    artifact_uri: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str]
    params: dict[str, str]
