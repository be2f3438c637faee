"""Text, HTML and JSON renderings of the operation results (the one place results are drawn)."""

from __future__ import annotations

import html as _html
import json
from typing import Any

from ..rest import mask
from ..specs import OnlineDeployment, OnlineEndpoint
from ._gates import format_value
from ._results import (
    DeployResult,
    EndpointDetails,
    EndpointList,
    InvokeResult,
    KeysResult,
    LogsResult,
    RolloutResult,
    RolloutStep,
    TrafficResult,
    split_text,
)

__all__ = ["STATUS_MIME", "html", "measured_text", "mimebundle", "status", "table", "text", "to_dict"]

STATUS_MIME = "application/vnd.jupyter-mlep.status+json"
"""The machine-readable status output, always shown next to text and HTML (never alone)."""

_KINDS = {
    EndpointList: "endpoints",
    EndpointDetails: "endpoint",
    TrafficResult: "traffic",
    LogsResult: "logs",
    KeysResult: "keys",
    InvokeResult: "invoke",
    DeployResult: "deploy",
    RolloutResult: "rollout",
}


def _split(values: dict[str, int] | None) -> str:
    return ", ".join(f"{name}={value}%" for name, value in (values or {}).items()) or "none"


def _endpoint_row(item: OnlineEndpoint) -> list[str]:
    return [
        item.name,
        item.auth_mode,
        str(item.provisioning_state or ""),
        _split(item.traffic),
        _split(item.mirror_traffic) if item.mirror_traffic else "",
        str(item.scoring_uri or ""),
    ]


def _deployment_row(item: OnlineDeployment) -> list[str]:
    return [
        item.name,
        str(item.provisioning_state or ""),
        str(item.instance_type or ""),
        str(item.instance_count),
    ]


_ENDPOINT_HEAD = ["name", "auth", "state", "traffic", "mirror", "scoring URI"]
_DEPLOYMENT_HEAD = ["deployment", "state", "instance type", "instances"]


def _tables(result: Any) -> tuple[str, list[tuple[list[str], list[list[str]]]]]:
    """A title and the tables (head, rows) of a result."""
    if isinstance(result, EndpointList):
        title = f"{len(result.endpoints)} online endpoint(s)" + (
            f" ({result.target})" if result.target else ""
        )
        return title, [(_ENDPOINT_HEAD, [_endpoint_row(e) for e in result.endpoints])]
    if isinstance(result, EndpointDetails):
        return f"Endpoint {result.endpoint.name}", [
            (_ENDPOINT_HEAD, [_endpoint_row(result.endpoint)]),
            (_DEPLOYMENT_HEAD, [_deployment_row(d) for d in result.deployments]),
        ]
    if isinstance(result, TrafficResult):
        names = sorted(set(result.traffic) | set(result.mirror_traffic))
        rows = [[n, f"{result.traffic.get(n, 0)}%", f"{result.mirror_traffic.get(n, 0)}%"] for n in names]
        return f"Traffic of {result.endpoint}", [(["deployment", "live", "mirror"], rows)]
    if isinstance(result, KeysResult):
        title = f"Keys of {result.endpoint}" + (
            f" ({result.regenerated} key regenerated)" if result.regenerated else ""
        )
        rows = [["primary", mask(result.keys.primary_key)], ["secondary", mask(result.keys.secondary_key)]]
        return title, [(["key", "value"], rows)]
    if isinstance(result, DeployResult):
        d = result.deployment
        rows = [_deployment_row(d)]
        title = f"Deployment {d.name} of {result.endpoint}: {d.provisioning_state} in {result.elapsed:.1f} s"
        tables = [(_DEPLOYMENT_HEAD, rows)]
        if result.assets:
            assets = [
                [a.name, a.version, "reused" if a.reused else f"uploaded {a.uploaded_bytes} B"]
                for a in result.assets
            ]
            tables.append((["asset", "version", "files"], assets))
        return title, tables
    if isinstance(result, RolloutResult):
        return _rollout_title(result), [(_ROLLOUT_HEAD, [_rollout_row(step) for step in result.steps])]
    raise TypeError(f"cannot render {type(result).__name__}")


_ROLLOUT_HEAD = ["step", "live", "mirror", "state", "measured", "gates"]


def _rollout_title(result: RolloutResult) -> str:
    gates = ", ".join(str(gate) for gate in result.gates) or "none"
    outcome = {
        "succeeded": "succeeded",
        "running": "running",
        "failed": "failed",
        "interrupted": "interrupted",
        "error": "stopped by an error",
    }.get(result.outcome, result.outcome)
    return (
        f"Rollout of {result.deployment} on {result.endpoint}: {outcome} in {result.elapsed:.1f} s "
        f"(gates: {gates}; {result.interval:g} s per step)"
    )


def measured_text(step: RolloutStep) -> str:
    """``20 request(s), error_rate 0%, p95 12 ms (router)``: what a step measured, in one line."""
    m = step.measurement
    if m is None:
        return ""
    parts = [f"{m.requests} request(s)"]
    if m.requests:
        parts.append(f"error_rate {format_value('error_rate', m.error_rate)}")
        parts.append(f"p95 {format_value('p95_ms', m.p95_ms)}")
    return ", ".join(parts) + f" ({m.source})"


def _rollout_row(step: RolloutStep) -> list[str]:
    gates = "; ".join(("ok: " if c.passed else "FAILED: ") + c.message for c in step.checks)
    if step.reason and step.state == "failed" and step.reason not in gates:
        gates = "; ".join(part for part in (gates, step.reason) if part)
    return [
        step.label,
        split_text(step.traffic),
        split_text(step.mirror_traffic),
        step.state,
        measured_text(step),
        gates,
    ]


def _rollout_reason(result: RolloutResult) -> str:
    step = result.failed_step
    return f"Stopped at {step.label}: {result.reason}" if step is not None else result.reason


def _rollout_footer(result: RolloutResult) -> str:
    if result.rolled_back:
        return f"Traffic restored to the original split: {split_text(result.original_traffic)}"
    if result.outcome in ("succeeded", "running"):
        return f"Traffic: {split_text(result.final_traffic)}"
    return f"Traffic: {split_text(result.final_traffic)} (not restored)"


def _text_table(head: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "(none)"
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table(result: Any) -> str:
    """The result as plain-text tables (``--output table``)."""
    return text(result)


def text(result: Any) -> str:
    """The plain-text representation."""
    if isinstance(result, InvokeResult):
        who = f" from {result.deployment}" if result.deployment else ""
        body = result.body if isinstance(result.body, (str, bytes)) else json.dumps(result.body)
        return f"{result.status}{who} in {result.elapsed * 1000:.0f} ms: {body!s}"
    if isinstance(result, LogsResult):
        return result.content or f"(the {result.container} log of {result.deployment} is empty)"
    title, tables = _tables(result)
    extra = ""
    if isinstance(result, DeployResult) and result.traffic is not None:
        extra = f"\nTraffic: {_split(result.traffic)}"
    if isinstance(result, RolloutResult):
        extra = "\n" + _rollout_footer(result) + (f"\n{_rollout_reason(result)}" if result.reason else "")
    return title + "\n" + "\n\n".join(_text_table(h, r) for h, r in tables) + extra


def html(result: Any) -> str:
    """The HTML representation."""
    esc = _html.escape
    if isinstance(result, InvokeResult):
        body = result.body if isinstance(result.body, (str, bytes)) else json.dumps(result.body, indent=1)
        who = f" from <b>{esc(result.deployment)}</b>" if result.deployment else ""
        return (
            f"<div><span>{result.status}{who} in {result.elapsed * 1000:.0f} ms</span>"
            f"<pre>{esc(str(body))}</pre></div>"
        )
    if isinstance(result, LogsResult):
        return f"<pre>{esc(text(result))}</pre>"
    title, tables = _tables(result)
    parts = [f"<div><b>{esc(title)}</b>"]
    for head, rows in tables:
        parts.append(
            "<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>"
        )
        parts += ["<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</tbody></table>")
    if isinstance(result, DeployResult) and result.traffic is not None:
        parts.append(f"<div>Traffic: {esc(_split(result.traffic))}</div>")
    if isinstance(result, RolloutResult):
        parts.append(f"<div>{esc(_rollout_footer(result))}</div>")
        if result.reason:
            parts.append(f"<div><b>{esc(_rollout_reason(result))}</b></div>")
    return "".join(parts) + "</div>"


def _endpoint_dict(item: OnlineEndpoint) -> dict[str, Any]:
    return item.to_yaml_dict()


def to_dict(result: Any) -> dict[str, Any]:
    """A JSON-ready summary (no secrets)."""
    if isinstance(result, EndpointList):
        return {"endpoints": [_endpoint_dict(e) for e in result.endpoints]}
    if isinstance(result, EndpointDetails):
        return {
            **_endpoint_dict(result.endpoint),
            "deployments": [d.to_yaml_dict() for d in result.deployments],
        }
    if isinstance(result, TrafficResult):
        return {
            "endpoint": result.endpoint,
            "traffic": result.traffic,
            "mirror_traffic": result.mirror_traffic,
        }
    if isinstance(result, LogsResult):
        return {"endpoint": result.endpoint, "deployment": result.deployment, "content": result.content}
    if isinstance(result, KeysResult):
        return {
            "endpoint": result.endpoint,
            "primary_key": mask(result.keys.primary_key),
            "secondary_key": mask(result.keys.secondary_key),
        }
    if isinstance(result, InvokeResult):
        body = result.body.decode("latin-1") if isinstance(result.body, bytes) else result.body
        return {
            "status": result.status,
            "deployment": result.deployment,
            "elapsed": result.elapsed,
            "body": body,
        }
    if isinstance(result, DeployResult):
        return {
            "endpoint": result.endpoint,
            "deployment": result.deployment.to_yaml_dict(),
            "traffic": result.traffic,
            "elapsed": result.elapsed,
            "requests": result.requests,
            "assets": [{"name": a.name, "version": a.version, "reused": a.reused} for a in result.assets],
        }
    if isinstance(result, RolloutResult):
        return {
            "endpoint": result.endpoint,
            "deployment": result.deployment,
            "outcome": result.outcome,
            "succeeded": result.succeeded,
            "rolled_back": result.rolled_back,
            "reason": result.reason,
            "gates": [str(gate) for gate in result.gates],
            "interval": result.interval,
            "original_traffic": result.original_traffic,
            "original_mirror_traffic": result.original_mirror_traffic,
            "traffic": result.final_traffic,
            "mirror_traffic": result.final_mirror_traffic,
            "steps": [step.to_dict() for step in result.steps],
            "elapsed": round(result.elapsed, 3),
        }
    raise TypeError(f"cannot render {type(result).__name__}")


def status(result: Any) -> dict[str, Any]:
    """The status output: ``{"kind": …}`` and the JSON summary (what recipes and tests assert on)."""
    return {"kind": _KINDS[type(result)], **to_dict(result)}


def mimebundle(result: Any) -> dict[str, Any]:
    """Text, HTML and the status output of a result."""
    return {"text/plain": text(result), "text/html": html(result), STATUS_MIME: status(result)}
