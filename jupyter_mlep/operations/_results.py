"""The objects operations return to magics, the command line and code.

Each has a plain-text ``__repr__`` and an HTML ``_repr_html_``, both made by
:mod:`jupyter_mlep.operations._render` (the one place that renders; widgets plug in there).
Keys and tokens are never part of a representation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..rest import RegisteredAsset
from ..specs import OnlineDeployment, OnlineEndpoint
from ._endpoints import EndpointKeys

__all__ = [
    "DeployResult",
    "EndpointDetails",
    "EndpointList",
    "InvokeResult",
    "KeysResult",
    "LogsResult",
    "Rendered",
    "TrafficResult",
]


class Rendered:
    """Mixin: text, HTML and status representations from the rendering module, and a JSON-ready dict."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the command line's ``--output json``)."""
        from ._render import to_dict

        return to_dict(self)

    def __repr__(self) -> str:
        from ._render import text

        return text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ._render import mimebundle

        return mimebundle(self)

    def _repr_html_(self) -> str:
        from ._render import html

        return html(self)


@dataclass(repr=False)
class EndpointDetails(Rendered):
    """An endpoint and its deployments."""

    endpoint: OnlineEndpoint
    deployments: list[OnlineDeployment] = field(default_factory=list)


@dataclass(repr=False)
class EndpointList(Rendered):
    """Every endpoint of the workspace."""

    endpoints: list[OnlineEndpoint]
    target: str = ""


@dataclass(repr=False)
class TrafficResult(Rendered):
    """An endpoint's live and mirror traffic split."""

    endpoint: str
    traffic: dict[str, int]
    mirror_traffic: dict[str, int] = field(default_factory=dict)


@dataclass(repr=False)
class LogsResult(Rendered):
    """The last lines of a deployment's log."""

    endpoint: str
    deployment: str
    container: str
    content: str

    def __str__(self) -> str:
        return self.content


@dataclass(repr=False)
class KeysResult(Rendered):
    """An endpoint's keys, shown masked; ``.keys.primary_key`` reads one whole (explicitly)."""

    endpoint: str
    keys: EndpointKeys
    regenerated: str | None = None


@dataclass(repr=False)
class InvokeResult(Rendered):
    """A scoring answer: HTTP status, the parsed body, the deployment that answered, the time taken."""

    endpoint: str
    status: int
    body: Any
    deployment: str | None
    elapsed: float
    content_type: str = ""

    def json(self) -> Any:
        """The parsed JSON body (same as ``.body``)."""
        return self.body


@dataclass(repr=False)
class DeployResult(Rendered):
    """A finished (or started, with ``wait=False``) deployment, with what was registered for it."""

    endpoint: str
    deployment: OnlineDeployment
    assets: list[RegisteredAsset] = field(default_factory=list)
    environment_id: str | None = None
    traffic: dict[str, int] | None = None
    created_endpoint: bool = False
    elapsed: float = 0.0
    requests: int = 0
