"""Batch deployments: PUT, PATCH (tags, description), GET, list, DELETE.

A PUT is validated as Azure validates it (settings' ranges, enums in any case, references that
exist here) before anything is stored; the LRO then builds (or takes from the cache) the
deployment's environment, so that an invocation starts at once. A deployment that cannot be
prepared ends ``Failed`` with the reason. The endpoint's default deployment cannot be deleted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response

from ._render import envelope, page
from .arm import LOCATION, ArmError, bad_request, json_response, not_found
from .batchendpoints import BATCH_DEPLOYMENT_KIND, batch_endpoint_path, find_batch_endpoint
from .batchrun import check_batch_deployment, prepare_batch_environment
from .context import Call, Workspace
from .lro import OperationRunner
from .store import Record
from .validation import check_deployment_name, optional_dict

__all__ = ["find_batch_deployment", "render_batch_deployment"]

BATCH_DEPLOYMENT_TYPE = "Microsoft.MachineLearningServices/workspaces/batchEndpoints/deployments"


def find_batch_deployment(ws: Workspace, endpoint: str, name: str) -> tuple[Record, Record]:
    """The stored batch endpoint and deployment, or a 404."""
    ep = find_batch_endpoint(ws, endpoint)
    record = ws.store.get(f"{ep.path}/deployments/{name}")
    if record is None:
        raise not_found("batch deployment", f"{ep.name}/{name}")
    return ep, record


def render_batch_deployment(ws: Workspace, record: Record) -> dict[str, Any]:
    """The ``BatchDeployment`` body (a failed one names its reason, as online deployments do)."""
    body = envelope(ws, record, BATCH_DEPLOYMENT_TYPE)
    failure = body.pop("failure", None)
    if failure and body["properties"].get("provisioningState") == "Failed":
        body["properties"]["provisioningErrors"] = [
            {"error": {"code": "DeploymentFailed", "message": failure}}
        ]
    return body


def _set_state(ws: Workspace, path: str, state: str, failure: str | None = None) -> None:
    record = ws.store.get(path)
    if record is not None:
        record.body["properties"]["provisioningState"] = state
        record.body.pop("failure", None)
        if failure is not None:
            record.body["failure"] = failure
        ws.store.put(record.path, BATCH_DEPLOYMENT_KIND, record.parent, record.name, record.body)


async def list_batch_deployments(call: Call) -> Response:
    """``BatchDeployments_List`` (``$orderBy``, ``$top``, ``$skip``)."""
    ep = find_batch_endpoint(call.ws, call.params["endpoint"])
    records = call.ws.store.children(BATCH_DEPLOYMENT_KIND, ep.id)
    order = (call.query("$orderBy") or "").lower()
    if order:
        field = "modified_at" if "updated" in order or "modified" in order else "created_at"
        records.sort(key=lambda r: getattr(r, field), reverse="desc" in order)
    return json_response(
        page(call, records, lambda r: render_batch_deployment(call.ws, r), size_params=("$top",))
    )


async def get_batch_deployment(call: Call) -> Response:
    """``BatchDeployments_Get``."""
    _, record = find_batch_deployment(call.ws, call.params["endpoint"], call.params["deployment"])
    return json_response(render_batch_deployment(call.ws, record))


async def put_batch_deployment(call: Call) -> Response:
    """``BatchDeployments_CreateOrUpdate``: 201/200, then the environment is prepared (LRO)."""
    ws = call.ws
    ep = find_batch_endpoint(ws, call.params["endpoint"])
    name = call.params["deployment"]
    check_deployment_name(name)
    body = await call.body()
    props = body.get("properties")
    if not isinstance(props, dict):
        raise bad_request("The field 'properties' is required and must be an object.", target="properties")
    stored_props = await asyncio.to_thread(check_batch_deployment, ws, props)
    path = f"{ep.path}/deployments/{name}"
    existing = ws.store.get(path)
    ws.operations.refuse_if_busy(f"batch endpoint '{ep.name}'", ep.id, path)
    if ep.body["properties"].get("provisioningState") == "Deleting":
        raise ArmError(409, "Conflict", f"Batch endpoint '{ep.name}' is being deleted.")
    if existing is not None:
        stored_props["properties"] = {
            **stored_props["properties"],
            **existing.body["properties"].get("properties", {}),
        }
    stored_props["provisioningState"] = "Updating" if existing else "Creating"
    stored: dict[str, Any] = {
        "location": body.get("location") or LOCATION,
        "tags": optional_dict(body, "tags", ""),
        "kind": body.get("kind"),
        "properties": stored_props,
    }
    for key in ("identity", "sku"):
        if body.get(key) is not None:
            stored[key] = body[key]
    record = ws.store.put(path, BATCH_DEPLOYMENT_KIND, ep.id, existing.name if existing else name, stored)

    async def work() -> None:
        await asyncio.to_thread(prepare_batch_environment, ws, record.body["properties"], record.path)
        _set_state(ws, path, "Succeeded")

    def failed(error: dict[str, Any]) -> None:
        _set_state(ws, path, "Failed", failure=str(error.get("message")))

    op = ws.operations.start(
        record.id, "update" if existing else "create", work, prefix="bdidp", on_failure=failed
    )
    headers = OperationRunner.headers(op, ws.base_url, call.api_version)
    return json_response(render_batch_deployment(ws, record), 200 if existing else 201, headers=headers)


async def patch_batch_deployment(call: Call) -> Response:
    """``BatchDeployments_Update``: ``tags`` and ``properties.description`` only."""
    ws = call.ws
    ep, record = find_batch_deployment(ws, call.params["endpoint"], call.params["deployment"])
    body = await call.body()
    props = optional_dict(body, "properties", "")
    unknown = sorted(set(body) - {"tags", "properties"}) + [
        f"properties.{k}" for k in props if k != "description"
    ]
    if unknown:
        raise bad_request(
            f"A PATCH of a batch deployment changes only 'tags' and 'properties.description', not "
            f"{', '.join(unknown)}. Send the whole deployment with a PUT to change anything else.",
            target=unknown[0],
        )
    ws.operations.refuse_if_busy(f"batch deployment '{record.name}'", ep.id, record.id)
    stored = record.body
    if "tags" in body:
        stored["tags"] = optional_dict(body, "tags", "")
    if "description" in props:
        stored["properties"]["description"] = props["description"]
    previous = stored["properties"].get("provisioningState")
    failure = stored.get("failure")
    stored["properties"]["provisioningState"] = "Updating"
    ws.store.put(record.path, BATCH_DEPLOYMENT_KIND, record.parent, record.name, stored)
    path = record.path

    async def work() -> None:
        if previous == "Failed":
            _set_state(ws, path, "Failed", failure=failure)
        else:
            _set_state(ws, path, "Succeeded")

    op = ws.operations.start(record.id, "update", work, prefix="bdidp")
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def delete_batch_deployment(call: Call) -> Response:
    """``BatchDeployments_Delete``: refused for the endpoint's default deployment."""
    ws = call.ws
    ep = find_batch_endpoint(ws, call.params["endpoint"])
    record = ws.store.get(f"{batch_endpoint_path(ep.name)}/deployments/{call.params['deployment']}")
    if record is None:
        return Response(status_code=204)
    default = (ep.body["properties"].get("defaults") or {}).get("deploymentName")
    if isinstance(default, str) and default.lower() == record.name.lower():
        raise bad_request(
            f"Deployment '{record.name}' is the default deployment of batch endpoint '{ep.name}'. Make "
            "another deployment the default first (az ml batch-endpoint update --set "
            "defaults.deployment_name=<other>), or delete the endpoint with its deployments."
        )
    ws.operations.refuse_if_busy(f"batch deployment '{record.name}'", ep.id, record.id)
    _set_state(ws, record.path, "Deleting")

    async def work() -> None:
        ws.store.delete(record.id)

    op = ws.operations.start(record.id, "delete", work, prefix="bdidp")
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))
