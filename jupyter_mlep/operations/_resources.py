"""One ``create`` for every kind of Azure ML CLI v2 YAML, and ``show``/``list``/``delete`` by kind and
name: the operations behind ``%mlep create -f FILE`` (``az ml <kind> create -f FILE``).

Kinds are the az ml nouns (:data:`RESOURCE_KINDS`): ``model``, ``environment``, ``data``, ``code``,
``compute``, ``online-endpoint``, ``online-deployment``, ``datastore`` (Azure Blob) and ``job``. A file's kind is
read from its ``$schema`` (or ``type:``). Every call validates the whole file (its spec, its names
and the local paths it uploads) before its first request. Online endpoints and deployments go
through :func:`~jupyter_mlep.operations.create_endpoint` and :func:`~jupyter_mlep.operations.deploy`
(one path); models, code and data are uploaded only when their content changed; computes are
created with Azure's long-running operation.

An asset without a ``version`` gets what ``az ml`` gives it: the container's latest version when its
content is the same (the service answers 200), else ``nextVersion`` (the service refuses to change
an existing version with a 409).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .._errors import ConflictError, SpecError, SpecValidationError, UsageError
from ..rendering import Table, TableResult
from ..rest import ProgressCallback, RestClient, register_code, register_model
from ..specs import (
    AzureBlobDatastore,
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
    load_deployment,
    load_spec,
    read_yaml,
    require_local_path,
)
from ..specs._assets import _REST_MODEL_TYPES
from ..specs._yaml import KINDS, SCHEMA_URL
from ._assets import register_data
from ._deploy import deploy
from ._deployments import delete_deployment, get_deployment, list_deployments
from ._endpoints import create_endpoint, delete_endpoint, get_endpoint
from ._job_results import JobDetails, JobList
from ._jobs import create_job, get_job, list_jobs
from ._results import DeployResult, EndpointDetails, EndpointList
from ._traffic import describe_endpoint, list_all

__all__ = [
    "CREATABLE_KINDS",
    "RESOURCE_KINDS",
    "ResourceList",
    "ResourceResult",
    "create_resource",
    "delete_resource",
    "list_resources",
    "resource_kind",
    "show_resource",
]

RESOURCE_KINDS = (
    "model",
    "environment",
    "data",
    "code",
    "compute",
    "online-endpoint",
    "online-deployment",
    "datastore",
    "job",
)
"""The kinds ``show``, ``list`` and ``delete`` take: the nouns of ``az ml``."""

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
}
CREATABLE_KINDS = tuple(KINDS)
"""The ``$schema`` kinds :func:`create_resource` creates (a job file creates a job: :func:`create_job`)."""

_FAMILIES = {"model": "models", "environment": "environments", "data": "data", "code": "codes"}
_COMPUTE_DELETE = {"underlyingResourceAction": "Delete"}


def resource_kind(spec: Spec) -> str:
    """The az ml noun of a spec (``online-deployment`` for a managed or Kubernetes deployment)."""
    return _SPEC_NOUNS[type(spec).kind]


def _check_kind(kind: str) -> str:
    noun = kind.strip().lower().replace("_", "-")
    if noun not in RESOURCE_KINDS:
        raise UsageError(f"Unknown kind {kind!r}.", hint="Kinds: " + ", ".join(RESOURCE_KINDS) + ".")
    return noun


def _schemas() -> str:
    return ", ".join(f"{kind}.schema.json" for kind in CREATABLE_KINDS)


# -- results -------------------------------------------------------------------------------------


@dataclass(repr=False)
class ResourceResult(TableResult):
    """One created or shown resource: its kind (an az ml noun), name, version, state and main fields."""

    kind: ClassVar[str] = "resource"

    resource_kind: str
    name: str
    version: str | None = None
    state: str | None = None
    id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    """How it came to be (``uploaded 12 KB``, ``unchanged: version 3 has this content``)."""

    def title(self) -> str:
        version = f":{self.version}" if self.version else ""
        state = f" ({self.state})" if self.state else ""
        return f"{self.resource_kind} {self.name}{version}{state}"

    def tables(self) -> list[Table]:
        rows = [[key, _cell(value)] for key, value in self.fields.items() if value not in (None, "", {}, [])]
        return [(["field", "value"], rows)]

    def footer(self) -> list[tuple[str, bool]]:
        return [(self.note, False)] if self.note else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_kind": self.resource_kind,
            "name": self.name,
            "version": self.version,
            "state": self.state,
            "id": self.id,
            "fields": self.fields,
            "note": self.note,
        }


@dataclass(repr=False)
class ResourceList(TableResult):
    """The resources of one kind (or the versions of one asset)."""

    kind: ClassVar[str] = "resources"

    resource_kind: str
    head: list[str]
    rows: list[list[str]]
    of: str = ""

    def title(self) -> str:
        of = f" of {self.of}" if self.of else ""
        return f"{len(self.rows)} {self.resource_kind}{'' if self.resource_kind.endswith('s') else '(s)'}{of}"

    def tables(self) -> list[Table]:
        return [(self.head, self.rows)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_kind": self.resource_kind,
            "of": self.of,
            "items": [dict(zip(self.head, row, strict=True)) for row in self.rows],
        }


def _cell(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


# -- reading a file ------------------------------------------------------------------------------


def _load(path: Path, overrides: Mapping[str, Any], endpoint_name: str | None) -> Spec:
    """The spec in ``path`` with ``overrides``; a clear error when its kind cannot be created."""
    if endpoint_name:
        data = read_yaml(path, overrides={**overrides, "endpoint_name": endpoint_name})
        kind = _file_kind(data, path)
        if _SPEC_NOUNS[kind] != "online-deployment":
            raise UsageError(
                f"--endpoint-name applies to online deployments; {path} is a {_SPEC_NOUNS[kind]}.",
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
) -> ResourceResult | EndpointDetails | DeployResult | JobDetails:
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
        return _datastore_result(client.put(client.paths.datastore(spec.name), spec.to_rest()))
    if isinstance(spec, Job):
        return create_job(client, spec, on_step=say)
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
    family = _FAMILIES[noun]
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
    return _asset_version_result(noun, name, body, note=note)


def _asset_version_result(noun: str, name: str, body: dict[str, Any], *, note: str = "") -> ResourceResult:
    props = body.get("properties") or {}
    fields: dict[str, Any] = {"description": props.get("description")}
    if noun == "model":
        fields.update(
            type=props.get("modelType"),
            path=props.get("modelUri"),
            flavors=sorted(props.get("flavors") or {}),
        )
    elif noun == "data":
        fields.update(type=props.get("dataType"), path=props.get("dataUri"))
    elif noun == "code":
        fields.update(path=props.get("codeUri"))
    elif noun == "environment":
        build = props.get("build") or {}
        fields.update(
            image=props.get("image"),
            build=build.get("contextUri"),
            conda_file="yes" if props.get("condaFile") else "",
        )
    fields["tags"] = {k: v for k, v in (props.get("tags") or {}).items() if not k.startswith("mlep.")}
    return ResourceResult(
        resource_kind=noun,
        name=name,
        version=str(body.get("name")),
        state=props.get("provisioningState"),
        id=body.get("id"),
        fields=fields,
        note=note,
    )


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
    return _compute_result(client.get(path))


def _compute_result(body: dict[str, Any]) -> ResourceResult:
    props = body.get("properties") or {}
    inner = props.get("properties") or {}
    scale = inner.get("scaleSettings") or {}
    fields: dict[str, Any] = {
        "type": props.get("computeType"),
        "size": inner.get("vmSize"),
        "tier": inner.get("vmPriority"),
        "min_instances": scale.get("minNodeCount"),
        "max_instances": scale.get("maxNodeCount"),
        "idle_time_before_scale_down": scale.get("nodeIdleTimeBeforeScaleDown"),
        "idle_time_before_shutdown": inner.get("idleTimeBeforeShutdown"),
        "state": inner.get("state") or inner.get("allocationState"),
        "description": props.get("description"),
    }
    return ResourceResult(
        resource_kind="compute",
        name=str(body.get("name")),
        state=props.get("provisioningState"),
        id=body.get("id"),
        fields=fields,
    )


# -- show, list, delete --------------------------------------------------------------------------


def _need_endpoint(noun: str, endpoint_name: str | None) -> str:
    if not endpoint_name:
        raise UsageError(f"An {noun} belongs to an endpoint.", hint="Name it with --endpoint-name ENDPOINT.")
    return endpoint_name


def _latest(client: RestClient, family: str, name: str, noun: str) -> str:
    container = client.get(client.paths.asset(family, name))
    latest = (container.get("properties") or {}).get("latestVersion")
    if not latest:
        raise UsageError(f"The {noun} {name} has no version.", hint="Register one with create -f FILE.")
    return str(latest)


def show_resource(
    client: RestClient,
    kind: str,
    name: str,
    *,
    version: str | None = None,
    endpoint_name: str | None = None,
) -> ResourceResult | EndpointDetails | JobDetails:
    """One resource of ``kind`` (an az ml noun): an asset's ``version`` (default its latest), a
    compute, a datastore, a job, an endpoint with its deployments, or one deployment of
    ``endpoint_name``."""
    noun = _check_kind(kind)
    if noun in _FAMILIES:
        family = _FAMILIES[noun]
        version = version or _latest(client, family, name, noun)
        return _asset_version_result(
            noun, name, client.get(client.paths.asset_version(family, name, version))
        )
    if version:
        raise UsageError(f"A {noun} has no versions.", hint="Leave --version out.")
    if noun == "online-endpoint":
        return describe_endpoint(client, name)
    if noun == "online-deployment":
        endpoint = _need_endpoint(noun, endpoint_name)
        return EndpointDetails(get_endpoint(client, endpoint), [get_deployment(client, endpoint, name)])
    if noun == "compute":
        return _compute_result(client.get(client.paths.compute(name)))
    if noun == "datastore":
        return _datastore_result(client.get(client.paths.datastore(name)))
    return get_job(client, name)


def _datastore_result(body: dict[str, Any]) -> ResourceResult:
    props = body.get("properties") or {}
    fields = {
        "type": props.get("datastoreType"),
        "account": props.get("accountName"),
        "container": props.get("containerName"),
        "default": props.get("isDefault"),
        "description": props.get("description"),
    }
    return ResourceResult(
        resource_kind="datastore", name=str(body.get("name")), id=body.get("id"), fields=fields
    )


def list_resources(
    client: RestClient, kind: str, *, name: str | None = None, endpoint_name: str | None = None
) -> ResourceList | EndpointList | JobList:
    """The resources of ``kind``: assets (with ``name``: the versions of that asset), computes,
    datastores, jobs, endpoints, or the deployments of ``endpoint_name``."""
    noun = _check_kind(kind)
    if name and noun not in _FAMILIES:
        raise UsageError(f"--name lists the versions of an asset, not of a {noun}.", hint="Leave --name out.")
    if noun in _FAMILIES:
        family = _FAMILIES[noun]
        if name:
            items = list(client.list(client.paths.asset_versions(family, name)))
            rows = [[str(i.get("name")), _asset_where(noun, i), _short(i)] for i in items]
            return ResourceList(noun + " versions", ["version", "path", "description"], rows, of=name)
        rows = []
        for item in client.list(client.paths.assets(family)):
            props = item.get("properties") or {}
            rows.append([str(item.get("name")), str(props.get("latestVersion") or ""), _short(item)])
        return ResourceList(noun, ["name", "latest version", "description"], rows)
    if noun == "online-endpoint":
        return list_all(client)
    if noun == "online-deployment":
        endpoint = _need_endpoint(noun, endpoint_name)
        deployments = list_deployments(client, endpoint)
        rows = [
            [d.name, str(d.provisioning_state or ""), str(d.instance_type or ""), str(d.instance_count)]
            for d in deployments
        ]
        return ResourceList(noun, ["name", "state", "instance type", "instances"], rows, of=endpoint)
    if noun == "compute":
        rows = []
        for item in client.list(client.paths.computes()):
            result = _compute_result(item)
            max_nodes = result.fields.get("max_instances")
            rows.append(
                [
                    result.name,
                    str(result.fields["type"] or ""),
                    str(result.fields["size"] or ""),
                    "" if max_nodes is None else str(max_nodes),
                    str(result.state or ""),
                ]
            )
        return ResourceList(noun, ["name", "type", "size", "max instances", "state"], rows)
    if noun == "datastore":
        rows = []
        for item in client.list(client.paths.datastores()):
            result = _datastore_result(item)
            rows.append(
                [result.name, str(result.fields["type"] or ""), "yes" if result.fields["default"] else ""]
            )
        return ResourceList(noun, ["name", "type", "default"], rows)
    return list_jobs(client)


def _asset_where(noun: str, item: dict[str, Any]) -> str:
    props = item.get("properties") or {}
    key = {"model": "modelUri", "data": "dataUri", "code": "codeUri"}.get(noun)
    if key:
        return str(props.get(key) or "")
    return str(props.get("image") or (props.get("build") or {}).get("contextUri") or "")


def _short(item: dict[str, Any]) -> str:
    text = str((item.get("properties") or {}).get("description") or "")
    return text.splitlines()[0][:60] if text else ""


def delete_resource(
    client: RestClient,
    kind: str,
    name: str,
    *,
    version: str | None = None,
    endpoint_name: str | None = None,
    progress: ProgressCallback | None = None,
) -> str:
    """Delete a resource of ``kind``: an asset's ``version`` (without one: the asset and every version),
    a compute, a datastore, a job, an endpoint with its deployments, or a deployment of
    ``endpoint_name`` (it must take no traffic). It must exist (404 otherwise); returns what was
    deleted, as a sentence."""
    noun = _check_kind(kind)
    if noun in _FAMILIES:
        family = _FAMILIES[noun]
        if version:
            client.get(client.paths.asset_version(family, name, version))
            client.delete(client.paths.asset_version(family, name, version))
            return f"Deleted {noun} {name}:{version}."
        client.get(client.paths.asset(family, name))
        client.delete(client.paths.asset(family, name))
        return f"Deleted {noun} {name} (every version)."
    if version:
        raise UsageError(f"A {noun} has no versions.", hint="Leave --version out.")
    if noun == "online-endpoint":
        get_endpoint(client, name)
        delete_endpoint(client, name, progress=progress)
        return f"Deleted online endpoint {name}."
    if noun == "online-deployment":
        endpoint = _need_endpoint(noun, endpoint_name)
        get_deployment(client, endpoint, name)
        delete_deployment(client, endpoint, name, progress=progress)
        return f"Deleted deployment {name} of {endpoint}."
    if noun == "compute":
        client.get(client.paths.compute(name))
        client.begin("DELETE", client.paths.compute(name), params=_COMPUTE_DELETE).wait(progress=progress)
        return f"Deleted compute {name}."
    if noun == "datastore":
        client.get(client.paths.datastore(name))
        client.delete(client.paths.datastore(name))
        return f"Deleted datastore {name}."
    client.get(client.paths.job(name))
    client.run("DELETE", client.paths.job(name), progress=progress)
    return f"Deleted job {name}."
