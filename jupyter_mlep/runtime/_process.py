"""The process backend: a virtual environment per environment, a local launcher process per instance.

The server binds its Unix socket (the gunicorn configuration overrides azmlinfsrv's 0.0.0.0), the
model is linked into ``AZUREML_MODEL_DIR`` as Azure lays it out (one folder per model path, so a
server never sees its model change under it), and the code folder is used in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from pathlib import Path

from .._errors import DeploymentStartError
from ._base import PreparedEnvironment
from ._engine import LauncherBackend, ServerPaths
from ._environment import venv_recipe
from ._logs import StorageLog, tail
from ._proc import alive, kill_forks, kill_group, start_time
from ._spec import DeploymentSpec, EnvironmentSpec
from ._state import DeploymentRecord, InstanceRecord
from ._venv import build_venv, venv_python
from .agent import GUNICORN_CONF, LAUNCHER

__all__ = ["ProcessBackend"]

_PASS_THROUGH = (
    "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)  # fmt: skip


class ProcessBackend(LauncherBackend):
    """Runs each deployment instance as local processes in a cached virtual environment."""

    name = "process"

    def _prepare(self, environment: EnvironmentSpec, log: StorageLog) -> PreparedEnvironment:
        recipe = venv_recipe(environment, self.settings.python)
        for note in recipe.warnings:
            log.write(f"warning: {note}")
        path = build_venv(recipe, self.settings.env_cache, log, installer=self.settings.installer)
        return PreparedEnvironment(recipe.key, self.name, str(path), str(venv_python(path)), recipe.warnings)

    def _paths(self, spec: DeploymentSpec, record: DeploymentRecord, instance: InstanceRecord) -> ServerPaths:
        code = Path(spec.code).resolve()
        model = Path(spec.model).resolve() if spec.model is not None else None
        digest = hashlib.sha256(str(model).encode()).hexdigest()[:12]
        model_dir = Path(record.dir) / "azureml-models" / digest
        model_dir.mkdir(parents=True, exist_ok=True)
        if model is not None:
            link = model_dir / model.name
            if not link.is_symlink():
                link.symlink_to(model, target_is_directory=model.is_dir())
            kind = "folder" if model.is_dir() else "file"
            StorageLog(Path(record.dir) / "storage-initializer.log").write(
                f"model {kind} {model} linked as {model_dir / model.name}"
            )
        StorageLog(Path(record.dir) / "storage-initializer.log").write(f"code folder {code} used in place")
        return ServerPaths(
            app_root=str(code),
            entry_script=str(code / spec.scoring_script),
            model_dir=str(model_dir),
            run_dir=instance.dir,
            gunicorn_conf=str(GUNICORN_CONF),
        )

    def _modules_file(self, environment: str) -> str:
        return str(self.settings.env_cache / environment / ".mlep-modules.txt")

    def _base_env(self, prepared: PreparedEnvironment, instance: InstanceRecord) -> dict[str, str]:
        env = {name: os.environ[name] for name in _PASS_THROUGH if name in os.environ}
        bin_dir = str(Path(prepared.python).parent)
        env["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "/usr/bin:/bin")])
        env["VIRTUAL_ENV"] = prepared.location
        return env

    def _launch(
        self,
        spec: DeploymentSpec,
        prepared: PreparedEnvironment,
        record: DeploymentRecord,
        instance: InstanceRecord,
    ) -> None:
        run = Path(instance.dir)
        with (run / "launcher.log").open("ab") as out:
            proc = subprocess.Popen(
                [prepared.python, str(LAUNCHER), "--control", instance.control, "--modules",
                 self._modules_file(prepared.key)],
                cwd=str(run), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=self._launcher_env(spec, prepared, instance), start_new_session=True,
            )  # fmt: skip
        instance.launcher_pid = proc.pid
        instance.launcher_start = start_time(proc.pid)
        try:
            self._client(instance).wait_ready(60.0, lambda: proc.poll() is None)
        except Exception as exc:
            raise DeploymentStartError(
                f"The launcher of {spec.key} did not start: {exc}",
                log_tail=tail(run / "launcher.log", 30),
            ) from None

    def _launcher_alive(self, instance: InstanceRecord) -> bool:
        return alive(instance.launcher_pid, instance.launcher_start)

    def _terminate(self, instance: InstanceRecord) -> None:
        if instance.launcher_pid is None:
            return
        if self._launcher_alive(instance):
            with contextlib.suppress(Exception):
                self._client(instance).shutdown()
        kill_group(instance.launcher_pid, instance.launcher_start, grace=1.0)
        if instance.server_pid is not None:
            kill_group(instance.server_pid, start_time(instance.server_pid), grace=0.0)
        kill_forks(instance.control)  # servers' workers left by a launcher stopped before it stopped them
