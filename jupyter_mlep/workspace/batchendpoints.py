"""Batch endpoints: PUT, PATCH (tags, identity), GET, list, DELETE (with its deployments), listkeys.

A batch endpoint has no traffic: it runs its ``defaults.deploymentName``, or the deployment an
invocation names (``azureml-model-deployment``). Its ``scoringUri`` is the local data-plane route
that invocations POST to (:mod:`.batchinvoke`); it authenticates with ``AADToken`` only.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ._render import envelope, page
from .arm import LOCATION, ArmError, bad_request, json_response, not_found
from .context import Call, Workspace
from .endpoints import _identity
from .lro import OperationRunner
from .store import Record
from .validation import check_endpoint_name, normalise_auth_mode, optional_dict

__all__ = [
    "BATCH_DEPLOYMENT_KIND",
    "BATCH_ENDPOINT_KIND",
    "BATCH_SCORING_PREFIX",
    "batch_endpoint_path",
    "find_batch_endpoint",
    "recover_batch_resources",
    "render_batch_endpoint",
    "set_batch_endpoint_state",
]

BATCH_ENDPOINT_KIND = "batchEndpoint"
BATCH_DEPLOYMENT_KIND = "batchDeployment"
BATCH_ENDPOINT_TYPE = "Microsoft.MachineLearningServices/workspaces/batchEndpoints"
#: The data plane of batch endpoints: ``POST {base}/batchEndpoints/<name>/jobs`` invokes one.
BATCH_SCORING_PREFIX = "/batchEndpoints"


def batch_endpoint_path(name: str) -> str:
    """The path of a batch endpoint below the workspace."""
    return f"batchEndpoints/{name}"


def find_batch_endpoint(ws: Workspace, name: str) -> Record:
    """The stored batch endpoint, or a 404."""
    record = ws.store.get(batch_endpoint_path(name))
    if record is None:
        raise not_found("batch endpoint", name)
    return record


def render_batch_endpoint(ws: Workspace, record: Record) -> dict[str, Any]:
    """The ``BatchEndpoint`` body (the scoring URI follows the server's current address)."""
    body = envelope(ws, record, BATCH_ENDPOINT_TYPE)
    props = body["properties"]
    props["scoringUri"] = f"{ws.base_url}{BATCH_SCORING_PREFIX}/{record.name}/jobs"
    props["swaggerUri"] = None
    props["keys"] = None
    return body


def set_batch_endpoint_state(ws: Workspace, name: str, state: str) -> None:
    """Set ``provisioningState`` of a batch endpoint (if it still exists)."""
    record = ws.store.get(batch_endpoint_path(name))
    if record is not None:
        record.body["properties"]["provisioningState"] = state
        ws.store.put(record.path, BATCH_ENDPOINT_KIND, "", record.name, record.body)


def _busy_ids(ws: Workspace, record: Record) -> list[str]:
    return [record.id, *(dep.id for dep in ws.store.children(BATCH_DEPLOYMENT_KIND, record.id))]


def _check_defaults(ws: Workspace, props: dict[str, Any], existing: Record | None) -> dict[str, Any]:
    """``defaults.deploymentName``: null, or a deployment of this endpoint (its stored spelling)."""
    defaults = optional_dict(props, "defaults", "properties.")
    name = defaults.get("deploymentName")
    if name is None or name == "":
        return {"deploymentName": None}
    if not isinstance(name, str):
        raise bad_request(
            "'properties.defaults.deploymentName' must be a string.",
            target="properties.defaults.deploymentName",
        )
    found = ws.store.get(f"{existing.path}/deployments/{name}") if existing is not None else None
    if found is None:
        endpoint = existing.name if existing is not None else "(new endpoint)"
        raise bad_request(
            f"The default deployment '{name}' does not exist on batch endpoint '{endpoint}'. Create the "
            "deployment first, then set it as the default (az ml batch-endpoint update --set "
            f"defaults.deployment_name={name}).",
            target="properties.defaults.deploymentName",
        )
    return {"deploymentName": found.name}


async def list_batch_endpoints(call: Call) -> Response:
    """``BatchEndpoints_List`` (``count``, ``$skip``)."""
    records = call.ws.store.children(BATCH_ENDPOINT_KIND)
    return json_response(
        page(call, records, lambda r: render_batch_endpoint(call.ws, r), size_params=("count",))
    )


async def get_batch_endpoint(call: Call) -> Response:
    """``BatchEndpoints_Get``."""
    return json_response(
        render_batch_endpoint(call.ws, find_batch_endpoint(call.ws, call.params["endpoint"]))
    )


async def put_batch_endpoint(call: Call) -> Response:
    """``BatchEndpoints_CreateOrUpdate``: 201 (create) or 200 (update), then an LRO."""
    ws, name = call.ws, call.params["endpoint"]
    check_endpoint_name(name)
    body = await call.body()
    props = body.get("properties")
    if not isinstance(props, dict):
        raise bad_request("The field 'properties' is required and must be an object.", target="properties")
    mode = normalise_auth_mode(props.get("authMode"))
    if mode != "AADToken":
        raise bad_request(
            f"Batch endpoints support only authMode AADToken, not {mode}. Use auth_mode: aad_token in the "
            "endpoint YAML (the default for batch endpoints).",
            target="properties.authMode",
        )
    existing = ws.store.get(batch_endpoint_path(name))
    if ws.store.get(f"onlineEndpoints/{name}") is not None:
        raise ArmError(
            409,
            "Conflict",
            f"An online endpoint named '{name}' exists already; endpoint names are unique across online and "
            "batch endpoints. Choose another name.",
        )
    if existing is not None:
        name = existing.name
        ws.operations.refuse_if_busy(f"batch endpoint '{name}'", *_busy_ids(ws, existing))
        if existing.body["properties"].get("provisioningState") == "Deleting":
            raise ArmError(409, "Conflict", f"Batch endpoint '{name}' is being deleted.")
    defaults = _check_defaults(ws, props, existing)
    user_properties = optional_dict(props, "properties", "properties.")
    for key, value in user_properties.items():
        if value is not None and not isinstance(value, str):
            raise bad_request(
                f"'properties.properties.{key}' must be a string.", target="properties.properties"
            )
    if existing is not None:
        user_properties = {**user_properties, **existing.body["properties"].get("properties", {})}
    else:
        user_properties.setdefault("BatchEndpointCreationApiVersion", call.api_version)
    stored = {
        "location": body.get("location") or LOCATION,
        "tags": optional_dict(body, "tags", ""),
        "kind": body.get("kind"),
        "identity": _identity(body.get("identity"), existing),
        "properties": {
            "authMode": mode,
            "description": props.get("description"),
            "defaults": defaults,
            "properties": user_properties,
            "provisioningState": "Updating" if existing else "Creating",
        },
    }
    record = ws.store.put(batch_endpoint_path(name), BATCH_ENDPOINT_KIND, "", name, stored)
    final = name
    op = ws.operations.settle(
        record.id,
        "update" if existing else "create",
        lambda state: set_batch_endpoint_state(ws, final, state),
        prefix="be",
    )
    headers = OperationRunner.headers(op, ws.base_url, call.api_version)
    return json_response(render_batch_endpoint(ws, record), 200 if existing else 201, headers=headers)


async def patch_batch_endpoint(call: Call) -> Response:
    """``BatchEndpoints_Update``: tags and identity only (the defaults change with a PUT)."""
    ws = call.ws
    record = find_batch_endpoint(ws, call.params["endpoint"])
    body = await call.body()
    unknown = sorted(set(body) - {"tags", "identity"})
    if unknown:
        raise bad_request(
            f"A PATCH of a batch endpoint changes only 'tags' and 'identity', not {', '.join(unknown)}. "
            "Send the whole endpoint with a PUT to change anything else (defaults.deploymentName too).",
            target=unknown[0],
        )
    ws.operations.refuse_if_busy(f"batch endpoint '{record.name}'", *_busy_ids(ws, record))
    stored = record.body
    if "tags" in body:
        stored["tags"] = optional_dict(body, "tags", "")
    if body.get("identity") is not None:
        stored["identity"] = _identity(body["identity"], record)
    stored["properties"]["provisioningState"] = "Updating"
    ws.store.put(record.path, BATCH_ENDPOINT_KIND, "", record.name, stored)
    name = record.name
    op = ws.operations.settle(
        record.id, "update", lambda state: set_batch_endpoint_state(ws, name, state), prefix="be"
    )
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def delete_batch_endpoint(call: Call) -> Response:
    """``BatchEndpoints_Delete``: the endpoint and all its deployments (their jobs are kept)."""
    ws = call.ws
    record = ws.store.get(batch_endpoint_path(call.params["endpoint"]))
    if record is None:
        return Response(status_code=204)
    ws.operations.refuse_if_busy(f"batch endpoint '{record.name}'", *_busy_ids(ws, record))
    name = record.name
    set_batch_endpoint_state(ws, name, "Deleting")
    deployments = ws.store.children(BATCH_DEPLOYMENT_KIND, record.id)
    for dep in deployments:
        dep.body["properties"]["provisioningState"] = "Deleting"
        ws.store.put(dep.path, BATCH_DEPLOYMENT_KIND, dep.parent, dep.name, dep.body)

    async def work() -> None:
        with ws.store.transaction():
            for dep in deployments:
                ws.store.delete(dep.id)
            ws.store.delete(record.id)

    op = ws.operations.start(
        record.id,
        "delete",
        work,
        prefix="be",
        on_failure=lambda _e: set_batch_endpoint_state(ws, name, "Failed"),
    )
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def list_batch_keys(call: Call) -> Response:
    """``BatchEndpoints_ListKeys``: batch endpoints use Microsoft Entra tokens, so both keys are null."""
    find_batch_endpoint(call.ws, call.params["endpoint"])
    return json_response({"primaryKey": None, "secondaryKey": None})


def recover_batch_resources(ws: Workspace, reason: str) -> None:
    """After a start: batch endpoints and deployments left changing (the workspace stopped) are Failed."""
    busy = ("Creating", "Updating", "Deleting", "Scaling")
    for endpoint in ws.store.children(BATCH_ENDPOINT_KIND):
        if endpoint.body["properties"].get("provisioningState") in busy:
            set_batch_endpoint_state(ws, endpoint.name, "Failed")
        for dep in ws.store.children(BATCH_DEPLOYMENT_KIND, endpoint.id):
            if dep.body["properties"].get("provisioningState") in busy:
                dep.body["properties"]["provisioningState"] = "Failed"
                dep.body["failure"] = reason
                ws.store.put(dep.path, BATCH_DEPLOYMENT_KIND, dep.parent, dep.name, dep.body)
