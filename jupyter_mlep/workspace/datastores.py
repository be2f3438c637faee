"""Datastores: list (with ``isDefault``), get, PUT, DELETE, ``listSecrets``.

The default datastore ``workspaceblobstore`` is the workspace's own blob store. Its
``endpoint``/``protocol`` say where it is; ``properties.properties["mlep.blobEndpoint"]``
holds the ready-made account URL (``http://127.0.0.1:<port>/mlepstore``), since the usual
``{protocol}://{account}.blob.{endpoint}`` form does not apply to a path-style store.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from starlette.responses import Response

from ._render import envelope, page
from .arm import bad_request, json_response, not_found
from .blobstore import ACCOUNT, DEFAULT_CONTAINER
from .context import Call, Workspace
from .store import Record
from .validation import canonical, check_asset_name, optional_dict

__all__ = ["DEFAULT_DATASTORE", "ensure_default_datastore", "resolve_datastore"]

DEFAULT_DATASTORE = "workspaceblobstore"
KIND = "datastore"
TYPE = "Microsoft.MachineLearningServices/workspaces/datastores"
_TYPES = ("AzureBlob", "AzureDataLakeGen1", "AzureDataLakeGen2", "AzureFile", "OneLake")
_SECRET_FIELDS = {
    "AccountKey": "key",
    "Sas": "sasToken",
    "ServicePrincipal": "clientSecret",
    "Certificate": "certificate",
}


def ensure_default_datastore(ws: Workspace) -> None:
    """Create ``workspaceblobstore`` when missing."""
    if ws.store.get(f"datastores/{DEFAULT_DATASTORE}") is None:
        ws.store.put(
            f"datastores/{DEFAULT_DATASTORE}",
            KIND,
            "",
            DEFAULT_DATASTORE,
            {
                "properties": {
                    "description": "The local workspace's own blob store.",
                    "tags": {},
                    "properties": {},
                    "credentials": {
                        "credentialsType": "AccountKey",
                        "secrets": {"secretsType": "AccountKey"},
                    },
                    "datastoreType": "AzureBlob",
                    "accountName": ACCOUNT,
                    "containerName": DEFAULT_CONTAINER,
                    "serviceDataAccessAuthIdentity": "None",
                }
            },
        )


def resolve_datastore(ws: Workspace, name: str) -> tuple[str, str] | None:
    """(account, container) of a blob datastore of this workspace, or None."""
    record = ws.store.get(f"datastores/{name}")
    if record is None or record.body["properties"].get("datastoreType") != "AzureBlob":
        return None
    return str(record.body["properties"].get("accountName")), str(
        record.body["properties"].get("containerName")
    )


def _render(ws: Workspace, record: Record) -> dict[str, Any]:
    body = envelope(ws, record, TYPE)
    props = body["properties"]
    props["isDefault"] = record.name.lower() == DEFAULT_DATASTORE
    if props["isDefault"]:
        address = urlparse(ws.base_url)
        props["endpoint"] = address.netloc
        props["protocol"] = address.scheme
        props["properties"] = {
            **(props.get("properties") or {}),
            "mlep.blobEndpoint": f"{ws.base_url}/{ACCOUNT}",
        }
    return body


def _find(ws: Workspace, name: str) -> Record:
    record = ws.store.get(f"datastores/{name}")
    if record is None:
        raise not_found("datastore", name)
    return record


async def list_datastores(call: Call) -> Response:
    """``Datastores_List`` (``isDefault``, ``names``, ``searchText``, ``count``, ``$skip``)."""
    records = call.ws.store.children(KIND)
    is_default = call.query("isDefault")
    if is_default is not None:
        wanted = is_default.lower() == "true"
        records = [r for r in records if (r.name.lower() == DEFAULT_DATASTORE) == wanted]
    names = call.request.query_params.getlist("names")
    if names:
        wanted_names = {n.strip().lower() for item in names for n in item.split(",") if n.strip()}
        records = [r for r in records if r.name.lower() in wanted_names]
    text = call.query("searchText")
    if text:
        records = [r for r in records if text.lower() in r.name.lower()]
    return json_response(page(call, records, lambda r: _render(call.ws, r), size_params=("count",)))


async def get_datastore(call: Call) -> Response:
    """``Datastores_Get``."""
    return json_response(_render(call.ws, _find(call.ws, call.params["name"])))


async def put_datastore(call: Call) -> Response:
    """``Datastores_CreateOrUpdate`` (synchronous; secrets are kept apart and never returned)."""
    ws, name = call.ws, call.params["name"]
    check_asset_name(name)
    if name.lower() == DEFAULT_DATASTORE:
        raise bad_request(f"'{DEFAULT_DATASTORE}' is managed by the workspace and cannot be replaced.")
    body = await call.body()
    if not isinstance(body.get("properties"), dict):
        raise bad_request("The field 'properties' is required.", target="properties")
    props = dict(body["properties"])
    props["datastoreType"] = canonical(
        props.get("datastoreType"), _TYPES, "properties.datastoreType", required=True
    )
    credentials = optional_dict(props, "credentials", "properties.")
    if not credentials.get("credentialsType"):
        raise bad_request(
            "The field 'properties.credentials.credentialsType' is required.", target="properties.credentials"
        )
    required = {
        "AzureBlob": ("accountName",),
        "AzureDataLakeGen2": ("accountName", "filesystem"),
        "AzureFile": ("accountName", "fileShareName"),
        "AzureDataLakeGen1": ("storeName",),
        "OneLake": ("artifact", "oneLakeWorkspaceName"),
    }[props["datastoreType"]]
    for field in required:
        if not props.get(field):
            raise bad_request(f"The field 'properties.{field}' is required.", target=f"properties.{field}")
    secrets = dict(credentials.get("secrets") or {})
    props["credentials"] = {
        **credentials,
        "secrets": {"secretsType": secrets.get("secretsType")} if secrets else None,
    }
    props.pop("isDefault", None)
    existing = ws.store.get(f"datastores/{name}")
    record = ws.store.put(
        f"datastores/{name}", KIND, "", existing.name if existing else name, {"properties": props}
    )
    if secrets:
        import json

        ws.store.set_secret(f"datastore:{record.id}", json.dumps(secrets))
    return json_response(_render(ws, record), 200 if existing else 201)


async def delete_datastore(call: Call) -> Response:
    """``Datastores_Delete``."""
    name = call.params["name"]
    if name.lower() == DEFAULT_DATASTORE:
        raise bad_request(f"The default datastore '{DEFAULT_DATASTORE}' cannot be deleted.")
    existed = call.ws.store.delete(f"datastores/{name}")
    call.ws.store.delete_secrets(f"datastore:datastores/{name.lower()}")
    return Response(status_code=200 if existed else 204)


async def list_secrets(call: Call) -> Response:
    """``Datastores_ListSecrets`` (the optional ``SecretExpiry`` body is accepted and ignored)."""
    ws = call.ws
    record = _find(ws, call.params["name"])
    await call.body(required=False)
    if record.name.lower() == DEFAULT_DATASTORE:
        return json_response({"secretsType": "AccountKey", "key": ws.storage_key})
    stored = ws.store.secret(f"datastore:{record.id}")
    if stored is None:
        raise bad_request(f"Datastore '{record.name}' has no stored secrets.")
    import json

    secrets = json.loads(stored)
    kind = secrets.get("secretsType")
    field = _SECRET_FIELDS.get(str(kind))
    return json_response({"secretsType": kind, **({field: secrets.get(field)} if field else {})})
