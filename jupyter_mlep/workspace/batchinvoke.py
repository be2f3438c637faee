"""Invoking a batch endpoint (its ``scoringUri``), and the jobs of a batch endpoint.

Data plane (the admin token, which stands for a Microsoft Entra token here, checked by the app):

* ``POST /batchEndpoints/<name>/jobs``: ``{"properties": {"InputData": {…}, "OutputData": {…}, …}}``
  (keys in any case, as the SDK and the REST examples send them) creates a batch job and answers
  it (the ``Jobs_Get`` body). ``azureml-model-deployment`` picks a deployment (else the
  endpoint's default); ``miniBatchSize``, ``compute.instanceCount``, ``errorThreshold``,
  ``retrySettings`` and ``outputFileName`` override the deployment's settings. The same
  ``repeatability-request-id`` (``repeatability_request-id`` as the SDK spells it) answers the
  job it created first instead of creating another.
* ``GET /batchEndpoints/<name>/jobs`` and ``…/jobs/<job>``: the endpoint's jobs, a job.

Management plane: ``GET {ws}/batchEndpoints/<name>/jobs`` (what ``batch_endpoints.list_jobs``
reads). The job is a command job running the batch driver (:mod:`.batchrun`), tagged as Azure
tags batch runs, with its input ``input_data`` and its output ``score``.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .arm import ArmError, bad_request, json_response, not_found, now_iso, read_json
from .batchdeployments import find_batch_deployment
from .batchendpoints import BATCH_SCORING_PREFIX, find_batch_endpoint
from .batchrun import job_settings
from .batchsettings import check_batch_settings
from .context import Call, Workspace
from .jobplan import input_source, job_folder, output_path
from .jobrun import JOB_STATE_KEY, scheduler
from .jobs import render_job
from .resolve import default_output_uri
from .store import Record
from .validation import check_asset_name

__all__ = ["BATCH_TAGS", "handle_batch_data", "list_endpoint_jobs"]

BATCH_TAGS = ("azureml.batchrun", "azureml.endpointname", "azureml.deploymentname", "azureml.jobtype")
_REPEAT_HEADERS = ("repeatability-request-id", "repeatability_request-id")


def _lower_keys(value: Any) -> Any:
    return {str(k).lower(): v for k, v in value.items()} if isinstance(value, dict) else {}


def _input(ws: Workspace, props: dict[str, Any]) -> tuple[str, str]:
    """The input's URI and type (``uri_folder`` or ``uri_file``); 400 when it is missing or empty."""
    data = _lower_keys(props.get("inputdata"))
    if not data and props.get("dataset"):
        data = {"dataset": {"uri": _lower_keys(props["dataset"]).get("path")}}
    if len(data) != 1:
        raise bad_request(
            "A batch invocation takes one input (properties.InputData with one entry, a folder or a file); "
            f"it gave {len(data)}.",
            target="properties.InputData",
        )
    item = _lower_keys(next(iter(data.values())))
    uri = item.get("uri")
    if not isinstance(uri, str) or not uri:
        raise bad_request("The input has no Uri.", target="properties.InputData")
    source = input_source(ws, "input_data", {"jobInputType": "uri_folder", "uri": uri})
    kind = "uri_file" if source.is_file() else "uri_folder"
    if kind == "uri_folder" and not any(path.is_file() for path in source.iterdir()):
        raise bad_request(
            f"The input folder {uri} holds no files (sub-folders are not read). Put the files to score at its "
            "top level.",
            target="properties.InputData",
        )
    return uri, kind


def _overrides(props: dict[str, Any]) -> dict[str, Any]:
    retry = _lower_keys(props.get("retrysettings"))
    compute = _lower_keys(props.get("compute")) or _lower_keys(props.get("resources"))
    return {
        "miniBatchSize": props.get("minibatchsize"),
        "errorThreshold": props.get("errorthreshold"),
        "outputFileName": props.get("outputfilename"),
        "resources": {"instanceCount": compute.get("instancecount")},
        "retrySettings": {"maxRetries": retry.get("maxretries"), "timeout": retry.get("timeout")},
    }


def _output_uri(ws: Workspace, props: dict[str, Any], job: str, file_name: str) -> str:
    outputs = _lower_keys(props.get("outputdata"))
    given = _lower_keys(next(iter(outputs.values()))).get("uri") if outputs else None
    uri = str(given) if given else default_output_uri(job, "score")
    folder = output_path(ws, uri)
    if folder is None:
        raise bad_request(
            f"The output path {uri} is not a datastore URI of a blob datastore of this workspace "
            "(azureml://datastores/<datastore>/paths/<path>).",
            target="properties.OutputData",
        )
    if (folder / file_name).exists():
        raise bad_request(
            f"The output file {file_name} exists already in {uri}; batch jobs never overwrite it. Give another "
            "output path or output file name.",
            target="properties.OutputData",
        )
    return uri


def _deployment(ws: Workspace, endpoint: Record, request: Request) -> Record:
    name = request.headers.get("azureml-model-deployment") or (
        endpoint.body["properties"].get("defaults") or {}
    ).get("deploymentName")
    if not name:
        raise bad_request(
            f"Batch endpoint '{endpoint.name}' has no default deployment, and the request names none. Set "
            "defaults.deployment_name on the endpoint, or send the header azureml-model-deployment.",
        )
    _, record = find_batch_deployment(ws, endpoint.name, str(name))
    state = record.body["properties"].get("provisioningState")
    if state != "Succeeded":
        reason = record.body.get("failure")
        raise ArmError(
            409 if state in ("Creating", "Updating") else 400,
            "DeploymentNotReady",
            f"Batch deployment '{record.name}' is {state}"
            + (f": {reason}" if reason else "")
            + "; it cannot "
            "run jobs now." + (" Wait until it has Succeeded." if state in ("Creating", "Updating") else ""),
        )
    return record


def _repeated(ws: Workspace, endpoint: str, repeat: str) -> Record | None:
    for record in ws.store.children("job"):
        batch = (record.body.get(JOB_STATE_KEY) or {}).get("batch") or {}
        if batch.get("repeatabilityId") == repeat and batch.get("endpoint") == endpoint:
            return record
    return None


async def _invoke(request: Request, ws: Workspace, endpoint: Record) -> Response:
    repeat = next((request.headers[h] for h in _REPEAT_HEADERS if request.headers.get(h)), None)
    if repeat:
        found = _repeated(ws, endpoint.name, repeat)
        if found is not None:
            return json_response(render_job(ws, found))
    body = await read_json(request)
    props = _lower_keys(body.get("properties"))
    deployment = _deployment(ws, endpoint, request)
    dep_props = deployment.body["properties"]
    merged = dict(dep_props)
    for key, value in _overrides(props).items():
        if isinstance(value, dict):
            merged[key] = {**(dep_props.get(key) or {}), **{k: v for k, v in value.items() if v is not None}}
        elif value is not None:
            merged[key] = value
    settings = job_settings(check_batch_settings(merged), {})
    name = str(props.get("name") or f"batchjob-{uuid.uuid4()}")
    check_asset_name(name)
    if ws.store.get(f"jobs/{name}") is not None:
        raise ArmError(409, "Conflict", f"A job named '{name}' exists already; give another job name.")
    input_uri, input_kind = _input(ws, props)
    output_uri = _output_uri(ws, props, name, settings["outputFileName"])
    folder = job_folder(ws, name)
    code = dep_props.get("codeConfiguration") or {}
    user = _lower_keys(props.get("properties"))
    tags = {
        "azureml.batchrun": "true",
        "azureml.endpointname": endpoint.name,
        "azureml.deploymentname": deployment.name,
        "azureml.jobtype": "azureml.batchjob",
    }
    job_props: dict[str, Any] = {
        "jobType": "Command",
        "command": f'"$(command -v python || command -v python3)" "{folder}/batch/driver.py" "{folder}/batch/config.json"',
        "environmentId": dep_props.get("environmentId"),
        "codeId": code.get("codeId"),
        "computeId": dep_props.get("compute"),
        "inputs": {"input_data": {"jobInputType": input_kind, "uri": input_uri, "mode": "ReadOnlyMount"}},
        "outputs": {"score": {"jobOutputType": "uri_folder", "uri": output_uri, "mode": "ReadWriteMount"}},
        "environmentVariables": {
            **(dep_props.get("environmentVariables") or {}),
            "AZUREML_MODEL_DIR": str(folder / "azureml-models"),
            "AZUREML_BI_OUTPUT_PATH": str(output_path(ws, output_uri)),
        },
        "experimentName": str(user.get("experimentname") or endpoint.name),
        "displayName": name,
        "description": f"Batch scoring with {endpoint.name}/{deployment.name}",
        "tags": tags,
        "properties": {
            **tags,
            **{k: v for k, v in (dep_props.get("properties") or {}).items() if k.startswith("mlep.")},
        },
        "isArchived": False,
        "status": "NotStarted",
    }
    batch = {
        "endpoint": endpoint.name,
        "deployment": dep_props,
        "settings": settings,
        "repeatabilityId": repeat,
    }
    state = {"statusHistory": [{"status": "NotStarted", "timeUtc": now_iso()}], "batch": batch}
    record = ws.store.put(f"jobs/{name}", "job", "", name, {"properties": job_props, JOB_STATE_KEY: state})
    scheduler(ws).submit(name)
    return json_response(render_job(ws, record))


def _endpoint_jobs(ws: Workspace, endpoint: str) -> list[Record]:
    return [
        record
        for record in ws.store.children("job")
        if ((record.body["properties"].get("tags") or {}).get("azureml.endpointname") or "").lower()
        == endpoint.lower()
    ]


async def handle_batch_data(request: Request, ws: Workspace, path: str) -> Response:
    """A request below ``/batchEndpoints/`` (see the module docstring)."""
    parts = path[len(BATCH_SCORING_PREFIX) + 1 :].split("/")
    if len(parts) not in (2, 3) or parts[1] != "jobs":
        raise ArmError(404, "NotFound", "Batch routes are /batchEndpoints/<name>/jobs[/<job>].")
    endpoint = find_batch_endpoint(ws, parts[0])
    if len(parts) == 3:
        if request.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "A batch job supports GET only.")
        record = ws.store.get(f"jobs/{parts[2]}")
        tags = (record.body["properties"].get("tags") or {}) if record is not None else {}
        if record is None or str(tags.get("azureml.endpointname") or "").lower() != endpoint.name.lower():
            raise not_found("batch job", f"{endpoint.name}/{parts[2]}")
        return json_response(render_job(ws, record))
    if request.method == "POST":
        return await _invoke(request, ws, endpoint)
    if request.method == "GET":
        return json_response({"value": [render_job(ws, r) for r in _endpoint_jobs(ws, endpoint.name)]})
    raise ArmError(405, "MethodNotAllowed", f"The jobs of a batch endpoint do not support {request.method}.")


async def list_endpoint_jobs(call: Call) -> Response:
    """``GET {ws}/batchEndpoints/<name>/jobs``: the endpoint's jobs (paged)."""
    from ._render import page

    endpoint = find_batch_endpoint(call.ws, call.params["endpoint"])
    return json_response(page(call, _endpoint_jobs(call.ws, endpoint.name), lambda r: render_job(call.ws, r)))
