"""The interface every runtime backend implements, and the objects it returns."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from ._spec import DeploymentSpec, EnvironmentSpec

__all__ = ["Backend", "DeploymentInfo", "InstanceInfo", "PreparedEnvironment"]


@dataclass(frozen=True)
class PreparedEnvironment:
    """A built environment: its content hash, where it is (venv path or image tag), its interpreter."""

    key: str
    backend: str
    location: str
    python: str
    warnings: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # variables the image sets (PATH, LANG…), for containers


@dataclass(frozen=True)
class InstanceInfo:
    """One instance of a deployment: its loopback port and what runs it."""

    index: int
    port: int
    state: str
    pid: int | None = None
    container: str | None = None

    @property
    def url(self) -> str:
        """Base URL of this instance's inference server."""
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class DeploymentInfo:
    """What runs for one deployment. ``state`` is ``Running``, ``Failed`` or ``Creating``."""

    endpoint: str
    name: str
    backend: str
    state: str
    environment: str
    instances: tuple[InstanceInfo, ...] = ()
    message: str = ""

    @property
    def url(self) -> str:
        """Base URL of the first instance (``/`` liveness, ``/score``, ``/swagger.json``)."""
        return self.instances[0].url if self.instances else ""

    @property
    def scoring_uri(self) -> str:
        """The first instance's scoring URI."""
        return f"{self.url}/score"


class Backend(abc.ABC):
    """Runs deployments on this machine. Implementations register in :mod:`._registry`."""

    name: ClassVar[str]

    @abc.abstractmethod
    def prepare_environment(self, environment: EnvironmentSpec) -> PreparedEnvironment:
        """Build (or find in the cache) the environment; never builds the same content twice."""

    @abc.abstractmethod
    def start(self, spec: DeploymentSpec, *, port: int | None = None, wait: bool = True) -> DeploymentInfo:
        """Start a deployment on 127.0.0.1 (``port``, else a free one) and wait until it is healthy."""

    @abc.abstractmethod
    def wait_healthy(self, endpoint: str, name: str) -> DeploymentInfo:
        """Poll the liveness route with the readiness probe's settings until every instance answers."""

    @abc.abstractmethod
    def update(self, spec: DeploymentSpec) -> DeploymentInfo:
        """Apply a changed spec: reload the code, restart, or rebuild only what the change needs."""

    @abc.abstractmethod
    def status(self, endpoint: str, name: str) -> DeploymentInfo:
        """The current state of a deployment (a server that died shows as ``Failed``)."""

    @abc.abstractmethod
    def list(self) -> list[DeploymentInfo]:
        """Every deployment this backend runs (found again from state records and labels)."""

    @abc.abstractmethod
    def logs(
        self, endpoint: str, name: str, *, source: str = "inference-server", lines: int | None = 100
    ) -> str:
        """The last ``lines`` lines of the ``inference-server`` or ``storage-initializer`` log."""

    @abc.abstractmethod
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

    @abc.abstractmethod
    def stop(self, endpoint: str, name: str) -> None:
        """Stop a deployment and remove everything started for it (processes, containers, state)."""
