"""The Docker backend: an image per environment, a container per deployment instance.

The server binds a Unix socket in the deployment's socket folder, which is mounted into the
container at the same path: the host reaches it there, no port is published and nothing listens
on TCP, whatever the network mode (``MLEP_DOCKER_NETWORK``, which only gives the scoring script
its outbound network). Code and model are mounted read-only; the launcher in the container forks
a new server on reload, so code changes need neither a new image nor a new container.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from .._errors import DeploymentStartError, RuntimeBackendError
from ._base import PreparedEnvironment
from ._docker_engine import DockerEngine
from ._docker_image import build_image
from ._engine import LauncherBackend, ServerPaths
from ._logs import Reporter, StorageLog, stderr_reporter
from ._server import CONTAINER_APP, server_app_root
from ._settings import Mount, RuntimeSettings
from ._spec import DeploymentSpec, EnvironmentSpec
from ._state import DeploymentRecord, InstanceRecord, deployment_dir, load_records
from ._usage import InstanceUsage, machine_memory
from .agent import AGENT_DIR

__all__ = ["DockerBackend"]

_RUN = "/var/mlep/run"
_AGENT = "/var/mlep/agent"
_APP = CONTAINER_APP
_MODELS = "/var/azureml-models"
_MODULES = "/var/mlep/modules"


class DockerBackend(LauncherBackend):
    """Runs each deployment instance as a container of the environment's image."""

    name = "docker"

    def __init__(
        self, settings: RuntimeSettings | None = None, *, reporter: Reporter | None = stderr_reporter
    ) -> None:
        super().__init__(settings, reporter=reporter)
        self.engine = DockerEngine(timeout=self.settings.docker_timeout)
        self.engine.require()

    def _instance_usage(self, instance: InstanceRecord) -> InstanceUsage | None:
        """The container's CPU time and memory (less its page cache), from the engine's statistics."""
        if not instance.container:
            return None
        stats = self.engine.stats(instance.container)
        cpu = stats.get("cpu_stats") or {}
        memory = stats.get("memory_stats") or {}
        if not cpu or "usage" not in memory:
            return None
        cache = int((memory.get("stats") or {}).get("cache", 0))
        return InstanceUsage(
            f"i{instance.index}",
            int((cpu.get("cpu_usage") or {}).get("total_usage", 0)) / 1e9,
            max(0, int(memory["usage"]) - cache),
            min(int(memory.get("limit") or 0) or machine_memory(), machine_memory()),
            float(cpu.get("online_cpus") or os.cpu_count() or 1),
        )

    def _prepare(self, environment: EnvironmentSpec, log: StorageLog) -> PreparedEnvironment:
        return build_image(environment, self.settings, self.engine, log)

    def _paths(self, spec: DeploymentSpec, record: DeploymentRecord, instance: InstanceRecord) -> ServerPaths:
        app_root = server_app_root(self.name, Path(spec.code))
        return ServerPaths(
            app_root=app_root,
            entry_script=f"{app_root}/{spec.scoring_script}",
            model_dir=_MODELS,
            run_dir=_RUN,
            gunicorn_conf=f"{_AGENT}/gunicorn_conf.py",
        )

    def _modules_dir(self) -> Path:
        folder = self.settings.runtime_dir / "modules"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _modules_file(self, environment: str) -> str:
        return f"{_MODULES}/{environment}.txt"

    def _base_env(self, prepared: PreparedEnvironment, instance: InstanceRecord) -> dict[str, str]:
        # The container runs as root: its sockets (0600) go to the user the runtime runs as.
        return {**dict(prepared.env), "MLEP_SOCKET_OWNER": f"{os.getuid()}:{os.getgid()}"}

    def _needs_new_launcher(self, old: dict[str, object], new: dict[str, object]) -> bool:
        mounted = any(old.get(key) != new.get(key) for key in ("model", "code"))
        return mounted or super()._needs_new_launcher(old, new)

    def _launch(
        self,
        spec: DeploymentSpec,
        prepared: PreparedEnvironment,
        record: DeploymentRecord,
        instance: InstanceRecord,
    ) -> None:
        log = self._storage_log(record)
        run = Path(instance.dir)
        code = Path(spec.code).resolve()
        paths = self._paths(spec, record, instance)
        safe = re.sub(r"[^a-zA-Z0-9_.-]", "-", f"{spec.endpoint}-{spec.name}")[:80]
        labels = {
            "mlep.managed": "1", "mlep.endpoint": spec.endpoint, "mlep.deployment": spec.name,
            "mlep.instance": str(instance.index), "mlep.launcher": instance.launcher,
            "mlep.environment": prepared.key, "mlep.home": str(self.settings.runtime_dir),
        }  # fmt: skip
        sockets = str(self._socket_folder(record))
        mounts = [
            Mount(str(AGENT_DIR), _AGENT),
            Mount(str(run), _RUN, read_only=False),
            Mount(sockets, sockets, read_only=False),
            Mount(str(self._modules_dir()), _MODULES, read_only=False),
            Mount(str(code), paths.app_root),
        ]
        log.write(f"code folder {code} mounted read-only at {paths.app_root}")
        if spec.model is not None:
            model = Path(spec.model).resolve()
            mounts.append(Mount(str(model), f"{_MODELS}/{model.name}"))
            log.write(f"model {model} mounted read-only at {_MODELS}/{model.name}")
        mounts += self.settings.docker_mounts
        command = [prepared.python, f"{_AGENT}/launcher.py", "--control", instance.control]
        command += ["--modules", self._modules_file(prepared.key)]
        instance.container = self.engine.create(
            prepared.location,
            command,
            name=f"mlep-{safe}-{instance.index}-{instance.launcher}",
            network=self.settings.docker_network,
            mounts=mounts,
            environment=self._launcher_env(spec, prepared, instance),
            labels=labels,
            workdir=paths.app_root,
        )
        self.engine.start(instance.container)
        log.write(f"container {instance.container[:12]} started from {prepared.location}")
        try:
            self._client(instance).wait_ready(60.0, self._alive_checker(instance))
        except RuntimeBackendError as exc:
            raise DeploymentStartError(
                f"The container of {spec.key} did not start: {exc.message}",
                log_tail=self.engine.logs(instance.container, 30),
            ) from None

    def _alive_checker(self, instance: InstanceRecord) -> Callable[[], bool]:
        last = [0.0, True]

        def alive() -> bool:
            if time.monotonic() - float(last[0]) > 0.5:
                last[0], last[1] = time.monotonic(), self._launcher_alive(instance)
            return bool(last[1])

        return alive

    def _launcher_alive(self, instance: InstanceRecord) -> bool:
        if not instance.container:
            return False
        return self.engine.running(instance.container)

    def _terminate(self, instance: InstanceRecord) -> None:
        if instance.container:
            self.engine.remove(instance.container)

    def _extra_records(self) -> list[DeploymentRecord]:
        containers = self.engine.containers(f"mlep.home={self.settings.runtime_dir}")  # this home's only
        known = {(r.endpoint, r.name) for r in load_records(self.settings.runtime_dir, self.name)}
        found: dict[tuple[str, str], DeploymentRecord] = {}
        for item in containers:
            labels = dict(item.get("Labels") or {})
            key = (labels.get("mlep.endpoint", ""), labels.get("mlep.deployment", ""))
            if key in known or not all(key):
                continue
            folder = deployment_dir(self.settings.runtime_dir, *key)
            if (folder / "state.json").exists():  # another runtime's record: removing these must spare it
                folder = folder / "docker-orphans"
            record = found.setdefault(
                key,
                DeploymentRecord(self.name, key[0], key[1], str(folder), labels.get("mlep.environment", "")),
            )
            record.state, record.message = "Failed", "found a container without a state record"
            record.instances.append(
                InstanceRecord(
                    int(labels.get("mlep.instance", "0")), str(folder / f"i{labels.get('mlep.instance', '0')}"),
                    launcher=labels.get("mlep.launcher", ""), container=item.get("Id"),
                )
            )  # fmt: skip
        return list(found.values())
