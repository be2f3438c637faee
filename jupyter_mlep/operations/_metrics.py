"""Metrics of online endpoints and deployments over time, as Azure Monitor publishes them.

Both targets answer the Azure Monitor metrics REST API on the resource's id
(``{endpoint or deployment}/providers/Microsoft.Insights/metrics``): Azure from Azure Monitor,
the local workspace from its router and runtimes. :func:`get_metrics` reads that one shape into
a :class:`MetricsResult` (a table, and charts in HTML).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from .._errors import UsageError
from ..rendering import Table, TableResult
from ..rest import RestClient

__all__ = [
    "DEPLOYMENT_METRICS",
    "ENDPOINT_METRICS",
    "MONITOR_API_VERSION",
    "MetricPoint",
    "MetricSeries",
    "MetricsResult",
    "get_metrics",
    "parse_metrics_answer",
]

MONITOR_API_VERSION = "2023-10-01"
"""The Azure Monitor metrics api-version this client sends."""

ENDPOINT_METRICS = (
    "RequestsPerMinute",
    "RequestLatency",
    "RequestLatency_P50",
    "RequestLatency_P99",
    "ConnectionsActive",
)
"""The metrics shown by default for an endpoint (Azure Monitor's names)."""

DEPLOYMENT_METRICS = (
    "RequestsPerMinute",
    "RequestLatency_P50",
    "RequestLatency_P90",
    "RequestLatency_P99",
    "CpuUtilizationPercentage",
    "CpuMemoryUtilizationPercentage",
)
"""The metrics shown by default for a deployment (Azure Monitor's names)."""

_PREFERRED = ("total", "average", "maximum", "minimum", "count")


@dataclass(frozen=True)
class MetricPoint:
    """One time bucket: its start and the aggregations Azure Monitor gave for it."""

    time: datetime
    values: dict[str, float]

    def value(self, aggregation: str | None = None) -> float | None:
        """The value of ``aggregation`` (default: the first one present of total, average, …)."""
        if aggregation is not None:
            return self.values.get(aggregation.lower())
        for name in _PREFERRED:
            if name in self.values:
                return self.values[name]
        return None


@dataclass(frozen=True)
class MetricSeries:
    """One time series: metric name, unit, dimension values (``{"statusCode": "200"}``) and points."""

    name: str
    unit: str
    dimensions: dict[str, str]
    points: tuple[MetricPoint, ...]

    @property
    def label(self) -> str:
        """``RequestsPerMinute`` or ``RequestsPerMinute statusCode=200``."""
        extra = " ".join(f"{k}={v}" for k, v in self.dimensions.items())
        return f"{self.name} {extra}".strip()

    def total(self, aggregation: str = "total") -> float:
        """The sum of ``aggregation`` over all points (requests in the window for ``total``)."""
        return sum(p.values.get(aggregation, 0.0) for p in self.points)


@dataclass(frozen=True)
class MetricsResult(TableResult):
    """The metrics of an endpoint (or one of its deployments) over a window."""

    kind: ClassVar[str] = "metrics"

    endpoint: str
    deployment: str | None
    timespan: str
    interval: str
    series: tuple[MetricSeries, ...] = field(default_factory=tuple)

    def of(self, name: str, **dimensions: str) -> MetricSeries | None:
        """The series of metric ``name`` (with these dimension values, in any case), or None."""
        for item in self.series:
            if item.name.lower() == name.lower() and all(
                item.dimensions.get(k, "").lower() == v.lower() for k, v in dimensions.items()
            ):
                return item
        return None

    def title(self) -> str:
        where = f"{self.endpoint}/{self.deployment}" if self.deployment else self.endpoint
        return f"Metrics of {where} over {self.timespan} (interval {self.interval})"

    def tables(self) -> list[Table]:
        times = sorted({p.time for s in self.series for p in s.points})
        head = ["time (UTC)", *(s.label for s in self.series)]
        rows = []
        for moment in times:
            row = [moment.strftime("%H:%M")]
            for item in self.series:
                point = next((p for p in item.points if p.time == moment), None)
                value = point.value() if point else None
                row.append("" if value is None else f"{value:g}")
            rows.append(row)
        return [(head, rows or [["(no data)", *("" for _ in self.series)]])]

    def charts(self) -> dict[str, list[tuple[int, float]]]:
        """Per series label: ``(minute since the window's start, value)`` of the points with a value."""
        times = sorted({p.time for s in self.series for p in s.points})
        start = times[0] if times else None
        out: dict[str, list[tuple[int, float]]] = {}
        for item in self.series:
            points = []
            for point in item.points:
                value = point.value()
                if value is not None and start is not None:
                    points.append((int((point.time - start).total_seconds() // 60), value))
            out[item.label] = points
        return out

    def html(self) -> str:
        from ..charts import metric_charts_html

        return (
            super().html()[: -len("</div>")]
            + metric_charts_html(self.charts(), xlabel="minutes since the window's start")
            + "</div>"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "timespan": self.timespan,
            "interval": self.interval,
            "series": [
                {
                    "name": s.name,
                    "unit": s.unit,
                    "dimensions": dict(s.dimensions),
                    "data": [
                        {"timeStamp": p.time.strftime("%Y-%m-%dT%H:%M:%SZ"), **p.values} for p in s.points
                    ],
                }
                for s in self.series
            ],
        }


def _iso_minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"PT{minutes // 60}H" if minutes % 60 == 0 else f"PT{minutes}M"


def parse_metrics_answer(data: dict[str, Any]) -> list[MetricSeries]:
    """The series of an Azure Monitor metrics answer (``value[].timeseries[].data[]``)."""
    out = []
    for metric in data.get("value") or []:
        name = (metric.get("name") or {}).get("value", "")
        for timeseries in metric.get("timeseries") or []:
            dimensions = {
                str((m.get("name") or {}).get("value")): str(m.get("value"))
                for m in timeseries.get("metadatavalues") or []
            }
            points = tuple(
                MetricPoint(
                    datetime.fromisoformat(str(d["timeStamp"]).replace("Z", "+00:00")),
                    {k.lower(): float(v) for k, v in d.items() if k != "timeStamp" and v is not None},
                )
                for d in timeseries.get("data") or []
            )
            out.append(MetricSeries(name, str(metric.get("unit", "")), dimensions, points))
    return out


def get_metrics(
    client: RestClient,
    endpoint: str,
    deployment: str | None = None,
    *,
    metrics: Sequence[str] | None = None,
    since: float = 900.0,
    interval: float | None = 60.0,
    aggregations: Sequence[str] | None = None,
    split: str | None = None,
    now: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> MetricsResult:
    """The metrics of ``endpoint`` (or of its ``deployment``) over the last ``since`` seconds (or
    from ``start`` to ``end``), in buckets of ``interval`` seconds (whole minutes; None: Azure
    Monitor's ``FULL``, one point for the whole window); ``split`` names a dimension to split by
    (``statusCode``, ``deployment``, ``instanceId``)."""
    if interval is not None and interval < 60:
        raise UsageError(
            f"--interval {interval:g}s is shorter than a minute.",
            hint="Azure Monitor keeps these metrics by minute: use --interval 1m or more.",
        )
    names = list(metrics or (DEPLOYMENT_METRICS if deployment else ENDPOINT_METRICS))
    end = end or (now or datetime.now(timezone.utc)).replace(microsecond=0)
    start = start or end - timedelta(seconds=since)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    resource = (
        client.paths.deployment(endpoint, deployment) if deployment else client.paths.endpoint(endpoint)
    )
    params: dict[str, Any] = {
        "api-version": MONITOR_API_VERSION,
        "metricnames": ",".join(names),
        "timespan": f"{start.strftime(fmt)}/{end.strftime(fmt)}",
        "interval": "FULL" if interval is None else _iso_minutes(interval),
    }
    if aggregations:
        params["aggregation"] = ",".join(aggregations)
    if split:
        params["$filter"] = f"{split} eq '*'"
    data = client.get(f"{resource}/providers/Microsoft.Insights/metrics", params=params) or {}
    return MetricsResult(
        endpoint=endpoint,
        deployment=deployment,
        timespan=str(data.get("timespan") or params["timespan"]),
        interval=str(data.get("interval") or params["interval"]),
        series=tuple(parse_metrics_answer(data)),
    )
