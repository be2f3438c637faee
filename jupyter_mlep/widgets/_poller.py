"""A background poller for widgets: calls a function every few seconds on a daemon thread.

It stops when the function says its work is done, when :meth:`Poller.stop` is called (the
widget was closed), or after ``max_errors`` failures in a row (reported once each, not spun on).
A poller that runs long can slow down (``slow_after`` seconds, then the interval grows by half
each poll up to ``max_interval``) so that a deployment taking twenty minutes on Azure does not
cost thousands of requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

__all__ = ["Poller"]

StopReason = Literal["", "done", "stopped", "errors"]


class Poller:
    """Call ``poll()`` every ``interval`` seconds until it returns True.

    ``on_error(exc)`` is called for each failure; after ``max_errors`` consecutive failures the
    poller stops (``reason == "errors"``, ``last_error`` set). ``on_done()`` is called once on the
    poller's thread when it ends, whatever the reason (to close a client, say). No thread survives
    :meth:`stop`.
    """

    def __init__(
        self,
        poll: Callable[[], bool],
        *,
        interval: float,
        on_error: Callable[[BaseException], None] | None = None,
        on_done: Callable[[], None] | None = None,
        max_errors: int = 3,
        slow_after: float | None = None,
        max_interval: float | None = None,
        name: str = "mlep-poller",
    ) -> None:
        self._poll = poll
        self.interval = interval
        self._on_error = on_error
        self._on_done = on_done
        self._max_errors = max_errors
        self._slow_after = slow_after
        self._max_interval = max_interval if max_interval is not None else interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.errors = 0
        self.polls = 0
        self.last_error: BaseException | None = None
        self.reason: StopReason = ""
        """Why the poller ended: ``done`` (poll returned True), ``stopped`` or ``errors``."""

    def start(self) -> Poller:
        """Start polling (the first poll happens at once)."""
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.is_alive()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop and wait for the thread to end (not when called from the poller itself)."""
        if not self._stopped.is_set() and not self.reason:
            self.reason = "stopped"
        self._stopped.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the poller ends."""
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _next_interval(self, started: float) -> float:
        if self._slow_after is not None and time.monotonic() - started > self._slow_after:
            self.interval = min(self.interval * 1.5, self._max_interval)
        return self.interval

    def _loop(self) -> None:
        failures = 0
        started = time.monotonic()
        try:
            while not self._stopped.is_set():
                try:
                    self.polls += 1
                    if self._poll():
                        self.reason = self.reason or "done"
                        break
                    failures = 0
                except Exception as exc:
                    failures += 1
                    self.errors += 1
                    self.last_error = exc
                    if failures >= self._max_errors:
                        self.reason = self.reason or "errors"
                    if self._on_error is not None:
                        self._on_error(exc)
                    if failures >= self._max_errors:
                        break
                self._stopped.wait(self._next_interval(started))
        finally:
            self._stopped.set()
            self.reason = self.reason or "stopped"
            if self._on_done is not None:
                self._on_done()
