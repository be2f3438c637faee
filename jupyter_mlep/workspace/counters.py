"""Per-deployment router counters: requests, errors, mirrored copies and latency percentiles.

Exposed (admin token required) at ``GET /mlep/v1/counters`` and
``GET /mlep/v1/counters/{endpoint}``::

    {"seq": 1234, "endpoints": {"<endpoint>": {"<deployment>": {
        "requests": 120, "errors": 2, "mirrored": 12, "status": {"200": 118, "500": 2},
        "latencyMs": {"p50": 1.9, "p90": 3.1, "p95": 4.0, "p99": 7.4, "samples": 120}}}}}

``requests`` counts the live requests a deployment answered (or failed); ``mirrored``
counts the shadow copies it received (their results are also in ``status`` and latencies).
``seq`` is the number of requests recorded so far (all endpoints): a marker.

``GET /mlep/v1/counters/{endpoint}?since=SEQ`` is the window after a marker, live and
mirrored requests apart, so that a rollout step is judged on its own requests only::

    {"endpoint": "<endpoint>", "since": 1234, "seq": 1300, "complete": true,
     "deployments": {"<deployment>": {
        "live": {"requests": 60, "errors": 0, "status": {"200": 60}, "latencyMs": {…}},
        "mirrored": {"requests": 6, "errors": 6, "status": {"500": 6}, "latencyMs": {…}}}}}

``complete`` is false when more requests came after the marker than the last
:data:`_LOG` the endpoint keeps: the window then covers those last ones only.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["Counters", "DeploymentCounters"]

_WINDOW = 2048
_LOG = 16384


class _Event(NamedTuple):
    seq: int
    deployment: str
    status: int
    latency_ms: float
    mirror: bool


@dataclass
class DeploymentCounters:
    """Counters of one deployment."""

    requests: int = 0
    errors: int = 0
    mirrored: int = 0
    status: dict[str, int] = field(default_factory=dict)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "requests": self.requests,
            "errors": self.errors,
            "mirrored": self.mirrored,
            "status": dict(self.status),
            "latencyMs": _latency(self.latencies),
        }


def _is_error(status: int) -> bool:
    return status == 0 or status >= 500


def _latency(values: Any) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "p50": _percentile(ordered, 0.50),
        "p90": _percentile(ordered, 0.90),
        "p95": _percentile(ordered, 0.95),
        "p99": _percentile(ordered, 0.99),
        "samples": len(ordered),
    }


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 3)


def _summary(events: list[_Event]) -> dict[str, Any]:
    status: dict[str, int] = {}
    for event in events:
        status[str(event.status)] = status.get(str(event.status), 0) + 1
    return {
        "requests": len(events),
        "errors": sum(1 for event in events if _is_error(event.status)),
        "status": status,
        "latencyMs": _latency(event.latency_ms for event in events),
    }


class Counters:
    """Counters of every deployment, by endpoint (names lower-cased), and a log of recent requests."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, DeploymentCounters]] = {}
        self._log: dict[str, deque[_Event]] = {}
        self._evicted: dict[str, int] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def record(self, endpoint: str, deployment: str, status: int, latency_ms: float, *, mirror: bool) -> None:
        """Count one answered (or failed, ``status`` 0 or ≥ 500) request."""
        with self._lock:
            counters = self._data.setdefault(endpoint.lower(), {}).setdefault(
                deployment.lower(), DeploymentCounters()
            )
            if mirror:
                counters.mirrored += 1
            else:
                counters.requests += 1
            if _is_error(status):
                counters.errors += 1
            counters.status[str(status)] = counters.status.get(str(status), 0) + 1
            counters.latencies.append(latency_ms)
            self._seq += 1
            log = self._log.setdefault(endpoint.lower(), deque(maxlen=_LOG))
            if len(log) == log.maxlen:
                self._evicted[endpoint.lower()] = log[0].seq
            log.append(_Event(self._seq, deployment.lower(), status, latency_ms, mirror))

    def forget(self, endpoint: str, deployment: str | None = None) -> None:
        """Drop the counters of a deleted endpoint or deployment."""
        with self._lock:
            if deployment is None:
                self._data.pop(endpoint.lower(), None)
                self._log.pop(endpoint.lower(), None)
                self._evicted.pop(endpoint.lower(), None)
            else:
                self._data.get(endpoint.lower(), {}).pop(deployment.lower(), None)

    def snapshot(self, endpoint: str | None = None) -> dict[str, Any]:
        """``{"seq": N, "endpoints": {endpoint: {deployment: counters}}}`` (one endpoint or all)."""
        with self._lock:
            names = [endpoint.lower()] if endpoint else sorted(self._data)
            return {
                "seq": self._seq,
                "endpoints": {
                    name: {dep: c.snapshot() for dep, c in sorted(self._data.get(name, {}).items())}
                    for name in names
                },
            }

    def window(self, endpoint: str, since: int) -> dict[str, Any]:
        """The requests of ``endpoint`` recorded after marker ``since``, by deployment, live and
        mirrored apart (see the module docstring)."""
        with self._lock:
            log = list(self._log.get(endpoint.lower(), ()))
            seq, evicted = self._seq, self._evicted.get(endpoint.lower(), 0)
        events = [event for event in log if event.seq > since]
        names = sorted({event.deployment for event in events})
        return {
            "endpoint": endpoint.lower(),
            "since": since,
            "seq": seq,
            "complete": evicted <= since,
            "deployments": {
                name: {
                    "live": _summary([e for e in events if e.deployment == name and not e.mirror]),
                    "mirrored": _summary([e for e in events if e.deployment == name and e.mirror]),
                }
                for name in names
            },
        }
