"""What the operations share: per-endpoint serialization, the workspace location, "did you mean"."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from .._errors import ConflictError, NotFoundError
from ..rest import RestClient

__all__ = ["endpoint_lock", "location_of", "not_found"]

_LOCKS: dict[tuple[str, str], threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_LOCATIONS: dict[tuple[str, str], str] = {}


@contextlib.contextmanager
def endpoint_lock(client: RestClient, endpoint: str, *, timeout: float | None = None) -> Iterator[None]:
    """Serialize the changes this process makes to one endpoint (the service refuses overlapping ones).

    Re-entrant: a thread that holds it (a rollout, for all its steps) can make changes of its own.
    """
    key = (client.base_url + client.paths.workspace, endpoint.lower())
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.RLock())
    wait = client.operation_timeout if timeout is None else timeout
    if not lock.acquire(timeout=wait):
        raise ConflictError(
            f"Another change to endpoint '{endpoint}' from this process did not finish within {wait:g} s.",
            hint="Wait until it finishes (or interrupt it), then retry.",
            code="EndpointBusy",
        )
    try:
        yield
    finally:
        lock.release()


def location_of(client: RestClient) -> str:
    """The workspace's Azure region (``location``), read once per client address."""
    key = (client.base_url, client.paths.workspace)
    if key not in _LOCATIONS:
        body = client.get(client.paths.workspace) or {}
        _LOCATIONS[key] = str(body.get("location") or "local")
    return _LOCATIONS[key]


def not_found(error: NotFoundError, name: str, names: list[str], what: str) -> NotFoundError:
    """``error`` saying which ``what`` is missing, with "did you mean" from ``names``."""
    error.message = f"No {what} named '{name}' exists."
    return error.suggest(name, names)
