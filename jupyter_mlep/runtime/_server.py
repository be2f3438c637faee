"""How the inference server is started: its paths, command line and environment, as Azure sets them."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .._errors import UsageError
from ..specs import validate_instance_count
from ._spec import DeploymentSpec, ProbeSettings

__all__ = [
    "CONTAINER_APP",
    "DEBUG_TIMEOUT_S",
    "ServerPaths",
    "check_spec",
    "exit_message",
    "probe_from",
    "server_app_root",
    "server_command",
]

_UNUSED_PORT = "5001"  # azmlinfsrv's default; the gunicorn configuration binds the socket instead
#: While a debugger may hold a request at a breakpoint: the scoring and worker timeouts (an hour).
DEBUG_TIMEOUT_S = 3600


@dataclass(frozen=True)
class ServerPaths:
    """Paths as the inference server sees them (host paths, or paths inside the container)."""

    app_root: str
    entry_script: str
    model_dir: str
    run_dir: str
    gunicorn_conf: str


#: Where the Docker runtime mounts the code folder in its containers (below it, the folder's name).
CONTAINER_APP = "/var/azureml-app"


def server_app_root(runtime: str, code: Path) -> str:
    """The code folder as the inference server of ``runtime`` sees it (a debugger's remote root)."""
    resolved = Path(code).resolve()
    return f"{CONTAINER_APP}/{resolved.name}" if runtime == "docker" else str(resolved)


def server_command(
    spec: DeploymentSpec,
    paths: ServerPaths,
    base_env: Mapping[str, str],
    *,
    socket: str,
    modules_file: str,
) -> tuple[list[str], dict[str, str]]:
    """The ``azmlinfsrv`` command line and environment of one server of ``spec``.

    Azure's variables (``AZUREML_MODEL_DIR``, ``AZUREML_ENTRY_SCRIPT``, ``AML_APP_ROOT``,
    ``SCORING_TIMEOUT_MS``, ``WORKER_COUNT``) come on top of ``base_env`` (which holds the
    deployment's own variables); the gunicorn configuration binds the Unix socket ``socket``
    (mode 0600) instead of azmlinfsrv's 0.0.0.0:<port>, and keeps every runtime file of gunicorn
    in ``paths.run_dir``. The ``--port`` azmlinfsrv wants is never bound.
    """
    env = dict(base_env)
    user_gunicorn = env.get("GUNICORN_CMD_ARGS", "")
    env.update(
        {
            "AZUREML_MODEL_DIR": paths.model_dir,
            "AZUREML_ENTRY_SCRIPT": paths.entry_script,
            "AML_APP_ROOT": paths.app_root,
            "SCORING_TIMEOUT_MS": str(spec.request_timeout_ms),
            "WORKER_COUNT": str(spec.max_concurrent_requests_per_instance),
            "MLEP_GUNICORN_BIND": f"unix:{socket}",
            "MLEP_MODULES_FILE": modules_file,
            "GUNICORN_CMD_ARGS": f"-c {shlex.quote(paths.gunicorn_conf)} {user_gunicorn}".strip(),
            "XDG_RUNTIME_DIR": paths.run_dir,
            "MLEP_SERVER_CWD": paths.app_root,
        }
    )
    if spec.debug_port is not None:
        # One worker (one debug port); no timeout kills a request held at a breakpoint.
        env.update(
            {
                "MLEP_DEBUG_PORT": str(spec.debug_port),
                "MLEP_DEBUG_WAIT": "1" if spec.debug_wait else "0",
                "SCORING_TIMEOUT_MS": str(DEBUG_TIMEOUT_S * 1000),
                "WORKER_TIMEOUT": str(DEBUG_TIMEOUT_S),
                "WORKER_COUNT": "1",
            }
        )
    return ["azmlinfsrv", "--entry_script", paths.entry_script, "--port", _UNUSED_PORT], env


def exit_message(code: int) -> str:
    """What an exit code of the inference server means."""
    if code == 3:
        return (
            "the inference server exited with code 3: init() of the scoring script failed, or it has no run()"
        )
    return f"the inference server exited with code {code}"


def check_spec(spec: DeploymentSpec) -> None:
    """Raise :class:`UsageError` when the scoring script or the model is missing, or counts are wrong."""
    script = Path(spec.code) / spec.scoring_script
    if not script.is_file():
        raise UsageError(f"The scoring script {script} does not exist.")
    if spec.model is not None and not Path(spec.model).exists():
        raise UsageError(f"The model path {spec.model} does not exist.")
    validate_instance_count(spec.instance_count)
    if spec.max_concurrent_requests_per_instance < 1:
        raise UsageError("max_concurrent_requests_per_instance must be at least 1.")


def probe_from(data: object) -> ProbeSettings:
    """The readiness probe stored in a state record (defaults when absent)."""
    return ProbeSettings(**data) if isinstance(data, dict) else ProbeSettings()
