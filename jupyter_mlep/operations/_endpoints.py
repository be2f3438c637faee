"""Online endpoints: create, get, list, update, delete, keys, regenerate keys, token (traffic: ``_traffic``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

from .._errors import NotFoundError, UsageError
from ..rendering import Result
from ..rest import ProgressCallback, RestClient, mask
from ..specs import ManagedOnlineEndpoint, OnlineEndpoint
from ._common import endpoint_lock, location_of, not_found

__all__ = [
    "EndpointKeys",
    "EndpointToken",
    "create_endpoint",
    "delete_endpoint",
    "get_endpoint",
    "get_keys",
    "get_token",
    "list_endpoints",
    "regenerate_key",
]


@dataclass(frozen=True)
class EndpointKeys:
    """The keys of a ``key`` endpoint; shown masked (``abcd…wxyz``), read whole as attributes."""

    primary_key: str = field(repr=False)
    secondary_key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"EndpointKeys(primary={mask(self.primary_key)}, secondary={mask(self.secondary_key)})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class EndpointToken(Result):
    """A scoring token of an ``aml_token`` endpoint: shown masked with its expiry, read whole as
    :attr:`access_token`."""

    kind: ClassVar[str] = "token"

    access_token: str
    expiry_time_utc: int
    refresh_after_time_utc: int
    endpoint: str = ""

    @staticmethod
    def _time(epoch: int) -> str:
        if not epoch:
            return "unknown"
        return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

    def text(self) -> str:
        of = f" of {self.endpoint}" if self.endpoint else ""
        return (
            f"Token{of}: {mask(self.access_token)}, expires {self._time(self.expiry_time_utc)}"
            f" (refresh after {self._time(self.refresh_after_time_utc)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "access_token": mask(self.access_token),
            "expiry_time_utc": self.expiry_time_utc,
            "refresh_after_time_utc": self.refresh_after_time_utc,
        }


def list_endpoints(client: RestClient) -> list[OnlineEndpoint]:
    """Every online endpoint of the workspace."""
    return [OnlineEndpoint.from_rest(item) for item in client.list(client.paths.endpoints())]


def get_endpoint(client: RestClient, name: str) -> OnlineEndpoint:
    """One endpoint; :class:`~jupyter_mlep._errors.NotFoundError` with "did you mean" when missing."""
    try:
        return OnlineEndpoint.from_rest(client.get(client.paths.endpoint(name)))
    except NotFoundError as exc:
        names = [str(item.get("name")) for item in client.list(client.paths.endpoints())]
        raise not_found(exc, name, names, "online endpoint") from None


def create_endpoint(
    client: RestClient,
    spec: OnlineEndpoint | str,
    *,
    auth_mode: str = "key",
    wait: bool = True,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
) -> OnlineEndpoint:
    """Create or update an endpoint from a spec (or a name and ``auth_mode``); waits unless ``wait`` is False."""
    if isinstance(spec, str):
        spec = ManagedOnlineEndpoint(name=spec, auth_mode=auth_mode)
    spec.check()
    body = spec.to_rest(workspace=client.paths.workspace, location=spec.location or location_of(client))
    with endpoint_lock(client, spec.name):
        operation = client.begin("PUT", client.paths.endpoint(spec.name), body)
        result = operation.wait(timeout=timeout, progress=progress) if wait else operation.initial.json()
    return OnlineEndpoint.from_rest(result)


def delete_endpoint(
    client: RestClient, name: str, *, timeout: float | None = None, progress: ProgressCallback | None = None
) -> None:
    """Delete an endpoint and its deployments (nothing happens when it does not exist)."""
    with endpoint_lock(client, name):
        client.run("DELETE", client.paths.endpoint(name), timeout=timeout, progress=progress)


def get_keys(client: RestClient, name: str) -> EndpointKeys:
    """The keys of a ``key`` endpoint (an explicit call: keys are never shown whole)."""
    body = client.post(client.paths.endpoint(name, "listKeys")) or {}
    return EndpointKeys(str(body.get("primaryKey") or ""), str(body.get("secondaryKey") or ""))


def regenerate_key(
    client: RestClient, name: str, key_type: str = "primary", *, timeout: float | None = None
) -> None:
    """Replace the primary or secondary key with a new random one (the old one stops working)."""
    kind = str(key_type).capitalize()
    if kind not in ("Primary", "Secondary"):
        raise UsageError(
            f"Cannot regenerate the {key_type!r} key of {name}: the key is 'primary' or 'secondary'.",
            hint="Pass key_type='primary' or key_type='secondary'.",
        )
    with endpoint_lock(client, name):
        client.run("POST", client.paths.endpoint(name, "regenerateKeys"), {"keyType": kind}, timeout=timeout)


def get_token(client: RestClient, name: str) -> EndpointToken:
    """A token for an ``aml_token`` endpoint."""
    body: dict[str, Any] = client.post(client.paths.endpoint(name, "token")) or {}
    return EndpointToken(
        str(body.get("accessToken") or ""),
        int(body.get("expiryTimeUtc") or 0),
        int(body.get("refreshAfterTimeUtc") or 0),
        name,
    )
