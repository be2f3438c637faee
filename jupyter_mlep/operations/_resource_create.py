"""``create_resource``: one ``create`` for every kind of Azure ML CLI v2 YAML (``az ml <kind> create -f FILE``).

A file's kind is read from its ``$schema`` (or ``type:``). Every call validates the whole file (its
spec, its names and the local paths it uploads) before its first request. Online endpoints and
deployments go through :func:`~jupyter_mlep.operations.create_endpoint` and
:func:`~jupyter_mlep.operations.deploy` (one path), batch ones through
:func:`~jupyter_mlep.operations.create_batch_endpoint` and :func:`~jupyter_mlep.operations.deploy_batch`; models, code and data are uploaded only when
their content changed; computes are created with Azure's long-running operation.

An asset without a ``version`` gets what ``az ml`` gives it: the container's latest version when its
content is the same (the service answers 200), else ``nextVersion`` (the service refuses to change
an existing version with a 409).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._errors import ConflictError, SpecError, SpecValidationError, UsageError
from ..rest import ProgressCallback, RestClient, register_code, register_model
from ..specs import (
    AzureBlobDatastore,
    BatchDeployment,
    BatchEndpoint,
    Code,
    Compute,
    Data,
    Environment,
    Job,
    Model,
    OnlineDeployment,
    OnlineEndpoint,
    Spec,
    detect_kind,
    load_batch_deployment,
    load_deployment,
    load_spec,
    read_yaml,
    require_local_path,
)
from ..specs._assets import _REST_MODEL_TYPES
from ..specs._yaml import KINDS, SCHEMA_URL
from ._assets import register_data
from ._batch import create_batch_endpoint, deploy_batch, describe_batch_endpoint
from ._batch_results import BatchEndpointDetails
from ._deploy import deploy
from ._endpoints import create_endpoint
from ._job_results import JobDetails
from ._jobs import create_job
from ._resource_results import ResourceResult, asset_version_result, compute_result, datastore_result
from ._results import DeployResult, EndpointDetails
from ._traffic import describe_endpoint

__all__ = ["ASSET_FAMILIES", "CREATABLE_KINDS", "create_resource", "resource_kind"]

_SPEC_NOUNS = {
    "model": "model",
    "environment": "environment",
    "data": "data",
    "code": "code",
    "amlCompute": "compute",
    "computeInstance": "compute",
    "azureBlob": "datastore",
    "managedOnlineEndpoint": "online-endpoint",
    "kubernetesOnlineEndpoint": "online-endpoint",
    "managedOnlineDeployment": "online-deployment",
    "kubernetesOnlineDeployment": "online-deployment",
    "commandJob": "job",
    "sweepJob": "job",
    "batchEndpoint": "batch-endpoint",
    "batchDeployment": "batch-deployment",
}
CREATABLE_KINDS = tuple(KINDS)
"""The ``$schema`` kinds :func:`create_resource` creates (a job file creates a job: :func:`create_job`)."""

ASSET_FAMILIES = {"model": "models", "environment": "environments", "data": "data", "code": "codes"}
"""The REST family of each asset noun (``/models``, ``/environments``, ``/data``, ``/codes``)."""


def resource_kind(spec: Spec) -> str:
    """The az ml noun of a spec (``online-deployment`` for a managed or Kubernetes deployment)."""
    return _SPEC_NOUNS[type(spec).kind]


def _schemas() -> str:
    return ", ".join(f"{kind}.schema.json" for kind in CREATABLE_KINDS)


# -- reading a file ------------------------------------------------------------------------------


def _load(path: Path, overrides: Mapping[str, Any], endpoint_name: str | None) -> Spec:
    """The spec in ``path`` with ``overrides``; a clear error when its kind cannot be created."""
    if endpoint_name:
        data = read_yaml(path, overrides={**overrides, "endpoint_name": endpoint_name})
        kind = _file_kind(data, path)
        if _SPEC_NOUNS[kind] == "batch-deployment":
            return load_batch_deployment(path, endpoint_name=endpoint_name, overrides=overrides)
        if _SPEC_NOUNS[kind] != "online-deployment":
            raise UsageError(
                f"--endpoint-name applies to deployments; {path} is a {_SPEC_NOUNS[kind]}.",
                hint="Leave --endpoint-name out.",
            )
        return load_deployment(path, endpoint_name=endpoint_name, overrides=overrides)
    _file_kind(read_yaml(path, overrides=overrides), path)
    return load_spec(path, overrides=overrides)


def _file_kind(data: Mapping[str, Any], path: Path) -> str:
    schema = data.get("$schema")
    kind_type = data.get("type")
    if not (isinstance(schema, str) and schema.strip()):
        try:
            kind = detect_kind(data, path)
        except SpecError:
            raise SpecError(
                f"{path} has no $schema, so its kind is unknown"
                + (f" (type: {kind_type!r} does not say it)." if kind_type else "."),
                hint=f"Add its $schema line, e.g. $schema: {SCHEMA_URL.format(kind='model')}. "
                f"Supported: {_schemas()}.",
            ) from None
    else:
        try:
            kind = detect_kind(data, path)
        except SpecError as exc:
            raise SpecError(exc.message, hint=f"create -f supports: {_schemas()}.") from None
    return kind


# -- create --------------------------------------------------------------------------------------


def create_resource(
    client: RestClient,
    source: str | Path | Spec,
    *,
    overrides: Mapping[str, Any] | None = None,
    name: str | None = None,
    endpoint_name: str | None = None,
    traffic: int | None = None,
    wait: bool = True,
    progress: ProgressCallback | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ResourceResult | EndpointDetails | DeployResult | JobDetails | BatchEndpointDetails:
    """Create (or update) what an Azure ML CLI v2 YAML file describes, on ``client``'s workspace.

    ``source`` is the file (or a spec already loaded); ``overrides`` are the CLI's ``--set``
    (dotted keys), ``name`` replaces the file's name (``--name``), ``endpoint_name`` a deployment's
    endpoint (``--endpoint-name``) and ``traffic`` the share a deployment then gets
    (``--all-traffic`` is 100). The kind is read from ``$schema`` (or ``type:``); a job, a
    template with placeholders, or a file of unknown kind is refused before any request.
    """
    changes = dict(overrides or {})
    if name:
        changes["name"] = name
    if isinstance(source, (str, Path)):
        spec = _load(Path(source), changes, endpoint_name)
    else:
        if changes or endpoint_name:
            raise UsageError(
                "overrides, name and endpoint_name apply to a YAML file, not to a spec object.",
                hint="Change the spec with spec.model_copy(update={...}) instead.",
            )
        spec = source
        if _SPEC_NOUNS.get(type(spec).kind) is None:
            raise SpecError(
                f"create_resource does not create {type(spec).kind} specs.", hint=f"Supported: {_schemas()}."
            )
    noun = resource_kind(spec)
    if traffic is not None and noun != "online-deployment":
        raise UsageError("Traffic applies to online deployments.", hint="Leave --all-traffic out.")
    say = on_step or (lambda _text: None)
    if isinstance(spec, OnlineEndpoint):
        create_endpoint(client, spec, wait=wait, progress=progress)
        return describe_endpoint(client, spec.name)
    if isinstance(spec, OnlineDeployment):
        return deploy(client, spec, traffic=traffic, wait=wait, progress=progress, on_step=say)
    if isinstance(spec, Compute):
        return _create_compute(client, spec, wait=wait, progress=progress)
    if isinstance(spec, AzureBlobDatastore):
        return datastore_result(client.put(client.paths.datastore(spec.name), spec.to_rest()))
    if isinstance(spec, Job):
        return create_job(client, spec, on_step=say)
    if isinstance(spec, BatchEndpoint):
        create_batch_endpoint(client, spec, wait=wait, progress=progress)
        return describe_batch_endpoint(client, spec.name)
    if isinstance(spec, BatchDeployment):
        return deploy_batch(client, spec, wait=wait, progress=progress, on_step=say)
    return _create_asset(client, spec, say)


def _require_name(spec: Spec, noun: str) -> str:
    name = getattr(spec, "name", None)
    if not name:
        raise SpecValidationError(
            f"The {noun} has no name.", hint="Set name: in the YAML file, or pass --name NAME (--set name=…)."
        )
    return str(name)


def _create_asset(client: RestClient, spec: Spec, say: Callable[[str], None]) -> ResourceResult:
    noun = resource_kind(spec)
    name = _require_name(spec, noun)
    family = ASSET_FAMILIES[noun]
    if isinstance(spec, Data):
        if spec.local_path is not None:
            require_local_path(spec.local_path, "data path", spec.source)
        asset = register_data(client, spec)
        return _asset_result(client, noun, family, name, asset.version, asset.reused, asset.uploaded_bytes)
    if isinstance(spec, Model):
        spec.check(complete=True)
        if isinstance(spec.path, Path):
            local = require_local_path(spec.path, "model path", spec.source)
            rest_type = _REST_MODEL_TYPES[spec.type]
            asset = register_model(
                client,
                local,
                name=name,
                version=spec.version,
                model_type=rest_type,
                description=spec.description,
                datastore=spec.datastore,
            )
            _add_labels(client, family, name, asset.version, spec.tags, spec.properties)
            return _asset_result(
                client, noun, family, name, asset.version, asset.reused, asset.uploaded_bytes
            )
        body = spec.to_rest()
    elif isinstance(spec, Code):
        if isinstance(spec.path, Path):
            local = require_local_path(spec.path, "code path", spec.source)
            asset = register_code(
                client, local, name=name, version=spec.version, description=spec.description
            )
            _add_labels(client, family, name, asset.version, spec.tags, spec.properties)
            return _asset_result(
                client, noun, family, name, asset.version, asset.reused, asset.uploaded_bytes
            )
        if spec.path is None:
            raise SpecValidationError(f"The code asset {name!r} has no path.", hint="Set path: to a folder.")
        body = spec.to_rest()
    elif isinstance(spec, Environment):
        spec.check(complete=True)
        if spec.build is not None and isinstance(spec.build.path, Path):
            require_local_path(spec.build.path, "build context", spec.source)
        if isinstance(spec.conda_file, Path):
            require_local_path(spec.conda_file, "conda file", spec.source)
        body = _environment_body(client, spec, name)
    else:  # pragma: no cover - every creatable kind is handled above
        raise SpecError(f"Cannot create a {noun}.")
    version, reused = _put_version(client, family, name, getattr(spec, "version", None), body)
    say(f"{noun} {name}:{version} " + ("(unchanged)" if reused else "registered"))
    return _asset_result(client, noun, family, name, version, reused, 0)


def _add_labels(
    client: RestClient,
    family: str,
    name: str,
    version: str,
    tags: Mapping[str, str] | None,
    properties: Mapping[str, str] | None,
) -> None:
    """Give an uploaded version the file's tags and properties (mutable fields: the same content
    with other tags is the same version)."""
    if not tags and not properties:
        return
    path = client.paths.asset_version(family, name, version)
    body = client.get(path)
    props = body.get("properties") or {}
    props["tags"] = {**(props.get("tags") or {}), **(tags or {})}
    props["properties"] = {**(props.get("properties") or {}), **(properties or {})}
    client.put(path, {"properties": props})


def _environment_body(client: RestClient, spec: Environment, name: str) -> dict[str, Any]:
    context_uri = None
    if spec.build is not None and isinstance(spec.build.path, Path):
        folder = require_local_path(spec.build.path, "build context", spec.source)
        context_uri = register_code(client, folder, name=f"{name}-context").uri
    return spec.to_rest(context_uri=context_uri)


def _put_version(
    client: RestClient, family: str, name: str, version: str | None, body: dict[str, Any]
) -> tuple[str, bool]:
    """PUT ``body`` as ``version``; without one, as the latest version (same content: it is kept)
    or else as ``nextVersion``. Returns (version, whether an existing version was kept)."""
    if version:
        existed = client.find(client.paths.asset_version(family, name, version)) is not None
        client.put(client.paths.asset_version(family, name, version), body)
        return version, existed
    container = client.find(client.paths.asset(family, name))
    props = (container or {}).get("properties") or {}
    latest = props.get("latestVersion")
    if latest:
        try:
            client.put(client.paths.asset_version(family, name, str(latest)), body)
            return str(latest), True
        except ConflictError:
            container = client.find(client.paths.asset(family, name))
            props = (container or {}).get("properties") or {}
    next_version = str(props.get("nextVersion") or "1")
    client.put(client.paths.asset_version(family, name, next_version), body)
    return next_version, False


def _asset_result(
    client: RestClient, noun: str, family: str, name: str, version: str, reused: bool, size: int
) -> ResourceResult:
    body = client.get(client.paths.asset_version(family, name, version))
    note = (
        "unchanged: this version already has this content"
        if reused
        else (f"registered ({size} bytes uploaded)" if size else "registered")
    )
    return asset_version_result(noun, name, body, note=note)


def _create_compute(
    client: RestClient, spec: Compute, *, wait: bool, progress: ProgressCallback | None
) -> ResourceResult:
    location = spec.location
    if location is None:  # a compute lives where its workspace is
        workspace = client.find(client.paths.workspace)
        location = workspace.get("location") if isinstance(workspace, dict) else None
    body = spec.to_rest(location=location)
    path = client.paths.compute(spec.name)
    operation = client.begin("PUT", path, body)
    if wait:
        operation.wait(progress=progress)
    return compute_result(client.get(path))
