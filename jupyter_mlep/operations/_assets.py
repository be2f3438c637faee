"""Registering a deployment's inline assets (a model path, a code folder, an inline environment),
and data assets (:func:`register_data`).

``azureml:name:version`` references are kept as they are (the spec turns them into ids).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import OperationTimeoutError, SpecValidationError
from ..rest import (
    HASH_TAG,
    RegisteredAsset,
    RestClient,
    content_hash,
    datastore_container,
    default_datastore,
    register_code,
    register_model,
)
from ..rest._uploads import next_version
from ..specs import BatchDeployment, Data, Environment, Model, OnlineDeployment, require_local_path
from ..specs._mlflow import find_mlflow_root

__all__ = [
    "DeploymentAssets",
    "local_code_folder",
    "local_model_path",
    "register_data",
    "register_deployment_assets",
    "register_environment",
    "upload_local",
]


@dataclass
class DeploymentAssets:
    """The ids to pass to ``OnlineDeployment.to_rest`` (None: the spec's own reference is used)."""

    model_id: str | None = None
    code_id: str | None = None
    environment_id: str | None = None
    registered: list[RegisteredAsset] = field(default_factory=list)


def local_model_path(spec: OnlineDeployment | BatchDeployment) -> Path | None:
    """The local model file or folder of a deployment (checked to exist), or None."""
    if isinstance(spec.model, Model) and isinstance(spec.model.path, Path):
        return require_local_path(spec.model.path, "model path", spec.source)
    return None


def local_code_folder(spec: OnlineDeployment | BatchDeployment) -> Path | None:
    """The local code folder of a deployment (checked to exist), or None."""
    code = spec.code_configuration.code if spec.code_configuration else None
    if isinstance(code, Path):
        return require_local_path(code, "code folder", spec.source)
    return None


def register_environment(client: RestClient, environment: Environment, *, name: str) -> str:
    """Create (or find) an environment version for an inline environment; its ARM id.

    The version is derived from the content, so the same environment is registered once.
    """
    context_uri = None
    if environment.build is not None and isinstance(environment.build.path, Path):
        folder = require_local_path(environment.build.path, "build context", environment.source)
        context_uri = register_code(client, folder, name=f"{name}-context").uri
    body = environment.to_rest(context_uri=context_uri)
    name = environment.name or name
    version = environment.version or (
        "h" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    )
    existing = client.find(client.paths.environment_version(name, version))
    if isinstance(existing, dict) and existing.get("id"):
        return str(existing["id"])
    created = client.put(client.paths.environment_version(name, version), body)
    return str(created["id"])


def register_data(
    client: RestClient,
    spec: Data,
    *,
    datastore: str | None = None,
    on_file: Callable[[str, int], None] | None = None,
) -> RegisteredAsset:
    """Register a data asset; a local file or folder is uploaded first.

    A local ``path`` goes to ``datastore`` (default: the workspace's default datastore) below
    ``LocalUpload/<content hash>/<name>`` and the version is registered by its datastore URI, with
    the content hash in the tag ``mlep.contentHash``: the same files under the same name are found
    again and not uploaded twice. A datastore URI or an https/wasbs URL is registered as given.
    Without ``version`` the container's ``nextVersion`` is used; an existing version with other
    content is refused by the service (409).
    """
    if not spec.name:
        raise SpecValidationError(
            "The data asset has no name.", hint="Set name: in the YAML file (or --set name=…)."
        )
    spec.check(complete=True)
    name = spec.name
    local = spec.local_path
    digest = ""
    if local is not None:
        local = require_local_path(local, "data path", spec.source)
        _check_local_data(spec, local)
        digest = content_hash(local)
        versions = client.paths.asset_versions("data", name)
        for item in client.list(versions, params={"tags": f"{HASH_TAG}={digest}"}):
            if spec.version in (None, item.get("name")) and _tags(item).get(HASH_TAG) == digest:
                return _data_asset(name, item, digest, reused=True)
    elif spec.version is not None:
        existing = client.find(client.paths.asset_version("data", name, spec.version))
        wanted = spec.to_rest()["properties"]
        if isinstance(existing, dict) and all(
            (existing.get("properties") or {}).get(key) == wanted[key] for key in ("dataType", "dataUri")
        ):
            return _data_asset(name, existing, digest, reused=True)
    sent = 0
    data_uri = None
    if local is not None:
        data_uri, sent = upload_local(client, local, datastore=datastore, digest=digest, on_file=on_file)
    body = spec.to_rest(data_uri=data_uri)
    if digest:
        body["properties"]["tags"] = {**(body["properties"].get("tags") or {}), HASH_TAG: digest}
    version = spec.version or next_version(client, "data", name)
    created = client.put(client.paths.asset_version("data", name, version), body)
    return _data_asset(name, created, digest, reused=False, size=sent)


def upload_local(
    client: RestClient,
    local: Path,
    *,
    datastore: str | None = None,
    digest: str | None = None,
    on_file: Callable[[str, int], None] | None = None,
) -> tuple[str, int]:
    """Upload a local file or folder to ``datastore`` (default: the workspace's default datastore)
    below ``LocalUpload/<content hash>/<its name>``, as the Azure ML CLI does; its datastore URI
    (a folder's ends with ``/``) and the bytes sent."""
    digest = digest or content_hash(local)
    store = client.get(client.paths.datastore(datastore)) if datastore else default_datastore(client)
    base = f"LocalUpload/{digest[:32]}"
    with datastore_container(client, store) as container:
        sent = sum(
            container.upload(
                local, base if local.is_file() else f"{base}/{local.name}", on_file=on_file
            ).values()
        )
    uri = f"azureml://datastores/{store.get('name')}/paths/{base}/{local.name}" + (
        "" if local.is_file() else "/"
    )
    return uri, sent


def _check_local_data(spec: Data, path: Path) -> None:
    """A uri_file is a file; a uri_folder or mltable is a folder (an mltable holds an MLTable file)."""
    if spec.type == "uri_file" and not path.is_file():
        raise SpecValidationError(
            f"The data asset {spec.name!r} is a uri_file, but {path} is a folder.",
            hint="Set type: uri_folder, or point path: at one file.",
        )
    if spec.type != "uri_file" and not path.is_dir():
        raise SpecValidationError(
            f"The data asset {spec.name!r} is a {spec.type}, but {path} is a file.",
            hint="Set type: uri_file, or point path: at a folder.",
        )
    if spec.type == "mltable" and not (path / "MLTable").is_file():
        raise SpecValidationError(
            f"The mltable data asset {spec.name!r} has no MLTable file in {path}.",
            hint="An mltable folder holds a file named MLTable that describes the table.",
        )


def _tags(item: dict[str, Any]) -> dict[str, Any]:
    return (item.get("properties") or {}).get("tags") or {}


def _data_asset(
    name: str, body: dict[str, Any], digest: str, *, reused: bool, size: int = 0
) -> RegisteredAsset:
    return RegisteredAsset(
        name=name,
        version=str(body.get("name")),
        id=str(body.get("id")),
        uri=str((body.get("properties") or {}).get("dataUri")),
        content_hash=digest,
        reused=reused,
        uploaded_bytes=size,
    )


def register_deployment_assets(
    client: RestClient,
    spec: OnlineDeployment | BatchDeployment,
    *,
    endpoint: str,
    on_step: Callable[[str], None] | None = None,
    on_phase: Callable[[str, str, str], None] | None = None,
) -> DeploymentAssets:
    """Register the inline model, code folder and environment of ``spec`` (unchanged ones are reused).

    ``on_phase(phase, state, detail)`` hears about the ``upload`` phase (model and code) and the
    ``environment`` phase: ``running``, then ``done``, ``skipped`` (nothing to register, or
    everything unchanged) or ``failed``.
    """
    say = on_step or (lambda _text: None)
    phase = on_phase or (lambda _phase, _state, _detail: None)
    assets = DeploymentAssets()
    base = f"{endpoint}-{spec.name}"
    uploads: list[RegisteredAsset] = []
    phase("upload", "running", "")
    try:
        model_path = local_model_path(spec)
        if model_path is not None:
            assert isinstance(spec.model, Model)
            model = register_model(
                client,
                model_path,
                name=spec.model.name or f"{base}-model",
                model_type=_model_type(spec.model, model_path if _no_code(spec) else None),
            )
            say(f"Model {model.name}:{model.version} " + ("(unchanged)" if model.reused else "uploaded"))
            assets.model_id = model.id
            uploads.append(model)
            phase("upload", "running", _describe(uploads))
        elif isinstance(spec.model, Model) and isinstance(spec.model.path, str):
            assets.model_id = register_model_uri(client, spec.model, name=spec.model.name or f"{base}-model")
            say(f"Model {spec.model.path} registered")
        elif isinstance(spec.model, Model) and spec.model.path is None:
            raise SpecValidationError(
                f"The model of deployment {spec.name!r} has no path.",
                hint="Set model.path (or --model PATH).",
            )
        folder = local_code_folder(spec)
        if folder is not None:
            code = register_code(client, folder, name=f"{base}-code")
            say(f"Code {code.name}:{code.version} " + ("(unchanged)" if code.reused else "uploaded"))
            assets.code_id = code.id
            uploads.append(code)
    except BaseException as exc:
        phase("upload", ended_state(exc), str(exc).strip().split("\n")[0])
        raise
    assets.registered.extend(uploads)
    phase("upload", "done" if any(not a.reused for a in uploads) else "skipped", _describe(uploads))
    if isinstance(spec.environment, Environment):
        phase("environment", "running", "")
        try:
            assets.environment_id = register_environment(client, spec.environment, name=f"{base}-env")
        except BaseException as exc:
            phase("environment", ended_state(exc), str(exc).strip().split("\n")[0])
            raise
        label = assets.environment_id.rsplit("/environments/", 1)[-1].replace("/versions/", ":")
        say(f"Environment {assets.environment_id.rsplit('/environments/', 1)[-1]}")
        phase("environment", "done", label)
    else:
        phase("environment", "skipped", str(spec.environment or "none"))
    return assets


def _describe(uploads: list[RegisteredAsset]) -> str:
    """``model m:3 uploaded (12 KB), code c:1 unchanged``."""
    if not uploads:
        return "nothing to upload"
    parts = []
    for asset in uploads:
        kind = "code" if "/codes/" in asset.id else "model"
        size = f" ({asset.uploaded_bytes} B)" if asset.uploaded_bytes else ""
        parts.append(
            f"{kind} {asset.name}:{asset.version} " + ("unchanged" if asset.reused else f"uploaded{size}")
        )
    return ", ".join(parts)


def ended_state(exc: BaseException) -> str:
    """The state of a phase that raised ``exc``: ``interrupted`` when only the waiting ended (Ctrl-C,
    a timeout: the service may go on), else ``failed``."""
    return "interrupted" if isinstance(exc, (KeyboardInterrupt, OperationTimeoutError)) else "failed"


def _no_code(spec: OnlineDeployment | BatchDeployment) -> bool:
    return spec.code_configuration is None and spec.environment is None


def _model_type(model: Model, folder: Path | None = None) -> str:
    """The REST model type; a folder deployed without code that holds an MLflow model is one."""
    if folder is not None and model.type == "custom_model" and find_mlflow_root(folder) is not None:
        return "MLFlowModel"
    return {"custom_model": "CustomModel", "mlflow_model": "MLFlowModel", "triton_model": "TritonModel"}[
        model.type
    ]


def register_model_uri(client: RestClient, model: Model, *, name: str) -> str:
    """Register a model whose path is a URI (a datastore path, ``azureml://jobs/<job>/outputs/<output>``):
    a new version pointing there; its id."""
    version = model.version or next_version(client, "models", name)
    created = client.put(client.paths.asset_version("models", name, version), model.to_rest())
    return str(created.get("id") or client.paths.asset_version("models", name, version))
