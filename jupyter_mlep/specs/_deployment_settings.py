"""Parts of an online deployment: probes, request settings, scale settings, Kubernetes
resources and the data collector, with the REST defaults applied when a body is built.

YAML writes probe times in integer seconds and request times in milliseconds; REST writes
both as ISO-8601 durations.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from ._base import SpecModel, compact, snake
from ._durations import format_duration, parse_duration

__all__ = [
    "DataCollector",
    "DeploymentCollection",
    "ProbeSettings",
    "RequestLogging",
    "RequestSettings",
    "ResourceRequirements",
    "ResourceSettings",
    "ScaleSettings",
]

PROBE_DEFAULTS = {
    "initial_delay": 10,
    "period": 10,
    "timeout": 2,
    "success_threshold": 1,
    "failure_threshold": 30,
}
REQUEST_DEFAULTS = {
    "request_timeout_ms": 5000,
    "max_concurrent_requests_per_instance": 1,
    "max_queue_wait_ms": 500,
}
TARGET_UTILIZATION_DEFAULTS = {
    "min_instances": 1,
    "max_instances": 1,
    "polling_interval": 1,
    "target_utilization_percentage": 70,
}


def _seconds(value: Any) -> int | None:
    return None if value is None else round(parse_duration(value))


class ProbeSettings(SpecModel):
    """A liveness, readiness or startup probe (times in seconds)."""

    initial_delay: int | None = Field(default=None, ge=0)
    period: int | None = Field(default=None, ge=1)
    timeout: int | None = Field(default=None, ge=1)
    success_threshold: int | None = Field(default=None, ge=1)
    failure_threshold: int | None = Field(default=None, ge=1)

    def with_defaults(self) -> dict[str, int]:
        """Every value, the unset ones taken from the service defaults."""
        return {
            key: value if (value := getattr(self, key)) is not None else d
            for key, d in PROBE_DEFAULTS.items()
        }

    def to_rest(self) -> dict[str, Any]:
        """The REST ``ProbeSettings`` with the defaults applied."""
        full = self.with_defaults()
        return {
            "initialDelay": format_duration(full["initial_delay"]),
            "period": format_duration(full["period"]),
            "timeout": format_duration(full["timeout"]),
            "successThreshold": full["success_threshold"],
            "failureThreshold": full["failure_threshold"],
        }

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``ProbeSettings``."""
        return compact(
            {
                "initial_delay": _seconds(body.get("initialDelay")),
                "period": _seconds(body.get("period")),
                "timeout": _seconds(body.get("timeout")),
                "success_threshold": body.get("successThreshold"),
                "failure_threshold": body.get("failureThreshold"),
            }
        )


class RequestSettings(SpecModel):
    """Scoring request limits (times in milliseconds)."""

    request_timeout_ms: int | None = Field(default=None, ge=1)
    max_concurrent_requests_per_instance: int | None = Field(default=None, ge=1)
    max_queue_wait_ms: int | None = Field(default=None, ge=0)

    def to_rest(self) -> dict[str, Any]:
        """The REST ``OnlineRequestSettings`` with the defaults applied."""
        values = {
            key: getattr(self, key) if getattr(self, key) is not None else d
            for key, d in REQUEST_DEFAULTS.items()
        }
        return {
            "requestTimeout": format_duration(values["request_timeout_ms"] / 1000),
            "maxConcurrentRequestsPerInstance": values["max_concurrent_requests_per_instance"],
            "maxQueueWait": format_duration(values["max_queue_wait_ms"] / 1000),
        }

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``OnlineRequestSettings``."""
        timeout, wait = body.get("requestTimeout"), body.get("maxQueueWait")
        return compact(
            {
                "request_timeout_ms": None if timeout is None else round(parse_duration(timeout) * 1000),
                "max_concurrent_requests_per_instance": body.get("maxConcurrentRequestsPerInstance"),
                "max_queue_wait_ms": None if wait is None else round(parse_duration(wait) * 1000),
            }
        )


class ScaleSettings(SpecModel):
    """``{type: default}`` or ``{type: target_utilization, min_instances, …}`` (polling in seconds)."""

    type: Annotated[Literal["default", "target_utilization"], BeforeValidator(snake)] = "default"
    min_instances: int | None = Field(default=None, ge=0)
    max_instances: int | None = Field(default=None, ge=1)
    polling_interval: int | None = Field(default=None, ge=1)
    target_utilization_percentage: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _only_for_target_utilization(self) -> ScaleSettings:
        extra = [key for key in TARGET_UTILIZATION_DEFAULTS if getattr(self, key) is not None]
        if self.type == "default" and extra:
            raise ValueError(f"{', '.join(extra)} only apply to scale_settings of type target_utilization")
        return self

    def to_rest(self) -> dict[str, Any]:
        """The REST ``OnlineScaleSettings`` with the TargetUtilization defaults applied."""
        if self.type == "default":
            return {"scaleType": "Default"}
        values = {
            key: getattr(self, key) if getattr(self, key) is not None else d
            for key, d in TARGET_UTILIZATION_DEFAULTS.items()
        }
        return {
            "scaleType": "TargetUtilization",
            "minInstances": values["min_instances"],
            "maxInstances": values["max_instances"],
            "pollingInterval": format_duration(values["polling_interval"]),
            "targetUtilizationPercentage": values["target_utilization_percentage"],
        }

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``OnlineScaleSettings``."""
        polling = body.get("pollingInterval")
        return compact(
            {
                "type": body.get("scaleType"),
                "min_instances": body.get("minInstances"),
                "max_instances": body.get("maxInstances"),
                "polling_interval": None if polling is None else round(parse_duration(polling)),
                "target_utilization_percentage": body.get("targetUtilizationPercentage"),
            }
        )


def _gpu_alias(value: Any) -> Any:
    if isinstance(value, dict):
        value = {("gpu" if key == "nvidia.com/gpu" else key): item for key, item in value.items()}
        return {key: str(item) if isinstance(item, (int, float)) else item for key, item in value.items()}
    return value


class ResourceSettings(SpecModel):
    """Kubernetes container requests or limits (``nvidia.com/gpu`` is read as ``gpu``)."""

    cpu: str | None = None
    memory: str | None = None
    gpu: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        return _gpu_alias(data)


class ResourceRequirements(SpecModel):
    """Kubernetes container ``requests`` and ``limits``."""

    requests: ResourceSettings | None = None
    limits: ResourceSettings | None = None

    def to_rest(self) -> dict[str, Any]:
        """The REST ``containerResourceRequirements``."""
        return compact(
            {
                "containerResourceRequests": compact(self.requests.model_dump()) if self.requests else None,
                "containerResourceLimits": compact(self.limits.model_dump()) if self.limits else None,
            }
        )

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``containerResourceRequirements``."""
        return compact(
            {"requests": body.get("containerResourceRequests"), "limits": body.get("containerResourceLimits")}
        )


class DeploymentCollection(SpecModel):
    """One data-collector collection (``model_inputs``, ``model_outputs``, …)."""

    enabled: bool = False
    data: str | None = None
    client_id: str | None = None


class RequestLogging(SpecModel):
    """Which request headers the data collector records."""

    capture_headers: list[str] | None = None


class DataCollector(SpecModel):
    """Model data collection (``enabled: "true"`` strings are read as booleans)."""

    collections: dict[str, DeploymentCollection]
    rolling_rate: (
        Annotated[Literal["year", "month", "day", "hour", "minute"], BeforeValidator(snake)] | None
    ) = None
    sampling_rate: float | None = Field(default=None, ge=0, le=1)
    request_logging: RequestLogging | None = None

    def to_rest(self) -> dict[str, Any]:
        """The REST ``dataCollector``."""
        collections = {
            name: compact(
                {
                    "dataCollectionMode": "Enabled" if item.enabled else "Disabled",
                    "dataId": item.data,
                    "clientId": item.client_id,
                    "samplingRate": self.sampling_rate,
                }
            )
            for name, item in self.collections.items()
        }
        logging = self.request_logging
        return compact(
            {
                "collections": collections,
                "rollingRate": self.rolling_rate.capitalize() if self.rolling_rate else None,
                "requestLogging": {"captureHeaders": logging.capture_headers or []} if logging else None,
            }
        )

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``dataCollector``."""
        collections = body.get("collections") or {}
        rates = {item.get("samplingRate") for item in collections.values()} - {None}
        logging = body.get("requestLogging")
        return compact(
            {
                "collections": {
                    name: compact(
                        {
                            "enabled": item.get("dataCollectionMode") == "Enabled",
                            "data": item.get("dataId"),
                            "client_id": item.get("clientId"),
                        }
                    )
                    for name, item in collections.items()
                },
                "rolling_rate": body.get("rollingRate"),
                "sampling_rate": rates.pop() if len(rates) == 1 else None,
                "request_logging": {"capture_headers": logging.get("captureHeaders")} if logging else None,
            }
        )
