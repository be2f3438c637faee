"""The kinds of resource the Endpoints panel lists: a registry, one entry per kind.

Each :class:`PanelKind` reads its resources through :mod:`jupyter_mlep.operations` and turns them
into plain items the panel draws without knowing the kind: a name, a state, details, optional
traffic bars, children, the actions it offers and the equivalent magic ("Insert as cell"). A new
kind is one :func:`register` call; the panel's code does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from .. import operations as ops
from ..rest import RestClient
from ..specs import BatchDeployment, BatchEndpoint, OnlineDeployment, OnlineEndpoint

__all__ = ["PanelKind", "get_kind", "kinds", "register"]

Item = dict[str, Any]
"""One row of the panel (JSON): ``kind``, ``name``, ``state``, ``details``, ``bars``, ``children``,
``actions``, ``magic`` and, for children, ``parent``."""


@dataclass(frozen=True)
class PanelKind:
    """One kind the panel lists: how to read its items, delete one and follow its log."""

    name: str
    """The az ml noun (``online-endpoint``, ``job``…): the section's key."""
    title: str
    """The section's heading."""
    read: Callable[[RestClient], list[Item]]
    """The items of the current target, newest or by name."""
    delete: Callable[[RestClient, str, str | None], None] | None = None
    """Delete the item ``name`` (of ``parent``); None: the kind cannot be deleted from the panel."""
    follow: Callable[[RestClient, str, str | None], Generator[list[str], None, None]] | None = None
    """New log lines of ``name`` (of ``parent``), one list per poll; None: no logs."""
    section: bool = True
    """Whether the panel shows a section of its own (False: listed under their parent)."""


_REGISTRY: dict[str, PanelKind] = {}


def register(kind: PanelKind) -> PanelKind:
    """Add ``kind`` to the panel (replacing one of the same name); returns it."""
    _REGISTRY[kind.name] = kind
    return kind


def kinds() -> list[PanelKind]:
    """The registered kinds, in registration order (the panel's sections)."""
    return list(_REGISTRY.values())


def get_kind(name: str) -> PanelKind:
    """The registered kind ``name``; KeyError naming the known ones otherwise."""
    if name not in _REGISTRY:
        raise KeyError(f"Unknown kind {name!r}: the panel lists {', '.join(_REGISTRY)}.")
    return _REGISTRY[name]


# -- online endpoints and their deployments --------------------------------------------------------


def _deployment_item(endpoint: OnlineEndpoint, deployment: OnlineDeployment) -> Item:
    return {
        "kind": "online-deployment",
        "name": deployment.name,
        "parent": endpoint.name,
        "state": deployment.provisioning_state or "",
        "details": [
            ["instances", str(deployment.instance_count)],
            ["instance type", deployment.instance_type or ""],
            ["runtime", str((deployment.properties or {}).get("mlep.runtime") or "")],
            *([["failure", deployment.failure_reason]] if deployment.failure_reason else []),
        ],
        "bars": [
            {
                "label": deployment.name,
                "live": int((endpoint.traffic or {}).get(deployment.name, 0)),
                "mirror": int((endpoint.mirror_traffic or {}).get(deployment.name, 0)),
            }
        ],
        "children": [],
        "actions": ["logs", "delete", "insert"],
        "magic": f"%endpoint logs {endpoint.name} {deployment.name}",
    }


def _endpoints(client: RestClient) -> list[Item]:
    items = []
    for endpoint in sorted(ops.list_endpoints(client), key=lambda e: e.name):
        deployments = sorted(ops.list_deployments(client, endpoint.name), key=lambda d: d.name)
        items.append(
            {
                "kind": "online-endpoint",
                "name": endpoint.name,
                "state": endpoint.provisioning_state or "",
                "details": [
                    ["auth", endpoint.auth_mode],
                    ["traffic", ops.format_split(endpoint.traffic)],
                    *(
                        [["mirror", ops.format_split(endpoint.mirror_traffic)]]
                        if endpoint.mirror_traffic
                        else []
                    ),
                ],
                "bars": [],
                "children": [_deployment_item(endpoint, d) for d in deployments],
                "actions": ["invoke", "traffic", "keys", "delete", "insert"],
                "magic": f"%endpoint show {endpoint.name}",
            }
        )
    return items


def _delete_endpoint(client: RestClient, name: str, parent: str | None) -> None:
    ops.delete_endpoint(client, name)


def _delete_deployment(client: RestClient, name: str, parent: str | None) -> None:
    ops.delete_deployment(client, str(parent), name)


def _follow_deployment(client: RestClient, name: str, parent: str | None) -> Generator[list[str], None, None]:
    follower = ops.LogFollower(client, str(parent), name)
    while True:
        yield follower.poll()


# -- batch endpoints and their deployments ---------------------------------------------------------


def _batch_deployment_item(endpoint: BatchEndpoint, deployment: BatchDeployment) -> Item:
    default = endpoint.defaults is not None and endpoint.defaults.deployment_name == deployment.name
    instances = deployment.resources.instance_count if deployment.resources else 1
    return {
        "kind": "batch-deployment",
        "name": deployment.name,
        "parent": endpoint.name,
        "state": deployment.provisioning_state or "",
        "details": [
            ["default", "yes" if default else "no"],
            ["instances", f"{instances} × {deployment.max_concurrency_per_instance} worker(s)"],
            ["mini-batch", f"{deployment.mini_batch_size} file(s)"],
        ],
        "bars": [],
        "children": [],
        "actions": ["delete", "insert"],
        "magic": f"%batch invoke {endpoint.name} --deployment {deployment.name} --input ./data",
    }


def _batch_endpoints(client: RestClient) -> list[Item]:
    items = []
    for endpoint in sorted(ops.list_batch_endpoints(client).endpoints, key=lambda e: e.name):
        deployments = sorted(ops.list_batch_deployments(client, endpoint.name), key=lambda d: d.name)
        default = endpoint.defaults.deployment_name if endpoint.defaults else None
        items.append(
            {
                "kind": "batch-endpoint",
                "name": endpoint.name,
                "state": endpoint.provisioning_state or "",
                "details": [["default deployment", default or "none"]],
                "bars": [],
                "children": [_batch_deployment_item(endpoint, d) for d in deployments],
                "actions": ["delete", "insert"],
                "magic": f"%batch jobs {endpoint.name}",
            }
        )
    return items


def _delete_batch_endpoint(client: RestClient, name: str, parent: str | None) -> None:
    ops.delete_batch_endpoint(client, name)


def _delete_batch_deployment(client: RestClient, name: str, parent: str | None) -> None:
    ops.delete_batch_endpoint(client, str(parent), deployment=name)


# -- jobs and sweeps ---------------------------------------------------------------------------

JOBS_SHOWN = 25
"""The newest jobs (and sweeps) the panel shows."""


def _duration(job: ops.JobDetails) -> str:
    seconds = job.duration
    if seconds is None:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{seconds:.1f} s"


def _job_item(job: ops.JobDetails, kind: str, metric: str = "") -> Item:
    return {
        "kind": kind,
        "name": job.name,
        "state": job.status,
        "details": [
            ["experiment", job.experiment],
            ["duration", _duration(job)],
            *([["metric", metric]] if metric else []),
        ],
        "bars": [],
        "children": [],
        "actions": ["logs", "insert"],
        "magic": f"%job show {job.name}",
    }


_ENDED: dict[tuple[str, str], ops.JobDetails] = {}
"""Ended jobs as :func:`~jupyter_mlep.operations.get_job` described them (they do not change)."""


def _detailed(client: RestClient, job: ops.JobDetails) -> ops.JobDetails:
    """``job`` with its run history's times (read once for an ended job, at each read for a running one)."""
    key = (client.paths.workspace, job.name)
    if key in _ENDED:
        return _ENDED[key]
    detailed = ops.get_job(client, job.name)
    if detailed.ended:
        _ENDED[key] = detailed
    return detailed


def _jobs(client: RestClient, *, sweeps: bool) -> list[ops.JobDetails]:
    jobs = [job for job in ops.list_jobs(client).jobs if (job.job_type == "Sweep") == sweeps][:JOBS_SHOWN]
    return [_detailed(client, job) for job in jobs]


def _command_jobs(client: RestClient) -> list[Item]:
    return [_job_item(job, "job") for job in _jobs(client, sweeps=False)]


def _sweep_metric(client: RestClient, name: str) -> str:
    sweep = ops.get_sweep(client, name)
    best = "" if sweep.score is None else f" best {sweep.score:.6g}"
    return f"{sweep.metric} ({sweep.goal}){best}"


def _sweeps(client: RestClient) -> list[Item]:
    return [_job_item(job, "sweep", _sweep_metric(client, job.name)) for job in _jobs(client, sweeps=True)]


def _follow_job(client: RestClient, name: str, parent: str | None) -> Generator[list[str], None, None]:
    seen = 0
    while True:
        lines = "\n".join(ops.get_job_logs(client, name).logs.values()).splitlines()
        if len(lines) < seen:  # another log file came first: start again
            seen = 0
        yield lines[seen:]
        seen = len(lines)


register(
    PanelKind(
        "online-endpoint",
        "Online endpoints",
        _endpoints,
        delete=_delete_endpoint,
    )
)
register(
    PanelKind(
        "online-deployment",
        "Deployments",
        lambda client: [],  # listed under their endpoint
        delete=_delete_deployment,
        follow=_follow_deployment,
        section=False,
    )
)
register(PanelKind("batch-endpoint", "Batch endpoints", _batch_endpoints, delete=_delete_batch_endpoint))
register(
    PanelKind(
        "batch-deployment",
        "Batch deployments",
        lambda client: [],  # listed under their endpoint
        delete=_delete_batch_deployment,
        section=False,
    )
)
register(PanelKind("job", "Jobs", _command_jobs, follow=_follow_job))
register(PanelKind("sweep", "Sweeps", _sweeps, follow=_follow_job))
