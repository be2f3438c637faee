"""What both backends share: instances run by a warm launcher, health waits, logs and state.

A backend supplies the environment build, how a launcher is started and stopped (a local process
or a container), and how paths look from inside the server. Updates roll (see :mod:`._rolling`).

Every server listens on its own Unix socket ``$MLEP_HOME/sockets/<deployment>/<server id>.sock``
and writes its own log ``i<index>/server-<server id>.log``; ``i<index>/server.log`` is a link to
the log of the instance's current server (the one :meth:`logs` shows).
"""

from __future__ import annotations

import abc
import contextlib
import functools
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .._errors import DeploymentNotFoundError, DeploymentStartError, RuntimeBackendError, UsageError
from ._base import Backend, DeploymentInfo, InstanceInfo, OnReady, PreparedEnvironment
from ._control import LauncherClient
from ._failure import failure_headline
from ._health import wait_until_healthy
from ._logs import LOG_SOURCES, Reporter, StorageLog, follow, stderr_reporter, tail
from ._rolling import Rollout, code_stamp
from ._server import ServerPaths, check_spec, exit_message, probe_from, server_command
from ._settings import RuntimeSettings
from ._spec import DeploymentSpec, EnvironmentSpec
from ._state import DeploymentRecord, InstanceRecord, deployment_dir, load_records, spec_fingerprint
from ._uds import new_id, socket_folder, socket_path
from ._usage import InstanceUsage, group_usage, machine_memory

__all__ = ["LauncherBackend", "ServerPaths"]

_LOG_TAIL = 40
#: What a new launcher (process or container) is needed for; the rest is a new server of the same one.
_LAUNCHER_KEYS = ("environment", "environment_variables", "readiness_probe")


class LauncherBackend(Backend):
    """A backend whose instances are warm launchers that fork the inference server on demand."""

    def __init__(
        self, settings: RuntimeSettings | None = None, *, reporter: Reporter | None = stderr_reporter
    ) -> None:
        self.settings = settings or RuntimeSettings.from_env()
        self.reporter = reporter

    # -- what a backend supplies -------------------------------------------------------------
    @abc.abstractmethod
    def _prepare(self, environment: EnvironmentSpec, log: StorageLog) -> PreparedEnvironment:
        """Build or find the environment, writing progress to ``log``."""

    @abc.abstractmethod
    def _paths(self, spec: DeploymentSpec, record: DeploymentRecord, instance: InstanceRecord) -> ServerPaths:
        """The server's paths for ``instance`` (and make model and code reachable)."""

    @abc.abstractmethod
    def _launch(
        self,
        spec: DeploymentSpec,
        prepared: PreparedEnvironment,
        record: DeploymentRecord,
        instance: InstanceRecord,
    ) -> None:
        """Start the launcher of ``instance`` (fills in its pid or container)."""

    @abc.abstractmethod
    def _launcher_alive(self, instance: InstanceRecord) -> bool:
        """True while the launcher of ``instance`` runs."""

    @abc.abstractmethod
    def _terminate(self, instance: InstanceRecord) -> None:
        """Stop the launcher of ``instance`` and everything below it."""

    @abc.abstractmethod
    def _modules_file(self, environment: str) -> str:
        """Where servers of ``environment`` list the installed modules they used (server's path).

        One list per environment: a new launcher of the same environment imports them before
        its first server starts.
        """

    def _needs_new_launcher(self, old: dict[str, object], new: dict[str, object]) -> bool:
        """True when a spec change cannot be applied by forking a new server from the same launcher."""
        return any(old.get(key) != new.get(key) for key in _LAUNCHER_KEYS)

    def _base_env(self, prepared: PreparedEnvironment, instance: InstanceRecord) -> dict[str, str]:
        """Variables every server of this backend starts with."""
        return {}

    def _extra_records(self) -> list[DeploymentRecord]:
        """Deployments found outside the state records (containers without a record)."""
        return []

    # -- the interface -----------------------------------------------------------------------
    def prepare_environment(self, environment: EnvironmentSpec) -> PreparedEnvironment:
        """Build (or find in the cache) the environment; never builds the same content twice."""
        log = StorageLog(self.settings.runtime_dir / "environments.log", self.reporter)
        return self._prepare(environment, log)

    def start(
        self, spec: DeploymentSpec, *, wait: bool = True, on_ready: OnReady | None = None
    ) -> DeploymentInfo:
        """Start a deployment on Unix sockets and (``wait``) wait until it is healthy, then ``on_ready``."""
        check_spec(spec)
        existing = self._record(spec.endpoint, spec.name)
        if existing is not None:
            if self._info(existing).state == "Running":
                raise RuntimeBackendError(
                    f"Deployment {spec.key} already runs ({self.name}).", hint="Update it, or stop it first."
                )
            self._terminate_all(existing)  # keeps its logs; they go on in the same folders
        folder = deployment_dir(self.settings.runtime_dir, spec.endpoint, spec.name)
        record = DeploymentRecord(backend=self.name, endpoint=spec.endpoint, name=spec.name, dir=str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        record.save()
        log = self._storage_log(record)
        log.write(f"deployment {spec.key}: starting on the {self.name} runtime", report=True)
        try:
            prepared = self._prepare(spec.environment, log)
            record.environment = prepared.key
            record.spec = self._fingerprint(spec, prepared.key)
            for index in range(spec.instance_count):
                instance = self._new_instance(record, index)
                record.instances.append(instance)
                self._start_instance(spec, prepared, record, instance, current=True)
        except BaseException as exc:
            self._fail(record, exc)
            raise
        if not wait:
            return self._info(record)
        info = self.wait_healthy(spec.endpoint, spec.name)
        if on_ready is not None:
            on_ready(info)
        return info

    def wait_healthy(self, endpoint: str, name: str) -> DeploymentInfo:
        """Poll the liveness route with the readiness probe's settings until every instance answers."""
        record = self._require(endpoint, name)
        try:
            self._await_ready(record, record.instances, record.spec.get("readiness_probe"))
        except BaseException as exc:
            self._fail(record, exc)
            raise
        record.state, record.message = "Running", ""
        record.save()
        self._storage_log(record).write(f"deployment {endpoint}/{name}: healthy", report=False)
        self._warm(record, record.instances)
        return self._info(record)

    def update(self, spec: DeploymentSpec, *, on_ready: OnReady | None = None) -> DeploymentInfo:
        """Apply a changed spec by a rolling update: new servers beside the old, ``on_ready``, old stopped.

        A change of code, scoring script, model or request settings forks a new server from each
        warm launcher (no rebuild, no new process or container); a change of environment,
        environment variables or probes (or, in Docker, of mounted paths) starts new launchers
        beside the old ones. Scaling up adds instances; scaling down stops the extra ones after
        ``on_ready``. When the new servers do not become ready, only they are stopped: the old
        ones keep serving, the record keeps the previous spec, and :class:`DeploymentStartError`
        is raised (``on_ready`` is not called). A deployment that does not run is started.
        """
        check_spec(spec)
        record = self._record(spec.endpoint, spec.name)
        if record is None or self._info(record).state != "Running":
            return self.start(spec, on_ready=on_ready)
        return Rollout(self, record, spec, on_ready).run()

    def status(self, endpoint: str, name: str) -> DeploymentInfo:
        """The current state of a deployment (a server that died shows as ``Failed``)."""
        return self._info(self._require(endpoint, name))

    def list(self) -> list[DeploymentInfo]:
        """Every deployment this backend runs (found again from state records and labels)."""
        records = load_records(self.settings.runtime_dir, self.name) + self._extra_records()
        return [self._info(record) for record in records]

    def usage(self, endpoint: str, name: str) -> tuple[InstanceUsage, ...]:
        """One reading of the CPU and memory use of each instance of a deployment (none when it
        does not run here)."""
        record = self._record(endpoint, name)
        if record is None:
            return ()
        readings = (self._instance_usage(instance) for instance in record.instances)
        return tuple(reading for reading in readings if reading is not None)

    def _instance_usage(self, instance: InstanceRecord) -> InstanceUsage | None:
        """The launcher's and the server's process groups (a backend whose pids are elsewhere overrides)."""
        cpu, rss = group_usage((instance.launcher_pid or 0, instance.server_pid or 0))
        if not rss:
            return None
        return InstanceUsage(f"i{instance.index}", cpu, rss, machine_memory(), float(os.cpu_count() or 1))

    def logs(
        self, endpoint: str, name: str, *, source: str = "inference-server", lines: int | None = 100
    ) -> str:
        """The last ``lines`` lines of the ``inference-server`` or ``storage-initializer`` log."""
        return tail(self._log_path(self._require(endpoint, name), source), lines)

    def follow_logs(
        self,
        endpoint: str,
        name: str,
        *,
        source: str = "inference-server",
        lines: int | None = 10,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[str]:
        """Yield log lines as they are written, until ``stop()`` is true or the deployment is gone."""
        record = self._require(endpoint, name)
        path = self._log_path(record, source)

        def finished() -> bool:
            return (stop is not None and stop()) or not Path(record.dir).exists()

        return follow(path, lines=lines, stop=finished)

    def stop(self, endpoint: str, name: str) -> None:
        """Stop a deployment and remove everything started for it (processes, containers, state)."""
        self._stop_record(self._require(endpoint, name))

    def stop_pending(self, endpoint: str, name: str) -> int:
        """Stop the servers an interrupted update left (``pending`` in the record); how many.

        For an owner that finds a deployment again after it was killed: no switch to them will come.
        """
        record = self._record(endpoint, name)
        if record is None or not record.pending:
            return 0
        left = len(record.pending)
        self._retire(record.pending, record.instances, grace=0.0)
        record.pending = []
        record.save()
        self._storage_log(record).write(
            f"deployment {endpoint}/{name}: stopped {left} server(s) an interrupted update had started"
        )
        return left

    # -- shared machinery --------------------------------------------------------------------
    def _record(self, endpoint: str, name: str) -> DeploymentRecord | None:
        path = deployment_dir(self.settings.runtime_dir, endpoint, name) / "state.json"
        record = DeploymentRecord.load(path)
        if record is not None and record.backend == self.name:
            return record
        # None, or another runtime's record (the deployment moved there while this one's engine
        # did not answer): what this runtime still runs for it is found by its labels.
        for extra in self._extra_records():
            if (extra.endpoint, extra.name) == (endpoint, name):
                return extra
        return None

    def _require(self, endpoint: str, name: str) -> DeploymentRecord:
        record = self._record(endpoint, name)
        if record is None:
            raise DeploymentNotFoundError(f"No deployment {endpoint}/{name} runs on the {self.name} runtime.")
        return record

    def _storage_log(self, record: DeploymentRecord) -> StorageLog:
        return StorageLog(Path(record.dir) / "storage-initializer.log", self.reporter)

    def _log_path(self, record: DeploymentRecord, source: str) -> Path:
        if source not in LOG_SOURCES:
            raise UsageError(f"Unknown log {source!r}.", hint=f"Use one of: {', '.join(LOG_SOURCES)}.")
        if source == "storage-initializer":
            return Path(record.dir) / "storage-initializer.log"
        return Path(record.instances[0].dir if record.instances else record.dir) / "server.log"

    @staticmethod
    def _fingerprint(spec: DeploymentSpec, environment: str) -> dict[str, object]:
        """What of ``spec`` decides how an update is applied, with a stamp of the code's files."""
        return {**spec_fingerprint(spec, environment), "code_stamp": code_stamp(Path(spec.code))}

    def _client(self, instance: InstanceRecord) -> LauncherClient:
        return LauncherClient(Path(instance.control))

    def _socket_folder(self, record: DeploymentRecord) -> Path:
        """The deployment's socket folder (``0700``; mounted into its containers)."""
        return socket_folder(self.settings.home, Path(record.dir).name)

    def _new_instance(self, record: DeploymentRecord, index: int) -> InstanceRecord:
        """A new instance of ``record``: a launcher id and control socket, no server yet."""
        launcher = new_id()
        folder = Path(record.dir) / f"i{index}"
        folder.mkdir(parents=True, exist_ok=True)
        control = socket_path(self._socket_folder(record), f"{launcher}.ctl")
        return InstanceRecord(index=index, dir=str(folder), launcher=launcher, control=control)

    def _start_instance(
        self,
        spec: DeploymentSpec,
        prepared: PreparedEnvironment,
        record: DeploymentRecord,
        instance: InstanceRecord,
        *,
        current: bool,
    ) -> None:
        """Start the launcher of ``instance`` (listed in ``record`` already), then its server."""
        record.save()
        self._launch(spec, prepared, record, instance)
        record.save()
        self._spawn(spec, prepared, record, instance, current=current)
        record.save()

    def _launcher_env(
        self, spec: DeploymentSpec, prepared: PreparedEnvironment, instance: InstanceRecord
    ) -> dict[str, str]:
        env = self._base_env(prepared, instance)
        env.update({str(k): str(v) for k, v in spec.environment_variables.items()})
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _spawn(
        self,
        spec: DeploymentSpec,
        prepared: PreparedEnvironment,
        record: DeploymentRecord,
        instance: InstanceRecord,
        *,
        current: bool,
    ) -> None:
        """Fork a new server (new id, socket and log) from the launcher of ``instance``.

        ``current``: the instance's ``server.log`` shows this server's log at once (else at the switch).
        """
        instance.server = new_id()
        instance.socket = socket_path(self._socket_folder(record), f"{instance.server}.sock")
        instance.server_pid = None
        paths = self._paths(spec, record, instance)
        argv, env = server_command(
            spec,
            paths,
            self._launcher_env(spec, prepared, instance),
            socket=instance.socket,
            modules_file=self._modules_file(prepared.key),
        )
        log_name = f"server-{instance.server}.log"
        with (Path(instance.dir) / log_name).open("a", encoding="utf-8") as handle:
            handle.write(
                f"---- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting azmlinfsrv on {instance.socket}\n"
            )
        if current:
            self._point_log(instance)
        instance.server_pid = self._client(instance).spawn(
            argv, env, paths.app_root, f"{paths.run_dir}/{log_name}"
        )

    @staticmethod
    def _point_log(instance: InstanceRecord) -> None:
        """Make ``server.log`` of the instance's folder show the log of its current server."""
        folder = Path(instance.dir)
        temporary = folder / f".server.log.{instance.server}"
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        temporary.symlink_to(f"server-{instance.server}.log")
        os.replace(temporary, folder / "server.log")

    def _await_ready(
        self, record: DeploymentRecord, instances: Iterable[InstanceRecord], probe: object
    ) -> None:
        """Wait until every server of ``instances`` answers the readiness ``probe`` (as stored), else raise."""
        settings = probe_from(probe)
        for instance in instances:
            reason = wait_until_healthy(
                instance.socket, settings, functools.partial(self._exit_reason, instance)
            )
            if reason is not None:
                log = Path(instance.dir) / f"server-{instance.server}.log"
                raise DeploymentStartError(
                    f"Deployment {record.endpoint}/{record.name} did not start: "
                    f"{failure_headline(tail(log, 200), reason)}.",
                    hint="Fix the scoring script or the environment, then deploy again; "
                    "the whole log: logs(endpoint, name).",
                    log_tail=tail(log, _LOG_TAIL),
                )

    def _warm(self, record: DeploymentRecord, instances: Iterable[InstanceRecord]) -> None:
        for instance in instances:
            self._client(instance).warm(self._modules_file(record.environment))

    def _exit_reason(self, instance: InstanceRecord) -> str | None:
        if instance.server_pid is None:
            return "no server was started"
        try:
            code = self._client(instance).exit_code(instance.server_pid)
        except RuntimeBackendError:
            if not self._launcher_alive(instance):
                return "the server's launcher is gone (stopped or killed from outside)"
            return None
        return None if code is None else exit_message(code)

    def _info(self, record: DeploymentRecord) -> DeploymentInfo:
        instances = []
        state = record.state
        message = record.message
        for instance in record.instances:
            reason = self._exit_reason(instance) if state in ("Running", "Updating") else None
            inst_state = state if reason is None else "Failed"
            if reason is not None and state == "Running":
                state, message = "Failed", reason
            instances.append(self._instance_info(instance, inst_state))
        return DeploymentInfo(
            record.endpoint, record.name, record.backend, state, record.environment, tuple(instances), message
        )

    def _serving_info(
        self, record: DeploymentRecord, instances: Iterable[InstanceRecord], environment: str
    ) -> DeploymentInfo:
        """The deployment as it is once ``instances`` (all ready) serve it."""
        listed = tuple(self._instance_info(instance, "Running") for instance in instances)
        return DeploymentInfo(record.endpoint, record.name, self.name, "Running", environment, listed)

    @staticmethod
    def _instance_info(instance: InstanceRecord, state: str) -> InstanceInfo:
        return InstanceInfo(instance.index, instance.socket, state, instance.server_pid, instance.container)

    def _fail(self, record: DeploymentRecord, exc: BaseException) -> None:
        for instance in [*record.instances, *record.pending]:
            with contextlib.suppress(Exception):
                self._terminate(instance)
            self._remove_sockets(instance)
        record.pending = []
        record.state = "Failed"
        record.message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        if Path(record.dir).exists():
            record.save()
            self._storage_log(record).write(
                f"deployment {record.endpoint}/{record.name}: failed: {record.message}"
            )

    def _retire(
        self, instances: Iterable[InstanceRecord], keep: Iterable[InstanceRecord], *, grace: float
    ) -> None:
        """Stop the servers of ``instances`` (and their launchers unless one of ``keep`` uses them).

        Their sockets and logs are removed; ``grace`` is what each server gets to finish.
        """
        kept = {instance.launcher for instance in keep}
        for instance in instances:
            if instance.launcher in kept:
                if instance.server_pid is not None and self._launcher_alive(instance):
                    with contextlib.suppress(RuntimeBackendError):
                        self._client(instance).kill(instance.server_pid, grace)
            else:
                with contextlib.suppress(RuntimeBackendError):
                    self._terminate(instance)
            self._remove_sockets(instance, launcher=instance.launcher not in kept)
            with contextlib.suppress(OSError):
                os.unlink(Path(instance.dir) / f"server-{instance.server}.log")

    @staticmethod
    def _remove_sockets(instance: InstanceRecord, *, launcher: bool = True) -> None:
        """Remove the socket files a stopped server (and launcher) may leave behind (after a kill)."""
        for path in (instance.socket, instance.control if launcher else ""):
            if path:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def _terminate_all(self, record: DeploymentRecord) -> None:
        for instance in [*record.instances, *record.pending]:
            self._terminate(instance)
            self._remove_sockets(instance)
        record.instances, record.pending = [], []
        record.state = "Stopped"
        record.save()

    def _stop_record(self, record: DeploymentRecord) -> None:
        for instance in [*record.instances, *record.pending]:
            self._terminate(instance)
        shutil.rmtree(self.settings.home / "sockets" / Path(record.dir).name, ignore_errors=True)
        record.remove()
