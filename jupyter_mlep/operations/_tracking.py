"""``use_mlflow``: point this process's MLflow client at the workspace's tracking server."""

from __future__ import annotations

import os

from ..rest import RestClient
from ..rest._services import services

__all__ = ["use_mlflow"]


def use_mlflow(client: RestClient) -> str:
    """Set ``MLFLOW_TRACKING_URI`` to the workspace's tracking URI and ``MLFLOW_TRACKING_TOKEN`` to
    the client's token (never shown), so that ``mlflow.search_runs()`` and ``MlflowClient`` read the
    workspace's jobs; the URI. On Azure the token lasts about an hour: call it again then."""
    uri = services(client).tracking
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ["MLFLOW_TRACKING_TOKEN"] = client.tokens.token()
    return uri
