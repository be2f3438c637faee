"""Models, codes, environments and data: containers and versions (synchronous, as at workspace scope).

Paths: ``{ws}/{models|codes|environments|data}[/{name}[/versions[/{version}]]]`` and
``{ws}/codes/{name}/versions/{version}/startPendingUpload`` (at workspace scope only code versions
have it; data and models are uploaded to a datastore and registered by URI).

What a version's properties must hold is checked by :mod:`.asset_checks` (a data version's type
and ``dataUri``, an environment's conda file…); curated environments (``environments/AzureML-<name>``,
read-only, the ``AzureML-`` prefix reserved) come from :mod:`.curated`.

Versions are immutable, as in Azure: a PUT of an existing version whose content is the same
answers 200 with it (its description, tags and archive flag take the new values, and new keys of
its ``properties`` dictionary are added); any other change is a 409 ``UserError`` ("... is already
registered and cannot be changed"), and the client registers the container's ``nextVersion``
instead. Containers carry ``latestVersion`` (the newest version created) and ``nextVersion``.

Code versions are found by content across the workspace: ``codes/<any name>/versions?hash=…``
answers the code versions of every name whose ``hash_sha256`` (and ``hash_version``) match, as
the service does for the SDK, which looks anonymous code up under a fresh name.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.responses import Response

from ..specs._curated import CURATED_PREFIX
from ._render import envelope, page
from .arm import WORKSPACE_PATH, ArmError, bad_request, json_response, not_found
from .asset_checks import check_data_uri, check_version_props
from .blobstore import ACCOUNT, DEFAULT_CONTAINER, container_sas
from .context import Call, Workspace
from .curated import curated_record, is_curated
from .store import Record
from .validation import canonical, check_asset_name, list_view, optional_dict

__all__ = [
    "FAMILIES",
    "asset_containers",
    "asset_versions",
    "ensure_container",
    "find_version",
    "register_version",
]

FAMILIES = {"models": "model", "codes": "code", "environments": "environment", "data": "data"}
_MUTABLE_VERSION_FIELDS = ("description", "tags", "isArchived", "stage")
"""Fields of an asset version that a PUT of the same version may change (besides adding properties)."""
_SERVER_VERSION_FIELDS = ("provisioningState", "environmentType")


def _family(call: Call) -> str:
    family = call.params["family"].lower()
    if family not in FAMILIES:
        raise not_found("resource type", call.params["family"])
    return family


def _container_kind(family: str) -> str:
    return f"{FAMILIES[family]}Container"


def _version_kind(family: str) -> str:
    return f"{FAMILIES[family]}Version"


def _type(family: str, version: bool) -> str:
    base = f"Microsoft.MachineLearningServices/workspaces/{family}"
    return f"{base}/versions" if version else base


def find_version(ws: Workspace, family: str, name: str, version: str) -> Record:
    """A stored asset version (or a curated environment's), or a 404."""
    if family == "environments" and is_curated(name):
        return curated_record(name, version)
    record = ws.store.get(f"{family}/{name}/versions/{version}")
    if record is None:
        raise not_found(f"{FAMILIES[family]} version", f"{name}:{version}")
    return record


def _versions(ws: Workspace, family: str, name: str) -> list[Record]:
    return ws.store.children(_version_kind(family), f"{family}/{name}")


def _render_container(ws: Workspace, family: str, record: Record) -> dict[str, Any]:
    body = envelope(ws, record, _type(family, False))
    versions = _versions(ws, family, record.name)
    latest = versions[-1].name if versions else None
    body["properties"]["latestVersion"] = latest
    numeric = [int(v.name) for v in versions if v.name.isdigit()]
    body["properties"]["nextVersion"] = str(max(numeric) + 1) if numeric else "1"
    return body


def _render_version(ws: Workspace, family: str, record: Record) -> dict[str, Any]:
    body = envelope(ws, record, _type(family, True))
    if family == "models":
        body["properties"]["flavors"] = _flavors(body["properties"].get("flavors"))
    return body


def _flavors(flavors: object) -> dict[str, Any]:
    """A model's ``flavors`` as Azure serves them: always an object (``{}`` when none), each flavor
    ``{"data": {…}}`` (clients read ``flavor.data``)."""
    if not isinstance(flavors, dict):
        return {}
    return {
        name: {**value, "data": value.get("data") or {}} if isinstance(value, dict) else {"data": {}}
        for name, value in flavors.items()
    }


def _view_filter(call: Call, records: list[Record]) -> list[Record]:
    view = list_view(call.query("listViewType"))
    if view == "All":
        return records
    archived = view == "ArchivedOnly"
    return [r for r in records if bool(r.body["properties"].get("isArchived")) == archived]


async def list_containers(call: Call) -> Response:
    """``{Model|Code|Environment}Containers_List``."""
    family = _family(call)
    records = _view_filter(call, call.ws.store.children(_container_kind(family)))
    return json_response(page(call, records, lambda r: _render_container(call.ws, family, r)))


async def get_container(call: Call) -> Response:
    """``…Containers_Get``."""
    family, name = _family(call), call.params["name"]
    if family == "environments" and is_curated(name):
        return json_response(envelope(call.ws, curated_record(name, None), _type(family, False)))
    record = call.ws.store.get(f"{family}/{name}")
    if record is None:
        raise not_found(f"{FAMILIES[family]} container", name)
    return json_response(_render_container(call.ws, family, record))


def ensure_container(ws: Workspace, family: str, name: str) -> Record:
    """The asset's container, created (empty) when missing."""
    record = ws.store.get(f"{family}/{name}")
    if record is None:
        record = ws.store.put(
            f"{family}/{name}",
            _container_kind(family),
            "",
            name,
            {
                "properties": {
                    "description": None,
                    "tags": {},
                    "properties": {},
                    "isArchived": False,
                    "provisioningState": "Succeeded",
                }
            },
        )
    return record


async def put_container(call: Call) -> Response:
    """``…Containers_CreateOrUpdate`` (200 or 201)."""
    family, name = _family(call), call.params["name"]
    check_asset_name(name)
    body = await call.body()
    props = optional_dict(body, "properties", "")
    if "properties" not in body:
        raise bad_request("The field 'properties' is required.", target="properties")
    existing = call.ws.store.get(f"{family}/{name}")
    stored = {
        "properties": {
            "description": props.get("description"),
            "tags": optional_dict(props, "tags", "properties."),
            "properties": optional_dict(props, "properties", "properties."),
            "isArchived": bool(props.get("isArchived", False)),
            "provisioningState": "Succeeded",
        }
    }
    record = call.ws.store.put(
        f"{family}/{name}", _container_kind(family), "", existing.name if existing else name, stored
    )
    return json_response(_render_container(call.ws, family, record), 200 if existing else 201)


async def delete_container(call: Call) -> Response:
    """``…Containers_Delete`` (200, or 204 when absent); deletes its versions."""
    family, name = _family(call), call.params["name"]
    return Response(status_code=200 if call.ws.store.delete(f"{family}/{name}") else 204)


async def list_versions(call: Call) -> Response:
    """``…Versions_List`` (``version``, ``tags``, ``hash``/``hashVersion`` for codes, ``$orderBy``)."""
    family, name = _family(call), call.params["name"]
    content_hash = call.query("hash")
    if content_hash and family == "codes":
        # this name's versions first, then those of every other code container
        candidates = _versions(call.ws, family, name) + [
            version
            for container in call.ws.store.children(_container_kind(family))
            if container.name.lower() != name.lower()
            for version in _versions(call.ws, family, container.name)
        ]
    else:
        candidates = _versions(call.ws, family, name)
    records = _view_filter(call, candidates)
    wanted_version = call.query("version")
    if wanted_version:
        records = [r for r in records if r.name == wanted_version]
    if content_hash:
        hash_version = call.query("hashVersion")
        records = [r for r in records if _hash_matches(r, content_hash, hash_version)]
    tags = call.query("tags")
    if tags:
        records = [r for r in records if _matches_tags(r.body["properties"].get("tags") or {}, tags)]
    order = (call.query("$orderBy") or "").lower()
    if order.startswith("createdtime") or order.startswith("createdat"):
        records.sort(key=lambda r: r.created_at, reverse=order.endswith("desc"))
    return json_response(page(call, records, lambda r: _render_version(call.ws, family, r)))


def _hash_matches(record: Record, content_hash: str, hash_version: str | None) -> bool:
    stored = record.body["properties"].get("properties") or {}
    return str(stored.get("hash_sha256")) == content_hash and (
        hash_version is None or str(stored.get("hash_version")) == hash_version
    )


def _matches_tags(tags: dict[str, Any], wanted: str) -> bool:
    for item in wanted.split(","):
        key, sep, value = item.strip().partition("=")
        if key not in tags or (sep and str(tags[key]) != value):
            return False
    return True


async def get_version(call: Call) -> Response:
    """``…Versions_Get``."""
    family = _family(call)
    record = find_version(call.ws, family, call.params["name"], call.params["version"])
    return json_response(_render_version(call.ws, family, record))


async def put_version(call: Call) -> Response:
    """``…Versions_CreateOrUpdate`` (200 or 201); creates the container when needed."""
    ws, family = call.ws, _family(call)
    name, version = call.params["name"], call.params["version"]
    check_asset_name(name, version)
    if family == "environments" and is_curated(name):
        raise bad_request(
            f"Environment names starting with '{CURATED_PREFIX}' are reserved for curated environments.",
            target="name",
        )
    body = await call.body()
    if not isinstance(body.get("properties"), dict):
        raise bad_request("The field 'properties' is required.", target="properties")
    props = dict(body["properties"])
    check_version_props(family, props, f"{name}:{version}")
    if family == "data":
        check_data_uri(ws, props)
    record, created = register_version(ws, family, name, version, props)
    return json_response(_render_version(ws, family, record), 201 if created else 200)


def register_version(
    ws: Workspace, family: str, name: str, version: str | None, props: dict[str, Any]
) -> tuple[Record, bool]:
    """Store an asset version as ``…Versions_CreateOrUpdate`` does (checked ``props``; the container
    is created when needed; an existing version may change only what Azure lets change). ``version``
    None takes the container's next version. The record, and True when it was created."""
    props = dict(props)
    for key in ("tags", "properties"):
        props[key] = optional_dict(props, key, "properties.")
    props.setdefault("isAnonymous", False)
    props.setdefault("isArchived", False)
    if family == "environments":
        props.setdefault("osType", "Linux")
        props.setdefault("autoRebuild", "Disabled")
        props["environmentType"] = "UserCreated"
    props["provisioningState"] = "Succeeded"
    with ws.store.transaction():
        container = ensure_container(ws, family, name)
        if version is None:
            numeric = [int(v.name) for v in _versions(ws, family, name) if v.name.isdigit()]
            version = str(max(numeric) + 1) if numeric else "1"
        existing = ws.store.get(f"{family}/{name}/versions/{version}")
        if existing is not None:
            props = _same_version(ws, family, name, existing, props)
        record = ws.store.put(
            f"{container.path}/versions/{version}",
            _version_kind(family),
            container.id,
            existing.name if existing else version,
            {"properties": props},
        )
    return record, existing is None


def asset_containers(ws: Workspace, family: str) -> list[Record]:
    """The stored containers of a family (``models``…), oldest first."""
    return ws.store.children(_container_kind(family))


def asset_versions(ws: Workspace, family: str, name: str) -> list[Record]:
    """The stored versions of an asset, oldest first."""
    return _versions(ws, family, name)


def _comparable(props: dict[str, Any]) -> dict[str, Any]:
    """The immutable content of version properties (absent, null and an empty object are the same:
    a model stored without flavors is rendered with ``flavors: {}``, which a client may send back)."""
    skipped = (*_MUTABLE_VERSION_FIELDS, *_SERVER_VERSION_FIELDS, "properties")
    return {k: v for k, v in props.items() if k not in skipped and v is not None and v != {}}


def _same_version(
    ws: Workspace, family: str, name: str, existing: Record, props: dict[str, Any]
) -> dict[str, Any]:
    """The properties to store for a PUT of an existing version, or a 409 when its content changes.

    The mutable fields take the new values; the ``properties`` dictionary keeps its keys and gains
    the new ones (a changed value is a change of content).
    """
    stored = dict(existing.body["properties"])
    old_dict: dict[str, Any] = stored.get("properties") or {}
    new_dict: dict[str, Any] = props.get("properties") or {}
    altered = sorted(k for k in new_dict if k in old_dict and str(new_dict[k]) != str(old_dict[k]))
    before, after = _comparable(stored), _comparable(props)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed or altered:
        container = ws.store.get(f"{family}/{name}")
        next_version = (
            _render_container(ws, family, container)["properties"]["nextVersion"] if container else None
        )
        fields = ", ".join([*changed, *(f"properties.{k}" for k in altered)])
        raise ArmError(
            409,
            "UserError",
            f"{FAMILIES[family].capitalize()} {name} with version {existing.name} "
            f"is already registered and cannot be changed. Changed: {fields}. Register a new version"
            + (f" (the next one is {next_version})" if next_version else "")
            + ", or change only description, tags or isArchived.",
            target="version",
        )
    for key in _MUTABLE_VERSION_FIELDS:
        if key in props:
            stored[key] = props[key]
    stored["properties"] = {**old_dict, **new_dict}
    return stored


async def delete_version(call: Call) -> Response:
    """``…Versions_Delete`` (200, or 204 when absent)."""
    family = _family(call)
    path = f"{family}/{call.params['name']}/versions/{call.params['version']}"
    return Response(status_code=200 if call.ws.store.delete(path) else 204)


async def start_pending_upload(call: Call) -> Response:
    """``CodeVersions_CreateOrGetStartPendingUpload``: a SAS URI into the workspace blob store."""
    family = _family(call)
    if family != "codes":
        raise not_found("operation", "startPendingUpload")
    body = await call.body()
    upload_type = canonical(
        body.get("pendingUploadType") or "TemporaryBlobReference",
        ("None", "TemporaryBlobReference"),
        "pendingUploadType",
    )
    upload_id = body.get("pendingUploadId") or str(uuid.uuid4())
    if not isinstance(upload_id, str) or not re.match(r"^[A-Za-z0-9._-]{1,128}$", upload_id):
        raise bad_request(
            "'pendingUploadId' must be up to 128 letters, digits, '.', '_' or '-'.", target="pendingUploadId"
        )
    blob_uri = f"{call.ws.base_url}/{ACCOUNT}/{DEFAULT_CONTAINER}/LocalUpload/{upload_id}"
    sas = container_sas(call.ws.storage_key, DEFAULT_CONTAINER, permissions="racwdl", hours=24)
    storage_id = (
        f"/subscriptions/{WORKSPACE_PATH.split('/')[2]}/resourceGroups/{WORKSPACE_PATH.split('/')[4]}"
        f"/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"
    )
    return json_response(
        {
            "pendingUploadId": upload_id,
            "pendingUploadType": upload_type,
            "blobReferenceForConsumption": {
                "blobUri": blob_uri,
                "storageAccountArmId": storage_id,
                "credential": {"credentialType": "SAS", "sasUri": f"{blob_uri}?{sas}"},
            },
        }
    )
