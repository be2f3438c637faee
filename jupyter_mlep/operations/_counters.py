"""Router counters of the local workspace: requests, errors and latency per deployment.

Azure publishes such figures through Azure Monitor, not through the REST API this client
speaks, so :func:`get_counters` answers None for the ``azure`` target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..rest import RestClient

__all__ = ["DeploymentCounters", "get_counters"]


@dataclass(frozen=True)
class DeploymentCounters:
    """What the local workspace's router counted for one deployment since it started.

    ``requests`` are live requests answered (or failed); ``mirrored`` are shadow copies received;
    ``errors`` are answers with status 5xx or no answer; latencies are over the last 2,048 requests.
    """

    requests: int = 0
    errors: int = 0
    mirrored: int = 0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeploymentCounters:
        """From the workspace's ``/mlep/v1/counters`` document."""
        latency = data.get("latencyMs") or {}
        return cls(
            requests=int(data.get("requests", 0)),
            errors=int(data.get("errors", 0)),
            mirrored=int(data.get("mirrored", 0)),
            p50_ms=latency.get("p50"),
            p90_ms=latency.get("p90"),
            p99_ms=latency.get("p99"),
        )


def get_counters(client: RestClient, endpoint: str) -> dict[str, DeploymentCounters] | None:
    """The router counters of ``endpoint``'s deployments (by lower-case name); None off the local target."""
    if client.target != "local":
        return None
    data = client.get(f"/mlep/v1/counters/{endpoint}") or {}
    deployments = (data.get("endpoints") or {}).get(endpoint.lower()) or {}
    return {name: DeploymentCounters.from_json(value) for name, value in deployments.items()}
