"""Run history, as the Azure ML SDK reads it for a job (``history`` in the discovery document).

Routes below ``/history/v1.0{workspace}``:

* ``GET …/runs/{runId}`` (also ``…/experiments/{name}/runs/{runId}`` and
  ``…/experimentids/{id}/runs/{runId}``): the run (``Run``);
* ``GET …/runs/{runId}/details``: ``RunDetails`` with status, times, the error
  (``ErrorResponse``) and ``logFiles`` (name → URL), which is what ``ml_client.jobs.stream``
  polls and downloads;
* both also carry ``statusHistory`` (a local extension): every status the job went through, with
  its time, for the phases a job widget shows;
* ``GET …/runs/{runId}/children``: the child runs (a sweep's trials; a command job has none), what
  ``ml_client.jobs.list(parent_job_name=…)`` reads; a child's run names its ``parentRunId``;
* ``GET …/runs/{runId}/logs``: the job's log files with their sizes (``{"value": [{path, size}]}``);
* ``GET …/runs/{runId}/logs/{path}?offset=N``: a log file from byte ``offset`` (or a ``Range``),
  readable while the job runs; ``x-ms-log-size`` gives the file's size;
* ``POST …/rundata`` (``{"runId": …}``): ``GetRunDataResult``, whose ``runMetadata`` is the run
  with its ``outputs`` as typed asset references (``{"assetId", "type"}``), what
  ``ml_client.jobs.download`` reads to find a job's named outputs. A data output's asset id
  (``azureml://locations/<location>/workspaces/<workspace id>/data/azureml_<job>_output_data_<output>/versions/1``,
  as Azure names it) resolves to the output's URI through the data plane's
  ``dataversion/batchGetResolvedUris`` (:func:`resolve_output_asset`). Model outputs are not
  listed: the SDK (1.35) fails on the model plane's answer, and finds them at their default path.

Everything needs the admin token, except the URLs ``logFiles`` lists: they carry their own
signature (``sig``), as the SAS URLs of Azure's run history do, because the SDK downloads them
without credentials.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from ._identity import LOCATION, WORKSPACE_PATH
from .arm import ArmError, bad_request, json_response
from .auth import bearer, matches_any
from .context import Workspace
from .jobplan import compute_of, job_folder
from .jobrun import JOB_STATE_KEY, job_state
from .store import Record

__all__ = ["HISTORY_PREFIX", "handle_history", "log_url", "resolve_output_asset", "run_url"]

HISTORY_PREFIX = "/history/v1.0"
_RUN = re.compile(
    r"^/history/v1\.0/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)"
    r"(?:/experiments/[^/]+|/experimentids/[^/]+)?/runs/(?P<run>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)
_WORKSPACE_ROUTE = re.compile(
    r"^/history/v1\.0/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.MachineLearningServices/workspaces/[^/]+(?P<rest>/[^/]+)$",
    re.IGNORECASE,
)
_DATA_TYPES = ("uri_file", "uri_folder", "mltable")
"""The output types reported as data assets (the SDK's ``DataType`` values)."""
_OUTPUT_ASSET = re.compile(
    r"^azureml://locations/[^/]+/workspaces/[^/]+/data/azureml_(?P<key>.+)/versions/1$"
)


def _claim(run: str, path: str) -> str:
    return f"joblog:{run}/{path}"


def run_url(ws: Workspace, run: str) -> str:
    """The run-history URL of ``run`` (what a job's ``Studio`` service names locally)."""
    return f"{ws.base_url}{HISTORY_PREFIX}{WORKSPACE_PATH}/runs/{quote(run)}"


def log_url(ws: Workspace, run: str, path: str) -> str:
    """The signed URL of one log file of ``run``."""
    return (
        f"{ws.base_url}{HISTORY_PREFIX}{WORKSPACE_PATH}/runs/{quote(run)}/logs/{quote(path)}"
        f"?sig={ws.signer.signature(_claim(run, path))}"
    )


def _workspace_id(ws: Workspace) -> str:
    return ws.store.secret("workspace-id") or "00000000-0000-0000-0000-000000000000"


def _output_asset_id(ws: Workspace, job: str, output: str) -> str:
    return (
        f"azureml://locations/{LOCATION}/workspaces/{_workspace_id(ws)}"
        f"/data/azureml_{job}_output_data_{output}/versions/1"
    )


def _output_references(ws: Workspace, record: Record) -> dict[str, dict[str, str]]:
    """The job's data outputs as run history's typed asset references."""
    outputs = record.body["properties"].get("outputs") or {}
    return {
        name: {"assetId": _output_asset_id(ws, record.name, name), "type": str(item["jobOutputType"]).lower()}
        for name, item in outputs.items()
        if isinstance(item, dict) and str(item.get("jobOutputType") or "").lower() in _DATA_TYPES
    }


def resolve_output_asset(ws: Workspace, asset_id: str) -> dict[str, str] | None:
    """The ``{"uri", "type"}`` of a job output's data asset id (as run data names it), or None when
    ``asset_id`` names no data output of a stored job."""
    match = _OUTPUT_ASSET.match(asset_id)
    if match is None:
        return None
    key = match.group("key")
    start = 0
    while (at := key.find("_output_data_", start)) > 0:  # job names may hold the separator too
        job, output = key[:at], key[at + len("_output_data_") :]
        start = at + 1
        record = ws.store.get(f"jobs/{job}")
        if record is None or _output_asset_id(ws, job, output) != asset_id:
            continue
        item = (record.body["properties"].get("outputs") or {}).get(output)
        if isinstance(item, dict) and item.get("uri"):
            return {"uri": str(item["uri"]), "type": str(item.get("jobOutputType") or "uri_folder")}
    return None


def _run_data(ws: Workspace, body: Any) -> dict[str, Any]:
    run = body.get("runId") if isinstance(body, dict) else None
    if not isinstance(run, str) or not run:
        raise bad_request('The body must name the run: {"runId": "<job name>"}.', target="runId")
    return {"runMetadata": _run_body(ws, _record(ws, run)), "runDefinition": None, "jobSpecification": None}


def _record(ws: Workspace, run: str) -> Record:
    record = ws.store.get(f"jobs/{run}")
    if record is None:
        raise ArmError(404, "UserError", f"Run {run} was not found.")
    return record


def _log_files(ws: Workspace, record: Record) -> list[tuple[str, Path]]:
    folder = job_folder(ws, record.name)
    names = job_state(record).get("logs") or []
    found = [(name, folder / name) for name in names if (folder / name).is_file()]
    extra = folder / "environment.log"
    if extra.is_file():
        found.append(("system_logs/environment.log", extra))
    return found


def _run_body(ws: Workspace, record: Record) -> dict[str, Any]:
    props = record.body["properties"]
    state = record.body.get(JOB_STATE_KEY) or {}
    parent = state.get("parent")
    return {
        "runId": record.name,
        "runUuid": record.id,
        "parentRunId": parent,
        "rootRunId": parent or record.name,
        "name": record.name,
        "displayName": props.get("displayName") or record.name,
        "description": props.get("description"),
        "status": props.get("status"),
        "experimentId": props.get("experimentName") or "Default",
        "createdUtc": record.created_at,
        "startTimeUtc": state.get("startTimeUtc"),
        "endTimeUtc": state.get("endTimeUtc"),
        "lastModifiedUtc": record.modified_at,
        "target": compute_of(props) or "serverless",
        "runType": "hyperdrive" if props.get("jobType") == "Sweep" else "azureml.scriptrun",
        "tags": props.get("tags") or {},
        "properties": props.get("properties") or {},
        "error": state.get("error"),
        "hidden": False,
        "outputs": _output_references(ws, record),
        "statusHistory": state.get("statusHistory") or [],
    }


def _details(ws: Workspace, record: Record) -> dict[str, Any]:
    run = _run_body(ws, record)
    state = record.body.get(JOB_STATE_KEY) or {}
    return {
        **{
            key: run[key]
            for key in ("runId", "runUuid", "status", "startTimeUtc", "endTimeUtc", "target", "tags")
        },
        "createdTimeUtc": record.created_at,
        "properties": run["properties"],
        "error": state.get("error"),
        "warnings": [],
        "logFiles": {name: log_url(ws, record.name, name) for name, _ in _log_files(ws, record)},
        "inputs": {},
        "outputs": {},
        "statusHistory": run["statusHistory"],
    }


def _authorize(request: Request, ws: Workspace, *, signed: bool) -> None:
    if not signed and not matches_any(bearer(request.headers.get("authorization")), [ws.admin_token]):
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed: send the workspace's admin token, or use a log URL as run history gives it.",
            headers={"WWW-Authenticate": 'Bearer realm="mlep-workspace"'},
        )


def _read_log(request: Request, path: Path) -> Response:
    size = path.stat().st_size
    start = 0
    offset = request.query_params.get("offset")
    wanted = request.headers.get("range")
    if offset is not None:
        if not offset.isdigit():
            raise ArmError(400, "UserError", f"offset must be a whole number of bytes, not {offset!r}.")
        start = int(offset)
    elif wanted:
        match = re.fullmatch(r"bytes=(\d+)-", wanted.strip())
        if match:
            start = int(match.group(1))
    start = min(start, size)
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(size - start)
    return Response(
        data,
        media_type="text/plain; charset=utf-8",
        headers={"x-ms-log-size": str(start + len(data)), "x-ms-log-offset": str(start)},
    )


async def handle_history(request: Request, ws: Workspace, path: str) -> Response:
    """A run-history request (see the module docstring)."""
    match = _RUN.match(path)
    if match is None:
        workspace_route = _WORKSPACE_ROUTE.match(path)
        if workspace_route is not None and workspace_route.group("rest").lower() == "/rundata":
            _authorize(request, ws, signed=False)
            if request.method != "POST":
                raise ArmError(405, "MethodNotAllowed", f"Run data does not support {request.method}.")
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request(f"The body is not JSON: {exc}.") from None
            return json_response(_run_data(ws, body))
        raise ArmError(404, "NotFound", f"No run-history route matches the path '{path}'.")
    run, rest = unquote(match.group("run")), (match.group("rest") or "")
    log_path = unquote(rest[len("/logs/") :]) if rest.startswith("/logs/") else None
    signed = log_path is not None and matches_any(
        request.query_params.get("sig"), [ws.signer.signature(_claim(run, log_path))]
    )
    _authorize(request, ws, signed=signed)
    if request.method != "GET":
        raise ArmError(405, "MethodNotAllowed", f"Run history does not support {request.method} here.")
    record = _record(ws, run)
    if rest in ("", "/"):
        return json_response(_run_body(ws, record))
    if rest == "/details":
        return json_response(_details(ws, record))
    if rest == "/children":
        from .sweeprun import sweep_children

        return json_response(
            {"value": [_run_body(ws, child) for child in sweep_children(ws, record.name)], "nextLink": None}
        )
    if rest == "/logs":
        return json_response(
            {"value": [{"path": name, "size": file.stat().st_size} for name, file in _log_files(ws, record)]}
        )
    if log_path is not None:
        files = dict(_log_files(ws, record))
        if log_path not in files:
            raise ArmError(404, "UserError", f"Run {run} has no log file '{log_path}'.")
        return _read_log(request, files[log_path])
    raise ArmError(404, "NotFound", f"No run-history route matches the path '{path}'.")
