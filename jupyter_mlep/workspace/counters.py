"""Per-deployment router counters: requests, errors, mirrored copies and latency percentiles.

Exposed (admin token required) at ``GET /mlep/v1/counters`` and
``GET /mlep/v1/counters/{endpoint}``::

    {"endpoints": {"<endpoint>": {"<deployment>": {
        "requests": 120, "errors": 2, "mirrored": 12, "status": {"200": 118, "500": 2},
        "latencyMs": {"p50": 1.9, "p90": 3.1, "p99": 7.4, "samples": 120}}}}}

``requests`` counts the live requests a deployment answered (or failed); ``mirrored``
counts the shadow copies it received (their results are also in ``status`` and latencies).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Counters", "DeploymentCounters"]

_WINDOW = 2048


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
        ordered = sorted(self.latencies)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "mirrored": self.mirrored,
            "status": dict(self.status),
            "latencyMs": {
                "p50": _percentile(ordered, 0.50),
                "p90": _percentile(ordered, 0.90),
                "p99": _percentile(ordered, 0.99),
                "samples": len(ordered),
            },
        }


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 3)


class Counters:
    """Counters of every deployment, by endpoint (names lower-cased)."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, DeploymentCounters]] = {}
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
            if status == 0 or status >= 500:
                counters.errors += 1
            counters.status[str(status)] = counters.status.get(str(status), 0) + 1
            counters.latencies.append(latency_ms)

    def forget(self, endpoint: str, deployment: str | None = None) -> None:
        """Drop the counters of a deleted endpoint or deployment."""
        with self._lock:
            if deployment is None:
                self._data.pop(endpoint.lower(), None)
            else:
                self._data.get(endpoint.lower(), {}).pop(deployment.lower(), None)

    def snapshot(self, endpoint: str | None = None) -> dict[str, Any]:
        """``{"endpoints": {endpoint: {deployment: counters}}}`` (one endpoint or all)."""
        with self._lock:
            names = [endpoint.lower()] if endpoint else sorted(self._data)
            return {
                "endpoints": {
                    name: {dep: c.snapshot() for dep, c in sorted(self._data.get(name, {}).items())}
                    for name in names
                }
            }
