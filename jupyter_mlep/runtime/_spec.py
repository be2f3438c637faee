"""The runtime's own input objects: what to run, in plain dataclasses.

They do not depend on the YAML/REST specs layer; the local workspace maps Azure ML deployment
bodies onto them. Paths are local paths on this machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DeploymentSpec", "EnvironmentSpec", "ProbeSettings"]


@dataclass(frozen=True)
class ProbeSettings:
    """A liveness or readiness probe, in seconds, with Azure ML's defaults."""

    initial_delay: float = 10.0
    period: float = 10.0
    timeout: float = 2.0
    failure_threshold: int = 30
    success_threshold: int = 1

    @property
    def deadline(self) -> float:
        """Seconds after start at which a server that never answered counts as failed."""
        return self.initial_delay + self.period * max(self.failure_threshold, 1)


@dataclass(frozen=True)
class EnvironmentSpec:
    """An environment: a conda file and/or pip requirements on a base image, or a Docker build context.

    ``conda_file`` is a path or an already-parsed mapping; ``build_context`` a folder holding
    ``dockerfile`` (relative to it, default ``Dockerfile``).
    """

    conda_file: Path | Mapping[str, Any] | None = None
    pip_requirements: tuple[str, ...] = ()
    image: str | None = None
    build_context: Path | None = None
    dockerfile: str = "Dockerfile"
    name: str | None = None
    notes: tuple[str, ...] = ()
    """What was changed from what was asked (e.g. relaxed pins), reported as build warnings."""


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment to run locally: model, code configuration, environment and settings.

    ``model`` is a file or a folder (or None); ``scoring_script`` is relative to ``code``.
    ``request_timeout_ms`` becomes ``SCORING_TIMEOUT_MS``; ``max_concurrent_requests_per_instance``
    the server's worker count. The readiness probe decides how long a start or reload may take
    (see :func:`~jupyter_mlep.runtime._health.wait_until_healthy`); the liveness probe is kept for
    the workspace, which reports a server that stops answering.

    ``debug_port``: the server's worker listens for a debugpy client on ``127.0.0.1:debug_port``
    (one worker, no scoring timeout); ``debug_wait``: it waits for the client before ``init()``.
    """

    endpoint: str
    name: str
    code: Path
    scoring_script: str
    environment: EnvironmentSpec = field(default_factory=EnvironmentSpec)
    model: Path | None = None
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    request_timeout_ms: int = 5000
    max_concurrent_requests_per_instance: int = 1
    liveness_probe: ProbeSettings = field(default_factory=ProbeSettings)
    readiness_probe: ProbeSettings = field(default_factory=ProbeSettings)
    instance_count: int = 1
    debug_port: int | None = None
    debug_wait: bool = False

    @property
    def key(self) -> str:
        """``endpoint/deployment``, the name it runs under."""
        return f"{self.endpoint}/{self.name}"
