"""Health checks: the inference server's liveness route, polled with the probe settings."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable

from ._spec import ProbeSettings

__all__ = ["port_is_free", "probe_once", "wait_until_healthy"]


def probe_once(port: int, timeout: float) -> bool:
    """True when ``GET http://127.0.0.1:<port>/`` answers 200 within ``timeout`` seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:<port> (and it can be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(port: int, probe: ProbeSettings, failed: Callable[[], str | None]) -> str | None:
    """Poll the liveness route until ``probe.success_threshold`` answers in a row; None when healthy.

    The probe's ``initial_delay + period × failure_threshold`` is the deadline and its ``timeout``
    the limit of each request. Polls start at once and come often (10 ms, growing to at most
    ``period``) so a fast server is seen at once. ``failed()`` returns a reason when the server
    exited; that reason (or a timeout message) is returned instead of None.
    """
    started = time.monotonic()
    deadline = started + probe.deadline
    interval, successes = 0.01, 0
    while True:
        reason = failed()
        if reason is not None:
            return reason
        if probe_once(port, probe.timeout):
            successes += 1
            if successes >= max(probe.success_threshold, 1):
                return None
        else:
            successes = 0
        if time.monotonic() >= deadline:
            return (
                f"the server did not answer on http://127.0.0.1:{port}/ within {probe.deadline:g} s "
                f"(readiness probe: initial delay {probe.initial_delay:g} s, period {probe.period:g} s, "
                f"failure threshold {probe.failure_threshold})"
            )
        time.sleep(min(interval, probe.period, max(deadline - time.monotonic(), 0)))
        interval = min(interval * 1.5, 0.25)
