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
from ._gates import Gate, GateCheck, Measurement

__all__ = [
    "DeployResult",
    "EndpointDetails",
    "EndpointList",
    "InvokeResult",
    "KeysResult",
    "LogsResult",
    "Rendered",
    "RolloutResult",
    "RolloutStep",
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


def split_text(values: dict[str, int] | None) -> str:
    """``blue=90% green=10%`` (only the deployments with a share); ``none`` when empty."""
    shown = [f"{name}={value}%" for name, value in (values or {}).items() if value]
    return " ".join(shown) or "none"


@dataclass(repr=False)
class RolloutStep:
    """One step of a rollout: the split it set, its state and what its gates measured.

    ``index`` is 0 for the mirror step (``mirror`` True) and 1, 2, … for the live steps. ``state``
    is ``pending``, ``running``, ``passed``, ``failed`` or ``rolled back`` (a step whose split was
    undone by the restore).
    """

    index: int
    deployment: str
    percent: int
    traffic: dict[str, int]
    mirror_traffic: dict[str, int]
    mirror: bool = False
    state: str = "pending"
    measurement: Measurement | None = None
    checks: list[GateCheck] = field(default_factory=list)
    reason: str = ""
    elapsed: float = 0.0

    @property
    def label(self) -> str:
        """``step 2 (green=50%)`` or ``mirror step (green mirrored 10%)``."""
        if self.mirror:
            return f"mirror step ({self.deployment} mirrored {self.percent}%)"
        return f"step {self.index} ({self.deployment}={self.percent}%)"

    def __repr__(self) -> str:
        return f"<RolloutStep {self.label}: {self.state}>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "index": self.index,
            "label": self.label,
            "percent": self.percent,
            "mirror": self.mirror,
            "traffic": dict(self.traffic),
            "mirror_traffic": dict(self.mirror_traffic),
            "state": self.state,
            "measurement": self.measurement.to_dict() if self.measurement else None,
            "gates": [check.to_dict() for check in self.checks],
            "reason": self.reason,
            "elapsed": round(self.elapsed, 3),
        }


@dataclass(repr=False)
class RolloutResult(Rendered):
    """A progressive rollout: its steps, the gates and what they measured, the traffic before and
    after, and whether it was rolled back to the original split.

    ``outcome`` is ``succeeded``, ``running``, ``failed`` (a gate was not met), ``interrupted``
    (Ctrl-C) or ``error`` (something else went wrong; ``reason`` says what).
    """

    endpoint: str
    deployment: str
    steps: list[RolloutStep]
    gates: list[Gate] = field(default_factory=list)
    interval: float = 0.0
    original_traffic: dict[str, int] = field(default_factory=dict)
    original_mirror_traffic: dict[str, int] = field(default_factory=dict)
    final_traffic: dict[str, int] = field(default_factory=dict)
    final_mirror_traffic: dict[str, int] = field(default_factory=dict)
    outcome: str = "running"
    rolled_back: bool = False
    reason: str = ""
    elapsed: float = 0.0

    @property
    def succeeded(self) -> bool:
        """Whether every step passed."""
        return self.outcome == "succeeded"

    @property
    def failed_step(self) -> RolloutStep | None:
        """The step that failed (or was running when the rollout stopped), if any."""
        for step in self.steps:
            if step.state == "failed":
                return step
        return None
