"""Health checks: the inference server's liveness route on its Unix socket, polled with the probe settings."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._spec import ProbeSettings
from ._uds import uds_request

__all__ = ["probe_once", "uds_request", "wait_until_healthy"]


def probe_once(socket: str, timeout: float) -> bool:
    """True when ``GET /`` on the server's socket answers 200 within ``timeout`` seconds."""
    try:
        return uds_request(socket, "GET", "/", timeout=timeout)[0] == 200
    except OSError:
        return False


def wait_until_healthy(socket: str, probe: ProbeSettings, failed: Callable[[], str | None]) -> str | None:
    """Poll the liveness route until ``probe.success_threshold`` answers in a row; None when healthy.

    The probe's ``initial_delay + period × failure_threshold`` is the deadline and its ``timeout``
    the limit of each request. Polls start at once and come often (every 10 to 50 ms for the
    first seconds, then up to every 250 ms, never less often than ``period``) so a fast server is
    seen at once: a poll that connects waits in the socket's backlog until the server answers.
    ``failed()`` returns a reason when the server exited; that reason (or a timeout message) is
    returned instead of None.
    """
    started = time.monotonic()
    deadline = started + probe.deadline
    interval, successes = 0.01, 0
    while True:
        reason = failed()
        if reason is not None:
            return reason
        if probe_once(socket, probe.timeout):
            successes += 1
            if successes >= max(probe.success_threshold, 1):
                return None
        else:
            successes = 0
        if time.monotonic() >= deadline:
            return (
                f"the server did not answer on its socket {socket} within {probe.deadline:g} s "
                f"(readiness probe: initial delay {probe.initial_delay:g} s, period {probe.period:g} s, "
                f"failure threshold {probe.failure_threshold})"
            )
        time.sleep(min(interval, probe.period, max(deadline - time.monotonic(), 0)))
        interval = min(interval * 1.5, 0.05 if time.monotonic() - started < 5 else 0.25)
