"""The exceptions jupyter_mlep raises.

Every error says what went wrong and how to fix it. In a notebook only that short
message is shown (``_render_traceback_``), never a traceback of our own code.

Exception tree::

    MlepError
    ├── UsageError               a magic or command was called with wrong arguments
    ├── SettingsError            a setting, config.json or environment variable is invalid
    ├── SpecError                an Azure ML YAML file or spec object is invalid
    │   ├── PlaceholderError     a YAML file still holds a {{PLACEHOLDER}} template
    │   └── SpecValidationError  a value breaks a rule the service enforces
    ├── ScoreScriptError         a scoring script breaks the Azure ML inference server contract
    │   └── ScoreTestError       init() or run() failed while smoke-testing a scoring script
    ├── RuntimeBackendError      running a deployment on this machine failed
    │   ├── DockerUnavailableError   Docker was asked for but no engine answers
    │   ├── EnvironmentBuildError    an environment (virtual environment or image) could not be built
    │   ├── DeploymentStartError     a server did not become healthy (carries the server log tail)
    │   └── DeploymentNotFoundError  no deployment of that name runs on this machine
    ├── WorkspaceError           the local workspace server cannot be reached or controlled
    │   └── WorkspaceStartError  the local workspace server did not start (carries its log tail)
    ├── RolloutError             a rollout step failed a gate; traffic was restored (carries the RolloutResult)
    │   └── RolloutInterruptedError  Ctrl-C during a rollout (also a KeyboardInterrupt); traffic was restored
    ├── RecipeError              a step of a notebook recipe failed (names the step; carries the RecipeResult)
    └── RestError                a management-plane or blob request failed (method, URL, status, ARM code, ids)
        ├── CredentialError          no credential could produce a token (says what to configure)
        ├── ServiceUnreachableError  the service did not answer (connection refused, reset, timed out)
        │   └── WorkspaceUnavailableError  the local workspace does not answer (says how to start it)
        ├── BadRequestError          400: the service rejected the request body or parameters
        ├── AuthenticationError      401/403: the token or key was refused
        ├── NotFoundError            404: no such resource (with "did you mean" when names are known)
        ├── ConflictError            409: the resource is busy or in a conflicting state
        ├── ThrottledError           429 after every retry
        ├── ServiceError             5xx after every retry
        ├── OperationFailedError     a long-running operation ended Failed or Canceled (with the log tail)
        ├── OperationTimeoutError    a long-running operation did not finish in time (it goes on)
        └── OperationInterruptedError  Ctrl-C while waiting (also a KeyboardInterrupt; the operation goes on)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CredentialError",
    "DeploymentNotFoundError",
    "DeploymentStartError",
    "DockerUnavailableError",
    "EnvironmentBuildError",
    "JobFailedError",
    "MlepError",
    "NotFoundError",
    "OperationFailedError",
    "OperationInterruptedError",
    "OperationTimeoutError",
    "PlaceholderError",
    "RecipeError",
    "RestError",
    "RolloutError",
    "RolloutInterruptedError",
    "RuntimeBackendError",
    "ScoreScriptError",
    "ScoreTestError",
    "ServiceError",
    "ServiceUnreachableError",
    "SettingsError",
    "SpecError",
    "SpecValidationError",
    "ThrottledError",
    "UsageError",
    "WorkspaceError",
    "WorkspaceStartError",
    "WorkspaceUnavailableError",
]


class MlepError(Exception):
    """Base class of every error raised by jupyter_mlep.

    ``message`` says what went wrong; ``hint`` (optional) says how to fix it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message

    def _render_traceback_(self) -> list[str]:
        """IPython hook: show the short message instead of a traceback."""
        return [f"{type(self).__name__}: {self}"]


class UsageError(MlepError):
    """Raised when a magic or command is called with missing or wrong arguments."""


class SettingsError(MlepError):
    """Raised when a setting, a config.json file or an environment variable is invalid."""


class SpecError(MlepError):
    """Raised when an Azure ML YAML file (or a spec built from flags) cannot be read."""


class PlaceholderError(SpecError):
    """Raised when a YAML file still holds a ``{{PLACEHOLDER}}`` that must be filled in first."""


class SpecValidationError(SpecError):
    """Raised when a spec breaks a rule the service enforces (names, traffic, counts, required fields)."""


class ScoreScriptError(MlepError):
    """Raised when a scoring script breaks the contract of the Azure ML inference server."""


class ScoreTestError(ScoreScriptError):
    """Raised when ``init()`` or ``run()`` fails while smoke-testing a scoring script.

    ``user_traceback`` holds the script's own traceback (frames of jupyter_mlep removed),
    ``output`` what the script printed.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        user_traceback: str = "",
        output: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.user_traceback = user_traceback
        self.output = output

    def __str__(self) -> str:
        parts = [self.message]
        if self.output:
            parts.append("The script printed:\n" + self.output.rstrip())
        if self.user_traceback:
            parts.append(self.user_traceback.rstrip())
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


class RuntimeBackendError(MlepError):
    """Raised when running a deployment on this machine (Docker or a local process) fails.

    ``log_tail`` holds the last lines of the relevant log (server or environment build), if any.
    """

    def __init__(self, message: str, *, hint: str | None = None, log_tail: str = "") -> None:
        super().__init__(message, hint=hint)
        self.log_tail = log_tail

    def __str__(self) -> str:
        parts = [self.message]
        if self.log_tail:
            parts.append("Last lines of the log:\n" + self.log_tail.rstrip())
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


class DockerUnavailableError(RuntimeBackendError):
    """Raised when the Docker backend is asked for but no Docker engine answers."""


class EnvironmentBuildError(RuntimeBackendError):
    """Raised when an environment (a virtual environment or an image) cannot be built."""


class DeploymentStartError(RuntimeBackendError):
    """Raised when a deployment's server exits, or never becomes healthy, while starting or reloading."""


class DeploymentNotFoundError(RuntimeBackendError):
    """Raised when no deployment of the given endpoint and name runs on this machine."""


class WorkspaceError(MlepError):
    """Raised when the local workspace server cannot be reached, started or stopped."""


class WorkspaceStartError(WorkspaceError):
    """Raised when the local workspace server does not start; the hint holds its log tail."""


class RolloutError(MlepError):
    """Raised when a progressive rollout stops: a step failed a gate, or something failed mid-way.

    The message names the step (``step 2 (green=50%)``) and the gate with its measured value
    (``error_rate 12.5% is not < 1%``) and says whether the original split was restored.
    ``result`` is the :class:`~jupyter_mlep.operations.RolloutResult` (steps, measurements, traffic).
    """

    def __init__(self, message: str, *, hint: str | None = None, result: Any = None) -> None:
        super().__init__(message, hint=hint)
        self.result = result


class RolloutInterruptedError(RolloutError, KeyboardInterrupt):
    """Raised on Ctrl-C during a rollout, once the original split is restored (also a KeyboardInterrupt)."""


class JobFailedError(MlepError):
    """Raised when a job waited for ends ``Failed`` or ``Canceled``; ``job`` is its last description."""

    def __init__(self, message: str, *, job: Any = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.job = job


class RecipeError(MlepError):
    """Raised when a notebook recipe fails: a cell raised, ran past its timeout, or the kernel died.

    The message names the step (``step 'Deploy blue' failed: NotFoundError: …``); ``result`` is the
    :class:`~jupyter_mlep.recipes.RecipeResult` (its ``failure``, status outputs, executed notebook).
    """

    def __init__(self, message: str, *, hint: str | None = None, result: Any = None) -> None:
        super().__init__(message, hint=hint)
        self.result = result

    @property
    def step(self) -> str | None:
        """The step that failed."""
        failure = getattr(self.result, "failure", None)
        return None if failure is None else str(failure.step)


class RestError(MlepError):
    """Raised when a request to the management plane or a blob store fails.

    Carries the request ``method`` and ``url`` (without its query), the HTTP ``status``, the ARM
    error ``code``, ``details`` (the ARM error details, as sent) and the ``request_id`` /
    ``correlation_id`` the service returned, for support requests. Never carries credentials.
    ``show_request`` False (a target whose support needs no ids) prints the request's path below
    the workspace (``GET onlineEndpoints/ep -> 404``) instead of its URL, and no ids; they all
    stay on the exception.
    """

    show_request: bool = True

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        code: str | None = None,
        details: Sequence[dict[str, Any]] = (),
        request_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.details = list(details)
        self.request_id = request_id
        self.correlation_id = correlation_id

    def _context_lines(self) -> list[str]:
        lines = []
        for detail in self.details:
            text = str(detail.get("message") or "").strip()
            if text and text not in self.message:
                lines.append(f"  - {detail.get('code') or 'detail'}: {text}")
        if self.method and self.url:
            url = self.url if self.show_request else _short_url(self.url)
            where = f"{self.method} {url}" + (f" -> {self.status}" if self.status else "")
            if self.show_request or f"{self.method} {url}" not in self.message:
                lines.append(f"Request: {where}")
        if not self.show_request:
            return lines
        ids = [f"x-ms-request-id {self.request_id}"] if self.request_id else []
        if self.correlation_id:
            ids.append(f"x-ms-correlation-request-id {self.correlation_id}")
        if ids:
            lines.append("Ids: " + ", ".join(ids))
        return lines

    def __str__(self) -> str:
        head = (
            f"{self.message} ({self.code})" if self.code and self.code not in self.message else self.message
        )
        parts = [head, *self._context_lines()]
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


def _short_url(url: str) -> str:
    """``url`` without its host and, for a workspace resource, without the path down to it."""
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url
    _, marker, rest = path.partition("/workspaces/")
    return rest.split("/", 1)[1] if marker and "/" in rest else path


class CredentialError(RestError):
    """Raised when no credential can produce a token for the management plane (says what to configure)."""


class ServiceUnreachableError(RestError):
    """Raised when the service does not answer: connection refused or reset, or a timeout, after retries."""


class WorkspaceUnavailableError(ServiceUnreachableError, WorkspaceError):
    """Raised when the local workspace server does not answer (the hint says how to start it)."""


class BadRequestError(RestError):
    """Raised on a 400: the service rejected the request body or its parameters."""


class AuthenticationError(RestError):
    """Raised on a 401 or 403: the token, key or SAS was refused."""


class NotFoundError(RestError):
    """Raised on a 404; ``suggest`` adds "did you mean" from the names that do exist."""

    def suggest(self, name: str, candidates: Iterable[str]) -> NotFoundError:
        """Add a "did you mean" hint (or the list of existing names) to this error; returns it."""
        names = sorted(set(candidates))
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        if close:
            self.hint = "Did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif names:
            shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
            self.hint = f"Existing names: {shown}."
        else:
            self.hint = "There are none yet."
        return self


class ConflictError(RestError):
    """Raised on a 409: the resource is busy with another operation or in a conflicting state."""


class ThrottledError(RestError):
    """Raised when the service still answers 429 (too many requests) after every retry."""


class ServiceError(RestError):
    """Raised when the service still answers 5xx after every retry."""


class OperationFailedError(RestError):
    """Raised when a long-running operation ends Failed or Canceled; ``log_tail`` holds deployment logs."""

    def __init__(self, message: str, *, log_tail: str = "", state: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.log_tail = log_tail
        self.state = state

    def __str__(self) -> str:
        text = super().__str__()
        if self.log_tail:
            text += "\nLast lines of the deployment log:\n" + self.log_tail.rstrip()
        return text


class OperationTimeoutError(RestError):
    """Raised when a long-running operation does not finish in time; it goes on in the service."""


class OperationInterruptedError(RestError, KeyboardInterrupt):
    """Raised on Ctrl-C while waiting for an operation; the operation goes on in the service."""
