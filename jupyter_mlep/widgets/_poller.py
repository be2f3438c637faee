"""A background poller for widgets: calls a function every few seconds on a daemon thread.

It stops when the function says its work is done, when :meth:`Poller.stop` is called (the
widget was closed), or after ``max_errors`` failures in a row (reported once, not spun on).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Poller"]


class Poller:
    """Call ``poll()`` every ``interval`` seconds until it returns True.

    ``on_error(exc)`` is called for each failure; after ``max_errors`` consecutive failures the
    poller stops. No thread survives :meth:`stop`.
    """

    def __init__(
        self,
        poll: Callable[[], bool],
        *,
        interval: float,
        on_error: Callable[[BaseException], None] | None = None,
        max_errors: int = 3,
        name: str = "mlep-poller",
    ) -> None:
        self._poll = poll
        self.interval = interval
        self._on_error = on_error
        self._max_errors = max_errors
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.errors = 0
        self.polls = 0

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
        self._stopped.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the poller ends."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                self.polls += 1
                if self._poll():
                    break
                failures = 0
            except Exception as exc:
                failures += 1
                self.errors += 1
                if self._on_error is not None:
                    self._on_error(exc)
                if failures >= self._max_errors:
                    break
            self._stopped.wait(self.interval)
        self._stopped.set()
