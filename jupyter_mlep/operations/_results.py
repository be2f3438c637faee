"""The objects operations return to magics, the command line and code.

Each is a :class:`jupyter_mlep.rendering.Result`: it draws itself (``text()``, ``html()``), says
what it holds as JSON (``to_dict()``) and as the status output (``status()``, with its ``kind``).
Keys and tokens are never part of a representation.
"""

from __future__ import annotations

import html as _html
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..rendering import Result, Table, TableResult
from ..rest import RegisteredAsset, mask
from ..specs import OnlineDeployment, OnlineEndpoint
from ._debug import DebugAttach
from ._endpoints import EndpointKeys
from ._gates import Gate, GateCheck, Measurement, format_value
from ._traffic import format_split

__all__ = [
    "DeployResult",
    "EndpointDetails",
    "EndpointList",
    "InvokeResult",
    "KeysResult",
    "LogsResult",
    "RolloutResult",
    "RolloutStep",
    "TrafficResult",
]


_ENDPOINT_HEAD = ["name", "auth", "state", "traffic", "mirror", "scoring URI"]
_DEPLOYMENT_HEAD = ["deployment", "state", "instance type", "instances"]


def _endpoint_row(item: OnlineEndpoint) -> list[str]:
    return [
        item.name,
        item.auth_mode,
        str(item.provisioning_state or ""),
        format_split(item.traffic),
        format_split(item.mirror_traffic) if item.mirror_traffic else "",
        str(item.scoring_uri or ""),
    ]


def _deployment_row(item: OnlineDeployment) -> list[str]:
    return [
        item.name,
        str(item.provisioning_state or ""),
        str(item.instance_type or ""),
        str(item.instance_count),
    ]


@dataclass(repr=False)
class EndpointDetails(TableResult):
    """An endpoint and its deployments."""

    kind: ClassVar[str] = "endpoint"

    endpoint: OnlineEndpoint
    deployments: list[OnlineDeployment] = field(default_factory=list)

    def title(self) -> str:
        return f"Endpoint {self.endpoint.name}"

    def tables(self) -> list[Table]:
        return [
            (_ENDPOINT_HEAD, [_endpoint_row(self.endpoint)]),
            (_DEPLOYMENT_HEAD, [_deployment_row(d) for d in self.deployments]),
        ]

    def footer(self) -> list[tuple[str, bool]]:
        return [
            (f"{d.name} failed: {d.failure_reason.splitlines()[0]}", False)
            for d in self.deployments
            if d.failure_reason and d.provisioning_state == "Failed"
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.endpoint.to_yaml_dict(),
            "deployments": [d.to_yaml_dict() for d in self.deployments],
        }


@dataclass(repr=False)
class EndpointList(TableResult):
    """Every endpoint of the workspace."""

    kind: ClassVar[str] = "endpoints"

    endpoints: list[OnlineEndpoint]
    target: str = ""

    def title(self) -> str:
        return f"{len(self.endpoints)} online endpoint(s)" + (f" ({self.target})" if self.target else "")

    def tables(self) -> list[Table]:
        return [(_ENDPOINT_HEAD, [_endpoint_row(e) for e in self.endpoints])]

    def to_dict(self) -> dict[str, Any]:
        return {"endpoints": [e.to_yaml_dict() for e in self.endpoints]}


@dataclass(repr=False)
class TrafficResult(TableResult):
    """An endpoint's live and mirror traffic split."""

    kind: ClassVar[str] = "traffic"

    endpoint: str
    traffic: dict[str, int]
    mirror_traffic: dict[str, int] = field(default_factory=dict)

    def title(self) -> str:
        return f"Traffic of {self.endpoint}"

    def tables(self) -> list[Table]:
        names = sorted(set(self.traffic) | set(self.mirror_traffic))
        rows = [[n, f"{self.traffic.get(n, 0)}%", f"{self.mirror_traffic.get(n, 0)}%"] for n in names]
        return [(["deployment", "live", "mirror"], rows)]

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "traffic": self.traffic, "mirror_traffic": self.mirror_traffic}


@dataclass(repr=False)
class LogsResult(Result):
    """The last lines of a deployment's log."""

    kind: ClassVar[str] = "logs"

    endpoint: str
    deployment: str
    container: str
    content: str

    def __str__(self) -> str:
        return self.content

    def text(self) -> str:
        return self.content or f"(the {self.container} log of {self.deployment} is empty)"

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "deployment": self.deployment, "content": self.content}


@dataclass(repr=False)
class KeysResult(TableResult):
    """An endpoint's keys, shown masked; ``.keys.primary_key`` reads one whole (explicitly)."""

    kind: ClassVar[str] = "keys"

    endpoint: str
    keys: EndpointKeys
    regenerated: str | None = None

    def title(self) -> str:
        return f"Keys of {self.endpoint}" + (
            f" ({self.regenerated} key regenerated)" if self.regenerated else ""
        )

    def tables(self) -> list[Table]:
        rows = [["primary", mask(self.keys.primary_key)], ["secondary", mask(self.keys.secondary_key)]]
        return [(["key", "value"], rows)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "primary_key": mask(self.keys.primary_key),
            "secondary_key": mask(self.keys.secondary_key),
        }


@dataclass(repr=False)
class InvokeResult(Result):
    """A scoring answer: HTTP status, the parsed body, the deployment that answered, the time taken."""

    kind: ClassVar[str] = "invoke"

    endpoint: str
    status: int
    body: Any
    deployment: str | None
    elapsed: float
    content_type: str = ""

    def json(self) -> Any:
        """The parsed JSON body (same as ``.body``)."""
        return self.body

    def text(self) -> str:
        who = f" from {self.deployment}" if self.deployment else ""
        body = self.body if isinstance(self.body, (str, bytes)) else json.dumps(self.body)
        return f"{self.status}{who} in {self.elapsed * 1000:.0f} ms: {body!s}"

    def html(self) -> str:
        esc = _html.escape
        body = self.body if isinstance(self.body, (str, bytes)) else json.dumps(self.body, indent=1)
        who = f" from <b>{esc(self.deployment)}</b>" if self.deployment else ""
        return (
            f"<div><span>{self.status}{who} in {self.elapsed * 1000:.0f} ms</span>"
            f"<pre>{esc(str(body))}</pre></div>"
        )

    def to_dict(self) -> dict[str, Any]:
        body = self.body.decode("latin-1") if isinstance(self.body, bytes) else self.body
        return {"status": self.status, "deployment": self.deployment, "elapsed": self.elapsed, "body": body}


@dataclass(repr=False)
class DeployResult(TableResult):
    """A finished (or started, with ``wait=False``) deployment, with what was registered for it.

    ``warnings`` are what the service warned about while preparing it (the conda file asks for
    another Python, the image is not used by the process runtime…), shown under the table.
    """

    kind: ClassVar[str] = "deploy"

    endpoint: str
    deployment: OnlineDeployment
    assets: list[RegisteredAsset] = field(default_factory=list)
    environment_id: str | None = None
    traffic: dict[str, int] | None = None
    created_endpoint: bool = False
    elapsed: float = 0.0
    requests: int = 0
    warnings: list[str] = field(default_factory=list)
    debug: DebugAttach | None = None

    def title(self) -> str:
        d = self.deployment
        return f"Deployment {d.name} of {self.endpoint}: {d.provisioning_state} in {self.elapsed:.1f} s"

    def tables(self) -> list[Table]:
        tables: list[Table] = [(_DEPLOYMENT_HEAD, [_deployment_row(self.deployment)])]
        if self.assets:
            assets = [
                [a.name, a.version, "reused" if a.reused else f"uploaded {a.uploaded_bytes} B"]
                for a in self.assets
            ]
            tables.append((["asset", "version", "files"], assets))
        return tables

    def footer(self) -> list[tuple[str, bool]]:
        lines = [(f"Warning: {warning}", True) for warning in self.warnings]
        if self.traffic is not None:
            lines.append((f"Traffic: {format_split(self.traffic)}", False))
        if self.debug is not None:
            lines += [(line, index == 0) for index, line in enumerate(self.debug.lines())]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "deployment": self.deployment.to_yaml_dict(),
            "traffic": self.traffic,
            "warnings": list(self.warnings),
            "elapsed": self.elapsed,
            "requests": self.requests,
            "assets": [{"name": a.name, "version": a.version, "reused": a.reused} for a in self.assets],
            **({"debug": self.debug.to_dict()} if self.debug is not None else {}),
        }


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

    def measured_text(self) -> str:
        """``20 request(s), error_rate 0%, p95 12 ms (router)``: what the step measured, in one line."""
        m = self.measurement
        if m is None:
            return ""
        parts = [f"{m.requests} request(s)"]
        if m.requests:
            parts.append(f"error_rate {format_value('error_rate', m.error_rate)}")
            parts.append(f"p95 {format_value('p95_ms', m.p95_ms)}")
        return ", ".join(parts) + f" ({m.source})"

    def row(self) -> list[str]:
        """The step as a row of the rollout's table."""
        gates = "; ".join(("ok: " if c.passed else "FAILED: ") + c.message for c in self.checks)
        if self.reason and self.state == "failed" and self.reason not in gates:
            gates = "; ".join(part for part in (gates, self.reason) if part)
        return [
            self.label,
            format_split(self.traffic, zeros=False),
            format_split(self.mirror_traffic, zeros=False),
            self.state,
            self.measured_text(),
            gates,
        ]

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
class RolloutResult(TableResult):
    """A progressive rollout: its steps, the gates and what they measured, the traffic before and
    after, and whether it was rolled back to the original split.

    ``outcome`` is ``succeeded``, ``running``, ``failed`` (a gate was not met), ``interrupted``
    (Ctrl-C) or ``error`` (something else went wrong; ``reason`` says what).
    """

    kind: ClassVar[str] = "rollout"

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

    def title(self) -> str:
        gates = ", ".join(str(gate) for gate in self.gates) or "none"
        outcome = "stopped by an error" if self.outcome == "error" else self.outcome
        return (
            f"Rollout of {self.deployment} on {self.endpoint}: {outcome} in {self.elapsed:.1f} s "
            f"(gates: {gates}; {self.interval:g} s per step)"
        )

    def tables(self) -> list[Table]:
        return [(["step", "live", "mirror", "state", "measured", "gates"], [s.row() for s in self.steps])]

    def footer(self) -> list[tuple[str, bool]]:
        final = format_split(self.final_traffic, zeros=False)
        if self.rolled_back:
            where = (
                f"Traffic restored to the original split: {format_split(self.original_traffic, zeros=False)}"
            )
        elif self.outcome in ("succeeded", "running"):
            where = f"Traffic: {final}"
        else:
            where = f"Traffic: {final} (not restored)"
        lines = [(where, False)]
        if self.reason:
            step = self.failed_step
            reason = f"Stopped at {step.label}: {self.reason}" if step is not None else self.reason
            lines.append((reason, True))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "outcome": self.outcome,
            "succeeded": self.succeeded,
            "rolled_back": self.rolled_back,
            "reason": self.reason,
            "gates": [str(gate) for gate in self.gates],
            "interval": self.interval,
            "original_traffic": self.original_traffic,
            "original_mirror_traffic": self.original_mirror_traffic,
            "traffic": self.final_traffic,
            "mirror_traffic": self.final_mirror_traffic,
            "steps": [step.to_dict() for step in self.steps],
            "elapsed": round(self.elapsed, 3),
        }
