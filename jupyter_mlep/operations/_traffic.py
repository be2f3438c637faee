"""Traffic as results: read the live and mirror split, set it (checked), endpoint and deployment views."""

from __future__ import annotations

import time
from collections.abc import Mapping

from .._errors import OperationTimeoutError
from ..rest import ProgressCallback, RestClient
from ._deployments import list_deployments
from ._endpoints import get_endpoint, list_endpoints, set_traffic
from ._results import EndpointDetails, EndpointList, TrafficResult

__all__ = [
    "describe_endpoint",
    "distribute",
    "get_traffic",
    "list_all",
    "same_split",
    "update_traffic",
    "wait_for_traffic",
]


def distribute(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Share ``amount`` whole percent among ``weights``' names in proportion to the weights.

    Largest remainder: each name gets the floor of its exact share, and the points left go to
    the largest fractional parts (ties: larger weight, then name order). All-zero weights share
    equally. The result always sums to ``amount`` (0 when there are no names).
    """
    names = sorted(weights)
    if not names or amount <= 0:
        return dict.fromkeys(names, 0)
    positive = {name: max(0, int(weights[name])) for name in names}
    if not any(positive.values()):
        positive = dict.fromkeys(names, 1)
    total = sum(positive.values())
    shares: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for name in names:
        shares[name], remainders[name] = divmod(amount * positive[name], total)
    left = amount - sum(shares.values())
    order = sorted(names, key=lambda n: (-remainders[n], -positive[n], n))
    for name in order[:left]:
        shares[name] += 1
    return shares


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


def same_split(reported: dict[str, int] | None, wanted: dict[str, int] | None) -> bool:
    """Whether two splits agree, a deployment at 0 counting as absent."""

    def shown(values: dict[str, int] | None) -> dict[str, int]:
        return {name: int(value) for name, value in (values or {}).items() if value}

    return shown(reported) == shown(wanted)


def wait_for_traffic(
    client: RestClient,
    endpoint: str,
    traffic: dict[str, int] | None,
    mirror_traffic: dict[str, int] | None = None,
    *,
    timeout: float = 60.0,
    interval: float = 0.5,
) -> TrafficResult:
    """Re-read the endpoint until it reports ``traffic`` (and ``mirror_traffic``, when given).

    An update can take a moment to show; raises :class:`~jupyter_mlep.OperationTimeoutError`
    when the endpoint still reports another split after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = get_traffic(client, endpoint)
        live_ok = traffic is None or same_split(result.traffic, traffic)
        if live_ok and (mirror_traffic is None or same_split(result.mirror_traffic, mirror_traffic)):
            return result
        if time.monotonic() >= deadline:
            raise OperationTimeoutError(
                f"Endpoint {endpoint} still reports traffic {result.traffic} and mirror "
                f"{result.mirror_traffic or {}} after {timeout:.0f} s.",
                hint=f"The update may still be in progress: read it again with %endpoint traffic {endpoint}.",
            )
        client.sleep(interval)


def describe_endpoint(client: RestClient, endpoint: str) -> EndpointDetails:
    """An endpoint with its deployments."""
    info = get_endpoint(client, endpoint)
    return EndpointDetails(info, list_deployments(client, endpoint))


def list_all(client: RestClient) -> EndpointList:
    """Every endpoint of the workspace."""
    return EndpointList(list_endpoints(client), target=client.target)
