"""Online deployments: PUT, PATCH (tags, ``sku.capacity``), GET, list, DELETE, getLogs, skus.

Creating or updating a deployment starts its inference server through the runtime and
waits until it is healthy; a server that never gets healthy ends Failed with the log tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from typing import Any

from starlette.responses import Response

from ._render import envelope, page
from .arm import LOCATION, ArmError, bad_request, json_response, not_found
from .context import Call, Workspace
from .debugging import debug_request, record_debug_root
from .endpoints import DEPLOYMENT_KIND, ENDPOINT_KIND, endpoint_path, find_endpoint, is_kubernetes
from .kubernetes import check_container_resources, check_instance_type
from .lro import OperationRunner
from .nocode import check_no_code, is_no_code
from .ownership import RUNTIME_KEY, apply_runtime_request, deployment_runtime
from .resolve import check_references, resolve_deployment, resolve_model_path
from .store import Record
from .validation import (
    check_capacity,
    check_deployment_body,
    check_deployment_name,
    check_sku,
    optional_dict,
)

__all__ = [
    "DEPLOYMENT_TYPE",
    "deployment_path",
    "render_deployment",
    "run_deployment",
    "set_deployment_state",
]

DEPLOYMENT_TYPE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
_PROBE_DEFAULTS = {"failureThreshold": 30, "successThreshold": 1, "timeout": "PT2S", "period": "PT10S"}
_REQUEST_DEFAULTS = {
    "maxConcurrentRequestsPerInstance": 1,
    "requestTimeout": "PT5S",
    "maxQueueWait": "PT0.5S",
}
_TARGET_UTILIZATION = {
    "scaleType": "TargetUtilization",
    "minInstances": 1,
    "maxInstances": 1,
    "pollingInterval": "PT1S",
    "targetUtilizationPercentage": 70,
}
_LOG_SOURCES = {"inferenceserver": "inference-server", "storageinitializer": "storage-initializer"}


def deployment_path(endpoint: str, name: str) -> str:
    """The path of a deployment below the workspace."""
    return f"{endpoint_path(endpoint)}/deployments/{name}"


def find_deployment(ws: Workspace, endpoint: str, name: str) -> tuple[Record, Record]:
    """The stored endpoint and deployment, or a 404."""
    ep = find_endpoint(ws, endpoint)
    record = ws.store.get(deployment_path(ep.name, name))
    if record is None:
        raise not_found("online deployment", f"{ep.name}/{name}")
    return ep, record


def render_deployment(ws: Workspace, record: Record) -> dict[str, Any]:
    """The ``OnlineDeployment`` body."""
    body = envelope(ws, record, DEPLOYMENT_TYPE)
    failure = body.pop("failure", None)
    body.pop(RUNTIME_KEY, None)
    if failure and body["properties"].get("provisioningState") == "Failed":
        # As Azure ML computes report theirs (a local extension for deployments): show names the reason.
        body["properties"]["provisioningErrors"] = [
            {"error": {"code": "DeploymentFailed", "message": failure}}
        ]
    return body


def set_deployment_state(
    ws: Workspace, endpoint: str, name: str, state: str, failure: str | None = None
) -> None:
    """Set a deployment's ``provisioningState`` (and remember why it failed)."""
    record = ws.store.get(deployment_path(endpoint, name))
    if record is not None:
        record.body["properties"]["provisioningState"] = state
        if failure is None:
            record.body.pop("failure", None)
        else:
            record.body["failure"] = failure
        ws.store.put(record.path, DEPLOYMENT_KIND, record.parent, record.name, record.body)


async def run_deployment(ws: Workspace, endpoint: str, name: str) -> None:
    """Resolve the stored deployment and (re)start its servers; ArmError when it cannot run."""
    record = ws.store.get(deployment_path(endpoint, name))
    if record is None:
        raise not_found("online deployment", f"{endpoint}/{name}")
    if ws.supervisor is None:
        raise ArmError(500, "RuntimeUnavailable", "This workspace runs without a deployment runtime.")
    spec = resolve_deployment(ws, endpoint, record.name, record.body)
    runtime = await deployment_runtime(ws, endpoint, record.name, spec)
    if spec.debug_port is not None:
        record_debug_root(ws, endpoint, record.name, runtime, spec.code)
    await ws.supervisor.start(spec, runtime)


def instance_limit(ws: Workspace) -> tuple[int, str]:
    """The most instances one deployment may run here, and why (``MLEP_MAX_INSTANCES``)."""
    if ws.supervisor is not None:
        settings = ws.supervisor.settings
    else:
        from ..runtime import RuntimeSettings

        settings = RuntimeSettings.from_env()
    return settings.max_instances, settings.max_instances_reason


def _with_defaults(props: dict[str, Any]) -> dict[str, Any]:
    props = copy.deepcopy(props)
    if props["endpointComputeType"] == "Kubernetes":
        props.setdefault("scaleSettings", dict(_TARGET_UTILIZATION))
    else:
        props.setdefault("instanceType", "Standard_F4s_v2")
        props.setdefault("egressPublicNetworkAccess", "Enabled")
        props.setdefault("scaleSettings", {"scaleType": "Default"})
    props.setdefault("appInsightsEnabled", False)
    props["requestSettings"] = {**_REQUEST_DEFAULTS, **(props.get("requestSettings") or {})}
    for probe in ("livenessProbe", "readinessProbe"):
        props[probe] = {**_PROBE_DEFAULTS, **(props.get(probe) or {})}
    props["environmentVariables"] = optional_dict(props, "environmentVariables", "properties.")
    props["properties"] = optional_dict(props, "properties", "properties.")
    return props


async def list_deployments(call: Call) -> Response:
    """``OnlineDeployments_List``."""
    ep = find_endpoint(call.ws, call.params["endpoint"])
    records = call.ws.store.children(DEPLOYMENT_KIND, ep.id)
    return json_response(page(call, records, lambda r: render_deployment(call.ws, r), size_params=("$top",)))


async def get_deployment(call: Call) -> Response:
    """``OnlineDeployments_Get``."""
    _, record = find_deployment(call.ws, call.params["endpoint"], call.params["deployment"])
    return json_response(render_deployment(call.ws, record))


def _start(call: Call, ep: Record, record: Record, action: str) -> dict[str, str]:
    ws, ep_name, name = call.ws, ep.name, record.name

    async def work() -> None:
        await run_deployment(ws, ep_name, name)
        set_deployment_state(ws, ep_name, name, "Succeeded")

    def failed(error: dict[str, Any]) -> None:
        set_deployment_state(ws, ep_name, name, "Failed", failure=str(error.get("message")))

    op = ws.operations.start(record.id, action, work, prefix="odidp", on_failure=failed)
    return OperationRunner.headers(op, ws.base_url, call.api_version)


async def put_deployment(call: Call) -> Response:
    """``OnlineDeployments_CreateOrUpdate``: 201/200, then the server starts (LRO)."""
    ws = call.ws
    ep = find_endpoint(ws, call.params["endpoint"])
    name = call.params["deployment"]
    check_deployment_name(name)
    body = await call.body()
    props = check_deployment_body(body)
    _check_compute_type(ws, ep, props)
    check_references(ws, props)
    if is_no_code(props):
        model_path = resolve_model_path(ws, props) if props.get("model") else None
        await asyncio.to_thread(check_no_code, ws, props, model_path)
    elif props.get("model") and not props.get("environmentId"):
        found = None
        with contextlib.suppress(ArmError):  # a missing model fails the start, as other references do
            found = resolve_model_path(ws, props)
        check_no_code(ws, props, found)
    path = deployment_path(ep.name, name)
    existing = ws.store.get(path)
    ws.operations.refuse_if_busy(f"endpoint '{ep.name}'", ep.id, path)
    if ep.body["properties"].get("provisioningState") == "Deleting":
        raise ArmError(409, "Conflict", f"Endpoint '{ep.name}' is being deleted.")
    stored_props = _with_defaults(props)
    if existing is not None:
        stored_props["properties"] = {
            **stored_props["properties"],
            **existing.body["properties"].get("properties", {}),
        }
    stored_props["provisioningState"] = "Updating" if existing else "Creating"
    sku = (
        body.get("sku")
        or (existing.body.get("sku") if existing else None)
        or {"name": "Default", "capacity": 1}
    )
    check_capacity(sku.get("capacity") or 1, *instance_limit(ws))
    debug_request(props, int(sku.get("capacity") or 1))  # 400 now for a malformed debug property
    stored = {
        "location": body.get("location") or LOCATION,
        "tags": optional_dict(body, "tags", ""),
        "kind": body.get("kind") or props["endpointComputeType"],
        "sku": {**sku, "capacity": sku.get("capacity") or 1},
        "properties": stored_props,
    }
    if body.get("identity") is not None:
        stored["identity"] = body["identity"]
    apply_runtime_request(stored, props, existing.body if existing else None)
    record = ws.store.put(path, DEPLOYMENT_KIND, ep.id, existing.name if existing else name, stored)
    headers = _start(call, ep, record, "update" if existing else "create")
    return json_response(render_deployment(ws, record), 200 if existing else 201, headers=headers)


def _check_compute_type(ws: Workspace, ep: Record, props: dict[str, Any]) -> None:
    """A deployment's ``endpointComputeType`` agrees with its endpoint's kind; a Kubernetes
    deployment's ``instanceType`` exists on the compute (set to its canonical name, the compute's
    default when none is given) and its ``containerResourceRequirements`` are valid."""
    expected = "Kubernetes" if is_kubernetes(ws, ep) else "Managed"
    given = props["endpointComputeType"]
    if given != expected:
        raise bad_request(
            f"Deployment endpointComputeType {given} does not match endpoint '{ep.name}', a {expected} "
            f"endpoint. Use endpointComputeType {expected} (type: {expected.lower()} in the deployment YAML).",
            target="properties.endpointComputeType",
        )
    if given == "Kubernetes":
        props["instanceType"] = check_instance_type(props.get("instanceType"))
        check_container_resources(props.get("containerResourceRequirements"))


async def patch_deployment(call: Call) -> Response:
    """``OnlineDeployments_Update``: tags and ``sku`` (``capacity`` = instance count)."""
    ws = call.ws
    ep, record = find_deployment(ws, call.params["endpoint"], call.params["deployment"])
    body = await call.body()
    check_sku(body.get("sku"), partial=True)
    if isinstance(body.get("sku"), dict):
        check_capacity(body["sku"].get("capacity"), *instance_limit(ws))
    ws.operations.refuse_if_busy(f"deployment '{record.name}'", ep.id, record.id)
    stored = record.body
    if "tags" in body:
        stored["tags"] = optional_dict(body, "tags", "")
    scaling = False
    if isinstance(body.get("sku"), dict):
        old_capacity = stored.get("sku", {}).get("capacity") or 1
        stored["sku"] = {**stored.get("sku", {}), **{k: v for k, v in body["sku"].items() if v is not None}}
        scaling = stored["sku"].get("capacity", 1) != old_capacity
    stored["properties"]["provisioningState"] = "Scaling" if scaling else "Updating"
    ws.store.put(record.path, DEPLOYMENT_KIND, record.parent, record.name, stored)
    ep_name, name = ep.name, record.name
    previous_failure = record.body.get("failure")

    async def work() -> None:
        if scaling:
            await run_deployment(ws, ep_name, name)
            set_deployment_state(ws, ep_name, name, "Succeeded")
        elif previous_failure:
            set_deployment_state(ws, ep_name, name, "Failed", failure=previous_failure)
        else:
            set_deployment_state(ws, ep_name, name, "Succeeded")

    op = ws.operations.start(
        record.id,
        "update",
        work,
        prefix="odidp",
        on_failure=lambda e: set_deployment_state(ws, ep_name, name, "Failed", failure=str(e.get("message"))),
    )
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def delete_deployment(call: Call) -> Response:
    """``OnlineDeployments_Delete``: refused while the deployment has live or mirror traffic."""
    ws = call.ws
    ep = find_endpoint(ws, call.params["endpoint"])
    record = ws.store.get(deployment_path(ep.name, call.params["deployment"]))
    if record is None:
        return Response(status_code=204)
    for field, label in (("traffic", "traffic"), ("mirrorTraffic", "mirror traffic")):
        shares = {k.lower(): v for k, v in (ep.body["properties"].get(field) or {}).items()}
        if shares.get(record.name.lower(), 0) > 0:
            raise bad_request(
                f"Deployment '{record.name}' has {label} of {shares[record.name.lower()]}%. Set its {label} to 0 "
                "on the endpoint before deleting it."
            )
    ws.operations.refuse_if_busy(f"deployment '{record.name}'", ep.id, record.id)
    set_deployment_state(ws, ep.name, record.name, "Deleting")
    ep_name, name = ep.name, record.name

    async def work() -> None:
        if ws.supervisor is not None:
            await ws.supervisor.stop(ep_name, name)
        with ws.store.transaction():
            ws.store.delete(record.id)
            endpoint = ws.store.get(endpoint_path(ep_name))
            if endpoint is not None:
                for field in ("traffic", "mirrorTraffic"):
                    shares = endpoint.body["properties"].get(field) or {}
                    endpoint.body["properties"][field] = {
                        k: v for k, v in shares.items() if k.lower() != name.lower()
                    }
                ws.store.put(endpoint.path, ENDPOINT_KIND, "", endpoint.name, endpoint.body)
        ws.metrics.forget(ep_name, name)

    op = ws.operations.start(
        record.id,
        "delete",
        work,
        prefix="odidp",
        on_failure=lambda e: set_deployment_state(ws, ep_name, name, "Failed", failure=str(e.get("message"))),
    )
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def get_logs(call: Call) -> Response:
    """``OnlineDeployments_GetLogs``: ``containerType`` InferenceServer | StorageInitializer, ``tail``."""
    ws = call.ws
    ep, record = find_deployment(ws, call.params["endpoint"], call.params["deployment"])
    body = await call.body(required=False)
    container = str(body.get("containerType") or "InferenceServer")
    source = _LOG_SOURCES.get(container.lower())
    if source is None:
        raise bad_request(
            f"Unknown containerType '{container}'. Allowed values: InferenceServer, StorageInitializer.",
            target="containerType",
        )
    tail = body.get("tail")
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise bad_request("'tail' must be a non-negative integer.", target="tail")
    content = ""
    if ws.supervisor is not None:
        content = await ws.supervisor.logs(ep.name, record.name, source, tail or None)
    failure = record.body.get("failure")
    if failure and source == "storage-initializer":
        content = (content.rstrip() + "\n" if content else "") + f"Deployment failed: {failure}\n"
    return json_response({"content": content})


async def list_skus(call: Call) -> Response:
    """``OnlineDeployments_ListSkus``: instance counts from 1 to this machine's limit
    (``MLEP_MAX_INSTANCES``, by default from its cores and memory)."""
    find_deployment(call.ws, call.params["endpoint"], call.params["deployment"])
    limit, _ = instance_limit(call.ws)
    return json_response(
        {
            "value": [
                {
                    "resourceType": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
                    "sku": {"name": "Default", "tier": "Standard"},
                    "capacity": {
                        "minimum": 1,
                        "maximum": limit,
                        "default": 1,
                        "scaleType": "Manual",
                    },
                }
            ]
        }
    )
