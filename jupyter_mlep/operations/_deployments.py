"""Online deployments: create or update, get, list, scale, delete, logs."""

from __future__ import annotations

import contextlib
import re
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from .._errors import NotFoundError, OperationFailedError, RestError, SpecValidationError, UsageError
from ..rest import FailureHook, Operation, ProgressCallback, RestClient
from ..specs import OnlineDeployment, validate_instance_count
from ._common import endpoint_lock, location_of, not_found

__all__ = [
    "LOG_CONTAINERS",
    "LogFollower",
    "check_container",
    "clean_log_tail",
    "create_or_update_deployment",
    "delete_deployment",
    "failure_reason",
    "get_deployment",
    "get_logs",
    "list_deployments",
    "scale_deployment",
]


def list_deployments(client: RestClient, endpoint: str) -> list[OnlineDeployment]:
    """The deployments of an endpoint."""
    return [
        OnlineDeployment.from_rest(item, endpoint_name=endpoint)
        for item in client.list(client.paths.deployments(endpoint))
    ]


def get_deployment(client: RestClient, endpoint: str, name: str) -> OnlineDeployment:
    """One deployment; :class:`~jupyter_mlep._errors.NotFoundError` with "did you mean" when missing."""
    try:
        return OnlineDeployment.from_rest(
            client.get(client.paths.deployment(endpoint, name)), endpoint_name=endpoint
        )
    except NotFoundError as exc:
        try:
            names = [str(item.get("name")) for item in client.list(client.paths.deployments(endpoint))]
        except NotFoundError:
            endpoints = [str(item.get("name")) for item in client.list(client.paths.endpoints())]
            raise not_found(exc, endpoint, endpoints, "online endpoint") from None
        raise not_found(exc, name, names, f"deployment of endpoint '{endpoint}'") from None


def create_or_update_deployment(
    client: RestClient,
    endpoint: str,
    deployment: OnlineDeployment | dict[str, Any],
    *,
    name: str | None = None,
    model_id: str | None = None,
    code_id: str | None = None,
    environment_id: str | None = None,
    wait: bool = True,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
    on_accepted: Callable[[OnlineDeployment], None] | None = None,
) -> OnlineDeployment:
    """Create or update a deployment from a spec (assets already registered: pass their ids) or a REST body.

    Waits (with ``progress``) unless ``wait`` is False; a failure raises
    :class:`~jupyter_mlep._errors.OperationFailedError` with the deployment's log tail.
    ``on_accepted`` gets the deployment as the service accepted it (before the wait).
    """
    if isinstance(deployment, OnlineDeployment):
        name = name or deployment.name
        body = deployment.to_rest(
            workspace=client.paths.workspace,
            location=location_of(client),
            endpoint_name=endpoint,
            model_id=model_id,
            code_id=code_id,
            environment_id=environment_id,
        )
    else:
        body = dict(deployment)
        body.setdefault("location", location_of(client))
    if not name:
        raise SpecValidationError(
            f"The deployment for endpoint {endpoint} has no name.",
            hint="Give the deployment body a name, or pass name=...",
        )
    with endpoint_lock(client, endpoint), _clean_tail():
        operation = client.begin(
            "PUT",
            client.paths.deployment(endpoint, name),
            body,
            on_failure=log_tail_hook(client, endpoint, name),
        )
        if on_accepted is not None:
            initial = operation.initial_body
            on_accepted(
                OnlineDeployment.from_rest(initial, endpoint_name=endpoint)
                if isinstance(initial, dict) and initial.get("properties")
                else OnlineDeployment.from_rest({**body, "name": name}, endpoint_name=endpoint)
            )
        result = operation.wait(timeout=timeout, progress=progress) if wait else operation.initial_body
    return OnlineDeployment.from_rest(result, endpoint_name=endpoint)


def scale_deployment(
    client: RestClient,
    endpoint: str,
    name: str,
    instance_count: int,
    *,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
) -> OnlineDeployment:
    """Set the instance count (``PATCH {"sku": {"capacity": N}}``); returns the scaled deployment."""
    validate_instance_count(instance_count)
    current = client.get(client.paths.deployment(endpoint, name))
    sku = {**(current.get("sku") or {"name": "Default"}), "capacity": instance_count}
    with endpoint_lock(client, endpoint), _clean_tail():
        result = client.run(
            "PATCH",
            client.paths.deployment(endpoint, name),
            {"sku": sku},
            timeout=timeout,
            progress=progress,
            on_failure=log_tail_hook(client, endpoint, name),
        )
    if result is None:
        result = client.get(client.paths.deployment(endpoint, name))
    return OnlineDeployment.from_rest(result, endpoint_name=endpoint)


def delete_deployment(
    client: RestClient,
    endpoint: str,
    name: str,
    *,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
) -> None:
    """Delete a deployment (it must not take live traffic)."""
    with endpoint_lock(client, endpoint):
        client.run("DELETE", client.paths.deployment(endpoint, name), timeout=timeout, progress=progress)


def get_logs(
    client: RestClient,
    endpoint: str,
    name: str,
    *,
    lines: int | None = 100,
    container: str = "inference-server",
    request_id: str | None = None,
) -> str:
    """The deployment's log (last ``lines``) of the inference server or the storage initializer.

    With ``request_id`` (a scoring answer's ``x-request-id``): only that request's log entries
    (the whole log is searched; ``lines`` then limits what is shown), a traceback included.
    """
    check_container(container)
    body: dict[str, Any] = {"containerType": LOG_CONTAINERS[container]}
    if lines is not None and request_id is None:
        body["tail"] = lines
    answer = client.post(client.paths.deployment(endpoint, name, "getLogs"), body) or {}
    content = str(answer.get("content") or "")
    if request_id is None:
        return content
    kept = request_entries(content, request_id)
    return "".join(kept.splitlines(keepends=True)[-lines:]) if lines is not None else kept


_ENTRY = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def request_entries(text: str, request_id: str) -> str:
    """The log entries of one request: lines tagged ``[request ID]`` by the server, each with the
    untagged lines that continue it (a traceback)."""
    tag = f"[request {request_id.strip()}]"
    kept: list[str] = []
    keep = False
    for line in text.splitlines(keepends=True):
        if _ENTRY.match(line) or tag in line:
            keep = tag in line
        if keep:
            kept.append(line)
    return "".join(kept)


_FAILED = "Deployment failed: "
_NOISE = re.compile(r"Location '[^']*' is ignored: it is (either a non-exist|neither a file nor a directory)")


def clean_log_tail(text: str) -> str:
    """A log tail as shown with an error: without pip's "Location '…' is ignored" warnings (a
    ``find-links`` folder of the machine that the environment does not have)."""
    return "".join(line for line in text.splitlines(keepends=True) if not _NOISE.search(line))


@contextlib.contextmanager
def _clean_tail() -> Iterator[None]:
    """A failed change's log tail (the server's, or one the service put in its message) shown clean."""
    try:
        yield
    except OperationFailedError as exc:
        exc.log_tail = clean_log_tail(exc.log_tail)
        raise


def failure_reason(client: RestClient, endpoint: str, name: str) -> str:
    """Why a deployment failed, as the service recorded it ('' when it says nothing).

    Read from the end of its storage-initializer log (the service appends ``Deployment failed:
    <reason>``); only the reason's first part, without the log tail some services attach."""
    try:
        text = get_logs(client, endpoint, name, lines=200, container="storage-initializer")
    except RestError:
        return ""
    start = text.rfind(_FAILED)
    if start < 0:
        return ""
    reason = text[start + len(_FAILED) :].split("\n--- log tail ---\n")[0].strip()
    reason = reason.splitlines()[0] if reason else ""
    head, colon, rest = reason.partition(": ")
    return rest if colon and rest.startswith(head + ": ") else reason  # a clause said twice, once


def log_tail_hook(client: RestClient, endpoint: str, name: str, *, lines: int = 50) -> FailureHook:
    """The failure hook of a change to a deployment: the last ``lines`` of its inference-server log
    ("" when they cannot be read), carried by the :class:`~jupyter_mlep.OperationFailedError`."""

    def read(operation: Operation) -> str:
        try:
            return clean_log_tail(get_logs(client, endpoint, name, lines=lines))
        except RestError:
            return ""

    return read


LOG_CONTAINERS = {"inference-server": "InferenceServer", "storage-initializer": "StorageInitializer"}
"""The log sources of a deployment (``container`` of :func:`get_logs`) and their REST names."""


def check_container(container: str) -> str:
    """``container`` when it is one of :data:`LOG_CONTAINERS`; else :class:`~jupyter_mlep.UsageError`."""
    if container not in LOG_CONTAINERS:
        raise UsageError(
            f"There is no {container!r} log: the container is one of {', '.join(LOG_CONTAINERS)}.",
            hint="E.g. container='storage-initializer' for the model download's log.",
        )
    return container


class LogFollower:
    """New lines of a deployment's log, one :meth:`poll` at a time (``--follow``, the logs widget).

    Each poll reads the last ``window`` lines and returns those after the part already seen (the
    longest overlap of the previous window's end with the new window's start). When more than
    ``window`` lines arrive between two polls, the lines in between are skipped, not repeated.
    """

    def __init__(
        self,
        client: RestClient,
        endpoint: str,
        name: str,
        *,
        container: str = "inference-server",
        window: int = 500,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.name = name
        self.container = check_container(container)
        self.window = window
        self._seen: deque[str] = deque(maxlen=window)
        self._first = True

    def poll(self) -> list[str]:
        """The lines written since the last poll (the first poll: the last ``window`` lines)."""
        text = get_logs(self.client, self.endpoint, self.name, lines=self.window, container=self.container)
        lines = text.splitlines()
        if self._first:
            self._first = False
            new = lines
        else:
            new = lines[_overlap(list(self._seen), lines) :]
        self._seen.extend(new)
        return new


def _overlap(seen: list[str], lines: list[str]) -> int:
    """The length of the longest end of ``seen`` that ``lines`` starts with."""
    for size in range(min(len(seen), len(lines)), 0, -1):
        if seen[len(seen) - size :] == lines[:size]:
            return size
    return 0
