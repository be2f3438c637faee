"""The workspace's own services beside the management plane, found as Azure ML clients find them:
run history (a job's status history and log files) through the workspace's ``discoveryUrl``, and
MLflow tracking (a job's metrics and parameters) at its ``mlFlowTrackingUri``.

Both targets answer the same way; on Azure the tracking URI is ``azureml://…`` (its https form is
used) and log files are signed blob URLs, fetched without the client's token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._mapping import error_from_response

if TYPE_CHECKING:
    from ._client import RestClient

__all__ = [
    "LogChunk",
    "WorkspaceServices",
    "metric_history",
    "read_log",
    "run_children",
    "run_data",
    "run_details",
    "services",
]

_MLFLOW = "/api/2.0/mlflow"


@dataclass(frozen=True)
class WorkspaceServices:
    """Where the workspace's run history and MLflow tracking answer."""

    history: str
    tracking: str


def services(client: RestClient) -> WorkspaceServices:
    """The run-history and MLflow base URLs of the client's workspace (looked up once per client)."""
    found = getattr(client, "_services", None)
    if isinstance(found, WorkspaceServices):
        return found
    props = client.get(client.paths.workspace).get("properties") or {}
    tracking = str(props.get("mlFlowTrackingUri") or "")
    if tracking.startswith("azureml://"):
        tracking = "https://" + tracking[len("azureml://") :]
    discovery = client.request("GET", str(props.get("discoveryUrl") or ""), service=True).json()
    found = WorkspaceServices(history=str(discovery["history"]).rstrip("/"), tracking=tracking.rstrip("/"))
    client._services = found  # type: ignore[attr-defined]
    return found


def _run_url(client: RestClient, run: str, tail: str = "") -> str:
    return f"{services(client).history}/history/v1.0{client.paths.workspace}/runs/{quote(run, safe='')}{tail}"


def run_details(client: RestClient, run: str) -> dict[str, Any]:
    """A job's run details: status, times, error, ``statusHistory`` and ``logFiles`` (name → URL)."""
    return dict(client.request("GET", _run_url(client, run, "/details"), service=True).json())


def run_children(client: RestClient, run: str) -> list[dict[str, Any]]:
    """A job's child runs (a sweep's trials), as run history lists them (every page)."""
    url: str | None = _run_url(client, run, "/children")
    found: list[dict[str, Any]] = []
    while url:
        page = client.request("GET", url, service=True).json()
        found += list(page.get("value") or [])
        url = page.get("nextLink") or None
    return found


@dataclass(frozen=True)
class LogChunk:
    """What a log file holds after the offset asked for; ``end`` is where the next read starts."""

    text: str
    end: int


def read_log(client: RestClient, url: str, offset: int = 0) -> LogChunk:
    """The log file at ``url`` (as ``logFiles`` gives it: signed, so sent without a token) from
    byte ``offset``."""
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    response = client.sender.send(
        lambda: client.http.build_request("GET", url, headers=headers), idempotent=True, raise_errors=False
    )
    if response.status_code == 416:  # nothing after offset yet
        return LogChunk("", offset)
    if response.status_code >= 400:
        raise client.sender.shown(error_from_response(response, what="Reading a job log"))
    data = response.content
    if offset and response.status_code != 206 and "x-ms-log-offset" not in response.headers:
        data = data[offset:]  # the whole file came back
    return LogChunk(data.decode("utf-8", "replace"), offset + len(data))


def _mlflow(client: RestClient, route: str, params: dict[str, Any]) -> dict[str, Any]:
    url = f"{services(client).tracking}{_MLFLOW}/{route}"
    return dict(client.request("GET", url, params=params, service=True).json())


def run_data(client: RestClient, run: str) -> dict[str, Any]:
    """A job's MLflow run ``data``: the last value of each metric, its params and tags (as lists)."""
    return dict((_mlflow(client, "runs/get", {"run_id": run}).get("run") or {}).get("data") or {})


def metric_history(client: RestClient, run: str, key: str) -> Iterator[dict[str, Any]]:
    """Every logged value of metric ``key`` of a job's run (``{key, value, timestamp, step}``)."""
    token = None
    while True:
        page = _mlflow(client, "metrics/get-history", {"run_id": run, "metric_key": key, "page_token": token})
        yield from page.get("metrics") or []
        token = page.get("next_page_token")
        if not token:
            return
