"""Computes: the Kubernetes compute standing for this machine (``inferencecompute``; Kubernetes online
endpoints name it in ``properties.compute``, see :mod:`.kubernetes`), and the compute clusters
(``AmlCompute``) and compute instances (``ComputeInstance``) users create.

``Compute_CreateOrUpdate`` (PUT) answers 201 with ``Azure-AsyncOperation`` for a new compute and
200 for a replaced one, then provisions it in the background (``provisioningState`` Creating →
Succeeded); ``Compute_Delete`` (DELETE, ``underlyingResourceAction=Delete|Detach``) answers 202 and
removes it. A compute's ``vmSize`` must be a size of :data:`VM_SIZES` (any case, as Azure); an
unknown compute is a 404. Nothing is allocated: the local workspace runs everything on this
machine, and a compute only bounds how many jobs run at once (:func:`compute_concurrency`).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from starlette.responses import Response

from .._errors import SpecError
from ..specs import VM_SIZES, parse_duration, validate_compute_name
from ._render import envelope, page
from .arm import LOCATION, ArmError, bad_request, json_response, not_found, system_data
from .context import Call, Workspace
from .kubernetes import KUBERNETES_COMPUTE, compute_properties
from .lro import OperationRunner
from .store import Record
from .validation import _spec_rule, canonical, optional_dict

__all__ = ["VM_SIZES", "compute_concurrency", "compute_name", "find_compute", "render_compute"]

TYPE = "Microsoft.MachineLearningServices/workspaces/computes"


def compute_name() -> str:
    """The name of this machine's compute: ``inferencecompute``, as the azureml-examples Kubernetes
    endpoint YAML names its compute."""
    return KUBERNETES_COMPUTE


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def render_compute(ws: Workspace) -> dict[str, Any]:
    """The ``ComputeResource`` of this machine."""
    name = compute_name()
    started = ws.store.secret("created-at") or "1970-01-01T00:00:00.000Z"
    cores = os.cpu_count() or 1
    memory = _memory_gb()
    return {
        "id": ws.arm_id(f"computes/{name}"),
        "name": name,
        "type": TYPE,
        "location": LOCATION,
        "tags": {},
        "systemData": system_data(started, started),
        "properties": {
            "computeType": "Kubernetes",
            "computeLocation": LOCATION,
            "description": f"This machine ({socket.gethostname()}): {cores} cores"
            + (f", {memory} GB memory" if memory else ""),
            "provisioningState": "Succeeded",
            "createdOn": started,
            "modifiedOn": started,
            "isAttachedCompute": True,
            "disableLocalAuth": False,
            "properties": compute_properties(),
        },
    }


KIND = "compute"
COMPUTE_TYPES = ("AmlCompute", "ComputeInstance")
"""The compute types users create here (the Kubernetes compute is this machine's own)."""


def _machine_cores() -> int:
    return os.cpu_count() or 1


def _size(value: object) -> str:
    """The VM size in its canonical spelling (any case, as Azure accepts it); 400 when unknown."""
    if isinstance(value, str):
        for name in VM_SIZES:
            if name.lower() == value.strip().lower():
                return name
    raise bad_request(
        f"The VM size {value!r} is not supported. Supported sizes: {', '.join(VM_SIZES)}.",
        target="properties.properties.vmSize",
        code="InvalidVmSize",
    )


def compute_path(name: str) -> str:
    """The path of a compute below the workspace."""
    return f"computes/{name}"


def find_compute(ws: Workspace, name: str) -> Record | None:
    """The stored compute ``name`` (AmlCompute or ComputeInstance), or None."""
    return ws.store.get(compute_path(name))


def compute_concurrency(ws: Workspace, name: str) -> int | None:
    """How many jobs the compute ``name`` may run at once on this machine; None when the workspace has
    no such compute (the job's compute does not exist: Azure fails such a job).

    * a compute cluster (AmlCompute): one job per node, ``maxNodeCount`` nodes;
    * a compute instance: one job per vCPU of its ``vmSize`` (:data:`VM_SIZES`);
    * the Kubernetes compute ``inferencecompute``: one job per core of this machine.

    Every figure is bounded by this machine's cores (``os.cpu_count()``) and is at least 1. The
    name is matched case-insensitively, as ARM does; a compute still being created or deleted
    counts as it is stored.
    """
    cores = _machine_cores()
    if name.lower() == compute_name().lower():
        return cores
    record = find_compute(ws, name)
    if record is None:
        return None
    props = record.body["properties"]
    inner = props.get("properties") or {}
    if props.get("computeType") == "AmlCompute":
        wanted = int((inner.get("scaleSettings") or {}).get("maxNodeCount") or 1)
    else:
        wanted = VM_SIZES.get(str(inner.get("vmSize")), (1, 0.0))[0]
    return max(1, min(wanted, cores))


def _render_stored(ws: Workspace, record: Record) -> dict[str, Any]:
    body = envelope(ws, record, TYPE)
    props = body["properties"]
    inner = props.get("properties") or {}
    if props.get("computeType") == "AmlCompute":
        scale = inner.get("scaleSettings") or {}
        inner.update(
            {
                "allocationState": "Steady",
                "allocationStateTransitionTime": record.modified_at,
                "currentNodeCount": scale.get("minNodeCount", 0),
                "targetNodeCount": scale.get("minNodeCount", 0),
                "nodeStateCounts": {
                    "idleNodeCount": scale.get("minNodeCount", 0),
                    "runningNodeCount": 0,
                    "preparingNodeCount": 0,
                    "unusableNodeCount": 0,
                    "leavingNodeCount": 0,
                    "preemptedNodeCount": 0,
                },
                "errors": None,
            }
        )
    else:
        inner["state"] = "Running" if props.get("provisioningState") == "Succeeded" else "Creating"
        inner.setdefault(
            "connectivityEndpoints", {"publicIpAddress": "127.0.0.1", "privateIpAddress": "127.0.0.1"}
        )
    props["properties"] = inner
    props["createdOn"] = record.created_at
    props["modifiedOn"] = record.modified_at
    return body


def _duration(value: object, target: str) -> None:
    try:
        if not isinstance(value, str):
            raise SpecError("not text")
        parse_duration(value)
    except SpecError:
        raise bad_request(
            f"'{target}' must be an ISO 8601 duration such as PT2M (got {value!r}).", target=target
        ) from None


def _check_body(body: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(computeType, properties, properties.properties) of a PUT body; 400 when invalid."""
    props = optional_dict(body, "properties", "")
    if not props:
        raise bad_request("The field 'properties' is required.", target="properties")
    kind = props.get("computeType")
    if isinstance(kind, str) and kind.lower() == "kubernetes":
        raise bad_request(
            f"Kubernetes computes are attached, not created: this workspace has one, '{compute_name()}' "
            "(this machine).",
            target="properties.computeType",
        )
    kind = canonical(kind, COMPUTE_TYPES, "properties.computeType", required=True)
    inner = dict(optional_dict(props, "properties", "properties."))
    inner["vmSize"] = _size(inner.get("vmSize") or "Standard_DS3_v2")
    if kind == "AmlCompute":
        scale = optional_dict(inner, "scaleSettings", "properties.properties.")
        if not scale:
            raise bad_request(
                "An AmlCompute needs 'properties.properties.scaleSettings' with 'maxNodeCount'.",
                target="properties.properties.scaleSettings",
            )
        counts = {}
        for key, default in (("maxNodeCount", None), ("minNodeCount", 0)):
            value = scale.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad_request(
                    f"'scaleSettings.{key}' must be a whole number of 0 or more (got {value!r}).",
                    target=f"properties.properties.scaleSettings.{key}",
                )
            counts[key] = value
        if counts["minNodeCount"] > counts["maxNodeCount"]:
            raise bad_request(
                f"'scaleSettings.minNodeCount' ({counts['minNodeCount']}) is more than 'maxNodeCount' "
                f"({counts['maxNodeCount']}).",
                target="properties.properties.scaleSettings",
            )
        idle = scale.get("nodeIdleTimeBeforeScaleDown")
        if idle is not None:
            _duration(idle, "properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown")
        inner["scaleSettings"] = {**scale, **counts}
        inner["vmPriority"] = canonical(
            inner.get("vmPriority") or "Dedicated", ("Dedicated", "LowPriority"), "vmPriority"
        )
        if inner.get("osType") is not None:
            inner["osType"] = canonical(inner["osType"], ("Linux", "Windows"), "osType")
    else:
        policy = inner.get("applicationSharingPolicy") or "Shared"
        inner["applicationSharingPolicy"] = canonical(
            policy, ("Personal", "Shared"), "applicationSharingPolicy"
        )
        idle = inner.get("idleTimeBeforeShutdown")
        if idle is not None:
            _duration(idle, "properties.properties.idleTimeBeforeShutdown")
    return kind, props, inner


def _set_state(ws: Workspace, name: str, state: str) -> None:
    record = find_compute(ws, name)
    if record is not None:
        record.body["properties"]["provisioningState"] = state
        ws.store.put(record.path, KIND, "", record.name, record.body)


async def list_computes(call: Call) -> Response:
    """``Compute_List``: this machine's Kubernetes compute, then the computes created here."""
    records = call.ws.store.children(KIND)
    body = page(call, records, lambda r: _render_stored(call.ws, r))
    if call.query("$skip") in (None, "0"):
        body["value"].insert(0, render_compute(call.ws))
    return json_response(body)


async def get_compute(call: Call) -> Response:
    """``Compute_Get``."""
    name = call.params["name"]
    if name.lower() == compute_name().lower():
        return json_response(render_compute(call.ws))
    record = find_compute(call.ws, name)
    if record is None:
        raise not_found("compute", name)
    return json_response(_render_stored(call.ws, record))


async def put_compute(call: Call) -> Response:
    """``Compute_CreateOrUpdate``: 201 (create) or 200 (replace), then an LRO that provisions it."""
    ws, name = call.ws, call.params["name"]
    _spec_rule("computeName", lambda: validate_compute_name(name))
    if name.lower() == compute_name().lower():
        raise ArmError(
            409,
            "Conflict",
            f"Compute '{name}' is this machine's Kubernetes compute; it cannot be replaced.",
        )
    body = await call.body()
    kind, props, inner = _check_body(body)
    existing = find_compute(ws, name)
    if existing is not None:
        name = existing.name
        ws.operations.refuse_if_busy(f"compute '{name}'", existing.id)
        old_kind = existing.body["properties"].get("computeType")
        if old_kind != kind:
            raise ArmError(
                409,
                "Conflict",
                f"Compute '{name}' is a {old_kind}; it cannot become a {kind}. Delete it first or choose "
                "another name.",
            )
    stored: dict[str, Any] = {
        "location": body.get("location") or LOCATION,
        "tags": optional_dict(body, "tags", ""),
        "identity": body.get("identity"),
        "properties": {
            "computeType": kind,
            "computeLocation": props.get("computeLocation") or body.get("location") or LOCATION,
            "description": props.get("description"),
            "provisioningState": "Updating" if existing else "Creating",
            "provisioningErrors": None,
            "isAttachedCompute": False,
            "disableLocalAuth": bool(props.get("disableLocalAuth", False)),
            "properties": inner,
        },
    }
    if body.get("sku") is not None:
        stored["sku"] = body["sku"]
    record = ws.store.put(compute_path(name), KIND, "", name, stored)

    op = ws.operations.settle(
        record.id,
        "create" if existing is None else "update",
        lambda state: _set_state(ws, name, state),
        prefix="cp",
    )
    headers = OperationRunner.headers(op, ws.base_url, call.api_version)
    return json_response(_render_stored(ws, record), 200 if existing else 201, headers=headers)


async def delete_compute(call: Call) -> Response:
    """``Compute_Delete``: 202, then the compute is gone (``underlyingResourceAction`` is required)."""
    ws, name = call.ws, call.params["name"]
    canonical(
        call.query("underlyingResourceAction"),
        ("Delete", "Detach"),
        "underlyingResourceAction",
        required=True,
    )
    if name.lower() == compute_name().lower():
        raise ArmError(
            409, "Conflict", f"Compute '{name}' is this machine's Kubernetes compute; it cannot be deleted."
        )
    record = find_compute(ws, name)
    if record is None:
        raise not_found("compute", name)
    ws.operations.refuse_if_busy(f"compute '{record.name}'", record.id)
    _set_state(ws, record.name, "Deleting")

    async def work() -> None:
        ws.store.delete(record.id)

    op = ws.operations.start(record.id, "delete", work, prefix="cp")
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))
