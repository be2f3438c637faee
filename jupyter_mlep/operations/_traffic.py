"""Traffic as results: read the live and mirror split, set it (checked), endpoint and deployment views."""

from __future__ import annotations

from ..rest import ProgressCallback, RestClient
from ._deployments import list_deployments
from ._endpoints import get_endpoint, list_endpoints, set_traffic
from ._results import EndpointDetails, EndpointList, TrafficResult

__all__ = ["describe_endpoint", "get_traffic", "list_all", "update_traffic"]


def get_traffic(client: RestClient, endpoint: str) -> TrafficResult:
    """The endpoint's live and mirror traffic."""
    info = get_endpoint(client, endpoint)
    return TrafficResult(endpoint, dict(info.traffic or {}), dict(info.mirror_traffic or {}))


def update_traffic(
    client: RestClient,
    endpoint: str,
    traffic: dict[str, int] | None = None,
    *,
    mirror_traffic: dict[str, int] | None = None,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
) -> TrafficResult:
    """Set the live and/or mirror split (checked first); the split the endpoint then reports."""
    get_endpoint(client, endpoint)  # "did you mean" for a wrong name
    info = set_traffic(
        client, endpoint, traffic, mirror_traffic=mirror_traffic, timeout=timeout, progress=progress
    )
    return TrafficResult(endpoint, dict(info.traffic or {}), dict(info.mirror_traffic or {}))


def describe_endpoint(client: RestClient, endpoint: str) -> EndpointDetails:
    """An endpoint with its deployments."""
    info = get_endpoint(client, endpoint)
    return EndpointDetails(info, list_deployments(client, endpoint))


def list_all(client: RestClient) -> EndpointList:
    """Every endpoint of the workspace."""
    return EndpointList(list_endpoints(client), target=client.target)
