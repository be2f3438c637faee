"""Run deployments on this machine: a Docker container or a local process per instance.

Both backends serve the scoring script with the real Azure ML inference server (``azmlinfsrv``)
on a Unix socket, build each environment once (cached by content hash), and update by rolling
(the new servers start beside the old ones). ``get_backend()`` returns the backend the settings
ask for (``auto`` by default)::

    from jupyter_mlep.runtime import DeploymentSpec, EnvironmentSpec, get_backend, uds_request

    backend = get_backend()
    info = backend.start(DeploymentSpec("ep", "blue", code=Path("src"), scoring_script="score.py",
                                        model=Path("model"), environment=EnvironmentSpec(conda_file=...)))
    status, headers, body = uds_request(info.socket, "POST", "/score", b'{"data": [[1, 2]]}',
                                        {"Content-Type": "application/json"})

How it works:

* **Environments** are built once per content hash: a virtual environment under
  ``$MLEP_HOME/envs/<hash>`` (uv, installed with this package; else pip) or an image ``mlep-env:<hash>`` built by
  running the (mapped) base image with the host CA bundle, pip configuration and uv mounted, then
  committing it. Conda files become pip requirements; what cannot be honoured is an
  :class:`EnvironmentWarning`.
* **A warm launcher** (``agent/launcher.py``, stdlib only) runs per instance, as a local process or
  as the container's main process. It imports the inference server (and the installed modules the
  scoring script used last time) and forks ``azmlinfsrv`` on request over a unix socket.
* **Rolling updates** (``update(spec, on_ready=...)``): a code change forks a new server beside
  the old one from the same launcher (the cost is ``init()`` plus gunicorn's start); a change of
  environment, environment variables or probes starts new launchers beside the old ones. When the
  new servers are ready, ``on_ready`` gets them (the caller switches and drains), then the old
  ones stop. New servers that do not become ready are stopped and the old ones keep serving.
* **Unix sockets only**: azmlinfsrv asks gunicorn for 0.0.0.0; the gunicorn configuration the
  launcher passes (``agent/gunicorn_conf.py``) rebinds to ``unix:$MLEP_HOME/sockets/<deployment>/
  <server>.sock`` (mode 0600, folders 0700) in gunicorn's ``on_starting`` hook. Nothing of a
  deployment listens on TCP; containers get the socket folder mounted at the same path.
  :func:`uds_request` calls a server there.
* **Docker** is reached through its Engine API (the ``docker`` package, imported only when the
  Docker backend is used): no ``docker`` command is needed, ``DOCKER_HOST`` is honoured, every
  call has a timeout, and engine errors become :class:`~jupyter_mlep.RuntimeBackendError` (no
  engine at all: :class:`~jupyter_mlep.DockerUnavailableError`, saying how to start one).
* **State**: a JSON record per deployment (launcher pid and start time, or container id; sockets)
  and container labels (``mlep.endpoint``, ``mlep.deployment``, ``mlep.home`` = the runtime
  folder…), so a new backend object finds what runs, and only what runs for its ``MLEP_HOME``.
  Logs: ``inference-server`` and ``storage-initializer`` (tail and follow).
* **Jobs** (:func:`start_job`): a command run in a prepared environment (the same cache; a
  virtual environment without the inference server, or an image), one process group or container
  per rank, logs in ``user_logs/std_log.txt``; recorded while it runs (:func:`stop_recorded_job`).
"""

from __future__ import annotations

from ._base import Backend, DeploymentInfo, InstanceInfo, OnReady, PreparedEnvironment
from ._conda import EnvironmentWarning, map_conda
from ._jobs import (
    JOB_RUNTIMES,
    JobProcessSpec,
    JobRun,
    job_log_names,
    prepare_job_environment,
    start_job,
    stop_recorded_job,
)
from ._logs import LOG_SOURCES
from ._mlflow import ModelRequirements, Preflight, describe_problems, model_requirements, preflight
from ._registry import (
    BackendChoice,
    available_backends,
    get_backend,
    recorded_deployments,
    register_backend,
    select_backend,
    write_storage_log,
)
from ._server import server_app_root
from ._settings import DEFAULT_BASE_IMAGE, Mount, RuntimeSettings
from ._spec import DeploymentSpec, EnvironmentSpec, ProbeSettings
from ._uds import uds_request
from ._usage import InstanceUsage, utilisation

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "JOB_RUNTIMES",
    "LOG_SOURCES",
    "Backend",
    "BackendChoice",
    "DeploymentInfo",
    "DeploymentSpec",
    "EnvironmentSpec",
    "EnvironmentWarning",
    "InstanceInfo",
    "InstanceUsage",
    "JobProcessSpec",
    "JobRun",
    "ModelRequirements",
    "Mount",
    "OnReady",
    "Preflight",
    "PreparedEnvironment",
    "ProbeSettings",
    "RuntimeSettings",
    "available_backends",
    "describe_problems",
    "get_backend",
    "job_log_names",
    "map_conda",
    "model_requirements",
    "preflight",
    "prepare_job_environment",
    "recorded_deployments",
    "register_backend",
    "select_backend",
    "server_app_root",
    "start_job",
    "stop_recorded_job",
    "uds_request",
    "utilisation",
    "write_storage_log",
]
