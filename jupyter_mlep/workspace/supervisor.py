"""Runs deployments through :mod:`jupyter_mlep.runtime` and remembers where each one listens.

The runtime is blocking; every call runs in a worker thread so the server keeps answering.
Failures become ARM errors that carry the runtime's message and the server's log tail.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path
from typing import Any

from .._errors import MlepError
from .arm import ArmError

__all__ = ["Supervisor"]

log = logging.getLogger("jupyter_mlep.workspace")
_TAIL_LINES = 40


def _as_arm_error(exc: BaseException, what: str) -> ArmError:
    message = getattr(exc, "message", None) or str(exc)
    log_tail = getattr(exc, "log_tail", "") or ""
    text = f"{what}: {message}"
    if log_tail:
        text += "\n--- log tail ---\n" + str(log_tail).rstrip()
    return ArmError(400, "DeploymentFailed", text, details=[{"code": type(exc).__name__, "message": message}])


class Supervisor:
    """Starts, updates, stops and locates the deployments' inference servers."""

    def __init__(self, home: Path | None = None, backend: Any = None) -> None:
        self._home = home
        self._backend = backend
        self._backend_lock = threading.Lock()
        self._urls: dict[str, list[str]] = {}
        self._running: set[asyncio.Future[Any]] = set()

    @property
    def backend(self) -> Any:
        """The runtime backend (chosen on first use: Docker when an engine answers, else processes)."""
        with self._backend_lock:
            if self._backend is None:
                from ..runtime import RuntimeSettings, get_backend

                environ = dict(os.environ)
                if self._home is not None:
                    environ["MLEP_HOME"] = str(self._home)
                self._backend = get_backend(
                    settings=RuntimeSettings.from_env(environ), reporter=lambda text: log.info("%s", text)
                )
            return self._backend

    @property
    def started(self) -> bool:
        """True once the runtime backend was created (something may run)."""
        return self._backend is not None

    @staticmethod
    def _key(endpoint: str, name: str) -> str:
        return f"{endpoint}/{name}".lower()

    def urls(self, endpoint: str, name: str) -> list[str]:
        """Base URLs of the running instances of a deployment ([] when it does not run)."""
        return self._urls.get(self._key(endpoint, name), [])

    def _remember(self, info: Any) -> None:
        urls = [instance.url for instance in info.instances]
        self._urls[self._key(info.endpoint, info.name)] = urls

    async def start(self, spec: Any) -> None:
        """Start (or restart with the new spec) a deployment and wait until it is healthy."""
        key = self._key(spec.endpoint, spec.name)
        self._urls.pop(key, None)
        future = asyncio.get_running_loop().run_in_executor(None, self._start_blocking, spec)
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            # Shielded: if the operation is cancelled (shutdown), the start still finishes, and
            # :meth:`settle` waits for it, so that the shutdown can stop what it started.
            info = await asyncio.shield(future)
        except (MlepError, OSError) as exc:
            raise _as_arm_error(exc, f"Deployment {spec.endpoint}/{spec.name} did not start") from None
        self._remember(info)

    def _start_blocking(self, spec: Any) -> Any:
        backend = self.backend
        try:
            current = backend.status(spec.endpoint, spec.name)
        except MlepError:
            current = None
        if current is not None and current.state == "Running":
            return backend.update(spec)
        return backend.start(spec)

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait (up to ``timeout`` s) for starts still running in worker threads."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)

    async def stop(self, endpoint: str, name: str) -> None:
        """Stop a deployment's servers (nothing happens when it does not run)."""
        self._urls.pop(self._key(endpoint, name), None)
        try:
            await asyncio.to_thread(self.backend.stop, endpoint, name)
        except MlepError as exc:
            log.debug("stopping %s/%s: %s", endpoint, name, exc)

    async def attach(self, endpoint: str, name: str) -> bool:
        """Find a deployment that still runs (after a restart of the workspace); True if found."""
        try:
            info = await asyncio.to_thread(self.backend.status, endpoint, name)
        except MlepError:
            return False
        if info.state != "Running" or not info.instances:
            return False
        self._remember(info)
        return True

    async def logs(self, endpoint: str, name: str, source: str, lines: int | None) -> str:
        """The tail of a deployment's ``inference-server`` or ``storage-initializer`` log."""
        try:
            return str(await asyncio.to_thread(self.backend.logs, endpoint, name, source=source, lines=lines))
        except MlepError:
            return ""  # nothing ran (yet) for this deployment
