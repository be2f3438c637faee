"""A load generator: several clients calling a target continuously, every request recorded
(start, end, status, answer) for the zero-loss tests of rolling updates.

    with Load(Http(url, headers, body), connections=4, rate=300) as load:
        ...  # redeploy, scale…
    load.failures()  # [] when no request failed or was refused

A target sends one request for a client (:class:`Http`: through the router, on a kept-alive
``http.client`` connection per client; :class:`Sockets`: straight to a deployment's servers on
their Unix sockets, switched by ``on_ready``). A request that fails at the transport level
(refused, reset, timed out) is recorded with status 0 and the error. With ``rate``, requests are
paced per client, so the total rate is ``rate`` unless the server is slower; without, each client
sends its next request as soon as the last one is answered.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from jupyter_mlep.runtime import DeploymentInfo, uds_request

__all__ = ["Http", "Load", "Outcome", "Sockets", "Target", "check_never_back"]


@dataclass(frozen=True)
class Outcome:
    """One request: when it started and ended (``time.monotonic``), its status (0: no answer)."""

    connection: int
    start: float
    end: float
    status: int
    body: bytes
    error: str = ""


class Target(Protocol):
    """What a :class:`Load` calls."""

    def request(self, client: int) -> tuple[int, bytes]:
        """Send one request for ``client``: (status, body); transport failures raise
        :class:`OSError` or :class:`http.client.HTTPException`."""
        ...

    def close(self, client: int) -> None:
        """``client`` stops (or its request failed): drop what it keeps open."""
        ...


class Http:
    """POST ``body`` to ``url`` with ``headers``, each client on its own connection, kept alive
    while the server keeps it (a failed request drops it; the next one opens a new one)."""

    def __init__(self, url: str, headers: dict[str, str], body: bytes, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._path = parts.path + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", **headers}
        self._body = body
        self._timeout = timeout
        self._connections: dict[int, http.client.HTTPConnection] = {}

    def request(self, client: int) -> tuple[int, bytes]:
        conn = self._connections.get(client)
        if conn is None:
            conn = self._connections[client] = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
        conn.request("POST", self._path, body=self._body, headers=self._headers)
        response = conn.getresponse()
        body = response.read()
        if response.will_close:
            self.close(client)
        return response.status, body

    def close(self, client: int) -> None:
        conn = self._connections.pop(client, None)
        if conn is not None:
            conn.close()


class Sockets:
    """POST ``payload`` (as JSON) to ``/score`` on a deployment's server sockets, each client going
    round them in turn, one connection per request.

    Each request uses the sockets current when it starts; :meth:`switch` (used as ``on_ready``)
    changes them and returns once the requests still running on the old ones have finished, as
    the workspace's router drains.
    """

    def __init__(self, info: DeploymentInfo, payload: Any, *, timeout: float = 30.0) -> None:
        self.sockets: list[str] = [instance.socket for instance in info.instances]
        self.switches: list[list[str]] = []
        self._body = json.dumps(payload).encode()
        self._timeout = timeout
        self._sent: Counter[int] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Condition()

    def switch(self, info: DeploymentInfo) -> None:
        """Route to ``info.instances`` from now on; return when nothing runs on the others."""
        new = [instance.socket for instance in info.instances]
        with self._lock:
            old = [socket for socket in self.sockets if socket not in new]
            self.sockets = new
            self.switches.append(new)
            self._lock.wait_for(lambda: all(self._in_flight[socket] == 0 for socket in old), timeout=60)

    def request(self, client: int) -> tuple[int, bytes]:
        with self._lock:
            socket = self.sockets[(self._sent[client] + client) % len(self.sockets)]
            self._sent[client] += 1
            self._in_flight[socket] += 1
        try:
            status, _, data = uds_request(
                socket, "POST", "/score", self._body, {"Content-Type": "application/json"}, self._timeout
            )
            return status, data
        except OSError as exc:
            raise OSError(f"{socket}: {exc}") from exc
        finally:
            with self._lock:
                self._in_flight[socket] -= 1
                self._lock.notify_all()

    def close(self, client: int) -> None:
        pass


TargetT = TypeVar("TargetT", bound=Target)


class Load(Generic[TargetT]):
    """Continuous requests to ``target`` from ``connections`` clients (at ``rate`` requests per
    second in total, or as fast as answered), from ``__enter__`` until ``__exit__`` (or
    ``max_seconds``, whichever comes first)."""

    def __init__(
        self,
        target: TargetT,
        *,
        connections: int = 4,
        rate: float | None = 300.0,
        max_seconds: float = 120.0,
        timeout: float = 30.0,
    ) -> None:
        self.target = target
        self._interval = connections / rate if rate else 0.0
        self._connections = connections
        self._max_seconds = max_seconds
        self._timeout = timeout
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.results: list[Outcome] = []

    def __enter__(self) -> Load[TargetT]:
        self._deadline = time.monotonic() + self._max_seconds
        self._threads = [
            threading.Thread(target=self._client, args=(index,), daemon=True, name=f"load-{index}")
            for index in range(self._connections)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop sending; return once every client has finished its last request."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self._timeout + 5)

    def snapshot(self) -> list[Outcome]:
        """The requests finished so far, by start time."""
        with self._lock:
            return sorted(self.results, key=lambda outcome: outcome.start)

    def answers(self) -> list[Outcome]:
        """The requests answered with 200 so far, by start time."""
        return [outcome for outcome in self.snapshot() if outcome.status == 200]

    def failures(self) -> list[Outcome]:
        """Requests that were refused, failed or answered anything but 200."""
        return [outcome for outcome in self.snapshot() if outcome.status != 200]

    def wait_for(self, check: Callable[[Outcome], bool], timeout: float) -> Outcome:
        """The first request finished from now on that passes ``check`` (AssertionError after ``timeout``)."""
        since = time.monotonic()
        deadline = since + timeout
        while time.monotonic() < deadline:
            for outcome in reversed(self.snapshot()):
                if outcome.start >= since and check(outcome):
                    return outcome
            time.sleep(0.02)
        raise AssertionError(f"no matching answer within {timeout:g} s")

    def wait_answers(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` more requests than now have been answered with 200."""
        target = len(self.answers()) + count
        deadline = time.monotonic() + timeout
        while len(self.answers()) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.answers()) >= target, (len(self.answers()), target, self.failures()[:5])

    def _client(self, index: int) -> None:
        next_at = time.monotonic()
        try:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                start = time.monotonic()
                try:
                    status, body = self.target.request(index)
                    outcome = Outcome(index, start, time.monotonic(), status, body)
                except (OSError, http.client.HTTPException) as exc:
                    outcome = Outcome(index, start, time.monotonic(), 0, b"", f"{type(exc).__name__}: {exc}")
                    self.target.close(index)
                with self._lock:
                    self.results.append(outcome)
                if self._interval:
                    next_at = max(next_at + self._interval, time.monotonic() - self._interval)
                    delay = next_at - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
        finally:
            self.target.close(index)


def check_never_back(outcomes: list[Outcome], version: Callable[[Outcome], Any]) -> list[Any]:
    """Check that answers only move forward: a request that started after another one had been
    answered with version ``v`` is answered with ``v`` or a later one (on any connection). Returns
    the versions in the order they were first seen."""
    by_start = sorted(outcomes, key=lambda outcome: outcome.start)
    by_end = sorted(outcomes, key=lambda outcome: outcome.end)
    newest: Any = None
    done = 0
    seen: list[Any] = []
    for outcome in by_start:
        while done < len(by_end) and by_end[done].end <= outcome.start:
            answered = version(by_end[done])
            newest = answered if newest is None else max(newest, answered)
            done += 1
        current = version(outcome)
        assert newest is None or current >= newest, (
            f"a request started at {outcome.start:.3f} was answered by version {current} after version "
            f"{newest} had answered"
        )
        if current not in seen:
            seen.append(current)
    return seen
