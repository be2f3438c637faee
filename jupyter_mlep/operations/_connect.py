"""``connect``: the REST client of the current settings (what the magics use), for code."""

from __future__ import annotations

from ..rest import RestClient
from ..settings import Settings, resolve

__all__ = ["connect"]


def connect(settings: Settings | None = None, *, local: bool = False, **overrides: str | None) -> RestClient:
    """A :class:`~jupyter_mlep.rest.RestClient` of ``settings`` (default: resolved from the
    environment and config.json, with ``overrides``); ``local=True`` targets the local workspace
    (started when none runs). Close it when done (it is a context manager)."""
    if settings is None:
        settings = resolve({**overrides, **({"target": "local"} if local else {})})
    return RestClient.from_settings(settings)
