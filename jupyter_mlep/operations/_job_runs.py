"""What a job leaves while and after it runs: its logs (run history), its metrics and parameters
(MLflow tracking) and its outputs (blobs of a datastore), read the same way on both targets."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .._errors import UsageError
from ..rest import RestClient, datastore_container
from ..rest._services import metric_history, read_log, run_data, run_details
from ..rest._uploads import next_version
from ._job_results import TERMINAL_STATUSES, JobDetails, JobLogs, JobMetrics, JobOutputs, RegisteredModel
from ._jobs import get_job

__all__ = [
    "download_job_outputs",
    "get_job_logs",
    "get_job_metrics",
    "register_job_model",
    "stream_job",
]

_MAIN_LOG = "user_logs/std_log.txt"


def _user_logs(files: dict[str, str]) -> list[str]:
    """The names of a job's own logs (``user_logs/std_log*.txt``), the main one first."""
    names = sorted(name for name in files if name.startswith("user_logs/"))
    return sorted(names, key=lambda name: name != _MAIN_LOG)


def get_job_logs(client: RestClient, name: str, *, lines: int | None = None) -> JobLogs:
    """The job's logs now (the last ``lines`` of each), readable while it runs."""
    details = run_details(client, name)
    files = dict(details.get("logFiles") or {})
    texts = {log: read_log(client, files[log]).text for log in _user_logs(files)}
    if lines is not None:
        texts = {log: "\n".join(text.splitlines()[-lines:]) for log, text in texts.items()}
    return JobLogs(name=name, status=str(details.get("status") or ""), logs=texts)


def stream_job(
    client: RestClient,
    name: str,
    *,
    on_text: Callable[[str, str], None],
    on_status: Callable[[str], None] | None = None,
    interval: float = 1.0,
) -> JobDetails:
    """Follow the job's logs until it has ended: ``on_text(log, text)`` hears each new piece of
    each log, ``on_status`` each new status; the job as it ended. Ctrl-C stops following; the job
    goes on."""
    offsets: dict[str, int] = {}
    status = ""
    while True:
        details = run_details(client, name)
        if on_status is not None and details.get("status") != status:
            status = str(details.get("status"))
            on_status(status)
        files = dict(details.get("logFiles") or {})
        for log in _user_logs(files):
            chunk = read_log(client, files[log], offsets.get(log, 0))
            offsets[log] = chunk.end
            if chunk.text:
                on_text(log, chunk.text)
        if str(details.get("status")) in TERMINAL_STATUSES:
            return get_job(client, name)
        time.sleep(interval)


def get_job_metrics(client: RestClient, name: str) -> JobMetrics:
    """The job's MLflow metrics (every logged value, by step) and parameters."""
    data = run_data(client, name)
    keys = sorted({str(item["key"]) for item in data.get("metrics") or []})
    series = {key: metric_series(client, name, key) for key in keys}
    params = {str(item["key"]): str(item["value"]) for item in data.get("params") or []}
    return JobMetrics(name=name, metrics=series, params=params)


def metric_series(client: RestClient, name: str, key: str) -> list[tuple[int, float]]:
    """Every value of the job's metric ``key`` as ``(step, value)``, by step (then time)."""
    points = sorted(
        metric_history(client, name, key), key=lambda p: (p.get("step") or 0, p.get("timestamp") or 0)
    )
    return [(int(point.get("step") or 0), float(point["value"])) for point in points]


def download_job_outputs(
    client: RestClient, name: str, *, output: str | None = None, to: Path | str = "."
) -> JobOutputs:
    """Download the job's outputs (or only ``output``) below ``to/<job>/<output>/``."""
    job = get_job(client, name)
    wanted = {key: value for key, value in job.outputs.items() if output in (None, key)}
    if output and not wanted:
        raise UsageError(
            f"Job {name} has no output {output!r}.",
            hint="Its outputs: " + (", ".join(job.outputs) or "none") + ".",
        )
    files: dict[str, list[Path]] = {}
    for key, value in wanted.items():
        uri = str((value or {}).get("uri") or "")
        if not uri.startswith("azureml://datastores/"):
            raise UsageError(
                f"Output {key!r} of job {name} is at {uri or 'no URI'}; only datastore outputs download."
            )
        store_name, _, prefix = uri[len("azureml://datastores/") :].partition("/paths/")
        store = client.get(client.paths.datastore(store_name))
        folder = Path(to) / name / key
        files[key] = []
        with datastore_container(client, store) as container:
            prefix = prefix.rstrip("/") + "/"
            for blob in container.list_names(prefix):
                target = folder / blob[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(container.download(blob))
                files[key].append(target)
    if not any(files.values()) and job.status != "Completed":
        raise UsageError(
            f"Job {name} is {job.status}: its outputs are written when it completes.",
            hint=f"Wait for it with %job stream {name}.",
        )
    return JobOutputs(name=name, files=files)


def register_job_model(
    client: RestClient,
    name: str,
    *,
    output: str,
    model_name: str,
    version: str | None = None,
    model_type: str | None = None,
) -> RegisteredModel:
    """Register the job's ``output`` as a model version (its path ``azureml://jobs/NAME/outputs/OUTPUT``,
    as Azure registers job outputs); the model to deploy as ``azureml:MODEL:VERSION``."""
    job = get_job(client, name)
    if output not in job.outputs:
        raise UsageError(
            f"Job {name} has no output {output!r}.",
            hint="Its outputs: " + (", ".join(job.outputs) or "none") + ".",
        )
    if job.status != "Completed":
        raise UsageError(
            f"Job {name} is {job.status}: only a completed job's outputs can be registered.",
            hint=f"Wait for it with %job stream {name}.",
        )
    kind = model_type or str((job.outputs[output] or {}).get("jobOutputType") or "")
    kind = kind if kind in ("custom_model", "mlflow_model", "triton_model") else "custom_model"
    path = f"azureml://jobs/{name}/outputs/{output}"
    version = version or next_version(client, "models", model_name)
    body = {
        "properties": {
            "modelUri": path,
            "modelType": kind,
            "description": f"Output {output} of job {name}",
            "jobName": name,
            "properties": {},
            "tags": {},
        }
    }
    created = client.put(client.paths.asset_version("models", model_name, version), body)
    return RegisteredModel(
        name=model_name, version=str(created.get("name")), path=path, model_type=kind, job=name
    )
