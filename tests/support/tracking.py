"""The workspace's MLflow tracking server as the tests use it: its URI, an MLflow client environment,
raw MLflow REST calls, and the workspace opened in the test process (to call the jobs' interface)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jupyter_mlep.workspace import WORKSPACE_PATH, WorkspaceInfo
from jupyter_mlep.workspace._paths import WorkspacePaths
from jupyter_mlep.workspace.context import Workspace


def tracking_uri(info: WorkspaceInfo) -> str:
    """The workspace's MLflow tracking URI (as its resource's ``mlFlowTrackingUri`` names it)."""
    return f"{info.base_url}/mlflow/v1.0{WORKSPACE_PATH}"


@contextlib.contextmanager
def mlflow_env(uri: str, token: str) -> Iterator[None]:
    """MLflow's client pointed at ``uri`` with ``token``, as a user or a job configures it (the
    variables MLflow reads; telemetry off); the fluent API's globals are reset afterwards."""
    import mlflow

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.setenv("MLFLOW_TRACKING_TOKEN", token)
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
            patch.delenv(name, raising=False)
        mlflow.set_tracking_uri(uri)
        try:
            yield
        finally:
            while mlflow.active_run() is not None:
                mlflow.end_run()
            mlflow.set_tracking_uri(None)  # type: ignore[arg-type]


def call(
    info: WorkspaceInfo, method: str, path: str, *, token: str | None = None, **kwargs: Any
) -> httpx.Response:
    """One raw request below the tracking URI (``/api/2.0/mlflow/…``) with ``token`` (default: admin;
    ``""`` for none)."""
    token = info.token if token is None else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, tracking_uri(info) + path, headers=headers, timeout=30.0, **kwargs)


@contextlib.contextmanager
def open_workspace(info: WorkspaceInfo) -> Iterator[Workspace]:
    """The running workspace's state opened in this process (its database is shared by both), as
    the workspace's job runner holds it."""
    ws = Workspace.open(WorkspacePaths.under(info.home))
    ws.base_url = info.base_url
    try:
        yield ws
    finally:
        ws.store.close()
