"""Online endpoints: PUT, PATCH, GET, list, DELETE, listKeys, regenerateKeys, token."""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.responses import Response

from ._render import envelope, page
from .arm import LOCATION, ArmError, bad_request, json_response, not_found
from .auth import matches_any, new_key
from .context import Call, Workspace
from .kubernetes import KUBERNETES_COMPUTE, check_endpoint_compute, is_compute_reference
from .lro import OperationRunner
from .store import Record
from .validation import (
    canonical,
    check_endpoint_body,
    check_endpoint_name,
    check_mirror_traffic,
    check_traffic,
    optional_dict,
)

__all__ = [
    "ENDPOINT_KIND",
    "ENDPOINT_TYPE",
    "endpoint_keys",
    "endpoint_path",
    "find_endpoint",
    "is_kubernetes",
    "kubernetes_compute_id",
    "render_endpoint",
    "set_endpoint_state",
]

ENDPOINT_KIND = "onlineEndpoint"
DEPLOYMENT_KIND = "onlineDeployment"
ENDPOINT_TYPE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"


def endpoint_path(name: str) -> str:
    """The path of an endpoint below the workspace."""
    return f"onlineEndpoints/{name}"


def find_endpoint(ws: Workspace, name: str) -> Record:
    """The stored endpoint, or a 404."""
    record = ws.store.get(endpoint_path(name))
    if record is None:
        raise not_found("online endpoint", name)
    return record


def render_endpoint(ws: Workspace, record: Record) -> dict[str, Any]:
    """The ``OnlineEndpoint`` body (URIs follow the server's current address)."""
    body = envelope(ws, record, ENDPOINT_TYPE)
    props = body["properties"]
    props["scoringUri"] = f"{ws.base_url}/endpoints/{record.name}/score"
    props["swaggerUri"] = f"{ws.base_url}/endpoints/{record.name}/swagger.json"
    return body


def endpoint_keys(ws: Workspace, record: Record) -> tuple[str | None, str | None]:
    """The endpoint's primary and secondary keys."""
    return ws.store.secret(f"key:{record.id}:primary"), ws.store.secret(f"key:{record.id}:secondary")


def set_endpoint_state(ws: Workspace, name: str, state: str) -> None:
    """Set ``provisioningState`` of an endpoint (if it still exists)."""
    record = ws.store.get(endpoint_path(name))
    if record is not None:
        record.body["properties"]["provisioningState"] = state
        ws.store.put(record.path, ENDPOINT_KIND, "", record.name, record.body)


def _deployment_names(ws: Workspace, record_path: str) -> list[str]:
    return [dep.name for dep in ws.store.children(DEPLOYMENT_KIND, record_path)]


def _busy_ids(ws: Workspace, path: str) -> list[str]:
    return [path, *(dep.id for dep in ws.store.children(DEPLOYMENT_KIND, path))]


async def list_endpoints(call: Call) -> Response:
    """``OnlineEndpoints_List`` (filters: ``name``, ``computeType``, ``tags``, ``orderBy``)."""
    records = call.ws.store.children(ENDPOINT_KIND)
    name = call.query("name")
    if name:
        records = [r for r in records if r.name.lower() == name.lower()]
    order = canonical(
        call.query("orderBy"), ("CreatedAtDesc", "CreatedAtAsc", "UpdatedAtDesc", "UpdatedAtAsc"), "orderBy"
    )
    if order:
        field = "created_at" if order.startswith("CreatedAt") else "modified_at"
        records.sort(key=lambda r: getattr(r, field), reverse=order.endswith("Desc"))
    return json_response(page(call, records, lambda r: render_endpoint(call.ws, r), size_params=("count",)))


async def get_endpoint(call: Call) -> Response:
    """``OnlineEndpoints_Get``."""
    return json_response(render_endpoint(call.ws, find_endpoint(call.ws, call.params["endpoint"])))


async def put_endpoint(call: Call) -> Response:
    """``OnlineEndpoints_CreateOrUpdate``: 201 (create) or 200 (update), then an LRO."""
    ws, name = call.ws, call.params["endpoint"]
    check_endpoint_name(name)
    body = await call.body()
    props = check_endpoint_body(body)
    path = endpoint_path(name)
    existing = ws.store.get(path)
    if ws.store.get(f"batchEndpoints/{name}") is not None:
        raise ArmError(
            409,
            "Conflict",
            f"A batch endpoint named '{name}' exists already; endpoint names are unique across online and "
            "batch endpoints. Choose another name.",
        )
    if existing is not None:
        name = existing.name
        ws.operations.refuse_if_busy(f"endpoint '{name}'", *_busy_ids(ws, existing.id))
        if existing.body["properties"].get("provisioningState") == "Deleting":
            raise ArmError(409, "Conflict", f"Endpoint '{name}' is being deleted.")
    deployments = _deployment_names(ws, path)
    traffic = check_traffic(props.get("traffic"), deployments)
    mirror = check_mirror_traffic(props.get("mirrorTraffic"), traffic, deployments)
    old_props: dict[str, Any] = existing.body["properties"] if existing else {}
    user_properties = {**optional_dict(props, "properties", "properties."), **old_props.get("properties", {})}
    stored_props: dict[str, Any] = {
        "authMode": props["authMode"],
        "description": props.get("description"),
        "properties": user_properties,
        "traffic": traffic,
        "mirrorTraffic": mirror,
        "publicNetworkAccess": str(props.get("publicNetworkAccess") or "Enabled").capitalize(),
        "provisioningState": "Updating" if existing else "Creating",
    }
    compute = _endpoint_compute(ws, body, props, existing)
    if compute:
        stored_props["compute"] = compute
    if existing is None:
        stored_props["properties"].setdefault("azureml.onlineendpointid", ws.arm_id(path))
    stored: dict[str, Any] = {
        "location": body.get("location") or LOCATION,
        "tags": optional_dict(body, "tags", ""),
        "kind": body.get("kind") or ("Kubernetes" if compute == kubernetes_compute_id(ws) else "Managed"),
        "identity": _identity(body.get("identity"), existing),
        "properties": stored_props,
    }
    if body.get("sku") is not None:
        stored["sku"] = body["sku"]
    with ws.store.transaction():
        record = ws.store.put(path, ENDPOINT_KIND, "", name, stored)
        if existing is None:
            keys = optional_dict(props, "keys", "properties.")
            ws.store.set_secret(f"key:{record.id}:primary", keys.get("primaryKey") or new_key())
            ws.store.set_secret(f"key:{record.id}:secondary", keys.get("secondaryKey") or new_key())

    op = ws.operations.settle(
        record.id,
        "create" if existing is None else "update",
        lambda state: set_endpoint_state(ws, name, state),
        prefix="oe",
    )
    headers = OperationRunner.headers(op, ws.base_url, call.api_version)
    return json_response(render_endpoint(ws, record), 200 if existing else 201, headers=headers)


def is_kubernetes(ws: Workspace, record: Record) -> bool:
    """Whether a stored endpoint is a Kubernetes endpoint (its compute is the Kubernetes compute)."""
    compute = record.body["properties"].get("compute")
    return isinstance(compute, str) and compute.lower() == kubernetes_compute_id(ws).lower()


def kubernetes_compute_id(ws: Workspace) -> str:
    """The ARM id of the Kubernetes compute standing for this machine."""
    return ws.arm_id(f"computes/{KUBERNETES_COMPUTE}")


def _endpoint_compute(
    ws: Workspace, body: dict[str, Any], props: dict[str, Any], existing: Record | None
) -> str | None:
    """``properties.compute`` as stored: the Kubernetes compute's ARM id for a Kubernetes endpoint.

    An endpoint is a Kubernetes endpoint when ``kind`` is Kubernetes or ``compute`` refers to a
    compute (an ARM id ``…/computes/<name>``, ``azureml:<name>`` or a compute's name); that compute
    must be the Kubernetes compute (400 otherwise). Another ``compute`` value with another kind
    (the REST examples' placeholder ``"string"``) is kept as given and the endpoint stays managed.
    The compute is set at creation: an update may leave it out (it is kept), not change it."""
    old = existing.body["properties"].get("compute") if existing else None
    given = props.get("compute")
    wants_kubernetes = str(body.get("kind") or "").lower() == "kubernetes"
    if given is None:
        if old is None and wants_kubernetes:
            raise bad_request(
                "A Kubernetes endpoint needs 'properties.compute', the id of a Kubernetes compute "
                f"(here: {kubernetes_compute_id(ws)}).",
                target="properties.compute",
            )
        return old if isinstance(old, str) else None
    compute = given
    if wants_kubernetes or is_compute_reference(given):
        compute = check_endpoint_compute(given, kubernetes_compute_id(ws))
    if existing is not None and str(old or "").lower() != str(compute).lower():
        raise bad_request(
            f"The compute of endpoint '{existing.name}' cannot be changed "
            f"({old or 'managed'} → {compute}); delete the endpoint and create it again.",
            target="properties.compute",
        )
    return str(compute)


def _identity(given: object, existing: Record | None) -> dict[str, Any]:
    if isinstance(given, dict) and given.get("type"):
        identity = dict(given)
    elif existing is not None and isinstance(existing.body.get("identity"), dict):
        return dict(existing.body["identity"])
    else:
        identity = {"type": "SystemAssigned"}
    if "SystemAssigned" in str(identity.get("type")):
        identity.setdefault("principalId", str(uuid.uuid4()))
        identity.setdefault("tenantId", "00000000-0000-0000-0000-000000000000")
    return identity


async def patch_endpoint(call: Call) -> Response:
    """``OnlineEndpoints_Update``: tags and identity (and, as older versions allow, traffic)."""
    ws = call.ws
    record = find_endpoint(ws, call.params["endpoint"])
    body = await call.body()
    ws.operations.refuse_if_busy(f"endpoint '{record.name}'", *_busy_ids(ws, record.id))
    props = optional_dict(body, "properties", "")
    deployments = _deployment_names(ws, record.path)
    stored = record.body
    if "traffic" in props:
        stored["properties"]["traffic"] = check_traffic(props["traffic"], deployments)
    if "mirrorTraffic" in props or "traffic" in props:
        mirror = props.get("mirrorTraffic", stored["properties"].get("mirrorTraffic"))
        stored["properties"]["mirrorTraffic"] = check_mirror_traffic(
            mirror, stored["properties"]["traffic"], deployments
        )
    if "tags" in body:
        stored["tags"] = optional_dict(body, "tags", "")
    if body.get("identity") is not None:
        stored["identity"] = _identity(body["identity"], record)
    stored["properties"]["provisioningState"] = "Updating"
    ws.store.put(record.path, ENDPOINT_KIND, "", record.name, stored)
    name = record.name

    op = ws.operations.settle(
        record.id, "update", lambda state: set_endpoint_state(ws, name, state), prefix="oe"
    )
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def delete_endpoint(call: Call) -> Response:
    """``OnlineEndpoints_Delete``: stops and deletes every deployment, then the endpoint."""
    ws = call.ws
    record = ws.store.get(endpoint_path(call.params["endpoint"]))
    if record is None:
        return Response(status_code=204)
    ws.operations.refuse_if_busy(f"endpoint '{record.name}'", *_busy_ids(ws, record.id))
    name = record.name
    set_endpoint_state(ws, name, "Deleting")
    deployments = ws.store.children(DEPLOYMENT_KIND, record.id)
    for dep in deployments:
        dep.body["properties"]["provisioningState"] = "Deleting"
        ws.store.put(dep.path, DEPLOYMENT_KIND, dep.parent, dep.name, dep.body)

    async def work() -> None:
        if ws.supervisor is not None:
            for dep in deployments:
                await ws.supervisor.stop(name, dep.name)
        with ws.store.transaction():
            ws.store.delete(record.id)
            ws.store.delete_secrets(f"key:{record.id}:")
        ws.metrics.forget(name)

    op = ws.operations.start(
        record.id, "delete", work, prefix="oe", on_failure=lambda _e: set_endpoint_state(ws, name, "Failed")
    )
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def list_keys(call: Call) -> Response:
    """``OnlineEndpoints_ListKeys`` (endpoints with authMode Key)."""
    ws = call.ws
    record = find_endpoint(ws, call.params["endpoint"])
    mode = record.body["properties"]["authMode"]
    if mode != "Key":
        raise bad_request(
            f"Endpoint '{record.name}' uses authMode {mode}; keys exist only for authMode Key. "
            + (
                "Use the token action instead."
                if mode == "AMLToken"
                else "Use a Microsoft Entra (AAD) token."
            )
        )
    primary, secondary = endpoint_keys(ws, record)
    return json_response({"primaryKey": primary, "secondaryKey": secondary})


async def regenerate_keys(call: Call) -> Response:
    """``OnlineEndpoints_RegenerateKeys``: 202, then the key changes.

    ``keyValue`` is "the value the key is set to": a value other than the current key becomes the
    key; no value, or the current key itself (what the Azure ML SDK sends), gives a new random key.
    """
    ws = call.ws
    record = find_endpoint(ws, call.params["endpoint"])
    body = await call.body()
    key_type = canonical(body.get("keyType"), ("Primary", "Secondary"), "keyType", required=True)
    value = body.get("keyValue")
    if value is not None and (not isinstance(value, str) or not value):
        raise bad_request("'keyValue' must be a non-empty string.", target="keyValue")
    if record.body["properties"]["authMode"] != "Key":
        raise bad_request(
            f"Endpoint '{record.name}' does not use authMode Key; it has no keys to regenerate."
        )
    ws.operations.refuse_if_busy(f"endpoint '{record.name}'", record.id)
    secret_name = f"key:{record.id}:{str(key_type).lower()}"
    if value is not None and matches_any(value, [ws.store.secret(secret_name)]):
        value = None  # the current key: regenerate it

    async def work() -> None:
        ws.store.set_secret(secret_name, value or new_key())

    op = ws.operations.start(record.id, "regenerateKeys", work, prefix="oe")
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def get_token(call: Call) -> Response:
    """``OnlineEndpoints_GetToken`` (endpoints with authMode AMLToken)."""
    ws = call.ws
    record = find_endpoint(ws, call.params["endpoint"])
    mode = record.body["properties"]["authMode"]
    if mode != "AMLToken":
        raise bad_request(
            f"Endpoint '{record.name}' uses authMode {mode}; tokens are issued only for authMode AMLToken."
        )
    token, expiry = ws.signer.issue(record.id)
    refresh = int(time.time()) + (expiry - int(time.time())) // 2
    return json_response(
        {"accessToken": token, "tokenType": "Bearer", "expiryTimeUtc": expiry, "refreshAfterTimeUtc": refresh}
    )
