"""Invoking a batch endpoint (as the SDK does: a POST to its scoring URI that creates a job), following
the job, reading its progress from its logs, and fetching its output.

Inputs: a local folder or file (uploaded first, as ``LocalUpload/<content hash>/…`` of the default
datastore, so the same files are not sent twice), a datastore URI (``azureml://datastores/…``), an
https URL, or a registered data asset (``azureml:name:version``, ``azureml:name@latest``).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._errors import OperationTimeoutError, RestError, UsageError
from ..rest import RestClient
from ..rest._services import read_log, run_details
from ..specs import AssetReference, format_duration
from ._assets import upload_local
from ._batch import get_batch_deployment, get_batch_endpoint
from ._batch_dry_run import input_files
from ._batch_results import BatchJob, BatchJobList, BatchProgress
from ._invoke import _aad_token
from ._job_results import JobDetails
from ._job_runs import download_job_outputs
from ._jobs import get_job

__all__ = [
    "BATCH_OUTPUT",
    "REPEATABILITY_HEADER",
    "batch_input",
    "get_batch_job",
    "invoke_batch",
    "list_batch_jobs",
]

BATCH_OUTPUT = "score"
"""The name of a batch job's output (as Azure names it)."""
REPEATABILITY_HEADER = "repeatability_request-id"
"""The header the SDK sends with a new id per invocation: a retried POST creates no second job."""
_OVERVIEW_LOG = "logs/job_progress_overview.txt"
_ERROR_LOG = "logs/user/error.txt"
_WORKER_LOGS = "logs/user/stdout/process"
_ERROR_LINE = re.compile(
    r"^\S+ \S+ (?P<batch>mini-batch \d+)(?: attempt \d+)?: (?P<message>[^\n]*)$", re.MULTILINE
)
_MLFLOW_COLUMNS = ["row", "prediction", "file_name"]
ENDPOINT_TAG = "azureml.endpointname"
DEPLOYMENT_TAG = "azureml.deploymentname"
"""The tags of a batch job naming its endpoint and deployment (as Azure tags batch runs)."""


def batch_input(
    client: RestClient, value: str | Path, *, on_step: Callable[[str], None] | None = None
) -> dict[str, str]:
    """The ``jobInputType`` and ``uri`` of an invocation's input; a local path is checked and uploaded."""
    text = str(value)
    if text.startswith(("azureml://", "https://", "http://", "wasbs://", "abfss://")):
        kind = "UriFolder" if text.endswith("/") or not Path(text.split("?", 1)[0]).suffix else "UriFile"
        return {"jobInputType": kind, "uri": text}
    if text.startswith("azureml:"):
        ref = AssetReference.parse(text)
        body = client.get(ref.rest_id(client.paths.workspace, "data"))
        props = body.get("properties") or {}
        kind = "UriFile" if str(props.get("dataType", "")).lower() == "uri_file" else "UriFolder"
        return {
            "jobInputType": kind,
            "uri": f"azureml:{body.get('id') or ref.rest_id(client.paths.workspace, 'data')}",
        }
    local = Path(text).expanduser()
    input_files(local)  # exists, and a folder holds files: checked before anything is sent
    uri, sent = upload_local(client, local.resolve())
    if on_step is not None:
        on_step(f"Input {local}: " + (f"uploaded ({sent} B)" if sent else "unchanged") + f" to {uri}")
    return {"jobInputType": "UriFile" if local.is_file() else "UriFolder", "uri": uri}


def invoke_batch(
    client: RestClient,
    endpoint: str,
    input: str | Path,
    *,
    deployment: str | None = None,
    mini_batch_size: int | None = None,
    instance_count: int | None = None,
    error_threshold: int | None = None,
    max_retries: int | None = None,
    timeout: int | None = None,
    output_file_name: str | None = None,
    job_name: str | None = None,
    wait: bool = True,
    wait_timeout: float | None = None,
    on_step: Callable[[str], None] | None = None,
    on_update: Callable[[BatchJob], None] | None = None,
) -> BatchJob:
    """Score ``input`` on the batch endpoint (its default deployment, or ``deployment``); the job.

    The overrides replace the deployment's settings for this job only. With ``wait`` (default) the
    job is followed until it ends (``on_update`` hears it at each poll) and its output downloaded.
    """
    for label, number, low in (
        ("--mini-batch-size", mini_batch_size, 1),
        ("--instance-count", instance_count, 1),
        ("--error-threshold", error_threshold, -1),
        ("--max-retries", max_retries, 0),
        ("--timeout", timeout, 1),
    ):
        if number is not None and number < low:
            raise UsageError(
                f"{label} must be at least {low} (got {number}).", hint=f"Example: {label} {max(low, 10)}"
            )
    if output_file_name is not None and (not output_file_name.strip() or "/" in output_file_name):
        raise UsageError(
            f"--output-file-name must be a file name (got {output_file_name!r}).",
            hint="Example: --output-file-name scores.csv",
        )
    info = get_batch_endpoint(client, endpoint)
    target = deployment or info.default_deployment
    if not target:
        raise UsageError(
            f"Batch endpoint {endpoint} has no default deployment.",
            hint=f"Name one: %batch invoke {endpoint} --input ... --deployment NAME (or deploy one first).",
        )
    get_batch_deployment(client, endpoint, target)
    if not info.scoring_uri:
        raise RestError(
            f"Batch endpoint {endpoint} has no scoring URI yet (state {info.provisioning_state})."
        )
    data = batch_input(client, input, on_step=on_step)
    retry = {"maxRetries": max_retries, "timeout": format_duration(timeout) if timeout else None}
    properties: dict[str, Any] = {
        "inputData": {data["jobInputType"]: data},
        "miniBatchSize": mini_batch_size,
        "compute": {"instanceCount": instance_count} if instance_count else None,
        "errorThreshold": error_threshold,
        "retrySettings": {k: v for k, v in retry.items() if v is not None} or None,
        "outputFileName": output_file_name,
        "name": job_name,
    }
    headers = {
        "Authorization": f"Bearer {_aad_token(client)}",
        "Content-Type": "application/json",
        REPEATABILITY_HEADER: str(uuid.uuid4()),
    }
    body = json.dumps({"properties": {k: v for k, v in properties.items() if v is not None}}).encode()
    answer = client.data_plane(
        "POST",
        info.scoring_uri,
        endpoint=endpoint,
        deployment=deployment,
        headers=headers,
        content=body,
        timeout=60.0,
        action="Invoking",
    )
    created = answer.body if isinstance(answer.body, dict) else {}
    name = str(created.get("name") or str(created.get("id") or "").rsplit("/", 1)[-1])
    if on_step is not None:
        on_step(f"Batch job {name} created on {endpoint}/{target}")
    job = get_batch_job(client, name, download=False)
    return follow_batch_job(client, job, timeout=wait_timeout, on_update=on_update) if wait else job


def read_progress(client: RestClient, name: str, *, ended: bool = False) -> BatchProgress:
    """The progress of batch job ``name`` from its logs: the overview the driver rewrites as
    mini-batches end, and the errors of ``logs/user/error.txt``."""
    files = dict(run_details(client, name).get("logFiles") or {})
    progress = BatchProgress()
    if _OVERVIEW_LOG in files:
        values = {}
        for line in read_log(client, files[_OVERVIEW_LOG]).text.splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                values[key.strip().lower()] = value.strip()

        def number(key: str) -> float:
            return float(values.get(key) or 0)

        progress.total = int(number("total mini batches"))
        progress.failed = int(number("failed mini batches"))
        progress.done = int(number("processed mini batches")) - progress.failed
        progress.items_succeeded = int(number("items succeeded"))
        progress.items_failed = int(number("items failed"))
        progress.seconds = number("elapsed seconds")
        workers = sum(1 for log in files if log.startswith(_WORKER_LOGS))
        remaining = progress.total - progress.done - progress.failed
        progress.running = 0 if ended else max(0, min(workers, remaining))
    if _ERROR_LOG in files:
        for match in _ERROR_LINE.finditer(read_log(client, files[_ERROR_LOG]).text):
            where, message = match["batch"], match["message"].strip()
            file, sep, rest = message.partition(": ")
            if sep and "." in file and " " not in file:  # "mini-batch 3: data-7.csv: ValueError: …"
                where, message = file, rest
            progress.errors.append((where, message))
    return progress


def _deployment_of(job: JobDetails) -> tuple[str, str]:
    return str(job.tags.get(ENDPOINT_TAG) or ""), str(job.tags.get(DEPLOYMENT_TAG) or "")


def _columns(client: RestClient, endpoint: str, deployment: str) -> list[str] | None:
    """The output's column names when Azure defines them (an MLflow model scored without code)."""
    if not (endpoint and deployment):
        return None
    try:
        spec = get_batch_deployment(client, endpoint, deployment)
    except RestError:
        return None
    return _MLFLOW_COLUMNS if spec.code_configuration is None else None


def get_batch_job(
    client: RestClient, name: str, *, download: bool = True, to: Path | None = None
) -> BatchJob:
    """A batch job now: status, progress, errors; once it completed (with ``download``), its output file."""
    job = get_job(client, name)
    endpoint, deployment = _deployment_of(job)
    progress = read_progress(client, name, ended=job.ended)
    result = BatchJob(job=job, endpoint=endpoint, deployment=deployment, progress=progress)
    if download and job.status == "Completed" and BATCH_OUTPUT in job.outputs:
        result.columns = _columns(client, endpoint, deployment)
        folder = to or Path(tempfile.gettempdir()) / "mlep-batch-outputs"
        files = (
            download_job_outputs(client, name, output=BATCH_OUTPUT, to=folder).files.get(BATCH_OUTPUT) or []
        )
        found = [path for path in files if path.is_file()]
        result.output_path = (
            found[0] if len(found) == 1 else next((p for p in found if p.suffix == ".csv"), None)
        )
    return result


def follow_batch_job(
    client: RestClient,
    job: BatchJob,
    *,
    timeout: float | None = None,
    on_update: Callable[[BatchJob], None] | None = None,
    interval: float = 1.0,
) -> BatchJob:
    """Poll the batch job until it ends (``on_update`` hears each poll); the job with its output."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not job.ended:
        if deadline is not None and time.monotonic() > deadline:
            raise OperationTimeoutError(
                f"Batch job {job.name} is still {job.status} after {timeout:.0f} s.",
                hint=f"It goes on; follow it with %batch jobs {job.endpoint} --job {job.name}, or cancel it with %job cancel {job.name}.",
            )
        time.sleep(interval)
        job = get_batch_job(client, job.name, download=False)
        if on_update is not None:
            on_update(job)
    return get_batch_job(client, job.name)


def list_batch_jobs(client: RestClient, endpoint: str) -> BatchJobList:
    """The batch jobs of an endpoint, newest first."""
    get_batch_endpoint(client, endpoint)
    jobs = []
    for item in client.list(client.paths.jobs()):
        job = JobDetails.from_rest(item)
        if job.tags.get(ENDPOINT_TAG, "").lower() == endpoint.lower():
            jobs.append(BatchJob(job=job, endpoint=endpoint, deployment=job.tags.get(DEPLOYMENT_TAG, "")))
    jobs.sort(key=lambda job: job.job.created, reverse=True)
    return BatchJobList(endpoint=endpoint, jobs=jobs)
