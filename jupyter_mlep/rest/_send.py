"""Sending one request with retries: transient statuses, dropped connections, busy conflicts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from .._errors import RestError, ServiceUnreachableError
from ._mapping import error_from_response, public_url
from ._retry import RETRY_STATUSES, RetryPolicy, is_busy_conflict, retry_after

__all__ = ["Sender", "UnreachableFactory"]

UnreachableFactory = Callable[[httpx.Request, httpx.TransportError], RestError]
"""Builds the error raised when the service cannot be reached (it knows the target)."""

_SAFE_TO_RESEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors where the request never reached the service: any method may be sent again."""


def default_unreachable(request: httpx.Request, exc: httpx.TransportError) -> RestError:
    """A :class:`ServiceUnreachableError` naming the host and what happened."""
    host = request.url.netloc.decode("ascii", "replace")
    return ServiceUnreachableError(
        f"{host} did not answer ({type(exc).__name__}: {exc or 'no details'}).",
        hint="Check the network connection and the service address, then retry.",
        method=request.method,
        url=public_url(request.url),
    )


class Sender:
    """Sends requests on one ``httpx.Client`` and retries them according to a :class:`RetryPolicy`.

    ``sleep`` is injectable so that waiting stays interruptible and observable.
    """

    def __init__(
        self,
        http: httpx.Client,
        policy: RetryPolicy,
        *,
        unreachable: UnreachableFactory = default_unreachable,
        sleep: Callable[[float], None] = time.sleep,
        show_request: bool = True,
    ) -> None:
        self.http = http
        self.show_request = show_request
        """Whether the errors raised print the request and its ids (the target's capabilities)."""
        self.policy = policy
        self.unreachable = unreachable
        self.sleep = sleep
        self._lock = threading.Lock()
        self.sent = 0
        """HTTP requests sent (every try counts)."""
        self.retried = 0
        """Tries that were repeated after a transient failure."""

    def send(
        self,
        build: Callable[[], httpx.Request],
        *,
        idempotent: bool | None = None,
        on_unauthorized: Callable[[], bool] | None = None,
        policy: RetryPolicy | None = None,
        what: str | None = None,
        stream: bool = False,
        raise_errors: bool = True,
        retryable: Callable[[httpx.Response], bool] | None = None,
        unreachable: UnreachableFactory | None = None,
    ) -> httpx.Response:
        """Send the request ``build()`` makes (again on every try) and return a successful answer.

        Error answers raise the mapped :class:`~jupyter_mlep.RestError` (or, with ``raise_errors``
        False, are returned once retrying is over). ``on_unauthorized`` is
        called once after a 401; when it returns True (a fresh token) the request is sent again.
        ``retryable`` replaces the rule deciding which error answers are sent again, and
        ``unreachable`` the error raised when the service cannot be reached.
        """
        policy = policy or self.policy
        start = time.monotonic()
        attempt = 0
        reauthorized = False
        while True:
            request = build()
            if idempotent is None:
                idempotent = policy.idempotent(request.method, request.url)
            attempt += 1
            elapsed = time.monotonic() - start
            try:
                with self._lock:
                    self.sent += 1
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = policy.delay(attempt)
                resendable = idempotent or isinstance(exc, _SAFE_TO_RESEND)
                if resendable and attempt < policy.attempts and elapsed + delay <= policy.total:
                    self._pause(delay)
                    continue
                raise self.shown((unreachable or self.unreachable)(request, exc)) from None
            status = response.status_code
            if status < 400:
                return response
            if stream:
                response.read()
            response.close()
            if status == 401 and on_unauthorized is not None and not reauthorized:
                reauthorized = True
                if on_unauthorized():
                    continue
            transient = (
                retryable(response)
                if retryable is not None
                else status in RETRY_STATUSES and (idempotent or status == 429)
            )
            if transient and attempt < policy.attempts:
                delay = policy.delay(attempt, response)
                if elapsed + delay <= policy.total:
                    self._pause(delay)
                    continue
            if is_busy_conflict(response):
                hinted = retry_after(response.headers)
                delay = policy.conflict_interval if hinted is None else max(hinted, 0.1)
                if elapsed + delay <= policy.conflict_wait:
                    self._pause(delay)
                    continue
            if not raise_errors:
                return response
            raise self.shown(error_from_response(response, what=what))

    def shown(self, error: RestError) -> RestError:
        """``error``, printed with or without its request and ids as the target wants."""
        error.show_request = self.show_request
        return error

    def _pause(self, seconds: float) -> None:
        with self._lock:
            self.retried += 1
        self.sleep(seconds)
