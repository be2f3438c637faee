"""Every route needs a credential; api-version is required and checked; unknown paths are ARM 404s."""

from __future__ import annotations

import httpx
import pytest
from support.arm import API, Arm

from jupyter_mlep.workspace import WORKSPACE_PATH

from . import schemas

SUB = "00000000-0000-0000-0000-000000000000"
ROUTES = [
    ("GET", ""),
    ("GET", "/onlineEndpoints"),
    ("GET", "/onlineEndpoints/ep1"),
    ("PUT", "/onlineEndpoints/ep1"),
    ("PATCH", "/onlineEndpoints/ep1"),
    ("DELETE", "/onlineEndpoints/ep1"),
    ("POST", "/onlineEndpoints/ep1/listKeys"),
    ("POST", "/onlineEndpoints/ep1/regenerateKeys"),
    ("POST", "/onlineEndpoints/ep1/token"),
    ("GET", "/onlineEndpoints/ep1/deployments"),
    ("GET", "/onlineEndpoints/ep1/deployments/blue"),
    ("PUT", "/onlineEndpoints/ep1/deployments/blue"),
    ("PATCH", "/onlineEndpoints/ep1/deployments/blue"),
    ("DELETE", "/onlineEndpoints/ep1/deployments/blue"),
    ("POST", "/onlineEndpoints/ep1/deployments/blue/getLogs"),
    ("GET", "/onlineEndpoints/ep1/deployments/blue/skus"),
    ("GET", "/models"),
    ("GET", "/models/m"),
    ("PUT", "/models/m"),
    ("DELETE", "/models/m"),
    ("GET", "/models/m/versions"),
    ("GET", "/models/m/versions/1"),
    ("PUT", "/models/m/versions/1"),
    ("DELETE", "/models/m/versions/1"),
    ("GET", "/codes/c/versions/1"),
    ("POST", "/codes/c/versions/1/startPendingUpload"),
    ("GET", "/environments/e/versions"),
    ("GET", "/data"),
    ("PUT", "/data/d/versions/1"),
    ("GET", "/datastores"),
    ("GET", "/datastores/workspaceblobstore"),
    ("PUT", "/datastores/other"),
    ("DELETE", "/datastores/other"),
    ("POST", "/datastores/workspaceblobstore/listSecrets"),
    ("GET", "/computes"),
    ("GET", "/computes/local-machine"),
    ("GET", "/jobs"),
    ("GET", "/jobs/j1"),
    ("PUT", "/jobs/j1"),
    ("DELETE", "/jobs/j1"),
    ("POST", "/jobs/j1/cancel"),
]
OTHER_PATHS = [
    (
        "GET",
        f"/subscriptions/{SUB}/providers/Microsoft.MachineLearningServices/locations/local/mfeOperationsStatus/x",
    ),
    (
        "GET",
        f"/subscriptions/{SUB}/providers/Microsoft.MachineLearningServices/locations/local/mfeOperationResults/x",
    ),
    ("GET", "/mlep/v1/info"),
    ("POST", "/mlep/v1/faults/metrics"),
    ("GET", "/mlep/v1/faults"),
    ("POST", "/mlep/v1/faults"),
    ("DELETE", "/mlep/v1/faults"),
    ("GET", "/anything/else"),
    ("GET", "/"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_management_routes_need_the_admin_token(anon: httpx.Client, arm: Arm, method: str, path: str) -> None:
    url = WORKSPACE_PATH + path
    for headers in (
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Basic {arm.info.token}"},
    ):
        response = anon.request(method, url, params={"api-version": API}, headers=headers, json={})
        assert response.status_code == 401, (method, path, headers, response.text)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        schemas.validate("OnlineEndpoints_Get", 401, response.json())
        assert response.json()["error"]["code"] == "AuthenticationFailed"


@pytest.mark.parametrize(("method", "path"), OTHER_PATHS)
def test_other_routes_need_the_admin_token(anon: httpx.Client, method: str, path: str) -> None:
    response = anon.request(method, path, params={"api-version": API})
    assert response.status_code == 401


def test_scoring_and_blob_routes_need_credentials(anon: httpx.Client) -> None:
    base = ""
    assert anon.post(f"{base}/endpoints/any/score", json={}).status_code == 401
    assert anon.get(f"{base}/endpoints/any/swagger.json").status_code == 401
    assert anon.get(f"{base}/endpoints/any/score", headers={"Authorization": "Bearer x"}).status_code == 401
    for method in ("GET", "PUT", "DELETE", "HEAD"):
        response = anon.request(method, f"{base}/mlepstore/azureml-blobstore/a.txt")
        assert response.status_code == 403, method
    listing = anon.get(f"{base}/mlepstore/azureml-blobstore", params={"restype": "container", "comp": "list"})
    assert listing.status_code == 403


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_api_version_is_required(arm: Arm, method: str, path: str) -> None:
    response = arm.request(method, path, api=None, json={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


def test_unknown_api_versions_are_rejected_and_older_ones_accepted(arm: Arm) -> None:
    for version in ("2019-01-01", "2026-13-01", "latest"):
        response = arm.get("/onlineEndpoints", api=version)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "InvalidApiVersionParameter"
        assert "2026-07-01" in response.json()["error"]["message"]
    for version in (
        "2022-02-01-preview",
        "2023-04-01-preview",
        "2024-10-01",
        "2024-10-01-preview",
        "2026-07-01",
    ):
        assert arm.get("/onlineEndpoints", api=version).status_code == 200, version


def test_paths_are_case_insensitive_and_other_workspaces_are_404(arm: Arm) -> None:
    lower = WORKSPACE_PATH.lower() + "/onlineendpoints"
    assert arm.http.get(lower, params={"api-version": API}).status_code == 200
    other = WORKSPACE_PATH.rsplit("/", 1)[0] + "/elsewhere/onlineEndpoints"
    response = arm.http.get(other, params={"api-version": API})
    assert response.status_code == 404 and response.json()["error"]["code"] == "ResourceNotFound"
    wrong_sub = WORKSPACE_PATH.replace(SUB, "11111111-1111-1111-1111-111111111111")
    assert arm.http.get(wrong_sub, params={"api-version": API}).status_code == 404
    unknown = arm.get("/notAResourceType")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "InvalidResourceType"
    not_allowed = arm.request("POST", "/onlineEndpoints")
    assert not_allowed.status_code == 405


def test_unknown_operation_is_404(arm: Arm) -> None:
    url = f"/subscriptions/{SUB}/providers/Microsoft.MachineLearningServices/locations/local/mfeOperationsStatus/nope"
    response = arm.http.get(url, params={"api-version": API})
    assert response.status_code == 404
