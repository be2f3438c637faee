"""The workspace resource as Azure serves it, and the discovery document its ``discoveryUrl`` names."""

from __future__ import annotations

import re

import httpx
from support.arm import Arm

from jupyter_mlep.workspace import WORKSPACE_PATH

_ARM_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/(?P<provider>[^/]+/[^/]+)/(?P<name>[^/]+)$"
)
_SERVICES = {
    "api",
    "catalog",
    "experimentation",
    "gallery",
    "history",
    "hyperdrive",
    "labeling",
    "modelmanagement",
    "pipelines",
    "studio",
}


def test_workspace_names_the_services_clients_read(arm: Arm) -> None:
    response = arm.get("")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == WORKSPACE_PATH and body["type"] == "Microsoft.MachineLearningServices/workspaces"
    props = body["properties"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", props["workspaceId"])
    assert props["provisioningState"] == "Succeeded"
    assert props["discoveryUrl"].startswith(f"{arm.info.base_url}/discovery?")
    assert props["mlFlowTrackingUri"] == f"{arm.info.base_url}/mlflow/v1.0{WORKSPACE_PATH}"
    providers = {
        field: _ARM_ID.match(props[field]) for field in ("storageAccount", "keyVault", "applicationInsights")
    }
    assert all(providers.values()), props
    assert {field: match.group("provider") for field, match in providers.items() if match} == {
        "storageAccount": "Microsoft.Storage/storageAccounts",
        "keyVault": "Microsoft.KeyVault/vaults",
        "applicationInsights": "microsoft.insights/components",
    }
    # the storage account is the blob store's account
    blob_account = arm.get("/datastores/workspaceblobstore").json()["properties"]["accountName"]
    assert props["storageAccount"].endswith(f"/storageAccounts/{blob_account}")
    assert props["containerRegistry"] is None and props["hbiWorkspace"] is False
    # the same answer twice: the resource is stable (ids, discovery signature)
    assert arm.get("").json() == body


def test_discovery_document_points_at_this_workspace(arm: Arm, anon: httpx.Client) -> None:
    url = arm.get("").json()["properties"]["discoveryUrl"]
    # fetched as the Azure ML SDK fetches it: the URL as given, no credentials
    response = anon.get(url)
    assert response.status_code == 200, response.text
    document = response.json()
    assert set(document) == _SERVICES
    assert set(document.values()) == {arm.info.base_url}
    # the management front end is reachable below the "api" URL, with credentials
    workspace = arm.http.get(f"{document['api']}{WORKSPACE_PATH}", params={"api-version": "2024-10-01"})
    assert workspace.status_code == 200 and workspace.json()["name"] == arm.get("").json()["name"]
    # the admin token also reads it
    assert arm.http.get("/discovery").json() == document


def test_discovery_needs_its_signature_or_the_admin_token(arm: Arm, anon: httpx.Client) -> None:
    url = httpx.URL(arm.get("").json()["properties"]["discoveryUrl"])
    signature = url.params["sig"]
    for attempt in (
        anon.get("/discovery"),
        anon.get("/discovery", params={"sig": signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")}),
        anon.get("/discovery", headers={"Authorization": "Bearer wrong"}),
    ):
        assert attempt.status_code == 401, attempt.text
        assert attempt.json()["error"]["code"] == "AuthenticationFailed"
        assert "WWW-Authenticate" in attempt.headers
    refused = anon.post(str(url))
    assert refused.status_code == 405
    # the signature opens nothing else
    assert anon.get(WORKSPACE_PATH, params={"api-version": "2024-10-01", "sig": signature}).status_code == 401
