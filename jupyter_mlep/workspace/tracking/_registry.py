"""MLflow's model registry over the workspace's models, as in Azure ML, where both are one registry.

A registered model is a model container (``models/<name>``), a model version a model version
(``models/<name>/versions/<n>``, numbered as the container's ``nextVersion``), so a model that
``mlflow.register_model`` or ``log_model(registered_model_name=…)`` registers is
``azureml:<name>:<n>`` for the management plane and the deployments. A version registered from
this server's artifacts is an ``mlflow_model`` whose ``modelUri`` is the datastore URI of its
files (``azureml://datastores/workspaceblobstore/paths/LoggedModels/<model id>``), with the flavors
of its ``MLmodel``, the run as ``jobName``, and MLflow's source in its properties. Versions are
``READY`` at once; MLflow's stage is the version's ``stage``, its aliases are properties of the
container (``mlflow.alias.<alias>``). Azure does not rename models: ``rename`` is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import yaml
from starlette.responses import Response

from ..arm import ArmError
from ..assets import asset_containers, asset_versions, ensure_container, register_version
from ..blobstore import DEFAULT_CONTAINER
from ..context import Workspace
from ..store import Record
from ..validation import check_asset_name
from ._artifacts import run_folder
from ._entities import TrackingError, invalid, missing
from ._search import matches, page, page_body, parse_filter, parse_order, sort
from ._wire import Ctx, ok

__all__ = ["ROUTES"]

_FAMILY = "models"
_ALIAS = "mlflow.alias."
_STAGES = ("None", "Staging", "Production", "Archived")
_USER = "local-user"
MODEL_ATTRIBUTES = frozenset({"name", "creation_timestamp", "last_updated_timestamp"})
VERSION_ATTRIBUTES = frozenset(
    {
        "name",
        "version",
        "run_id",
        "source",
        "current_stage",
        "model_id",
        "creation_timestamp",
        "last_updated_timestamp",
    }
)


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _name(ctx: Ctx) -> str:
    name = ctx.text("name")
    try:
        check_asset_name(name)
    except ArmError as exc:
        raise invalid(exc.message) from None
    return name


def _container(ws: Workspace, name: str) -> Record:
    record = ws.store.get(f"{_FAMILY}/{name}")
    if record is None:
        raise missing(f"Registered Model with name={name} not found")
    return record


def _version(ws: Workspace, name: str, version: str) -> Record:
    record = ws.store.get(f"{_FAMILY}/{name}/versions/{version}")
    if record is None:
        raise missing(f"Model Version (name={name}, version={version}) not found")
    return record


def _save(ws: Workspace, record: Record) -> Record:
    return ws.store.put(record.path, record.kind, record.parent, record.name, record.body)


def _aliases(container: Record) -> dict[str, str]:
    extra = container.body["properties"].get("properties") or {}
    return {k[len(_ALIAS) :]: str(v) for k, v in extra.items() if k.startswith(_ALIAS)}


def _pairs(mapping: dict[str, Any] | None) -> list[dict[str, str]]:
    return [{"key": str(k), "value": str(v)} for k, v in (mapping or {}).items()]


def version_json(container: Record, record: Record) -> dict[str, Any]:
    """A ``ModelVersion``."""
    props = record.body["properties"]
    extra = props.get("properties") or {}
    body: dict[str, Any] = {
        "name": container.name,
        "version": record.name,
        "creation_timestamp": _ms(record.created_at),
        "last_updated_timestamp": _ms(record.modified_at),
        "user_id": _USER,
        "current_stage": props.get("stage") or "None",
        "description": props.get("description") or "",
        "source": extra.get("mlflow.source") or props.get("modelUri") or "",
        "run_id": props.get("jobName") or "",
        "status": "READY",
        "tags": _pairs(props.get("tags")),
        "aliases": sorted(a for a, v in _aliases(container).items() if v == record.name),
    }
    if extra.get("mlflow.modelId"):
        body["model_id"] = extra["mlflow.modelId"]
    return body


def registered_json(ws: Workspace, container: Record) -> dict[str, Any]:
    """A ``RegisteredModel`` with its latest version of each stage."""
    props = container.body["properties"]
    latest: dict[str, Record] = {}
    for record in asset_versions(ws, _FAMILY, container.name):
        stage = record.body["properties"].get("stage") or "None"
        if stage not in latest or _order(record) > _order(latest[stage]):
            latest[stage] = record
    return {
        "name": container.name,
        "creation_timestamp": _ms(container.created_at),
        "last_updated_timestamp": _ms(container.modified_at),
        "user_id": _USER,
        "description": props.get("description") or "",
        "latest_versions": [version_json(container, r) for r in sorted(latest.values(), key=_order)],
        "tags": _pairs(props.get("tags")),
        "aliases": [{"alias": a, "version": v} for a, v in sorted(_aliases(container).items())],
    }


def _order(record: Record) -> tuple[int, str]:
    return (int(record.name), "") if record.name.isdigit() else (-1, record.name)


def _json_value(item: dict[str, Any], entity: str, key: str) -> Any:
    if entity == "tag":
        return {t["key"]: t["value"] for t in item["tags"]}.get(key)
    if entity == "attribute":
        return item.get(key)
    raise invalid("The model registry is searched by attributes and tags.")


def _search(
    ctx: Ctx, items: list[dict[str, Any]], attributes: frozenset[str], default: int
) -> tuple[list[Any], str | None]:
    clauses = parse_filter(ctx.get("filter"), attributes)
    found = [item for item in items if matches(item, clauses, _json_value, missing_differs=True)]
    found = sort(found, parse_order(ctx.items("order_by"), attributes), _json_value)
    return page(found, int(ctx.get("max_results") or default), ctx.get("page_token"))


# registered models -----------------------------------------------------------------------------


async def create_registered_model(ctx: Ctx) -> Response:
    """``registered-models/create``."""
    name = _name(ctx)
    if ctx.ws.store.get(f"{_FAMILY}/{name}") is not None:
        raise TrackingError("RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists.")
    record = ensure_container(ctx.ws, _FAMILY, name)
    record.body["properties"]["tags"] = ctx.pairs("tags")
    record.body["properties"]["description"] = ctx.get("description") or None
    record = _save(ctx.ws, record)
    return ok({"registered_model": registered_json(ctx.ws, record)})


async def get_registered_model(ctx: Ctx) -> Response:
    """``registered-models/get``."""
    return ok({"registered_model": registered_json(ctx.ws, _container(ctx.ws, ctx.text("name")))})


async def search_registered_models(ctx: Ctx) -> Response:
    """``registered-models/search`` (``name`` and ``tags.`` filters; by name unless ordered)."""
    items = [registered_json(ctx.ws, r) for r in asset_containers(ctx.ws, _FAMILY)]
    items.sort(key=lambda item: item["name"])
    chosen, following = _search(ctx, items, MODEL_ATTRIBUTES, 100)
    return ok(page_body("registered_models", chosen, following))


async def update_registered_model(ctx: Ctx) -> Response:
    """``registered-models/update`` (the description)."""
    record = _container(ctx.ws, ctx.text("name"))
    record.body["properties"]["description"] = ctx.get("description") or None
    return ok({"registered_model": registered_json(ctx.ws, _save(ctx.ws, record))})


async def rename_registered_model(ctx: Ctx) -> Response:
    """``registered-models/rename``: refused, as Azure ML models keep their names."""
    _container(ctx.ws, ctx.text("name"))
    raise TrackingError(
        "NOT_IMPLEMENTED", "Models of an Azure ML workspace cannot be renamed; register a new model instead."
    )


async def delete_registered_model(ctx: Ctx) -> Response:
    """``registered-models/delete``: the model and its versions."""
    record = _container(ctx.ws, ctx.text("name"))
    ctx.ws.store.delete(record.id)
    return ok()


async def set_registered_model_tag(ctx: Ctx) -> Response:
    """``registered-models/set-tag``."""
    record = _container(ctx.ws, ctx.text("name"))
    tags = dict(record.body["properties"].get("tags") or {})
    tags[ctx.text("key")] = str(ctx.get("value", ""))
    record.body["properties"]["tags"] = tags
    _save(ctx.ws, record)
    return ok()


async def delete_registered_model_tag(ctx: Ctx) -> Response:
    """``registered-models/delete-tag``."""
    record = _container(ctx.ws, ctx.text("name"))
    (record.body["properties"].get("tags") or {}).pop(ctx.text("key"), None)
    _save(ctx.ws, record)
    return ok()


async def set_alias(ctx: Ctx) -> Response:
    """``POST registered-models/alias``: point an alias at a version."""
    name, alias, version = ctx.text("name"), ctx.text("alias"), ctx.text("version")
    _version(ctx.ws, name, version)
    record = _container(ctx.ws, name)
    extra = dict(record.body["properties"].get("properties") or {})
    extra[_ALIAS + alias] = version
    record.body["properties"]["properties"] = extra
    _save(ctx.ws, record)
    return ok()


async def delete_alias(ctx: Ctx) -> Response:
    """``DELETE registered-models/alias``."""
    record = _container(ctx.ws, ctx.text("name"))
    (record.body["properties"].get("properties") or {}).pop(_ALIAS + ctx.text("alias"), None)
    _save(ctx.ws, record)
    return ok()


async def get_by_alias(ctx: Ctx) -> Response:
    """``GET registered-models/alias``: the version an alias points at."""
    name, alias = ctx.text("name"), ctx.text("alias")
    container = _container(ctx.ws, name)
    version = _aliases(container).get(alias)
    if version is None:
        raise missing(f"Registered model alias {alias} not found.")
    return ok({"model_version": version_json(container, _version(ctx.ws, name, version))})


async def get_latest_versions(ctx: Ctx) -> Response:
    """``registered-models/get-latest-versions``: the newest version of each (asked) stage."""
    container = _container(ctx.ws, ctx.text("name"))
    latest = registered_json(ctx.ws, container)["latest_versions"]
    stages = {str(s).lower() for s in ctx.items("stages")}
    return ok({"model_versions": [v for v in latest if not stages or v["current_stage"].lower() in stages]})


# model versions --------------------------------------------------------------------------------


def _logged_model_id(source: str, model_id: str | None) -> str | None:
    """The logged model a version comes from (``models:/<model id>`` or the ``model_id`` given)."""
    if model_id:
        return model_id
    if source.startswith("models:/m-") and "/" not in source[len("models:/") :]:
        return source[len("models:/") :]
    return None


def _artifact_uri(ctx: Ctx, source: str, model_id: str | None) -> str:
    """Where a version's files are, as an artifact URI of this server when they are here."""
    if source.startswith("models:/") and model_id == source[len("models:/") :]:
        return ctx.store.logged_model(model_id).artifact_uri
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/") :].partition("/")
        return f"{ctx.store.run(run_id).artifact_uri.rstrip('/')}/{path}".rstrip("/")
    if model_id and not source:
        return ctx.store.logged_model(model_id).artifact_uri
    return source


def _flavors(ctx: Ctx, folder: str) -> dict[str, Any]:
    path = ctx.blobs.blob_path(DEFAULT_CONTAINER, f"{folder}/MLmodel")
    try:
        mlmodel = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    flavors = mlmodel.get("flavors") if isinstance(mlmodel, dict) else None
    if not isinstance(flavors, dict):
        return {}
    return {
        str(name): {
            "data": {str(k): str(v) for k, v in (data or {}).items() if not isinstance(v, (dict, list))}
        }
        for name, data in flavors.items()
        if isinstance(data, dict) or data is None
    }


async def create_model_version(ctx: Ctx) -> Response:
    """``model-versions/create``: the model's next version, ``READY``."""
    name = _name(ctx)
    container = _container(ctx.ws, name)
    source = str(ctx.get("source") or "")
    model_id = _logged_model_id(source, ctx.get("model_id") or None)
    run_id = ctx.get("run_id") or (ctx.store.logged_model(model_id).source_run_id if model_id else None)
    artifact_uri = _artifact_uri(ctx, source, model_id)
    if not artifact_uri:
        raise invalid("A model version needs a 'source' (where its files are).")
    folder = run_folder(artifact_uri)
    extra = {"mlflow.source": source or artifact_uri, "mlflow.artifactUri": artifact_uri}
    if model_id:
        extra["mlflow.modelId"] = str(model_id)
    props: dict[str, Any] = {
        "modelType": "mlflow_model",
        "modelUri": f"azureml://datastores/workspaceblobstore/paths/{folder}" if folder else artifact_uri,
        "description": ctx.get("description") or None,
        "tags": ctx.pairs("tags"),
        "properties": extra,
        "flavors": _flavors(ctx, folder) if folder else {},
    }
    if run_id:
        props["jobName"] = str(run_id)
    try:
        record, _ = register_version(ctx.ws, _FAMILY, container.name, None, props)
    except ArmError as exc:
        raise invalid(exc.message) from None
    return ok({"model_version": version_json(container, record)})


async def get_model_version(ctx: Ctx) -> Response:
    """``model-versions/get``."""
    name = ctx.text("name")
    record = _version(ctx.ws, name, ctx.text("version"))
    return ok({"model_version": version_json(_container(ctx.ws, name), record)})


async def get_download_uri(ctx: Ctx) -> Response:
    """``model-versions/get-download-uri``: where the client downloads the version's files from."""
    record = _version(ctx.ws, ctx.text("name"), ctx.text("version"))
    props = record.body["properties"]
    extra = props.get("properties") or {}
    return ok({"artifact_uri": extra.get("mlflow.artifactUri") or props.get("modelUri") or ""})


async def search_model_versions(ctx: Ctx) -> Response:
    """``model-versions/search`` (``name``, ``run_id``, ``source``, ``tags.`` filters)."""
    items: list[dict[str, Any]] = []
    for container in asset_containers(ctx.ws, _FAMILY):
        versions = sorted(asset_versions(ctx.ws, _FAMILY, container.name), key=_order, reverse=True)
        items.extend(version_json(container, record) for record in versions)
    items.sort(key=lambda item: item["name"])
    chosen, following = _search(ctx, items, VERSION_ATTRIBUTES, 10000)
    return ok(page_body("model_versions", chosen, following))


def _update_version(ctx: Ctx, change: Any) -> Response:
    name = ctx.text("name")
    record = _version(ctx.ws, name, ctx.text("version"))
    change(record.body["properties"])
    record = _save(ctx.ws, record)
    return ok({"model_version": version_json(_container(ctx.ws, name), record)})


async def update_model_version(ctx: Ctx) -> Response:
    """``model-versions/update`` (the description)."""
    return _update_version(ctx, lambda props: props.update(description=ctx.get("description") or None))


async def transition_stage(ctx: Ctx) -> Response:
    """``model-versions/transition-stage``: the version's ``stage`` (optionally archiving the others
    of that stage)."""
    wanted = str(ctx.get("stage") or "")
    stage = next((s for s in _STAGES if s.lower() == wanted.lower()), None)
    if stage is None:
        raise invalid(f"Invalid Model Version stage: {wanted}. Value must be one of {', '.join(_STAGES)}.")
    if str(ctx.get("archive_existing_versions", "")).lower() == "true" and stage in ("Staging", "Production"):
        for other in asset_versions(ctx.ws, _FAMILY, ctx.text("name")):
            if other.name != ctx.text("version") and other.body["properties"].get("stage") == stage:
                other.body["properties"]["stage"] = "Archived"
                _save(ctx.ws, other)
    return _update_version(ctx, lambda props: props.update(stage=stage))


async def delete_model_version(ctx: Ctx) -> Response:
    """``model-versions/delete``."""
    record = _version(ctx.ws, ctx.text("name"), ctx.text("version"))
    ctx.ws.store.delete(record.id)
    return ok()


async def set_model_version_tag(ctx: Ctx) -> Response:
    """``model-versions/set-tag``."""
    key, value = ctx.text("key"), str(ctx.get("value", ""))
    return _update_version(ctx, lambda props: props.update(tags={**(props.get("tags") or {}), key: value}))


async def delete_model_version_tag(ctx: Ctx) -> Response:
    """``model-versions/delete-tag``."""
    key = ctx.text("key")
    _update_version(ctx, lambda props: (props.get("tags") or {}).pop(key, None))
    return ok()


_R = "/api/2.0/mlflow/registered-models/"
_V = "/api/2.0/mlflow/model-versions/"
ROUTES: list[tuple[str, str, Any]] = [
    ("POST", _R + "create", create_registered_model),
    ("GET", _R + "get", get_registered_model),
    ("GET", _R + "search", search_registered_models),
    ("PATCH", _R + "update", update_registered_model),
    ("POST", _R + "rename", rename_registered_model),
    ("DELETE", _R + "delete", delete_registered_model),
    ("POST", _R + "set-tag", set_registered_model_tag),
    ("DELETE", _R + "delete-tag", delete_registered_model_tag),
    ("POST", _R + "alias", set_alias),
    ("DELETE", _R + "alias", delete_alias),
    ("GET", _R + "alias", get_by_alias),
    ("POST", _R + "get-latest-versions", get_latest_versions),
    ("GET", _R + "get-latest-versions", get_latest_versions),
    ("POST", _V + "create", create_model_version),
    ("GET", _V + "get", get_model_version),
    ("GET", _V + "get-download-uri", get_download_uri),
    ("GET", _V + "search", search_model_versions),
    ("PATCH", _V + "update", update_model_version),
    ("POST", _V + "transition-stage", transition_stage),
    ("DELETE", _V + "delete", delete_model_version),
    ("POST", _V + "set-tag", set_model_version_tag),
    ("DELETE", _V + "delete-tag", delete_model_version_tag),
]
"""(method, path below the tracking URI, handler)."""
