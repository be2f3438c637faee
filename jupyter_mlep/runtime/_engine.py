"""What both backends share: instances run by a warm launcher, health waits, reloads, logs and state.

A backend supplies the environment build, how a launcher is started and stopped (a local process
or a container), and how paths look from inside the server.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .._errors import DeploymentNotFoundError, DeploymentStartError, RuntimeBackendError, UsageError
from ._base import Backend, DeploymentInfo, InstanceInfo, PreparedEnvironment
from ._control import LauncherClient
from ._failure import failure_headline
from ._health import free_port, port_is_free, wait_until_healthy
from ._logs import LOG_SOURCES, Reporter, StorageLog, follow, stderr_reporter, tail
from ._server import ServerPaths, check_spec, exit_message, probe_from, server_command
from ._settings import RuntimeSettings
from ._spec import DeploymentSpec, EnvironmentSpec
from ._state import DeploymentRecord, InstanceRecord, deployment_dir, load_records, spec_fingerprint

__all__ = ["LauncherBackend", "ServerPaths"]

_LOG_TAIL = 40


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
    def _bind(self, port: int) -> tuple[str, int]:
        """The address the server binds inside its network namespace, and the port it serves on."""

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

    def _needs_new_launcher(self, old: dict[str, object], new: dict[str, object]) -> bool:
        """True when a spec change cannot be applied by forking a new server from the same launcher."""
        return bool(old.get("environment") != new.get("environment"))

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

    def start(self, spec: DeploymentSpec, *, port: int | None = None, wait: bool = True) -> DeploymentInfo:
        """Start a deployment on 127.0.0.1 (``port``, else a free one) and wait until it is healthy."""
        check_spec(spec)
        existing = self._record(spec.endpoint, spec.name)
        if existing is not None:
            if self._info(existing).state == "Running":
                raise RuntimeBackendError(
                    f"Deployment {spec.key} already runs ({self.name}).", hint="Update it, or stop it first."
                )
            self._terminate_all(existing)  # keeps its logs; they go on in the same files
        folder = deployment_dir(self.settings.runtime_dir, spec.endpoint, spec.name)
        record = DeploymentRecord(backend=self.name, endpoint=spec.endpoint, name=spec.name, dir=str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        record.save()
        log = self._storage_log(record)
        log.write(f"deployment {spec.key}: starting on the {self.name} runtime", report=True)
        try:
            prepared = self._prepare(spec.environment, log)
            record.environment = prepared.key
            record.spec = spec_fingerprint(spec, prepared.key)
            for index in range(spec.instance_count):
                chosen = port if (port is not None and index == 0) else free_port()
                if not port_is_free(chosen):
                    raise DeploymentStartError(
                        f"Cannot start {spec.key}: port {chosen} on 127.0.0.1 is already in use.",
                        hint="Choose another port, or let the runtime pick a free one.",
                    )
                instance = InstanceRecord(index=index, port=chosen, dir=str(folder / f"i{index}"))
                Path(instance.dir).mkdir(parents=True, exist_ok=True)
                record.instances.append(instance)
                self._launch(spec, prepared, record, instance)
                record.save()
                self._spawn(spec, prepared, record, instance)
                record.save()
        except BaseException as exc:
            self._fail(record, exc)
            raise
        if wait:
            return self.wait_healthy(spec.endpoint, spec.name)
        return self._info(record)

    def wait_healthy(self, endpoint: str, name: str) -> DeploymentInfo:
        """Poll the liveness route with the readiness probe's settings until every instance answers."""
        record = self._require(endpoint, name)
        probe = probe_from(record.spec.get("readiness_probe"))
        try:
            for instance in record.instances:
                reason = wait_until_healthy(
                    instance.port, probe, functools.partial(self._exit_reason, instance)
                )
                if reason is not None:
                    reason = failure_headline(tail(Path(instance.dir) / "server.log", 200), reason)
                    raise DeploymentStartError(
                        f"Deployment {record.endpoint}/{record.name} did not start: {reason}.",
                        hint="Fix the scoring script or the environment, then deploy again; "
                        "the whole log: logs(endpoint, name).",
                        log_tail=tail(Path(instance.dir) / "server.log", _LOG_TAIL),
                    )
        except BaseException as exc:
            self._fail(record, exc)
            raise
        record.state, record.message = "Running", ""
        record.save()
        self._storage_log(record).write(f"deployment {endpoint}/{name}: healthy", report=False)
        for instance in record.instances:
            self._client(instance).warm(self._modules_file(record.environment))
        return self._info(record)

    def update(self, spec: DeploymentSpec) -> DeploymentInfo:
        """Apply a changed spec: reload the code, restart, or rebuild only what the change needs.

        A change of code or scoring script forks a new server from the warm launcher (no
        rebuild, no new process or container); a change of environment variables restarts the
        launcher; a change of environment (or, in Docker, of mounted paths) starts anew.
        """
        check_spec(spec)
        record = self._record(spec.endpoint, spec.name)
        if record is None or self._info(record).state != "Running":
            return self.start(spec)
        log = self._storage_log(record)
        prepared = self._prepare(spec.environment, log)
        new = spec_fingerprint(spec, prepared.key)
        if self._needs_new_launcher(record.spec, new) or new["instance_count"] != record.spec.get(
            "instance_count"
        ):
            ports = [instance.port for instance in record.instances]
            log.write(f"deployment {spec.key}: restarting (environment or mounts changed)", report=True)
            self._terminate_all(record)
            return self.start(spec, port=ports[0] if ports else None)
        restart = new["environment_variables"] != record.spec.get("environment_variables")
        log.write(f"deployment {spec.key}: {'restarting' if restart else 'reloading'} the inference server")
        record.spec = new
        record.state = "Updating"
        record.save()
        try:
            for instance in record.instances:
                client = self._client(instance)
                if restart:
                    client.restart(self._launcher_env(spec, prepared, instance))
                    client.wait_ready(60.0, functools.partial(self._launcher_alive, instance))
                elif instance.server_pid is not None:
                    client.kill(instance.server_pid)
                self._spawn(spec, prepared, record, instance)
            record.save()
        except BaseException as exc:
            self._fail(record, exc)
            raise
        return self.wait_healthy(spec.endpoint, spec.name)

    def status(self, endpoint: str, name: str) -> DeploymentInfo:
        """The current state of a deployment (a server that died shows as ``Failed``)."""
        return self._info(self._require(endpoint, name))

    def list(self) -> list[DeploymentInfo]:
        """Every deployment this backend runs (found again from state records and labels)."""
        records = load_records(self.settings.runtime_dir, self.name) + self._extra_records()
        return [self._info(record) for record in records]

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

    # -- shared machinery --------------------------------------------------------------------
    def _record(self, endpoint: str, name: str) -> DeploymentRecord | None:
        path = deployment_dir(self.settings.runtime_dir, endpoint, name) / "state.json"
        record = DeploymentRecord.load(path)
        if record is None:
            for extra in self._extra_records():
                if (extra.endpoint, extra.name) == (endpoint, name):
                    return extra
        return record if record is None or record.backend == self.name else None

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

    def _client(self, instance: InstanceRecord) -> LauncherClient:
        return LauncherClient(Path(instance.dir) / "control.sock")

    @abc.abstractmethod
    def _modules_file(self, environment: str) -> str:
        """Where servers of ``environment`` list the installed modules they used (server's path).

        One list per environment: a new launcher of the same environment imports them before
        its first server starts.
        """

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
    ) -> None:
        paths = self._paths(spec, record, instance)
        argv, env = server_command(
            spec,
            paths,
            self._launcher_env(spec, prepared, instance),
            bind=self._bind(instance.port),
            modules_file=self._modules_file(prepared.key),
        )
        log_path = Path(instance.dir) / "server.log"
        with log_path.open("a", encoding="utf-8") as handle:
            handle.write(
                f"---- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting azmlinfsrv on port {instance.port}\n"
            )
        instance.server_pid = self._client(instance).spawn(
            argv, env, paths.app_root, paths.run_dir + "/server.log"
        )

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
            instances.append(
                InstanceInfo(
                    instance.index, instance.port, inst_state, instance.server_pid, instance.container
                )
            )
        return DeploymentInfo(
            record.endpoint, record.name, record.backend, state, record.environment, tuple(instances), message
        )

    def _fail(self, record: DeploymentRecord, exc: BaseException) -> None:
        for instance in record.instances:
            with contextlib.suppress(Exception):
                self._terminate(instance)
        record.state = "Failed"
        record.message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        if Path(record.dir).exists():
            record.save()
            self._storage_log(record).write(
                f"deployment {record.endpoint}/{record.name}: failed: {record.message}"
            )

    def _terminate_all(self, record: DeploymentRecord) -> None:
        for instance in record.instances:
            self._terminate(instance)
        record.instances = []
        record.state = "Stopped"
        record.save()

    def _stop_record(self, record: DeploymentRecord) -> None:
        for instance in record.instances:
            self._terminate(instance)
        record.remove()
