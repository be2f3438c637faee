"""A deployment's requests during one stretch of time (a rollout step), from its Azure Monitor
metrics: how many answered with each status code, and the latency percentiles; and each
deployment's requests over the last minutes (:func:`recent_requests`, for the traffic widget).

Both targets are asked the same (:func:`get_metrics` with ``interval=FULL``: one point for the
whole ``timespan``): ``RequestsPerMinute`` split by ``statusCode`` (``Total``), and
``RequestLatency_P50/P90/P95/P99`` (``Average``).

* The local workspace counts such a window exactly, to the second (its per-second ring), and
  publishes at once.
* Azure Monitor keeps these metrics by minute: the window widens to whole minutes, and its
  percentiles are the average of the per-minute ones. It also publishes them a few minutes late
  (ingestion delay, :attr:`~jupyter_mlep.targets.Capabilities.metrics_delay`). So
  :func:`window_metrics` first waits until ``delay`` seconds after the window's end, then reads
  again every ``delay / 4`` seconds (at least 1 s: the local workspace publishes by the second)
  until two reads agree; if they still differ
  ``delay`` seconds later, the figures are returned with ``complete`` False (and a rollout's step
  then fails rather than judge half the requests). The local workspace can hold its answers back
  the same way (``POST /mlep/v1/faults/metrics``), which is how this wait is tested.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..rest import RestClient
from ._metrics import get_metrics

__all__ = [
    "PERCENTILES",
    "DeploymentRequests",
    "WindowMetrics",
    "failed_status",
    "recent_requests",
    "window_metrics",
]

PERCENTILES = (50, 90, 95, 99)
"""The latency percentiles a window reads (``RequestLatency_P50`` …)."""


def failed_status(code: int | str) -> bool:
    """Whether a request that got this status failed: 5xx, 408 (not answered in time), or 0 (no answer)."""
    value = int(code) if str(code).isdigit() else 0
    return value == 0 or value == 408 or value >= 500


@dataclass(frozen=True)
class WindowMetrics:
    """What one deployment answered between ``start`` and ``end``: requests by status code and
    latency percentiles (ms, by percentile); ``complete`` False when the target was still
    publishing the window's data when the wait for it ended."""

    start: datetime
    end: datetime
    status: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[int, float] = field(default_factory=dict)
    complete: bool = True
    reads: int = 1

    @property
    def requests(self) -> int:
        """How many requests were answered (or failed) in the window."""
        return sum(self.status.values())


def _whole_seconds(moment: datetime, up: bool) -> datetime:
    seconds = moment.timestamp()
    return datetime.fromtimestamp(math.ceil(seconds) if up else math.floor(seconds), timezone.utc)


def read_window(
    client: RestClient, endpoint: str, deployment: str, start: datetime, end: datetime
) -> WindowMetrics:
    """One read of the window's figures (two metrics requests), as published now."""
    counts = get_metrics(
        client, endpoint, deployment, metrics=["RequestsPerMinute"], aggregations=["Total"],
        split="statusCode", start=start, end=end, interval=None,
    )  # fmt: skip
    status: dict[str, int] = {}
    for series in counts.series:
        total = round(series.total("total"))
        if total:
            code = series.dimensions.get("statusCode", "")
            status[code] = status.get(code, 0) + total
    latency = get_metrics(
        client, endpoint, deployment, metrics=[f"RequestLatency_P{p}" for p in PERCENTILES],
        aggregations=["Average"], start=start, end=end, interval=None,
    )  # fmt: skip
    values: dict[int, float] = {}
    for p in PERCENTILES:
        found = latency.of(f"RequestLatency_P{p}")
        points = (
            [v for v in (point.value("average") for point in found.points) if v is not None] if found else []
        )
        if points:
            values[p] = round(sum(points) / len(points), 3)
    return WindowMetrics(start, end, status, values)


def window_metrics(
    client: RestClient,
    endpoint: str,
    deployment: str,
    start: datetime,
    end: datetime,
    *,
    delay: float | None = None,
) -> WindowMetrics:
    """The requests ``deployment`` answered from ``start`` to ``end``, in the whole seconds between
    them (so that nothing from before ``start`` or after ``end`` counts; at least one second, waited
    for if need be), once the target has published them: ``delay`` seconds after the window's end
    (default: the target's :attr:`~jupyter_mlep.targets.Capabilities.metrics_delay`), then until
    two reads agree, for at most ``delay`` seconds more (see the module docstring)."""
    start = _whole_seconds(start, up=True)
    end = max(_whole_seconds(end, up=False), start + timedelta(seconds=1))
    delay = client.capabilities.metrics_delay if delay is None else max(0.0, float(delay))
    ready = end.timestamp() + delay
    while (wait := ready - time.time()) > 0:
        client.sleep(wait)
    last = read_window(client, endpoint, deployment, start, end)
    if not delay:
        return last
    poll, deadline, reads = max(1.0, delay / 4), ready + delay, 1
    while True:
        client.sleep(poll)
        again = read_window(client, endpoint, deployment, start, end)
        reads += 1
        settled = again.status == last.status and again.latency_ms == last.latency_ms
        if settled or time.time() >= deadline:
            return WindowMetrics(start, end, again.status, again.latency_ms, complete=settled, reads=reads)
        last = again


@dataclass(frozen=True)
class DeploymentRequests:
    """One deployment's requests over the last minutes, from its metrics: ``requests`` live (sent
    to the endpoint), ``errors`` failed (live or mirrored), ``mirrored`` copies received."""

    requests: int = 0
    errors: int = 0
    mirrored: int = 0


def recent_requests(
    client: RestClient, endpoint: str, deployments: Iterable[str], *, since: float = 900.0
) -> dict[str, DeploymentRequests]:
    """Each deployment's requests over the last ``since`` seconds (by lower-case name): the
    endpoint's series split by deployment (live requests; mirrored copies are not the endpoint's),
    and each deployment's own series split by status code (live and mirrored)."""
    live = get_metrics(
        client, endpoint, metrics=["RequestsPerMinute"], since=since, aggregations=["Total"],
        split="deployment",
    )  # fmt: skip
    by_name = {s.dimensions.get("deployment", "").lower(): round(s.total()) for s in live.series}
    out = {}
    for name in deployments:
        own = get_metrics(
            client, endpoint, name, metrics=["RequestsPerMinute"], since=since, aggregations=["Total"],
            split="statusCode",
        )  # fmt: skip
        codes = {s.dimensions.get("statusCode", ""): round(s.total()) for s in own.series}
        requests = by_name.get(name.lower(), 0)
        out[name.lower()] = DeploymentRequests(
            requests=requests,
            errors=sum(count for code, count in codes.items() if failed_status(code)),
            mirrored=max(0, sum(codes.values()) - requests),
        )
    return out
