"""The workspace resource itself (``Workspaces_Get``), shaped as Azure serves it.

Besides its identity, the resource names what clients look up from it: ``discoveryUrl`` (the
discovery document, :mod:`.discovery`), ``mlFlowTrackingUri`` (the workspace's MLflow tracking
server), ``workspaceId``, and the ARM ids of its storage account (the blob store), key vault and
Application Insights. The workspace has no container registry (images are built on this machine),
so ``containerRegistry`` is null, as for an Azure workspace that has not built an image yet.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .arm import (
    LOCATION,
    RESOURCE_GROUP,
    SUBSCRIPTION_ID,
    WORKSPACE_NAME,
    WORKSPACE_PATH,
    json_response,
    system_data,
)
from .blobstore import ACCOUNT
from .context import Call, Workspace
from .discovery import discovery_url

__all__ = ["mlflow_tracking_uri", "render_workspace"]

TENANT_ID = "00000000-0000-0000-0000-000000000000"
KEY_VAULT = "mlepkeyvault"
APP_INSIGHTS = "mlepinsights"


def _resource_id(provider: str, name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/{provider}/{name}"


def mlflow_tracking_uri(ws: Workspace) -> str:
    """The workspace's MLflow tracking URI: Azure's path (``/mlflow/v1.0`` + the workspace's ARM
    path) below the workspace's own base URL, so a plain MLflow client can use it as is."""
    return f"{ws.base_url}/mlflow/v1.0{WORKSPACE_PATH}"


def render_workspace(ws: Workspace) -> dict[str, Any]:
    """The ``Workspace`` body."""
    created = ws.store.secret("created-at") or "1970-01-01T00:00:00.000Z"
    workspace_id = ws.store.secret("workspace-id") or "00000000-0000-0000-0000-000000000000"
    return {
        "id": WORKSPACE_PATH,
        "name": WORKSPACE_NAME,
        "type": "Microsoft.MachineLearningServices/workspaces",
        "location": LOCATION,
        "kind": "Default",
        "tags": {},
        "identity": {"type": "None"},
        "sku": {"name": "Basic", "tier": "Basic"},
        "systemData": system_data(created, created),
        "properties": {
            "friendlyName": "Local workspace",
            "description": "The jupyter_mlep local workspace: deployments run on this machine.",
            "workspaceId": workspace_id,
            "tenantId": TENANT_ID,
            "provisioningState": "Succeeded",
            "discoveryUrl": discovery_url(ws),
            "mlFlowTrackingUri": mlflow_tracking_uri(ws),
            "storageAccount": _resource_id("Microsoft.Storage/storageAccounts", ACCOUNT),
            "keyVault": _resource_id("Microsoft.KeyVault/vaults", KEY_VAULT),
            "applicationInsights": _resource_id("microsoft.insights/components", APP_INSIGHTS),
            "containerRegistry": None,
            "imageBuildCompute": None,
            "hbiWorkspace": False,
            "storageHnsEnabled": False,
            "enableDataIsolation": False,
            "systemDatastoresAuthMode": "AccessKey",
            "publicNetworkAccess": "Enabled",
            "allowPublicAccessWhenBehindVnet": False,
            "privateLinkCount": 0,
            "privateEndpointConnections": [],
            "sharedPrivateLinkResources": [],
            "v1LegacyMode": False,
        },
    }


async def get_workspace(call: Call) -> Response:
    """``Workspaces_Get``."""
    return json_response(render_workspace(call.ws))
