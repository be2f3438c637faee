"""The Docker Engine API through the ``docker`` package (no ``docker`` command needed), always with timeouts.

This module imports ``docker``; only the Docker backend (and ``auto`` when it probes for an engine)
imports this module. Every engine error leaves here as one of our exceptions: no engine answering
becomes :class:`DockerUnavailableError`, an engine that stops answering or refuses a request a
:class:`RuntimeBackendError` naming the call, with a hint.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import docker
import docker.errors
import docker.types
import requests.exceptions
import urllib3.exceptions

from .._errors import DockerUnavailableError, RuntimeBackendError
from ._logs import StorageLog, is_milestone
from ._settings import Mount

__all__ = ["DockerEngine", "split_tag"]

T = TypeVar("T")

_HINT = (
    "Start the Docker engine (sudo systemctl start docker, or sudo dockerd &; scripts/setup-docker does it "
    "on a Debian machine), point DOCKER_HOST at one, or use local processes: MLEP_RUNTIME=process."
)
_SLOW_HINT = (
    "The Docker engine may be overloaded or stuck: check it (systemctl status docker, or its log), "
    "restart it if needed, then try again."
)
#: Seconds an image build may stay silent before it counts as stuck.
BUILD_SILENCE = 1800.0
#: Seconds a build container may run in all.
BUILD_LIMIT = 3600.0


def split_tag(image: str) -> tuple[str, str | None]:
    """``repository[:tag]`` split in two (a registry's ``host:port`` is not a tag)."""
    repository, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, None
    return repository, tag


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of ``exc`` (a refused or missing socket, an unknown host…), short."""
    seen = _chain(exc)
    for error in reversed(seen):
        for arg in getattr(error, "args", ()):
            if isinstance(arg, OSError) and arg.strerror:
                return arg.strerror.lower()
        if isinstance(error, OSError) and error.strerror:
            return error.strerror.lower()
    text = str(seen[-1]).strip() or type(seen[-1]).__name__
    return text.splitlines()[0][:200]


def _chain(exc: BaseException) -> list[BaseException]:
    seen = [exc]
    while True:
        nxt = seen[-1].__cause__ or seen[-1].__context__
        if nxt is None or nxt in seen:
            return seen
        seen.append(nxt)


def _is_timeout(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a timeout waiting for the engine."""
    timeouts = (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    return any(isinstance(error, timeouts) or "timed out" in str(error).lower() for error in _chain(exc))


def _is_engine_error(exc: BaseException) -> bool:
    """True for the errors of talking to an engine (refused, unknown, broken, or an API error)."""
    return isinstance(
        exc,
        (
            docker.errors.DockerException,
            requests.exceptions.RequestException,
            urllib3.exceptions.HTTPError,
            ConnectionError,
        ),
    )


class DockerEngine:
    """A client of one Docker engine (``DOCKER_HOST``, else the current context or default socket).

    ``timeout`` bounds finding the engine; every call passes its own timeout (in seconds).
    """

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._clients: dict[int, docker.DockerClient] = {}
        self._version: str | None = None
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        """Where the engine is expected (``DOCKER_HOST``, else the default socket)."""
        return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"

    # -- finding the engine --------------------------------------------------------------------
    def _client(self, timeout: float) -> docker.DockerClient:
        seconds = max(1, math.ceil(timeout))
        with self._lock:
            client = self._clients.get(seconds)
            if client is None:
                client = docker.DockerClient.from_env(version=self._version, timeout=seconds)
                self._version = client.api.api_version
                self._clients[seconds] = client
            return client

    def problem(self) -> str | None:
        """None when an engine answers, else a short reason."""
        try:
            self._client(self.timeout).ping()
        except Exception as exc:  # any failure to reach the engine is the reason we report
            if _is_timeout(exc):
                return f"no answer within {self.timeout:g} s"
            return _root_cause(exc)
        return None

    def require(self) -> None:
        """Raise :class:`DockerUnavailableError` (saying how to start one) when no engine answers."""
        problem = self.problem()
        if problem is not None:
            raise DockerUnavailableError(f"No Docker engine answers at {self.host}: {problem}.", hint=_HINT)

    def close(self) -> None:
        """Close the connections to the engine."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    # -- calls ---------------------------------------------------------------------------------
    def _raise(self, exc: BaseException, what: str, timeout: float) -> NoReturn:
        if _is_timeout(exc):
            raise RuntimeBackendError(
                f"The Docker engine did not answer within {timeout:g} s (while trying to {what}).",
                hint=_SLOW_HINT,
            ) from None
        if isinstance(exc, docker.errors.APIError):
            explanation = str(exc.explanation or exc).strip()
            hint = None
            if exc.status_code == 409:
                hint = "Another container or image is in the way; remove it (or wait for it), then retry."
            elif exc.status_code in (500, 503):
                hint = _SLOW_HINT
            raise RuntimeBackendError(f"Docker could not {what}: {explanation}", hint=hint) from None
        if _is_engine_error(exc):
            raise DockerUnavailableError(
                f"No Docker engine answers at {self.host} (while trying to {what}): {_root_cause(exc)}.",
                hint=_HINT,
            ) from None
        raise exc

    def call(
        self,
        what: str,
        action: Callable[[docker.APIClient], T],
        *,
        timeout: float = 60.0,
        missing: Callable[[], T] | None = None,
    ) -> T:
        """``action(api)`` on a client whose requests time out after ``timeout`` s; errors mapped.

        ``what`` completes "Docker could not …" in error messages. When ``missing`` is given, a
        404 from the engine returns ``missing()`` instead of raising.
        """
        try:
            return action(self._client(timeout).api)
        except docker.errors.NotFound:
            if missing is not None:
                return missing()
            raise RuntimeBackendError(f"Docker could not {what}: no such container or image.") from None
        except Exception as exc:  # docker, requests and urllib3 errors become ours
            self._raise(exc, what, timeout)

    def quietly(
        self, what: str, action: Callable[[docker.APIClient], T], default: T, *, timeout: float = 60.0
    ) -> T:
        """Like :meth:`call`, but an error of the engine (other than a timeout) returns ``default``."""
        try:
            return action(self._client(timeout).api)
        except Exception as exc:  # engine errors give the default; timeouts and the rest are raised
            if _is_timeout(exc) or not _is_engine_error(exc):
                self._raise(exc, what, timeout)
            return default

    # -- images ------------------------------------------------------------------------------
    def image(self, image: str) -> dict[str, Any] | None:
        """The engine's description of ``image`` (``docker image inspect``), None when absent."""

        def inspect(api: docker.APIClient) -> dict[str, Any] | None:
            found: dict[str, Any] = api.inspect_image(image)  # type: ignore[no-untyped-call]
            return found

        return self.call(f"inspect the image {image}", inspect, missing=lambda: None)

    def image_exists(self, image: str) -> bool:
        """True when ``image`` is present locally."""
        return self.image(image) is not None

    def pull(self, image: str) -> bool:
        """Try to pull ``image``; True when it is then present (no registry answering is no error)."""
        repository, tag = split_tag(image)
        with contextlib.suppress(RuntimeBackendError):
            self.call(f"pull {image}", lambda api: api.pull(repository, tag=tag or "latest"), timeout=600)
        return self.image_exists(image)

    def remove_image(self, image: str) -> None:
        """Remove ``image`` if present (errors of the engine other than timeouts are ignored)."""
        self.quietly(f"remove the image {image}", lambda api: api.remove_image(image, force=True), None)

    def commit(self, container: str, image: str, changes: Sequence[str]) -> None:
        """Save ``container`` as ``image``, applying Dockerfile ``changes`` (LABEL, WORKDIR…)."""
        repository, tag = split_tag(image)
        self.call(
            f"save the container as {image}",
            lambda api: api.commit(container, repository=repository, tag=tag, changes=list(changes)),
            timeout=300,
        )

    def build(
        self, context: Path, dockerfile: str, tag: str, network: str, log: StorageLog, build_log: Path
    ) -> str | None:
        """Build ``context`` into ``tag``, copying the output to ``build_log`` and ``log``; the error, if any."""
        with build_log.open("a", encoding="utf-8") as out:
            out.write(f"$ docker build --network {network} -t {tag} -f {dockerfile} {context}\n")

            def chunks(api: docker.APIClient) -> Generator[dict[str, Any], None, None]:
                return api.build(
                    path=str(context), dockerfile=dockerfile, tag=tag, network_mode=network, rm=True,
                    forcerm=True, decode=True, timeout=int(BUILD_SILENCE),
                )  # fmt: skip

            stream = self.call(f"build {context}", chunks, timeout=BUILD_SILENCE)
            try:
                for chunk in stream:
                    if "error" in chunk:
                        out.write(str(chunk["error"]).rstrip() + "\n")
                        return str(chunk["error"]).strip()
                    text = str(chunk.get("stream") or chunk.get("status") or "")
                    for line in text.splitlines():
                        out.write(line + "\n")
                        log.write("  " + line.rstrip(), report=is_milestone(line))
            except Exception as exc:  # the stream broke or went silent
                self._raise(exc, f"build {context}", BUILD_SILENCE)
            finally:
                with contextlib.suppress(Exception):
                    stream.close()
        return None

    # -- containers --------------------------------------------------------------------------
    def create(
        self,
        image: str,
        command: Sequence[str],
        *,
        name: str,
        network: str,
        mounts: Sequence[Mount] = (),
        environment: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
    ) -> str:
        """Create (not start) a container; its id (no port is published). ``user``: ``uid:gid`` to run as."""

        def create(api: docker.APIClient) -> str:
            host_config = api.create_host_config(
                network_mode=network,
                mounts=[
                    docker.types.Mount(m.target, m.source, type="bind", read_only=m.read_only) for m in mounts
                ],
            )
            created = api.create_container(
                image,
                command=list(command),
                name=name,
                environment=dict(environment or {}),
                labels=dict(labels or {}),
                working_dir=workdir,
                user=user,
                host_config=host_config,
                detach=True,
            )
            return str(created["Id"])

        return self.call(f"create a container of {image}", create, timeout=120)

    def start(self, container: str) -> None:
        """Start a created container."""
        self.call(f"start the container {container[:12]}", lambda api: api.start(container), timeout=120)

    def running(self, container: str) -> bool:
        """True while ``container`` runs (False when it is gone or the engine cannot tell)."""
        state: dict[str, Any] = self.quietly(
            f"inspect the container {container[:12]}", lambda api: api.inspect_container(container), {}
        )
        return bool((state.get("State") or {}).get("Running"))

    def exit_code(self, container: str) -> int | None:
        """The exit code of a container that ended; None while it runs (or when it is gone)."""
        state: dict[str, Any] = self.quietly(
            f"inspect the container {container[:12]}", lambda api: api.inspect_container(container), {}
        )
        info = state.get("State") or {}
        if not info or info.get("Running") or info.get("Status") in ("created", "restarting"):
            return None
        return int(info.get("ExitCode", -1))

    def remove(self, container: str) -> None:
        """Remove ``container`` (stopping it first), if it exists."""
        self.quietly(
            f"remove the container {container[:12]}",
            lambda api: api.remove_container(container, force=True),
            None,
        )

    def kill(self, container: str) -> None:
        """Kill ``container``'s main process (the container stays, stopped)."""
        self.call(f"kill the container {container[:12]}", lambda api: api.kill(container))

    def stats(self, container: str) -> dict[str, Any]:
        """One reading of ``container``'s statistics (CPU, memory; {} when it is gone)."""
        data: dict[str, Any] = self.quietly(
            f"read the statistics of the container {container[:12]}",
            lambda api: api.stats(container, stream=False, one_shot=True),
            {},
            timeout=10.0,
        )
        return data

    def logs(self, container: str, lines: int) -> str:
        """The last ``lines`` lines of ``container``'s output ("" when unavailable)."""
        data = self.quietly(
            f"read the log of {container[:12]}", lambda api: api.logs(container, tail=lines), b""
        )
        return bytes(data).decode("utf-8", "replace")

    def containers(self, label: str) -> list[dict[str, Any]]:
        """Every container (running or not) carrying ``label`` (``key=value``); [] when none can be listed."""
        found: list[dict[str, Any]] = self.quietly(
            "list containers",
            lambda api: api.containers(all=True, filters={"label": label}),
            [],
            timeout=30,
        )
        return found

    def run_streamed(
        self, container: str, log: StorageLog, build_log: Path, *, limit: float = BUILD_LIMIT
    ) -> int:
        """Start ``container``, copy its output to ``build_log`` and ``log`` until it exits; its exit code.

        A container still running after ``limit`` s is killed (the call then raises).
        """
        self.start(container)
        killed = threading.Event()

        def stop() -> None:
            killed.set()
            self.quietly(f"kill {container[:12]}", lambda api: api.kill(container), None)

        timer = threading.Timer(limit, stop)
        timer.daemon = True
        timer.start()
        stream = self.call(
            f"read the output of {container[:12]}",
            lambda api: api.logs(container, stream=True, follow=True),
        )
        try:
            with build_log.open("a", encoding="utf-8") as out:
                pending = b""
                for chunk in stream:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for raw in lines:
                        line = raw.decode("utf-8", "replace")
                        out.write(line + "\n")
                        log.write("  " + line.rstrip(), report=is_milestone(line))
                if pending:
                    out.write(pending.decode("utf-8", "replace") + "\n")
            result = self.call(f"wait for {container[:12]}", lambda api: api.wait(container, timeout=60))
        finally:
            timer.cancel()
            with contextlib.suppress(Exception):
                stream.close()
        if killed.is_set():
            raise RuntimeBackendError(
                f"The container {container[:12]} ran longer than {limit:g} s and was stopped.",
                hint="Look at the build log for the step that hangs (a download, a prompt, a lock).",
            )
        return int(result.get("StatusCode", -1))

    def output(
        self, image: str, command: Sequence[str], *, network: str = "none", timeout: float = 120.0
    ) -> str:
        """Run ``command`` in a throw-away container of ``image``; its standard output ("" on failure)."""
        name = f"mlep-probe-{uuid.uuid4().hex[:12]}"
        try:
            container = self.create(image, command, name=name, network=network)
        except RuntimeBackendError:
            return ""
        try:
            self.start(container)
            result = self.call(
                f"wait for {container[:12]}", lambda api: api.wait(container, timeout=int(timeout))
            )
            if int(result.get("StatusCode", -1)) != 0:
                return ""
            data = self.call(
                f"read the output of {container[:12]}",
                lambda api: api.logs(container, stdout=True, stderr=False),
            )
            return bytes(data).decode("utf-8", "replace")
        except RuntimeBackendError:
            return ""
        finally:
            self.remove(container)
