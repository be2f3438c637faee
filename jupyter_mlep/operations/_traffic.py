"""Traffic: the one owner of its rules, used by deploy, the rollout, the magics and the widgets.

* :func:`split_traffic` gives one deployment a share and places the rest (``deploy --traffic``,
  each rollout step, a traffic slider): one function, its variants are parameters.
* The rules a split must follow are :func:`jupyter_mlep.specs.validate_traffic` (the service's
  rules); :func:`set_traffic` checks them before anything is sent, the sliders before Apply.
* :func:`set_traffic` sets a split and waits until the endpoint reports it (:func:`wait_for_traffic`'s
  loop, which raises :class:`~jupyter_mlep.OperationTimeoutError` when it does not).
* :func:`format_split` draws a split (``blue=70%, green=30%``) wherever one is shown.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._errors import OperationTimeoutError, SpecValidationError
from ..rest import ProgressCallback, RestClient
from ..specs import OnlineEndpoint, validate_traffic
from ._common import endpoint_lock
from ._deployments import list_deployments
from ._endpoints import get_endpoint, list_endpoints

if TYPE_CHECKING:
    from ._results import EndpointDetails, EndpointList, TrafficResult

__all__ = [
    "TRAFFIC_WAIT",
    "describe_endpoint",
    "distribute",
    "format_split",
    "get_traffic",
    "list_all",
    "same_split",
    "set_traffic",
    "split_traffic",
    "traffic_problem",
    "update_traffic",
    "wait_for_traffic",
]

TOTAL = 100
"""The sum a live split keeps (or 0, when no deployment takes live traffic yet)."""
TRAFFIC_WAIT = 60.0
"""Seconds to wait, by default, until an endpoint reports a split just set."""


# -- drawing a split ------------------------------------------------------------------------------


def format_split(split: Mapping[str, Any] | None, *, zeros: bool = True) -> str:
    """``blue=70%, green=30%``: a split by deployment name; ``none`` when nothing is shown.

    ``zeros=False`` leaves out the deployments at 0 (what a rollout step moved).
    """
    shown = [f"{name}={value}%" for name, value in sorted((split or {}).items()) if zeros or value]
    return ", ".join(shown) or "none"


def same_split(reported: Mapping[str, int] | None, wanted: Mapping[str, int] | None) -> bool:
    """Whether two splits agree, a deployment at 0 counting as absent."""

    def shown(values: Mapping[str, int] | None) -> dict[str, int]:
        return {name: int(value) for name, value in (values or {}).items() if value}

    return shown(reported) == shown(wanted)


def traffic_problem(
    traffic: Mapping[str, int], mirror: Mapping[str, int], deployments: Collection[str]
) -> str | None:
    """Why the service would refuse this split and how to fix it (the message and hint of
    :func:`jupyter_mlep.specs.validate_traffic`, the one set of rules), or None when it would not
    (what the traffic sliders and the panel's traffic editor show before Apply)."""
    try:
        validate_traffic(traffic, mirror, deployments)
    except SpecValidationError as exc:
        return " ".join(part for part in (exc.message, exc.hint) if part)
    return None


# -- computing a split ----------------------------------------------------------------------------


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


def split_traffic(
    current: Mapping[str, int],
    deployment: str,
    percent: int,
    *,
    rest_to: Literal["shares", "one"] = "shares",
    locked: Collection[str] = (),
    clamp: bool = False,
    endpoint: str = "NAME",
) -> dict[str, int]:
    """The live split after giving ``deployment`` ``percent``; the others take the rest.

    The other deployments that are not ``locked`` take the rest in proportion to their current
    shares (largest remainders get the rounding); locked ones keep theirs. ``rest_to="one"``
    requires that at most one other deployment holds live traffic (``deploy --traffic``: the
    rest goes to that one). Giving 0% when no other deployment takes traffic leaves the split
    at 0 (nothing takes live traffic yet).

    ``clamp=True`` is a slider's move: ``percent`` is clamped to 0…(100 − the locked shares),
    an unknown or locked ``deployment`` does not move, others that all hold 0 share the rest
    equally, and when every other deployment is locked ``deployment`` takes exactly what keeps
    the sum at 100. Without it, a split that cannot be made raises
    :class:`~jupyter_mlep.SpecValidationError` (its hint names ``endpoint``).
    """
    split = {name: max(0, int(value)) for name, value in current.items()}
    if clamp and (deployment not in split or deployment in locked):
        return split
    fixed = {name: value for name, value in split.items() if name != deployment and name in locked}
    free = {name: value for name, value in split.items() if name != deployment and name not in locked}
    holders = [name for name, value in free.items() if value]
    room = max(0, TOTAL - sum(fixed.values()))
    if clamp:
        percent = room if not free else min(max(0, int(percent)), room)
    elif not 0 <= percent <= room:
        held = f" (the locked deployments hold {TOTAL - room}%)" if room < TOTAL else ""
        raise SpecValidationError(
            f"Cannot give {deployment!r} {percent}%: a share is 0 to {room}%{held}.",
            hint="Give a whole percentage from 0 to 100, e.g. --traffic 10.",
        )
    rest = room - percent
    if rest and not clamp:
        if not holders and percent == 0 and not any(fixed.values()):
            return {**split, deployment: 0}  # nothing takes live traffic, and it stays so
        if not holders:
            raise SpecValidationError(
                f"No other deployment takes live traffic, so nothing can take the remaining {rest}% "
                f"while {deployment} is at {percent}% (live traffic is {format_split(current)}).",
                hint=f"Give another deployment the traffic first (%endpoint traffic {endpoint} "
                f"DEPLOYMENT=100), or give {deployment} 100%.",
            )
        if rest_to == "one" and len(holders) > 1:
            raise SpecValidationError(
                f"Cannot give {deployment!r} {percent}% on its own: the rest must go to exactly one other "
                f"deployment, but live traffic is {format_split(current)}.",
                hint=f"Set the whole split instead, e.g. %endpoint traffic {endpoint} "
                + " ".join(
                    f"{n}={v}" for n, v in sorted({**distribute(rest, free), deployment: percent}.items())
                ),
            )
    return {**split, **distribute(rest, free), deployment: percent}


# -- reading, setting and waiting -----------------------------------------------------------------


def _result(endpoint: str, info: OnlineEndpoint) -> TrafficResult:
    from ._results import TrafficResult

    return TrafficResult(endpoint, dict(info.traffic or {}), dict(info.mirror_traffic or {}))


def get_traffic(client: RestClient, endpoint: str) -> TrafficResult:
    """The endpoint's live and mirror traffic."""
    return _result(endpoint, get_endpoint(client, endpoint))


def set_traffic(
    client: RestClient,
    name: str,
    traffic: dict[str, int] | None = None,
    *,
    mirror_traffic: dict[str, int] | None = None,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
) -> OnlineEndpoint:
    """Set the live (and/or mirror) split, checked first; the endpoint once it reports the split.

    Raises :class:`~jupyter_mlep.OperationTimeoutError` when the endpoint still reports another
    split after ``timeout`` seconds (default :data:`TRAFFIC_WAIT`).
    """
    with endpoint_lock(client, name):
        body = client.get(client.paths.endpoint(name))
        deployments = [str(item.get("name")) for item in client.list(client.paths.deployments(name))]
        props = body.setdefault("properties", {})
        new_traffic = props.get("traffic") if traffic is None else traffic
        new_mirror = props.get("mirrorTraffic") if mirror_traffic is None else mirror_traffic
        validate_traffic(new_traffic, new_mirror, deployments)
        props["traffic"], props["mirrorTraffic"] = new_traffic, new_mirror
        put_body = {
            key: body[key] for key in ("location", "tags", "identity", "kind", "sku") if body.get(key)
        }
        put_body["properties"] = {
            key: value
            for key, value in props.items()
            if key not in ("provisioningState", "scoringUri", "swaggerUri", "keys")
        }
        result = client.run("PUT", client.paths.endpoint(name), put_body, timeout=timeout, progress=progress)
        first = (
            OnlineEndpoint.from_rest(result)
            if isinstance(result, dict) and result.get("properties")
            else None
        )
        return _until_reported(
            client, name, new_traffic or {}, new_mirror or {}, timeout=timeout, first=first
        )


def _until_reported(
    client: RestClient,
    endpoint: str,
    traffic: Mapping[str, int] | None,
    mirror_traffic: Mapping[str, int] | None,
    *,
    timeout: float | None = None,
    interval: float = 0.5,
    first: OnlineEndpoint | None = None,
) -> OnlineEndpoint:
    """The endpoint once it reports ``traffic`` (and ``mirror_traffic``; None: any), re-read every
    ``interval`` s; ``first`` is an answer already read (the update's own)."""
    wait = TRAFFIC_WAIT if timeout is None else timeout
    deadline = time.monotonic() + wait
    info = first if first is not None else get_endpoint(client, endpoint)
    while True:
        live_ok = traffic is None or same_split(info.traffic, traffic)
        if live_ok and (mirror_traffic is None or same_split(info.mirror_traffic, mirror_traffic)):
            return info
        if time.monotonic() >= deadline:
            raise OperationTimeoutError(
                f"Endpoint {endpoint} still reports traffic {format_split(info.traffic)} and mirror "
                f"{format_split(info.mirror_traffic)} after {wait:g} s (expected "
                f"{format_split(traffic)}"
                + (f", mirror {format_split(mirror_traffic)}" if mirror_traffic else "")
                + ").",
                hint="The update may still be in progress: read it again with %endpoint traffic {endpoint}.",
            )
        client.sleep(interval)
        info = get_endpoint(client, endpoint)


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
    return _result(endpoint, info)


def wait_for_traffic(
    client: RestClient,
    endpoint: str,
    traffic: dict[str, int] | None,
    mirror_traffic: dict[str, int] | None = None,
    *,
    timeout: float = TRAFFIC_WAIT,
    interval: float = 0.5,
) -> TrafficResult:
    """Re-read the endpoint until it reports ``traffic`` (and ``mirror_traffic``, when given).

    An update can take a moment to show; raises :class:`~jupyter_mlep.OperationTimeoutError`
    when the endpoint still reports another split after ``timeout`` seconds.
    """
    info = _until_reported(client, endpoint, traffic, mirror_traffic, timeout=timeout, interval=interval)
    return _result(endpoint, info)


# -- views ----------------------------------------------------------------------------------------


def describe_endpoint(client: RestClient, endpoint: str) -> EndpointDetails:
    """An endpoint with its deployments."""
    from ._results import EndpointDetails

    info = get_endpoint(client, endpoint)
    return EndpointDetails(info, list_deployments(client, endpoint))


def list_all(client: RestClient) -> EndpointList:
    """Every endpoint of the workspace."""
    from ._results import EndpointList

    return EndpointList(list_endpoints(client), target=client.target)
