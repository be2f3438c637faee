"""Runs deployments through :mod:`jupyter_mlep.runtime` and remembers where each one listens.

The runtime is blocking; every call runs in a worker thread so the server keeps answering.
Failures become ARM errors that carry the runtime's message and the server's log tail.

Updates are rolling. A deployment's servers are a list of Unix sockets the router picks from;
it is replaced, never emptied, while a deployment changes. The runtime starts new servers beside
the old ones and, once they are ready, calls back (``on_ready``, from its worker thread): the
supervisor then switches the list to the new sockets in one assignment on the server's event
loop, and waits until the requests in flight on the old sockets have finished (at most the
deployment's request timeout plus a margin) before the runtime stops the old servers. Scaling
goes the same way: up adds sockets, down drains the ones removed. When the new servers do not
become ready, the callback never comes: the router keeps sending requests to the old servers,
and the error reaches the operation (the deployment ends ``Failed`` with the reason).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import MlepError
from .arm import ArmError
from .forward import Forwarder

if TYPE_CHECKING:
    from ..runtime import DeploymentInfo, OnReady, RuntimeSettings

__all__ = ["DRAIN_MARGIN", "Supervisor"]

log = logging.getLogger("jupyter_mlep.workspace")
_TAIL_LINES = 40
#: Seconds added to a deployment's request timeout to let requests on retired servers finish.
DRAIN_MARGIN = 2.5
_STOP_DRAIN = 5.0  # a deployment being stopped: requests still running get this long


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
        self._sockets: dict[str, tuple[str, ...]] = {}
        self._running: set[asyncio.Future[Any]] = set()
        self._settings: RuntimeSettings | None = None
        #: The router's upstream connections: the supervisor drains them on every switch.
        self.forwarder = Forwarder()

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
    def settings(self) -> RuntimeSettings:
        """The runtime settings of this workspace (its environment, its ``MLEP_HOME``)."""
        if self._settings is None:
            from ..runtime import RuntimeSettings

            environ = dict(os.environ)
            if self._home is not None:
                environ["MLEP_HOME"] = str(self._home)
            self._settings = RuntimeSettings.from_env(environ)
        return self._settings

    @property
    def started(self) -> bool:
        """True once the runtime backend was created (something may run)."""
        return self._backend is not None

    @staticmethod
    def _key(endpoint: str, name: str) -> str:
        return f"{endpoint}/{name}".lower()

    def sockets(self, endpoint: str, name: str) -> tuple[str, ...]:
        """Sockets of the serving instances of a deployment (empty when none serves)."""
        return self._sockets.get(self._key(endpoint, name), ())

    async def switch(self, info: DeploymentInfo, drain_timeout: float) -> bool:
        """Route the deployment to ``info.instances`` from now on, then drain the sockets no
        longer listed (up to ``drain_timeout`` s); True when no request was left running."""
        key = self._key(info.endpoint, info.name)
        new = tuple(instance.socket for instance in info.instances)
        retired = [address for address in self._sockets.get(key, ()) if address not in new]
        self._sockets[key] = new  # one assignment: every request from now on goes to ``new``
        if not retired:
            return True
        drained = await self.forwarder.drain(retired, drain_timeout)
        if not drained:
            log.warning(
                "deployment %s/%s: requests still running on retired servers after %g s",
                info.endpoint,
                info.name,
                drain_timeout,
            )
        return drained

    def _on_ready(self, loop: asyncio.AbstractEventLoop, drain_timeout: float) -> OnReady:
        """The runtime's ``on_ready``: switch on the server's loop and wait there (worker thread)."""

        def on_ready(info: DeploymentInfo) -> None:
            try:
                done = asyncio.run_coroutine_threadsafe(self.switch(info, drain_timeout), loop)
            except RuntimeError:  # the loop is closed (shutdown): nothing routes any more
                return
            try:
                done.result(timeout=drain_timeout + 30.0)
            except concurrent.futures.TimeoutError:
                done.cancel()
                log.warning("deployment %s/%s: the switch did not finish", info.endpoint, info.name)

        return on_ready

    async def start(self, spec: Any) -> None:
        """Start a deployment, or update it (new servers beside the old, switch, drain, stop the
        old; scaling the same way), and return once the new servers serve.

        On failure the previous servers (if any) keep serving and an ArmError says why.
        """
        loop = asyncio.get_running_loop()
        drain_timeout = spec.request_timeout_ms / 1000.0 + DRAIN_MARGIN
        on_ready = self._on_ready(loop, drain_timeout)
        future = loop.run_in_executor(None, self._start_blocking, spec, on_ready)
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            # Shielded: if the operation is cancelled (shutdown), the start still finishes, and
            # :meth:`settle` waits for it, so that the shutdown can stop what it started.
            info = await asyncio.shield(future)
        except (MlepError, OSError) as exc:
            raise _as_arm_error(exc, f"Deployment {spec.endpoint}/{spec.name} did not start") from None
        await self.switch(info, drain_timeout)  # already done by on_ready, unless nothing changed

    def _start_blocking(self, spec: Any, on_ready: OnReady) -> Any:
        backend = self.backend
        try:
            current = backend.status(spec.endpoint, spec.name)
        except MlepError:
            current = None
        if current is not None and current.state == "Running":
            return backend.update(spec, on_ready=on_ready)
        return backend.start(spec, on_ready=on_ready)

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait (up to ``timeout`` s) for starts still running in worker threads."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)

    async def stop(self, endpoint: str, name: str) -> None:
        """Stop a deployment's servers once the requests in flight on them have finished (at
        most a few seconds); nothing happens when it does not run."""
        retired = self._sockets.pop(self._key(endpoint, name), ())
        if retired:
            await self.forwarder.drain(retired, _STOP_DRAIN)
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
        self._sockets[self._key(endpoint, name)] = tuple(instance.socket for instance in info.instances)
        return True

    async def logs(self, endpoint: str, name: str, source: str, lines: int | None) -> str:
        """The tail of a deployment's ``inference-server`` or ``storage-initializer`` log."""
        try:
            return str(await asyncio.to_thread(self.backend.logs, endpoint, name, source=source, lines=lines))
        except MlepError:
            return ""  # nothing ran (yet) for this deployment
