"""A load generator for the scoring router: several kept-alive connections, a steady request rate,
bounded in time, every request recorded (start, end, status, answer) for the zero-loss tests.

    with Load(url, headers, body, connections=4, rate=300) as load:
        ...  # redeploy, scale…
    load.failures()  # [] when no request failed or was refused

Each connection is a thread with its own ``http.client`` connection, kept alive while the server
keeps it; a request that fails at the transport level (refused, reset, timed out) is recorded with
status 0 and the error, and the next one opens a new connection. Requests are paced per
connection, so the total rate is ``rate`` unless the server is slower.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Load", "Outcome", "check_never_back"]


@dataclass(frozen=True)
class Outcome:
    """One request: when it started and ended (``time.monotonic``), its status (0: no answer)."""

    connection: int
    start: float
    end: float
    status: int
    body: bytes
    error: str = ""


class Load:
    """Continuous scoring requests from ``connections`` clients at ``rate`` requests per second in
    total, from ``__enter__`` until ``__exit__`` (or ``max_seconds``, whichever comes first)."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        body: bytes,
        *,
        connections: int = 4,
        rate: float = 300.0,
        max_seconds: float = 120.0,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._path = parts.path + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", **headers}
        self._body = body
        self._interval = connections / rate
        self._connections = connections
        self._max_seconds = max_seconds
        self._timeout = timeout
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.results: list[Outcome] = []

    def __enter__(self) -> Load:
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

    def _client(self, index: int) -> None:
        conn: http.client.HTTPConnection | None = None
        next_at = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            if conn is None:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            start = time.monotonic()
            try:
                conn.request("POST", self._path, body=self._body, headers=self._headers)
                response = conn.getresponse()
                body = response.read()
                outcome = Outcome(index, start, time.monotonic(), response.status, body)
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                outcome = Outcome(index, start, time.monotonic(), 0, b"", f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = None
            with self._lock:
                self.results.append(outcome)
            next_at = max(next_at + self._interval, time.monotonic() - self._interval)
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
        if conn is not None:
            conn.close()


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
