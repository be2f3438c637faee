"""``show``/``list``/``delete`` by kind and name, and one ``create`` for every kind of Azure ML CLI v2
YAML: the operations behind ``%mlep create -f FILE`` (``az ml <kind> create -f FILE``).

Kinds are the az ml nouns (:data:`RESOURCE_KINDS`): ``model``, ``environment``, ``data``, ``code``,
``compute``, ``online-endpoint``, ``online-deployment``, ``datastore`` (Azure Blob), ``job``,
``batch-endpoint`` and ``batch-deployment``.
Creating lives in :mod:`._resource_create`, the results in :mod:`._resource_results`; this module
shows, lists and deletes.
"""

from __future__ import annotations

from typing import Any

from .._errors import UsageError
from .._resource_kinds import RESOURCE_KINDS
from ..rest import ProgressCallback, RestClient
from ._batch import (
    delete_batch_endpoint,
    describe_batch_endpoint,
    get_batch_deployment,
    get_batch_endpoint,
    list_batch_deployments,
    list_batch_endpoints,
)
from ._batch_results import BatchEndpointDetails, BatchEndpointList
from ._deployments import delete_deployment, get_deployment, list_deployments
from ._endpoints import delete_endpoint, get_endpoint
from ._job_results import JobDetails, JobList
from ._jobs import get_job, list_jobs
from ._resource_create import ASSET_FAMILIES
from ._resource_results import (
    ResourceList,
    ResourceResult,
    asset_version_result,
    compute_result,
    datastore_result,
)
from ._results import EndpointDetails, EndpointList
from ._traffic import describe_endpoint, list_all

__all__ = ["delete_resource", "list_resources", "show_resource"]

_COMPUTE_DELETE = {"underlyingResourceAction": "Delete"}


def _check_kind(kind: str) -> str:
    noun = kind.strip().lower().replace("_", "-")
    if noun not in RESOURCE_KINDS:
        raise UsageError(f"Unknown kind {kind!r}.", hint="Kinds: " + ", ".join(RESOURCE_KINDS) + ".")
    return noun


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
) -> ResourceResult | EndpointDetails | JobDetails | BatchEndpointDetails:
    """One resource of ``kind`` (an az ml noun): an asset's ``version`` (default its latest), a
    compute, a datastore, a job, an endpoint with its deployments, or one deployment of
    ``endpoint_name``."""
    noun = _check_kind(kind)
    if noun in ASSET_FAMILIES:
        family = ASSET_FAMILIES[noun]
        version = version or _latest(client, family, name, noun)
        return asset_version_result(noun, name, client.get(client.paths.asset_version(family, name, version)))
    if version:
        raise UsageError(f"A {noun} has no versions.", hint="Leave --version out.")
    if noun == "online-endpoint":
        return describe_endpoint(client, name)
    if noun == "online-deployment":
        endpoint = _need_endpoint(noun, endpoint_name)
        return EndpointDetails(get_endpoint(client, endpoint), [get_deployment(client, endpoint, name)])
    if noun == "batch-endpoint":
        return describe_batch_endpoint(client, name)
    if noun == "batch-deployment":
        endpoint = _need_endpoint(noun, endpoint_name)
        return BatchEndpointDetails(
            get_batch_endpoint(client, endpoint), [get_batch_deployment(client, endpoint, name)]
        )
    if noun == "compute":
        return compute_result(client.get(client.paths.compute(name)))
    if noun == "datastore":
        return datastore_result(client.get(client.paths.datastore(name)))
    return get_job(client, name)


def list_resources(
    client: RestClient, kind: str, *, name: str | None = None, endpoint_name: str | None = None
) -> ResourceList | EndpointList | JobList | BatchEndpointList:
    """The resources of ``kind``: assets (with ``name``: the versions of that asset), computes,
    datastores, jobs, endpoints, or the deployments of ``endpoint_name``."""
    noun = _check_kind(kind)
    if name and noun not in ASSET_FAMILIES:
        raise UsageError(f"--name lists the versions of an asset, not of a {noun}.", hint="Leave --name out.")
    if noun in ASSET_FAMILIES:
        family = ASSET_FAMILIES[noun]
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
    if noun == "batch-endpoint":
        return list_batch_endpoints(client)
    if noun == "batch-deployment":
        endpoint = _need_endpoint(noun, endpoint_name)
        head = ["name", "state", "workers", "mini-batch size"]
        rows = [
            [d.name, str(d.provisioning_state or ""), str(d.workers), str(d.mini_batch_size)]
            for d in list_batch_deployments(client, endpoint)
        ]
        return ResourceList(noun, head, rows, of=endpoint)
    if noun == "compute":
        rows = []
        for item in client.list(client.paths.computes()):
            result = compute_result(item)
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
            result = datastore_result(item)
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
    if noun in ASSET_FAMILIES:
        family = ASSET_FAMILIES[noun]
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
    if noun in ("batch-endpoint", "batch-deployment"):
        endpoint = _need_endpoint(noun, endpoint_name) if noun == "batch-deployment" else name
        delete_batch_endpoint(
            client, endpoint, deployment=name if noun == "batch-deployment" else None, progress=progress
        )
        return f"Deleted {noun} {name}" + (f" of {endpoint}." if endpoint != name else ".")
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
