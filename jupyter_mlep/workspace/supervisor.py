"""Runs deployments through :mod:`jupyter_mlep.runtime` and remembers where each one listens.

The runtime is blocking; every call runs in a worker thread so the server keeps answering.
Failures become ARM errors that carry the runtime's message and the server's log tail.

Each deployment runs on one runtime (``process`` or ``docker``), chosen when it is created and
recorded with it; the supervisor keeps one backend object per runtime, created on first use, and
a ledger (:class:`OwnedServers`) of the runtimes it started servers on, so that nothing it started
is ever left without an owner.

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
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import DeploymentNotFoundError, DockerUnavailableError, MlepError
from ._owned import OwnedServers
from ._paths import WorkspacePaths
from .arm import ArmError
from .forward import Forwarder

if TYPE_CHECKING:
    from ..runtime import DeploymentInfo, OnReady

__all__ = ["DRAIN_MARGIN", "RUNTIMES", "Supervisor"]

log = logging.getLogger("jupyter_mlep.workspace")
_TAIL_LINES = 40
#: The runtimes a deployment can run on.
RUNTIMES = ("process", "docker")
#: Seconds added to a deployment's request timeout to let requests on retired servers finish.
DRAIN_MARGIN = 2.5
_STOP_DRAIN = 5.0
Report = Callable[[str], None]  # a deployment being stopped: requests still running get this long


def _as_arm_error(exc: BaseException, what: str) -> ArmError:
    message = getattr(exc, "message", None) or str(exc)
    log_tail = getattr(exc, "log_tail", "") or ""
    text = f"{what}: {message}"
    if log_tail:
        text += "\n--- log tail ---\n" + str(log_tail).rstrip()
    return ArmError(400, "DeploymentFailed", text, details=[{"code": type(exc).__name__, "message": message}])


def _same(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return a[0].lower() == b[0].lower() and a[1].lower() == b[1].lower()


class Supervisor:
    """Starts, updates, stops and locates the deployments' inference servers."""

    def __init__(self, home: Path | None = None, backend: Any = None, *, ledger: Path | None = None) -> None:
        self._home = home
        self._backends: dict[str, Any] = {} if backend is None else {backend.name: backend}
        self._backend_lock = threading.Lock()
        self._settings: Any = None
        self._sockets: dict[str, tuple[str, ...]] = {}
        self._runtimes: dict[str, str] = {}
        self._running: set[asyncio.Future[Any]] = set()
        self._stop_locks: dict[str, threading.RLock] = {}
        if ledger is None and home is not None:
            ledger = WorkspacePaths.under(home).servers
        self.owned = OwnedServers(ledger)
        #: The router's upstream connections: the supervisor drains them on every switch.
        self.forwarder = Forwarder()

    # -- runtimes ----------------------------------------------------------------------------
    @property
    def settings(self) -> Any:
        """The runtime settings (``MLEP_*`` variables of the server, ``MLEP_HOME`` = this workspace's home)."""
        with self._backend_lock:
            if self._settings is None:
                from ..runtime import RuntimeSettings

                environ = dict(os.environ)
                if self._home is not None:
                    environ["MLEP_HOME"] = str(self._home)
                self._settings = RuntimeSettings.from_env(environ)
            return self._settings

    def backend_for(self, runtime: str) -> Any:
        """The backend of ``runtime``, created on first use.

        Raises :class:`~jupyter_mlep.DockerUnavailableError` while no Docker engine answers.
        """
        settings = self.settings
        with self._backend_lock:
            backend = self._backends.get(runtime)
        if backend is None:  # created outside the lock: finding an engine may take its timeout
            from ..runtime import get_backend

            backend = get_backend(runtime, settings=settings, reporter=lambda text: log.info("%s", text))
            with self._backend_lock:
                backend = self._backends.setdefault(runtime, backend)
        return backend

    def _backend_of(self, runtime: str, endpoint: str, name: str) -> Any:
        """:meth:`backend_for`, with a missing engine explained for this deployment."""
        try:
            return self.backend_for(runtime)
        except DockerUnavailableError as exc:
            raise DockerUnavailableError(
                f"it runs on the {runtime} runtime, and {exc.message[:1].lower()}{exc.message[1:]} Start the "
                "engine, then update the deployment (or restart the workspace); or move it to local "
                "processes: set its property mlep.runtime=process.",
                hint=exc.hint,
            ) from None

    @property
    def started(self) -> bool:
        """True when something may run: a backend was created, or the ledger names servers."""
        return bool(self._backends) or bool(self.owned.entries())

    async def choose_runtime(self, spec: Any) -> str:
        """The runtime for a deployment that has none yet (``MLEP_RUNTIME``; ``auto`` decides now).

        When ``auto`` gives up Docker for this deployment (its base image cannot be had), the
        warning goes to the deployment's ``storage-initializer`` log as a ``warning: `` line.
        """
        return await asyncio.to_thread(self._choose_blocking, spec)

    def _choose_blocking(self, spec: Any) -> str:
        from ..runtime import select_backend, write_storage_log

        choice = select_backend(self.settings, spec.environment)
        log.info("deployment %s/%s: runtime %s (%s)", spec.endpoint, spec.name, choice.name, choice.reason)
        if choice.warning:
            write_storage_log(self.settings, spec.endpoint, spec.name, f"warning: {choice.warning}")
        return str(choice.name)

    def runtime_of(self, endpoint: str, name: str) -> str | None:
        """The runtime a deployment was last started or found on by this server, if any."""
        return self._runtimes.get(self._key(endpoint, name))

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

    async def start(self, spec: Any, runtime: str) -> None:
        """Start a deployment on ``runtime``, or update it (new servers beside the old, switch,
        drain, stop the old; scaling the same way), and return once the new servers serve.

        On failure the previous servers (if any) keep serving and an ArmError says why. When the
        deployment ran on another runtime, its servers there are stopped first (a runtime switch:
        both runtimes keep a deployment's state in the same folder).
        """
        loop = asyncio.get_running_loop()
        drain_timeout = spec.request_timeout_ms / 1000.0 + DRAIN_MARGIN
        on_ready = self._on_ready(loop, drain_timeout)
        future = loop.run_in_executor(None, self._start_blocking, spec, runtime, on_ready)
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

    def _start_blocking(self, spec: Any, runtime: str, on_ready: OnReady) -> Any:
        backend = self._backend_of(runtime, spec.endpoint, spec.name)
        with self._stop_lock(spec.endpoint, spec.name):  # a stop of its servers on another runtime ends first
            self._leave_other_runtimes(spec.endpoint, spec.name, runtime)
        self.owned.add(runtime, spec.endpoint, spec.name)
        self._runtimes[self._key(spec.endpoint, spec.name)] = runtime
        try:
            current = backend.status(spec.endpoint, spec.name)
        except MlepError:
            current = None
        if current is not None and current.state == "Running":
            return backend.update(spec, on_ready=on_ready)
        return backend.start(spec, on_ready=on_ready)

    def _leave_other_runtimes(self, endpoint: str, name: str, runtime: str) -> None:
        """Stop the deployment's servers on every runtime but ``runtime`` (a switch of runtime)."""
        for other, owned_endpoint, owned_name in sorted(self.owned.entries()):
            if other != runtime and _same((owned_endpoint, owned_name), (endpoint, name)):
                log.info(
                    "deployment %s/%s moves from the %s to the %s runtime", endpoint, name, other, runtime
                )
                self._stop_on(other, owned_endpoint, owned_name)

    def _stop_lock(self, endpoint: str, name: str) -> threading.RLock:
        """The lock that keeps a stop of a deployment's servers (which removes the deployment's
        runtime folder and socket folder, shared by both runtimes) apart from a start moving it to
        another runtime (which fills them again)."""
        with self._backend_lock:
            return self._stop_locks.setdefault(self._key(endpoint, name), threading.RLock())

    def _stop_on(self, runtime: str, endpoint: str, name: str, report: Report | None = None) -> bool:
        """Stop a deployment's servers on ``runtime`` and forget them; False when its engine does not
        answer. ``report`` gets a line saying what happened."""
        what = f"the servers of {endpoint}/{name} ({runtime} runtime)"
        try:
            backend = self.backend_for(runtime)
            with self._stop_lock(endpoint, name):
                with contextlib.suppress(DeploymentNotFoundError):
                    backend.stop(endpoint, name)
                self.owned.discard(runtime, endpoint, name)
        except MlepError as exc:
            log.warning("cannot stop %s now: %s", what, exc)
            if report is not None:
                report(f"could not stop {what}: {exc.message}")
            return False
        if report is not None:
            report(f"stopped {what} left by the workspace")
        return True

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait (up to ``timeout`` s) for starts still running in worker threads."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)

    async def stop(self, endpoint: str, name: str) -> bool:
        """Stop a deployment's servers on every runtime it ran on, once the requests in flight on
        them have finished (at most a few seconds); False when an engine did not answer."""
        retired = self._sockets.pop(self._key(endpoint, name), ())
        if retired:
            await self.forwarder.drain(retired, _STOP_DRAIN)
        return await asyncio.to_thread(self._stop_blocking, endpoint, name)

    def _stop_blocking(self, endpoint: str, name: str) -> bool:
        entries = [(r, e, n) for r, e, n in self.owned.entries() if _same((e, n), (endpoint, name))]
        if not entries:  # servers from before the ledger: the backends in use, and local processes
            entries = [(runtime, endpoint, name) for runtime in sorted({"process", *self._backends})]
        done = True
        for runtime, owned_endpoint, owned_name in sorted(entries):
            done = self._stop_on(runtime, owned_endpoint, owned_name) and done
        if done:
            self._runtimes.pop(self._key(endpoint, name), None)
        return done

    def stop_unwanted(
        self, wanted: Callable[[str, str, str], bool], report: Report | None = None
    ) -> set[str]:
        """Stop (blocking) every server the workspace started that ``wanted(runtime, endpoint, name)``
        rejects; returns the runtimes that could not be reached (their servers wait in the ledger).
        ``report`` gets a line per deployment stopped or not."""
        unreachable: set[str] = set()
        for runtime, endpoint, name in sorted(self.owned.entries()):
            if runtime in unreachable or wanted(runtime, endpoint, name):
                continue
            log.info("stopping %s/%s on the %s runtime: no deployment wants it", endpoint, name, runtime)
            if self._runtimes.get(self._key(endpoint, name), runtime) == runtime:  # not if it moved
                self._sockets.pop(self._key(endpoint, name), None)
            if not self._stop_on(runtime, endpoint, name, report):
                unreachable.add(runtime)
        return unreachable

    def adopt(self, runtime: str, endpoint: str, name: str) -> None:
        """Count servers found in the runtime's records (started before the ledger existed) as ours."""
        self.owned.add(runtime, endpoint, name)

    async def attach(self, endpoint: str, name: str, runtime: str) -> bool:
        """Find a deployment that still runs on ``runtime`` (after a restart of the workspace); True if found.

        Raises an :class:`ArmError` naming the runtime when its engine does not answer.
        """
        try:
            backend = await asyncio.to_thread(self._backend_of, runtime, endpoint, name)
        except MlepError as exc:
            raise _as_arm_error(exc, f"Deployment {endpoint}/{name} cannot run") from None
        try:
            info = await asyncio.to_thread(backend.status, endpoint, name)
        except MlepError:
            return False
        if info.state != "Running" or not info.instances:
            return False
        stop_pending = getattr(backend, "stop_pending", None)
        if stop_pending is not None:  # an update the killed workspace left midway never switches
            with contextlib.suppress(MlepError):
                await asyncio.to_thread(stop_pending, endpoint, name)
        self._runtimes[self._key(endpoint, name)] = runtime
        self._sockets[self._key(endpoint, name)] = tuple(instance.socket for instance in info.instances)
        return True

    def usage(self, endpoint: str, name: str) -> list[Any]:
        """One CPU and memory reading per instance of a deployment started here (blocking; the
        runtime's :class:`~jupyter_mlep.runtime.InstanceUsage`); none when it does not run."""
        runtime = self.runtime_of(endpoint, name)
        if runtime is None or not self.sockets(endpoint, name):
            return []
        try:
            return list(self.backend_for(runtime).usage(endpoint, name))
        except MlepError:
            return []

    async def logs(self, endpoint: str, name: str, source: str, lines: int | None) -> str:
        """The tail of a deployment's ``inference-server`` or ``storage-initializer`` log."""
        runtimes = [self.runtime_of(endpoint, name)]
        runtimes += [r for r, e, n in sorted(self.owned.entries()) if _same((e, n), (endpoint, name))]
        for runtime in [*dict.fromkeys(r for r in runtimes if r), "process"]:
            try:
                backend = await asyncio.to_thread(self.backend_for, runtime)
                return str(await asyncio.to_thread(backend.logs, endpoint, name, source=source, lines=lines))
            except MlepError:
                continue
        return ""  # nothing ran (yet) for this deployment
