"""The workspace resource itself (GET), with its location and identity."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .arm import LOCATION, WORKSPACE_NAME, WORKSPACE_PATH, json_response, system_data
from .blobstore import ACCOUNT
from .context import Call, Workspace

__all__ = ["render_workspace"]


def render_workspace(ws: Workspace) -> dict[str, Any]:
    """The ``Workspace`` body."""
    created = ws.store.secret("created-at") or "1970-01-01T00:00:00.000Z"
    workspace_id = ws.store.secret("workspace-id") or "00000000-0000-0000-0000-000000000000"
    sub, rg = WORKSPACE_PATH.split("/")[2], WORKSPACE_PATH.split("/")[4]
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
            "provisioningState": "Succeeded",
            "storageAccount": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}",
            "hbiWorkspace": False,
            "publicNetworkAccess": "Enabled",
            "v1LegacyMode": False,
        },
    }


async def get_workspace(call: Call) -> Response:
    """``Workspaces_Get``."""
    return json_response(render_workspace(call.ws))
