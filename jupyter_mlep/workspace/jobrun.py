"""Command jobs run: queued, prepared, run, finalised, as Azure ML moves them.

A job accepted by PUT (``NotStarted``) is ``Queued`` until a slot is free: at most
``MLEP_MAX_JOBS`` jobs (one per CPU core by default) run on this machine at once, and at most
as many as its compute allows on each compute. It is then ``Preparing`` (the environment is built
or taken from the runtime's cache; code and inputs are laid out, see :mod:`.jobplan`),
``Running`` (the command, one process group or container per rank, through
:mod:`jupyter_mlep.runtime`), ``Finalizing`` (outputs stored in the blob store) and ends
``Completed``, ``Failed`` (exit code and the log's last lines, a timeout, a build error) or
``Canceled``. Times and the error are kept with the job (private part of its record) and shown
by run history (:mod:`.runhistory`).

Nothing runs unowned: a job's processes are recorded in its folder while they run. A workspace
that stops stops its jobs (they end ``Failed``, saying so); one that was killed finds the records
when it starts again, stops what they name and marks those jobs ``Failed`` with the reason;
``jupyter-mlep workspace stop`` stops what a killed workspace left (:func:`stop_leftover_jobs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from .arm import now_iso
from .batchrun import batch_log_names, lay_out_batch
from .context import Workspace
from .jobplan import (
    JobPlan,
    compute_of,
    job_folder,
    jobs_root,
    materialise,
    register_outputs,
    resolve_command,
    timeout_seconds,
)
from .lives import Lives
from .resolve import resolve_environment
from .store import Record

__all__ = [
    "JOB_STATE_KEY",
    "JobScheduler",
    "compute_concurrency",
    "job_state",
    "recover_jobs",
    "scheduler",
    "shutdown_jobs",
    "stop_leftover_jobs",
    "update_job",
]

log = logging.getLogger("jupyter_mlep.workspace")
KIND = "job"
#: The private key of a stored job body: times, error, runtime, logs (never rendered by ARM).
JOB_STATE_KEY = "mlep"
#: The job property (``properties.properties``) that asks for a runtime, as deployments do.
RUNTIME_PROPERTY = "mlep.runtime"
_TERMINAL = ("Completed", "Failed", "Canceled", "NotResponding")
_TAIL_LINES = 20
_STOPPED = "The workspace server stopped while the job was {status}; the job did not finish. Submit it again."
_KILLED = (
    "The workspace server was stopped abruptly (killed) while the job was {status}; its processes were "
    "stopped when the workspace started again. Submit the job again."
)


# -- the compute hook ---------------------------------------------------------------------------------
def compute_concurrency(ws: Workspace, name: str) -> int | None:
    """How many jobs compute ``name`` runs at once: what its size allows
    (:func:`.computes.compute_concurrency`), within this machine's job limit (``MLEP_MAX_JOBS``);
    None when there is no such compute."""
    from .computes import compute_concurrency as sized

    limit = sized(ws, name)
    return None if limit is None else min(limit, int(_settings(ws).max_jobs))


# -- MLflow: a job's run (its id is the job's name) -------------------------------------------------
async def _tracking(ws: Workspace, name: str, record: Record) -> dict[str, str]:
    """Before the job starts: create its MLflow run (in its ``experimentName``, named after its
    ``displayName``, with its tags); the variables the job gets (``MLFLOW_TRACKING_URI``,
    ``MLFLOW_RUN_ID``, a job token…, and the workspace's certificate authority over HTTPS)."""
    from .tls import TlsFiles
    from .tracking import start_job_run, tracking_env

    props = record.body["properties"]
    experiment = str(props.get("experimentName") or "Default")
    tags = {str(k): str(v) for k, v in (props.get("tags") or {}).items()}
    await start_job_run(
        ws, run_id=name, experiment=experiment, run_name=str(props.get("displayName") or name), tags=tags
    )
    params = job_state(record).get("parameters")
    if params:  # a sweep's trial: its sampled values are its run's params
        from .tracking._store import TrackingStore

        TrackingStore.of(ws).log_batch(name, [], {str(k): str(v) for k, v in params.items()}, {})
    env = tracking_env(ws, name, experiment)
    if ws.base_url.startswith("https://"):
        env["MLFLOW_TRACKING_SERVER_CERT_PATH"] = str(TlsFiles.under(ws.paths.root.parent).ca_cert)
    return env


async def _end_tracking(ws: Workspace, name: str, status: str) -> None:
    """After the job ended: its run ends with ``status`` (``FINISHED``, ``FAILED`` or ``KILLED``)
    and its job token is revoked."""
    from .tracking import end_job_run

    await end_job_run(ws, name, status)


_MLFLOW_STATUS = {"Completed": "FINISHED", "Failed": "FAILED", "Canceled": "KILLED"}


# -- state -------------------------------------------------------------------------------------------
def _settings(ws: Workspace) -> Any:
    if ws.supervisor is not None:
        return ws.supervisor.settings
    from ..runtime import RuntimeSettings

    environ = dict(os.environ)
    environ["MLEP_HOME"] = str(ws.paths.root.parent)
    return RuntimeSettings.from_env(environ)


def job_state(record: Record) -> dict[str, Any]:
    """The private state of a stored job (created empty)."""
    state = record.body.setdefault(JOB_STATE_KEY, {})
    assert isinstance(state, dict)
    return state


def update_job(ws: Workspace, name: str, status: str | None = None, **state: Any) -> Record | None:
    """Change a stored job's status (kept in its status history) and private state."""
    record = ws.store.get(f"jobs/{name}")
    if record is None:
        return None
    current = record.body["properties"].get("status")
    if current == "CancelRequested" and status not in (*_TERMINAL, None):
        status = None  # a cancel was asked for: the job shows it until it has ended
    if status is not None and status != current:
        record.body["properties"]["status"] = status
        job_state(record).setdefault("statusHistory", []).append({"status": status, "timeUtc": now_iso()})
    job_state(record).update({key: value for key, value in state.items()})
    return ws.store.put(record.path, KIND, "", record.name, record.body)


def _error(code: str, message: str, **details: Any) -> dict[str, Any]:
    """An ``ErrorResponse`` (run history's shape)."""
    body: dict[str, Any] = {"code": code, "message": message, "severity": None}
    if details:
        body["details"] = [{"code": key, "message": str(value)} for key, value in details.items()]
    return {"error": body, "time": now_iso(), "componentName": "mlep-local-workspace"}


def _tail(folder: Path, names: list[str], lines: int = _TAIL_LINES) -> str:
    parts = []
    for name in names:
        path = folder / name
        with contextlib.suppress(OSError):
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            if len(names) > 1:
                parts.append(f"[{name}]")
            parts += text
    return "\n".join(parts)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the scheduler -----------------------------------------------------------------------------------
class JobScheduler(Lives):
    """Runs the workspace's command jobs: one task per job, slots per machine and compute."""

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.running: dict[str, str] = {}  # job -> compute key, for the jobs holding a slot
        self.reasons: dict[str, dict[str, Any]] = {}  # job -> the error a cancel ends it with
        self.sweeps: Any = None  # the sweep runner (sweeprun.SweepRunner), created on first use
        self._changed: asyncio.Condition | None = None

    @property
    def changed(self) -> asyncio.Condition:
        """Notified whenever a slot is released."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def cancel(self, name: str, *, reason: dict[str, Any] | None = None) -> None:
        """Ask a job to stop; return once it has ended (``Canceled`` with ``reason`` as its error,
        when one is given: a sweep's trial stopped by its policy says why)."""
        event, task = self.cancels.get(name), self.tasks.get(name)
        if reason is not None:
            self.reasons[name] = reason
        if event is not None:
            event.set()
            async with self.changed:  # a queued job stops waiting at once
                self.changed.notify_all()
        if task is not None:
            await asyncio.shield(task)

    async def stop_all(self) -> None:
        """The workspace stops: every job ends (``Failed``, saying the workspace stopped)."""
        self.stopping = True
        if self.sweeps is not None:  # first the sweeps, so that none starts a trial now
            await self.sweeps.stop_all()
        tasks = list(self.tasks.values())
        for event in self.cancels.values():
            event.set()
        async with self.changed:
            self.changed.notify_all()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- slots -------------------------------------------------------------------------------------
    async def _acquire(self, name: str, compute: str, limit: int) -> bool:
        """Wait for a slot; False when the job was canceled meanwhile."""
        total = _settings(self.ws).max_jobs
        event = self.cancels[name]

        def free() -> bool:
            on_compute = sum(1 for key in self.running.values() if key == compute)
            return event.is_set() or (len(self.running) < total and on_compute < limit)

        async with self.changed:
            while not free():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), timeout=1.0)
            if event.is_set():
                return False
            self.running[name] = compute
            return True

    async def _release(self, name: str) -> None:
        async with self.changed:
            self.running.pop(name, None)
            self.changed.notify_all()

    # -- a job's life ------------------------------------------------------------------------------
    async def _life(self, name: str) -> None:
        ws = self.ws
        record = update_job(ws, name, "Queued", queuedTimeUtc=now_iso())
        if record is None:
            return
        props = record.body["properties"]
        compute = compute_of(props)
        limit = compute_concurrency(ws, compute) if compute else _settings(ws).max_jobs
        if not await self._acquire(name, (compute or "").lower(), limit or 1):
            if not self.stopping:  # a stopping workspace leaves it Queued: the next start runs it
                await self._end(name, "Canceled")
            return
        try:
            await self._run(name, record)
        except Exception as exc:  # a bug or an engine that went away: the job fails with the reason
            log.exception("job %s failed", name)
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            await self._end(name, "Failed", error=_error("SystemError", message))
        finally:
            await self._release(name)

    async def _end(
        self,
        name: str,
        status: str,
        *,
        error: dict[str, Any] | None = None,
        stopped: str | None = None,
        **state: Any,
    ) -> None:
        if self.stopping and status != "Completed":
            status, error = "Failed", _error("WorkspaceStopped", _STOPPED.format(status=stopped or "running"))
        reason = self.reasons.pop(name, None)
        if status == "Canceled" and error is None:
            error = reason
        update_job(self.ws, name, status, endTimeUtc=now_iso(), error=error, **state)
        with contextlib.suppress(Exception):
            await _end_tracking(self.ws, name, _MLFLOW_STATUS.get(status, "FAILED"))

    async def _run(self, name: str, record: Record) -> None:
        from ..runtime import JobProcessSpec, Mount, prepare_job_environment, start_job

        ws, event = self.ws, self.cancels[name]
        props = record.body["properties"]
        settings = _settings(ws)
        runtime = _job_runtime(props, settings)
        started = time.monotonic()
        timeout = timeout_seconds(props)
        folder = job_folder(ws, name)
        update_job(ws, name, "Preparing", runtime=runtime, preparingTimeUtc=now_iso(), folder=str(folder))

        batch = job_state(record).get("batch")

        def prepare() -> tuple[Any, JobPlan]:
            plan = materialise(ws, name, props)
            if batch is not None:  # a batch job: its driver, settings and the deployment's environment
                environment = lay_out_batch(ws, folder, plan, batch)
            else:
                environment = resolve_environment(ws, str(props["environmentId"]))
            prepared = prepare_job_environment(settings, runtime, environment, folder / "environment.log")
            return prepared, plan

        try:
            prepared, plan = await asyncio.to_thread(prepare)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            hint = getattr(exc, "hint", None)
            text = f"The job's environment or data could not be prepared: {message}" + (
                f" {hint}" if hint else ""
            )
            await self._end(name, "Failed", error=_error("PreparationFailed", text), stopped="preparing")
            return
        if event.is_set():
            await self._end(name, "Canceled", stopped="preparing")
            return
        spent = time.monotonic() - started
        if timeout is not None and spent >= timeout:
            await self._end(
                name,
                "Failed",
                error=_error(
                    "JobTimeout",
                    f"The job's limits.timeout ({timeout:g} s) ran out while its environment was prepared "
                    f"({spent:.1f} s). Raise limits.timeout; the environment is cached now, so the next run "
                    "starts faster.",
                ),
            )
            return
        command = resolve_command(str(props["command"]), plan.inputs, plan.outputs)
        ranks = _rank_env(props)
        env = {**_azure_env(ws, name, props, plan), **await _tracking(ws, name, record)}
        env.update({k: str(v) for k, v in (props.get("environmentVariables") or {}).items() if v is not None})
        mounts = tuple(Mount(str(path), str(path), read_only=False) for path in plan.mounts)
        spec = JobProcessSpec(name, command, plan.workdir, folder, env, tuple(ranks), mounts)
        run = await asyncio.to_thread(start_job, settings, runtime, prepared, spec)
        logs = [f"user_logs/{Path(n).name}" for n in _log_names(len(ranks))]
        if batch is not None:
            logs += batch_log_names(batch)
        update_job(ws, name, "Running", startTimeUtc=now_iso(), logs=logs, command=command)
        code: int | None = None
        interval = 0.02
        try:
            while True:
                code = run.poll() if runtime == "process" else await asyncio.to_thread(run.poll)
                if code is not None:
                    break
                if event.is_set():
                    await asyncio.to_thread(run.kill)
                    await self._end(name, "Canceled", stopped="running")
                    return
                if timeout is not None and time.monotonic() - started >= timeout:
                    await asyncio.to_thread(run.kill)
                    await self._end(
                        name,
                        "Failed",
                        error=_error(
                            "JobTimeout",
                            f"The job ran longer than its limits.timeout ({timeout:g} s) and was stopped.",
                            log_tail=_tail(folder, logs),
                        ),
                    )
                    return
                await asyncio.sleep(interval)
                interval = min(interval * 1.5, 0.1)
        except BaseException:
            await asyncio.to_thread(run.kill)
            raise
        await asyncio.to_thread(run.forget)
        update_job(ws, name, "Finalizing", exitCode=code)
        try:
            await asyncio.to_thread(register_outputs, ws, plan)
        except Exception as exc:
            await self._end(
                name, "Failed", error=_error("OutputsFailed", f"The job's outputs could not be stored: {exc}")
            )
            return
        if code != 0:
            tail = _tail(folder, logs)
            message = f"The job's command exited with code {code}."
            if tail:
                message += f" The log ends with:\n{tail}"
            await self._end(
                name,
                "Failed",
                error=_error("UserError", message, exit_code=code, log_tail=tail),
                exitCode=code,
            )
            return
        await self._end(name, "Completed", exitCode=0)


def _log_names(ranks: int) -> list[str]:
    from ..runtime import job_log_names

    return job_log_names(ranks)


def _job_runtime(props: dict[str, Any], settings: Any) -> str:
    asked = str(((props.get("properties") or {}).get(RUNTIME_PROPERTY)) or "").strip().lower()
    if asked in ("process", "docker"):
        return asked
    return settings.backend if settings.backend in ("process", "docker") else "process"


def _rank_env(props: dict[str, Any]) -> list[dict[str, str]]:
    """One mapping of variables per process: PyTorch's (as Azure sets them) for distributed jobs."""
    resources = props.get("resources") or {}
    nodes = int(resources.get("instanceCount") or 1)
    distribution = props.get("distribution") or {}
    if str(distribution.get("distributionType") or "").lower() != "pytorch":
        return [{"AZUREML_NODE_RANK": str(node), "NODE_RANK": str(node)} for node in range(nodes)]
    per_node = int(distribution.get("processCountPerInstance") or 1)
    world = nodes * per_node
    port = str(_free_port())
    ranks = []
    for node in range(nodes):
        for local in range(per_node):
            rank = node * per_node + local
            ranks.append(
                {
                    "RANK": str(rank),
                    "LOCAL_RANK": str(local),
                    "WORLD_SIZE": str(world),
                    "LOCAL_WORLD_SIZE": str(per_node),
                    "NODE_RANK": str(node),
                    "GROUP_RANK": str(node),
                    "MASTER_ADDR": "127.0.0.1",
                    "MASTER_PORT": port,
                    "AZUREML_NODE_RANK": str(node),
                    "AZ_BATCHAI_TASK_INDEX": str(rank),
                    "PET_NNODES": str(nodes),
                    "PET_NPROC_PER_NODE": str(per_node),
                }
            )
    return ranks


def _azure_env(ws: Workspace, name: str, props: dict[str, Any], plan: JobPlan) -> dict[str, str]:
    """The variables Azure ML sets in every job."""
    from ._identity import RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME

    experiment = str(props.get("experimentName") or "Default")
    env = {
        "AZUREML_RUN_ID": name,
        "AZUREML_ROOT_RUN_ID": name,
        "AZUREML_ARM_SUBSCRIPTION": SUBSCRIPTION_ID,
        "AZUREML_ARM_RESOURCEGROUP": RESOURCE_GROUP,
        "AZUREML_ARM_WORKSPACE_NAME": WORKSPACE_NAME,
        "AZUREML_ARM_PROJECT_NAME": experiment,
        "AZUREML_EXPERIMENT_NAME": experiment,
        "AZUREML_WORKSPACE_ID": ws.store.secret("workspace-id") or "",
        "AZUREML_SERVICE_ENDPOINT": ws.base_url,
        "AZUREML_DISCOVERY_SERVICE_ENDPOINT": f"{ws.base_url}/discovery",
        "AZUREML_RUN_HISTORY_SERVICE_ENDPOINT": ws.base_url,
        "AZUREML_COMPUTE_NAME": compute_of(props) or "serverless",
        "AZUREML_CR_EXECUTION_WORKING_DIR_PATH": str(plan.workdir),
        "AZ_BATCHAI_NUM_NODES": str(int((props.get("resources") or {}).get("instanceCount") or 1)),
    }
    for key, value in plan.inputs.items():
        env[f"AZURE_ML_INPUT_{key}"] = value
    for key, value in plan.outputs.items():
        env[f"AZURE_ML_OUTPUT_{key}"] = value
    return env


def scheduler(ws: Workspace) -> JobScheduler:
    """The workspace's job scheduler (created on first use)."""
    if ws.jobs is None:
        ws.jobs = JobScheduler(ws)
    assert isinstance(ws.jobs, JobScheduler)
    return ws.jobs


# -- start-up and shutdown ----------------------------------------------------------------------------
async def recover_jobs(ws: Workspace, *, run: bool = True) -> None:
    """After a start: jobs that were preparing or running (the workspace was killed) are Failed with
    the reason and what they left running is stopped; jobs that only waited are queued again."""
    from ..runtime import stop_recorded_job

    settings = _settings(ws)
    for record in ws.store.children(KIND):
        props = record.body["properties"]
        status = props.get("status")
        if props.get("jobType") != "Command" or status in _TERMINAL:
            continue
        stopped: list[str] = []
        if run:
            with contextlib.suppress(Exception):
                stopped = await asyncio.to_thread(stop_recorded_job, settings, job_folder(ws, record.name))
        if status in ("NotStarted", "Queued") and run:
            scheduler(ws).submit(record.name)
            continue
        if status == "CancelRequested":
            update_job(ws, record.name, "Canceled", endTimeUtc=now_iso())
            continue
        reason = _KILLED.format(status=str(status).lower())
        if stopped:
            log.info(
                "job %s: stopped what a killed workspace left running (%s)", record.name, ", ".join(stopped)
            )
        update_job(ws, record.name, "Failed", endTimeUtc=now_iso(), error=_error("WorkspaceStopped", reason))
        with contextlib.suppress(Exception):
            await _end_tracking(ws, record.name, "FAILED")
    _stop_orphans(ws)


def _stop_orphans(ws: Workspace) -> None:
    """Process records of jobs that no longer exist: what they name is stopped."""
    from ..runtime import stop_recorded_job

    root = jobs_root(ws)
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if (folder / "process.json").exists() and ws.store.get(f"jobs/{folder.name}") is None:
            with contextlib.suppress(Exception):
                stop_recorded_job(_settings(ws), folder)


async def shutdown_jobs(ws: Workspace) -> None:
    """The workspace stops: its running jobs are stopped (and end Failed, saying so)."""
    if ws.jobs is not None:
        await scheduler(ws).stop_all()


def stop_leftover_jobs(home: Path, root: Path) -> list[str]:
    """Stop the jobs' processes a killed workspace left (no workspace runs); a line for each job."""
    from ..runtime import RuntimeSettings, stop_recorded_job

    lines: list[str] = []
    folder = root / "jobs"
    if not folder.is_dir():
        return lines
    settings = RuntimeSettings.from_env({**os.environ, "MLEP_HOME": str(home)})
    for job in sorted(folder.iterdir()):
        if not (job / "process.json").exists():
            continue
        try:
            stopped = stop_recorded_job(settings, job)
        except Exception as exc:
            lines.append(f"job {job.name}: could not be stopped ({getattr(exc, 'message', exc)})")
            continue
        if stopped:
            lines.append(f"job {job.name}: stopped {', '.join(stopped)}")
    return lines
