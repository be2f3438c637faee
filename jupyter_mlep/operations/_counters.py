"""Router counters of the local workspace: requests, errors and latency per deployment.

Azure publishes such figures through Azure Monitor, not through the REST API this client
speaks, so :func:`get_counters` (and :func:`counters_marker`) answer None on a target without
router counters (:attr:`~jupyter_mlep.targets.Capabilities.router_counters`), such as ``azure``.

:func:`counters_marker` and :func:`get_counters_since` measure a stretch of time on its own
(a rollout step): take a marker, let traffic flow, then read what came after the marker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._errors import WorkspaceError
from ..rest import RestClient

__all__ = [
    "CountersWindow",
    "DeploymentCounters",
    "WindowCounters",
    "counters_marker",
    "get_counters",
    "get_counters_since",
]


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
    p95_ms: float | None = None
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
            p95_ms=latency.get("p95"),
            p99_ms=latency.get("p99"),
        )


@dataclass(frozen=True)
class WindowCounters:
    """Requests of one deployment (live, or mirrored copies) after a marker: counts, status codes
    and latency percentiles over exactly those requests."""

    requests: int = 0
    errors: int = 0
    status: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowCounters:
        """From one ``live``/``mirrored`` part of the workspace's window document."""
        latency = data.get("latencyMs") or {}
        return cls(
            requests=int(data.get("requests", 0)),
            errors=int(data.get("errors", 0)),
            status={str(k): int(v) for k, v in (data.get("status") or {}).items()},
            p50_ms=latency.get("p50"),
            p90_ms=latency.get("p90"),
            p95_ms=latency.get("p95"),
            p99_ms=latency.get("p99"),
        )


@dataclass(frozen=True)
class CountersWindow:
    """What the router counted for an endpoint after a marker (``since``) up to marker ``seq``.

    ``live`` and ``mirrored`` are by lower-case deployment name. ``complete`` is False when more
    requests came than the workspace keeps (the figures then cover the most recent ones).
    """

    since: int
    seq: int
    complete: bool = True
    live: dict[str, WindowCounters] = field(default_factory=dict)
    mirrored: dict[str, WindowCounters] = field(default_factory=dict)

    def of(self, deployment: str, *, mirror: bool = False) -> WindowCounters:
        """The counters of ``deployment`` (live, or its mirrored copies); zeros when it saw none."""
        return (self.mirrored if mirror else self.live).get(deployment.lower(), WindowCounters())


def get_counters(client: RestClient, endpoint: str) -> dict[str, DeploymentCounters] | None:
    """The router counters of ``endpoint``'s deployments (by lower-case name); None without router counters."""
    if not client.capabilities.router_counters:
        return None
    data = client.get(f"/mlep/v1/counters/{endpoint}") or {}
    deployments = (data.get("endpoints") or {}).get(endpoint.lower()) or {}
    return {name: DeploymentCounters.from_json(value) for name, value in deployments.items()}


def counters_marker(client: RestClient, endpoint: str) -> int | None:
    """A marker for :func:`get_counters_since` (the router's request sequence number); None without router counters."""
    if not client.capabilities.router_counters:
        return None
    data = client.get(f"/mlep/v1/counters/{endpoint}") or {}
    if "seq" not in data:
        raise _outdated()
    return int(data["seq"])


def get_counters_since(client: RestClient, endpoint: str, since: int) -> CountersWindow | None:
    """What the router counted for ``endpoint`` after the marker ``since``; None without router counters."""
    if not client.capabilities.router_counters:
        return None
    data = client.get(f"/mlep/v1/counters/{endpoint}", params={"since": since}) or {}
    if "deployments" not in data:
        raise _outdated()
    parts: dict[str, dict[str, WindowCounters]] = {"live": {}, "mirrored": {}}
    for name, value in (data.get("deployments") or {}).items():
        for kind, counters in parts.items():
            counters[name] = WindowCounters.from_json(value.get(kind) or {})
    return CountersWindow(
        since=int(data.get("since", since)),
        seq=int(data.get("seq", since)),
        complete=bool(data.get("complete", True)),
        live=parts["live"],
        mirrored=parts["mirrored"],
    )


def _outdated() -> WorkspaceError:
    return WorkspaceError(
        "The local workspace server is older than this client: it cannot measure requests after a marker.",
        hint="Restart it: jupyter-mlep workspace stop, then jupyter-mlep workspace start.",
    )
