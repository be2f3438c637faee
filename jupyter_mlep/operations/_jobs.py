"""Training jobs: submit a command job (its local code folder, inline environment and local inputs
registered first), then show, list, wait for and cancel jobs.

Everything a spec can get wrong is checked before anything is uploaded or created.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from .._errors import BadRequestError, OperationTimeoutError, SpecValidationError, UsageError
from ..rest import RestClient, register_code
from ..rest._services import run_details
from ..specs import CommandJob, Environment, Job, SweepJob, require_local_path
from ._assets import register_environment, upload_local
from ._job_results import JobDetails, JobList

__all__ = [
    "cancel_job",
    "check_name",
    "create_job",
    "get_job",
    "job_name",
    "list_jobs",
    "wait_for_job",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}")

_ADJECTIVES = ("amber", "brave", "calm", "eager", "gentle", "keen", "lucid", "quiet", "swift", "tidy")
_NOUNS = ("basil", "cedar", "fern", "maple", "olive", "pepper", "plum", "sage", "thyme", "willow")


def job_name() -> str:
    """A new job name as Azure makes them when none is given (``calm_cedar_4kq81z0v``)."""
    suffix = "".join(secrets.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(8))
    return f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_NOUNS)}_{suffix}"


def _local_inputs(spec: Job) -> dict[str, Path]:
    """The inputs whose ``path`` is a local file or folder (checked to exist)."""
    found: dict[str, Path] = {}
    for name, item in (spec.inputs or {}).items():
        if item.type != "literal" and isinstance(item.path, Path):
            found[name] = require_local_path(item.path, f"input {name!r}", spec.source)
    return found


def _local_code(spec: CommandJob | SweepJob) -> Path | None:
    code = spec.trial.code if isinstance(spec, SweepJob) else spec.code
    if isinstance(code, Path):
        return require_local_path(code, "code folder", spec.source)
    return None


def create_job(
    client: RestClient,
    spec: Job,
    *,
    name: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> JobDetails:
    """Create ``spec`` (a command or sweep job) as a job (named ``name``, else the spec's name, else
    a new one); what the service answered. Local code and inputs are uploaded and an inline
    environment (a sweep's trial's) is registered first, once everything was checked."""
    if not isinstance(spec, (CommandJob, SweepJob)):
        raise UsageError(
            f"Jobs of type {spec.job_type} cannot be submitted yet.", hint="Submit a command or sweep job."
        )
    say = on_step or (lambda _text: None)
    name = check_name(name or spec.name or job_name())
    spec.check(complete=True)
    code = _local_code(spec)
    inputs = _local_inputs(spec)
    code_id = environment_id = None
    if code is not None:
        registered = register_code(client, code, name=f"{name}-code")
        say(f"code {code}: " + ("unchanged" if registered.reused else f"uploaded as {registered.version}"))
        code_id = registered.id
    environment = spec.trial.environment if isinstance(spec, SweepJob) else spec.environment
    if isinstance(environment, Environment):
        environment_id = register_environment(client, environment, name=f"{name}-env")
    uris: dict[str, str] = {}
    for input_name, path in inputs.items():
        uris[input_name], _sent = upload_local(client, path)
        say(f"input {input_name}: {path} -> {uris[input_name]}")
    body = spec.to_rest(
        workspace=client.paths.workspace, code_id=code_id, environment_id=environment_id, input_uris=uris
    )
    return JobDetails.from_rest(client.put(client.paths.job(name), body))


def get_job(client: RestClient, name: str) -> JobDetails:
    """The job ``name`` as the service describes it now, with its run history's times and error."""
    job = JobDetails.from_rest(client.get(client.paths.job(name)))
    return job.with_run(run_details(client, name))


def list_jobs(client: RestClient, *, experiment: str | None = None, status: str | None = None) -> JobList:
    """The workspace's jobs, newest first (optionally of one experiment and/or one status)."""
    jobs = [JobDetails.from_rest(item) for item in client.list(client.paths.jobs())]
    if experiment:
        jobs = [job for job in jobs if job.experiment == experiment]
    if status:
        jobs = [job for job in jobs if job.status.lower() == status.lower()]
    jobs.sort(key=lambda job: job.created, reverse=True)
    return JobList(jobs, experiment=experiment, status=status)


def cancel_job(client: RestClient, name: str, *, wait: bool = True, timeout: float = 120.0) -> JobDetails:
    """Ask the service to cancel ``name``; with ``wait``, until the job has ended."""
    job = get_job(client, name)
    if job.ended:
        return job
    try:
        client.begin("POST", client.paths.job(name, "cancel"))
    except BadRequestError:  # it ended meanwhile: the service refuses to cancel an ended job
        job = get_job(client, name)
        if job.ended:
            return job
        raise
    return wait_for_job(client, name, timeout=timeout) if wait else get_job(client, name)


def wait_for_job(
    client: RestClient,
    name: str,
    *,
    timeout: float | None = None,
    on_change: Callable[[JobDetails], None] | None = None,
    interval: float = 1.0,
) -> JobDetails:
    """Wait until the job ``name`` has ended (``Completed``, ``Failed`` or ``Canceled``); the job.

    ``on_change`` hears the job each time its status changes.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    last = ""
    while True:
        job = get_job(client, name)
        if job.status != last and on_change is not None:
            on_change(job)
        last = job.status
        if job.ended:
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise OperationTimeoutError(
                f"Job {name} is still {job.status} after {timeout:.0f} s.",
                hint=f"It goes on; follow it with %job stream {name}, or cancel it with %job cancel {name}.",
            )
        time.sleep(interval)


def check_name(name: str) -> str:
    """``name`` if Azure accepts it as a job name (letters, digits, ``-`` and ``_``)."""
    if not _NAME.fullmatch(name):
        raise SpecValidationError(
            f"{name!r} is not a valid job name.",
            hint="Use letters, digits, '-' and '_', starting with a letter or a digit.",
        )
    return name
