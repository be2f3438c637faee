"""Long-running operations: poll ``Azure-AsyncOperation`` or ``Location``, then read the final state.

Final state per verb (the spec's ``final-state-via``): PUT → ``original-uri`` (GET the resource);
PATCH, DELETE and POST actions → ``location`` (GET the ``Location`` URL: a body, or none).
The first poll comes after the client's ``min_poll_interval`` (many operations end within
moments); later polls wait ``Retry-After`` seconds (never less than ``min_poll_interval``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from .._errors import OperationFailedError, OperationInterruptedError, OperationTimeoutError, RestError
from ._mapping import public_url
from ._retry import retry_after

if TYPE_CHECKING:
    from ._client import RestClient

__all__ = ["FailureHook", "Operation", "OperationProgress", "ProgressCallback"]

TERMINAL = frozenset({"succeeded", "failed", "canceled", "cancelled"})
DEFAULT_INTERVAL = 2.0


@dataclass(frozen=True)
class OperationProgress:
    """What a progress callback gets on every poll."""

    status: str
    """The operation status (InProgress, Succeeded, Failed, Canceled) or the resource's provisioningState."""
    elapsed: float
    """Seconds since the operation started (since the first answer)."""
    resource: str
    """The ARM path of the resource the operation works on."""
    polls: int
    """How many status requests were made so far."""

    @property
    def done(self) -> bool:
        """True once the status is terminal."""
        return self.status.lower() in TERMINAL


ProgressCallback = Callable[[OperationProgress], None]
FailureHook = Callable[["Operation"], str]
"""Called once when an operation fails; returns the log tail the error carries ("" for none).

The caller knows what the operation is about (a deployment's log, say); this module does not."""


def _resource_path(url: httpx.URL) -> str:
    return url.path


class Operation:
    """A started long-running operation (or an already finished one); call :meth:`wait`."""

    def __init__(
        self, client: RestClient, response: httpx.Response, *, on_failure: FailureHook | None = None
    ) -> None:
        self._client = client
        self.on_failure = on_failure
        self.method = response.request.method
        self.resource_url = response.request.url.copy_with(query=None)
        self.resource = _resource_path(self.resource_url)
        self.initial = response
        self.status_url = response.headers.get("azure-asyncoperation")
        self.location_url = response.headers.get("location")
        self.started = time.monotonic()
        self.polls = 0
        self.status = "InProgress"
        self.result: Any = None
        self._error: dict[str, Any] | None = None
        self._interval = retry_after(response.headers)
        body = _json(response)
        self.initial_body: Any = body
        """The JSON of the first answer (the resource as accepted, for a PUT), or None."""
        state = _provisioning_state(body)
        self._poll_resource = False
        tracked = bool(self.status_url or self.location_url) and response.status_code in (200, 201, 202)
        if tracked:
            pass  # poll the status (Azure-AsyncOperation) or result (Location) URL
        elif self.method == "PUT" and state and state.lower() not in TERMINAL:
            self._poll_resource = True  # no polling headers: watch the resource's provisioningState
            self.status = state
        else:
            self.status = "Succeeded"  # finished at once (200/201/204, or a 202 that cannot be followed)
            self.result = body

    @property
    def done(self) -> bool:
        """True once the operation has reached a terminal status."""
        return self.status.lower() in TERMINAL

    @property
    def elapsed(self) -> float:
        """Seconds since the operation started."""
        return time.monotonic() - self.started

    def wait(self, *, timeout: float | None = None, progress: ProgressCallback | None = None) -> Any:
        """Poll until the operation ends; the final resource body (or None, e.g. after a DELETE).

        Raises :class:`~jupyter_mlep.OperationFailedError` (with the log tail that the
        ``on_failure`` hook gives, if any), :class:`~jupyter_mlep.OperationTimeoutError` after ``timeout`` seconds
        (default: the client's ``operation_timeout``), and
        :class:`~jupyter_mlep.OperationInterruptedError` on Ctrl-C. Neither of the last two stops
        the operation itself: it goes on in the service.
        """
        limit = self._client.operation_timeout if timeout is None else timeout
        try:
            self._report(progress)
            while not self.done:
                remaining = limit - self.elapsed
                if remaining <= 0:
                    raise self._timeout_error(limit)
                self._client.sleep(min(self._next_interval(), remaining))
                if self.elapsed >= limit:
                    raise self._timeout_error(limit)
                self._poll()
                self._report(progress)
        except KeyboardInterrupt as exc:
            if isinstance(exc, OperationInterruptedError):
                raise
            raise self._client.sender.shown(
                OperationInterruptedError(
                    f"Stopped waiting for {self.method} {self._what} after {self.elapsed:.1f} s; "
                    f"its last known state was {self.status}.",
                    hint="The operation itself goes on in the service: check its state later "
                    "(GET the resource) before starting another change.",
                    method=self.method,
                    url=public_url(self.resource_url),
                    code="Interrupted",
                )
            ) from None
        if self.status.lower() != "succeeded":
            raise self._client.sender.shown(self._failure())
        return self.result

    def _report(self, progress: ProgressCallback | None) -> None:
        if progress is not None:
            progress(OperationProgress(self.status, self.elapsed, self.resource, self.polls))

    def _remember_interval(self, response: httpx.Response) -> None:
        hinted = retry_after(response.headers)
        if hinted is not None:
            self._interval = hinted

    def _next_interval(self) -> float:
        if self.polls == 0:
            return self._client.min_poll_interval
        interval = DEFAULT_INTERVAL if self._interval is None else self._interval
        return min(max(interval, self._client.min_poll_interval), self._client.max_poll_interval)

    def _poll(self) -> None:
        self.polls += 1
        if self._poll_resource:
            response = self._client.request("GET", str(self.resource_url))
            body = _json(response)
            self.status = _provisioning_state(body) or "Succeeded"
            self.result = body
            return
        if self.status_url:
            response = self._client.request("GET", self.status_url)
            self._remember_interval(response)
            body = _json(response) or {}
            self.status = str(body.get("status") or "InProgress")
            self._error = body.get("error") if isinstance(body.get("error"), dict) else None
            if self.status.lower() == "succeeded":
                self.result = self._final()
            return
        assert self.location_url is not None
        response = self._client.request("GET", self.location_url, raise_errors=False)
        self._remember_interval(response)
        if response.status_code == 202:
            return
        if response.status_code >= 400:
            body = _json(response) or {}
            self.status = "Failed"
            self._error = body.get("error") if isinstance(body.get("error"), dict) else {}
            return
        self.status = "Succeeded"
        self.result = self._final(response)

    def _final(self, location_answer: httpx.Response | None = None) -> Any:
        if self.method == "PUT":
            return _json(self._client.request("GET", str(self.resource_url)))
        if location_answer is not None:
            return _json(location_answer)
        if self.location_url:
            answer = self._client.request("GET", self.location_url)
            return _json(answer)
        return None

    @property
    def _what(self) -> str:
        """The resource as messages name it: its whole ARM path, or (a target whose errors print
        no request details) from the workspace down (``onlineEndpoints/ep/deployments/blue``)."""
        if self._client.capabilities.request_details:
            return self.resource
        _, marker, rest = self.resource.partition("/workspaces/")
        return rest.split("/", 1)[-1] if marker and "/" in rest else self.resource

    def _failure(self) -> RestError:
        error = self._error or {}
        message = str(error.get("message") or f"The operation ended {self.status}.")
        # a service may put the log tail into the message: shown once, as the error's log tail
        message, _, embedded = message.partition("\n--- log tail ---\n")
        log_tail = (self.on_failure(self) if self.on_failure is not None else "") or embedded
        return OperationFailedError(
            f"{self.method} {self._what} ended {self.status}: {_once(message.strip())}",
            state=self.status,
            log_tail=log_tail,
            method=self.method,
            url=public_url(self.resource_url),
            code=str(error.get("code") or self.status),
            details=[d for d in error.get("details") or [] if isinstance(d, dict)],
            request_id=self.initial.headers.get("x-ms-request-id"),
            correlation_id=self.initial.headers.get("x-ms-correlation-request-id"),
        )

    def _timeout_error(self, limit: float) -> RestError:
        return self._client.sender.shown(
            OperationTimeoutError(
                f"{self.method} {self._what} did not finish within {limit:g} s (last state: {self.status}).",
                hint="The operation goes on in the service; wait longer (a larger timeout) or check its "
                "state later.",
                method=self.method,
                url=public_url(self.resource_url),
                code="OperationTimeout",
            )
        )


def _once(message: str) -> str:
    """``message`` without a leading clause said twice (``X did not start: X did not start: why``)."""
    head, colon, rest = message.partition(": ")
    if colon and rest.startswith(head + ": "):
        return rest
    return message


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _provisioning_state(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("properties"), dict):
        state = body["properties"].get("provisioningState")
        return str(state) if state else None
    return None
