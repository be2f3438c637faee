"""Run a job's command in a prepared environment: local processes or containers, one per rank.

A job's processes are recorded (``process.json`` in the job's folder: pid and start time of each
process group, or container ids) the moment they start and forgotten once they ended, so
whoever finds a record later (a workspace restarted after ``kill -9``, ``jupyter-mlep workspace
stop``) can stop exactly what it names and nothing else (:func:`stop_recorded_job`).

Each rank runs ``bash -c <command>`` in its own process group (a container runs ``sh -c``), with
stdout and stderr in ``user_logs/std_log.txt`` (``std_log_process_<rank>.txt`` when there are
several), as Azure ML names them. :meth:`JobRun.kill` stops every process group (or removes every
container), so nothing the command started outlives a cancel or a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import RuntimeBackendError
from ._base import PreparedEnvironment
from ._environment import venv_recipe
from ._logs import StorageLog
from ._proc import alive, kill_group, start_time
from ._settings import Mount, RuntimeSettings
from ._spec import EnvironmentSpec
from ._venv import build_venv, venv_python

__all__ = [
    "JOB_RUNTIMES",
    "JobProcessSpec",
    "JobRun",
    "job_log_names",
    "prepare_job_environment",
    "start_job",
    "stop_recorded_job",
]

#: The runtimes a job runs on.
JOB_RUNTIMES = ("process", "docker")
_RECORD = "process.json"
_PASS_THROUGH = (
    "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)  # fmt: skip


@dataclass(frozen=True)
class JobProcessSpec:
    """What a job runs: a shell command in ``workdir``, once per rank, with its variables.

    ``folder`` is the job's own folder (logs below ``user_logs/``, the process record);
    ``rank_env`` holds one mapping of extra variables per rank (its length is the number of
    processes); ``mounts`` are the host paths a container needs (mounted at the same path).
    """

    name: str
    command: str
    workdir: Path
    folder: Path
    env: Mapping[str, str] = field(default_factory=dict)
    rank_env: tuple[Mapping[str, str], ...] = ({},)
    mounts: tuple[Mount, ...] = ()


def job_log_names(ranks: int) -> list[str]:
    """The log files of a job with ``ranks`` processes, relative to its folder (Azure's names)."""
    if ranks <= 1:
        return ["user_logs/std_log.txt"]
    return [f"user_logs/std_log_process_{rank}.txt" for rank in range(ranks)]


def prepare_job_environment(
    settings: RuntimeSettings, runtime: str, environment: EnvironmentSpec, log: Path
) -> PreparedEnvironment:
    """Build (or take from the deployments' cache) the environment a job runs in.

    The process runtime builds a virtual environment of the listed packages only (no inference
    server); the Docker runtime an image, as deployments do.
    """
    storage = StorageLog(log)
    if runtime == "docker":
        from ._docker_engine import DockerEngine
        from ._docker_image import build_image

        engine = DockerEngine(timeout=settings.docker_timeout)
        engine.require()
        return build_image(environment, settings, engine, storage)
    recipe = venv_recipe(environment, settings.python, serving=False)
    for note in recipe.warnings:
        storage.write(f"warning: {note}")
    path = build_venv(recipe, settings.env_cache, storage, installer=settings.installer)
    return PreparedEnvironment(recipe.key, "process", str(path), str(venv_python(path)), recipe.warnings)


class JobRun:
    """The running processes (or containers) of one job."""

    def __init__(self, spec: JobProcessSpec, runtime: str, settings: RuntimeSettings) -> None:
        self.spec = spec
        self.runtime = runtime
        self.settings = settings
        self._procs: list[subprocess.Popen[bytes]] = []
        self._containers: list[str] = []
        self._codes: dict[int, int] = {}
        self._engine: Any = None

    @property
    def ranks(self) -> int:
        """How many processes the job runs."""
        return len(self.spec.rank_env)

    def _record(self) -> None:
        record = {
            "runtime": self.runtime,
            "processes": [[proc.pid, start_time(proc.pid)] for proc in self._procs],
            "containers": list(self._containers),
        }
        target = self.spec.folder / _RECORD
        tmp = target.with_name(f".{_RECORD}.tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, target)

    def _start(self, prepared: PreparedEnvironment) -> None:
        logs = self.spec.folder / "user_logs"
        logs.mkdir(parents=True, exist_ok=True)
        names = job_log_names(self.ranks)
        try:
            for rank, extra in enumerate(self.spec.rank_env):
                log = self.spec.folder / names[rank]
                if self.runtime == "docker":
                    self._containers.append(self._create_container(prepared, extra, log, rank))
                    self._record()
                    self._engine.start(self._containers[-1])
                else:
                    self._procs.append(self._start_process(prepared, extra, log))
                    self._record()
        except BaseException:
            self.kill()
            raise

    def _start_process(
        self, prepared: PreparedEnvironment, extra: Mapping[str, str], log: Path
    ) -> subprocess.Popen[bytes]:
        env = {name: os.environ[name] for name in _PASS_THROUGH if name in os.environ}
        bin_dir = str(Path(prepared.python).parent)
        env["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "/usr/bin:/bin")])
        env["VIRTUAL_ENV"] = prepared.location
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.spec.env)
        env.update(extra)
        with log.open("ab") as out:
            return subprocess.Popen(
                ["/bin/bash", "-c", self.spec.command], cwd=str(self.spec.workdir), stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip

    def _create_container(
        self, prepared: PreparedEnvironment, extra: Mapping[str, str], log: Path, rank: int
    ) -> str:
        from ._docker_engine import DockerEngine

        if self._engine is None:
            self._engine = DockerEngine(timeout=self.settings.docker_timeout)
        env = {**dict(prepared.env), "PYTHONUNBUFFERED": "1", **self.spec.env, **extra}
        mounts = [Mount(str(self.spec.folder), str(self.spec.folder), read_only=False)]
        mounts += [m for m in self.spec.mounts if m.source != str(self.spec.folder)]
        mounts += self.settings.docker_mounts
        script = f"exec >>{_quote(str(log))} 2>&1; {self.spec.command}"
        safe = re.sub(r"[^a-zA-Z0-9_.-]", "-", self.spec.name)[:80]
        container = str(
            self._engine.create(
                prepared.location,
                ["sh", "-c", script],
                name=f"mlep-job-{safe}-{rank}-{os.urandom(3).hex()}",
                network=self.settings.docker_network,
                mounts=mounts,
                environment=env,
                labels={
                    "mlep.managed": "1",
                    "mlep.job": self.spec.name,
                    "mlep.home": str(self.settings.runtime_dir),
                },
                workdir=str(self.spec.workdir),
                user=f"{os.getuid()}:{os.getgid()}",
            )
        )
        return container

    def poll(self) -> int | None:
        """None while a process runs; then the job's exit code (the first non-zero one, else 0)."""
        if self.runtime == "docker":
            for index, container in enumerate(self._containers):
                if index not in self._codes:
                    code = self._engine.exit_code(container)
                    if code is None:
                        return None
                    self._codes[index] = code
        else:
            for index, proc in enumerate(self._procs):
                code = proc.poll()
                if code is None:
                    return None
                self._codes[index] = code if code >= 0 else 128 - code
        failed = [code for code in self._codes.values() if code != 0]
        return failed[0] if failed else 0

    def kill(self) -> None:
        """Stop every process group (or remove every container) of the job, then forget them."""
        for proc in self._procs:
            kill_group(proc.pid, start_time(proc.pid), grace=1.0)
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
        for container in self._containers:
            self._engine.remove(container)
        self.forget()

    def forget(self) -> None:
        """The job has ended: remove its process record (and its stopped containers)."""
        if self._engine is not None:
            for container in self._containers:
                self._engine.remove(container)
        (self.spec.folder / _RECORD).unlink(missing_ok=True)


def start_job(
    settings: RuntimeSettings, runtime: str, prepared: PreparedEnvironment, spec: JobProcessSpec
) -> JobRun:
    """Start the job's processes (or containers); each is recorded before this returns."""
    if runtime not in JOB_RUNTIMES:
        raise RuntimeBackendError(
            f"Unknown job runtime {runtime!r}.", hint=f"Use one of: {', '.join(JOB_RUNTIMES)}."
        )
    run = JobRun(spec, runtime, settings)
    run._start(prepared)
    return run


def stop_recorded_job(settings: RuntimeSettings, folder: Path) -> list[str]:
    """Stop what the process record in a job's ``folder`` names (left by a killed workspace); what was stopped."""
    path = folder / _RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    stopped: list[str] = []
    for pid, started in record.get("processes") or []:
        if alive(pid, started):
            kill_group(int(pid), started, grace=0.5)
            stopped.append(f"process group {pid}")
    containers: Sequence[str] = record.get("containers") or []
    if containers:
        from ._docker_engine import DockerEngine

        engine = DockerEngine(timeout=settings.docker_timeout)
        engine.require()  # no engine: the record stays, to be tried again
        for container in containers:
            engine.remove(container)
            stopped.append(f"container {container[:12]}")
    path.unlink(missing_ok=True)
    return stopped


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
