"""Run deployments on this machine: a Docker container or a local process per instance.

Both backends serve the scoring script with the real Azure ML inference server (``azmlinfsrv``)
on 127.0.0.1, build each environment once (cached by content hash), and reload code without
rebuilding. ``get_backend()`` returns the backend the settings ask for (``auto`` by default)::

    from jupyter_mlep.runtime import DeploymentSpec, EnvironmentSpec, get_backend

    backend = get_backend()
    info = backend.start(DeploymentSpec("ep", "blue", code=Path("src"), scoring_script="score.py",
                                        model=Path("model"), environment=EnvironmentSpec(conda_file=...)))
    info.scoring_uri  # http://127.0.0.1:<port>/score

How it works:

* **Environments** are built once per content hash: a virtual environment under
  ``$MLEP_HOME/envs/<hash>`` (uv, installed with this package; else pip) or an image ``mlep-env:<hash>`` built by
  running the (mapped) base image with the host CA bundle, pip configuration and uv mounted, then
  committing it. Conda files become pip requirements; what cannot be honoured is an
  :class:`EnvironmentWarning`.
* **A warm launcher** (``agent/launcher.py``, stdlib only) runs per instance, as a local process or
  as the container's main process. It imports the inference server (and the installed modules the
  scoring script used last time) and forks ``azmlinfsrv`` on request over a unix socket. A code
  change kills the old server and forks a new one: the cost is ``init()`` plus gunicorn's start.
  A change of environment variables re-executes the launcher; a new environment starts anew.
* **Loopback only**: azmlinfsrv asks gunicorn for 0.0.0.0; the gunicorn configuration the launcher
  passes (``agent/gunicorn_conf.py``) rebinds to 127.0.0.1:<port> in gunicorn's ``on_starting``
  hook. Containers use the host network (no docker userland proxy), so the same loopback address
  serves both backends; with another network mode the port is published on 127.0.0.1 only.
* **Docker** is reached through its Engine API (the ``docker`` package, imported only when the
  Docker backend is used): no ``docker`` command is needed, ``DOCKER_HOST`` is honoured, every
  call has a timeout, and engine errors become :class:`~jupyter_mlep.RuntimeBackendError` (no
  engine at all: :class:`~jupyter_mlep.DockerUnavailableError`, saying how to start one).
* **State**: a JSON record per deployment (launcher pid and start time, or container id; ports)
  and container labels (``mlep.endpoint``, ``mlep.deployment``, ``mlep.home`` = the runtime folder…),
  so a new backend object finds what runs, and only what runs for its ``MLEP_HOME``. Logs: ``inference-server`` and ``storage-initializer`` (tail and follow).
"""

from __future__ import annotations

from ._base import Backend, DeploymentInfo, InstanceInfo, PreparedEnvironment
from ._conda import EnvironmentWarning, map_conda
from ._logs import LOG_SOURCES
from ._registry import (
    BackendChoice,
    available_backends,
    get_backend,
    recorded_deployments,
    register_backend,
    select_backend,
    write_storage_log,
)
from ._settings import DEFAULT_BASE_IMAGE, Mount, RuntimeSettings
from ._spec import DeploymentSpec, EnvironmentSpec, ProbeSettings

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "LOG_SOURCES",
    "Backend",
    "BackendChoice",
    "DeploymentInfo",
    "DeploymentSpec",
    "EnvironmentSpec",
    "EnvironmentWarning",
    "InstanceInfo",
    "Mount",
    "PreparedEnvironment",
    "ProbeSettings",
    "RuntimeSettings",
    "available_backends",
    "get_backend",
    "map_conda",
    "recorded_deployments",
    "register_backend",
    "select_backend",
    "write_storage_log",
]
