"""The interface every runtime backend implements, and the objects it returns."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from ._spec import DeploymentSpec, EnvironmentSpec

__all__ = ["Backend", "DeploymentInfo", "InstanceInfo", "OnReady", "PreparedEnvironment"]


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
    """One instance of a deployment: the Unix socket its server listens on, and what runs it.

    ``socket`` is a host path (mode ``0600``, in a ``0700`` folder); each server has its own, so
    an old and a new server of the same instance never share one. ``pid`` is the server's pid (in
    the container's PID namespace for Docker).
    """

    index: int
    socket: str
    state: str
    pid: int | None = None
    container: str | None = None


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
    def socket(self) -> str:
        """The first instance's socket (``/`` liveness, ``/score``, ``/swagger.json``); "" when none."""
        return self.instances[0].socket if self.instances else ""


OnReady: TypeAlias = Callable[[DeploymentInfo], None]
"""Called by :meth:`Backend.start` and :meth:`Backend.update` once every instance that must serve
from now on is ready (``info.instances`` lists exactly those). The caller switches its routing to
them and lets requests in flight on the others finish before returning; the runtime then stops the
servers no longer listed. Not called when the new servers do not become ready."""


class Backend(abc.ABC):
    """Runs deployments on this machine. Implementations register in :mod:`._registry`."""

    name: ClassVar[str]

    @abc.abstractmethod
    def prepare_environment(self, environment: EnvironmentSpec) -> PreparedEnvironment:
        """Build (or find in the cache) the environment; never builds the same content twice."""

    @abc.abstractmethod
    def start(
        self, spec: DeploymentSpec, *, wait: bool = True, on_ready: OnReady | None = None
    ) -> DeploymentInfo:
        """Start a deployment on Unix sockets and (``wait``) wait until it is healthy, then ``on_ready``."""

    @abc.abstractmethod
    def wait_healthy(self, endpoint: str, name: str) -> DeploymentInfo:
        """Poll the liveness route with the readiness probe's settings until every instance answers."""

    @abc.abstractmethod
    def update(self, spec: DeploymentSpec, *, on_ready: OnReady | None = None) -> DeploymentInfo:
        """Apply a changed spec by a rolling update: new servers beside the old, ``on_ready``, old stopped.

        When the new servers do not become ready, they are stopped, the old ones keep serving
        (the deployment keeps its previous spec) and :class:`DeploymentStartError` is raised.
        ``on_ready=None`` switches at once.
        """

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
