"""The REST client against a real local workspace: auth, api-version, errors, paging, targets."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.arm import API
from support.clients import make_client
from support.waiting import unique

import jupyter_mlep.rest as rest
from jupyter_mlep import _errors as errors
from jupyter_mlep.rest import AccessToken, RestClient, RetryPolicy, StaticTokenCredential
from jupyter_mlep.settings import Settings
from jupyter_mlep.workspace import RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME, WorkspaceInfo


class CountingCredential:
    """A TokenCredential double: hands out the given tokens in turn, each valid for ``lifetime`` s."""

    def __init__(self, *tokens: str, lifetime: float = 3600.0) -> None:
        self.tokens = list(tokens)
        self.lifetime = lifetime
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append(scopes)
        token = self.tokens[min(len(self.calls), len(self.tokens)) - 1]
        return AccessToken(token, int(time.time() + self.lifetime))


def test_public_names_are_sorted_and_exact() -> None:
    # constants, then classes, then functions, each alphabetical (ruff's RUF022 order)
    assert rest.__all__ == sorted(rest.__all__, key=lambda n: (not n.isupper(), n[0].islower(), n))
    public = {
        name
        for name, value in vars(rest).items()
        if not name.startswith("_") and not isinstance(value, type(rest))
    }
    assert public == set(rest.__all__)


def test_importing_rest_does_not_import_azure_identity() -> None:
    code = "import sys, jupyter_mlep.rest; print(any(m.startswith('azure') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_bearer_token_is_cached_until_near_expiry(workspace: WorkspaceInfo) -> None:
    credential = CountingCredential(workspace.token)
    with RestClient(
        workspace.base_url, credential, workspace_path=workspace.workspace_path, api_version=API
    ) as client:
        for _ in range(3):
            assert client.get(client.paths.workspace)["name"] == WORKSPACE_NAME
    assert credential.calls == [("https://management.azure.com/.default",)]


def test_token_close_to_expiry_is_refreshed(workspace: WorkspaceInfo) -> None:
    credential = CountingCredential(workspace.token, lifetime=60.0)  # inside the 5-minute margin
    with RestClient(
        workspace.base_url, credential, workspace_path=workspace.workspace_path, api_version=API
    ) as client:
        client.get(client.paths.workspace)
        client.get(client.paths.workspace)
    assert len(credential.calls) == 2


def test_refused_token_is_refetched_once_then_succeeds(workspace: WorkspaceInfo) -> None:
    credential = CountingCredential("stale-token-from-cache", workspace.token)
    with RestClient(
        workspace.base_url, credential, workspace_path=workspace.workspace_path, api_version=API
    ) as client:
        assert client.get(client.paths.workspace)["name"] == WORKSPACE_NAME
    assert len(credential.calls) == 2


def test_wrong_token_is_authentication_error_without_the_token(workspace: WorkspaceInfo) -> None:
    secret = "not-the-admin-token-" + uuid.uuid4().hex
    with (
        RestClient(
            workspace.base_url,
            StaticTokenCredential(secret),
            workspace_path=workspace.workspace_path,
            api_version=API,
        ) as client,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        client.get(client.paths.endpoints())
    error = caught.value
    assert error.status == 401 and error.code == "AuthenticationFailed"
    assert secret not in str(error) and secret not in repr(error)
    assert workspace.token not in str(error)


def test_api_version_is_sent_on_every_call(client: RestClient) -> None:
    response = client.request("GET", client.paths.endpoints())
    assert response.request.url.params["api-version"] == API
    with make_client_version(client, "2024-10-01") as older:
        assert older.request("GET", older.paths.endpoints()).request.url.params["api-version"] == "2024-10-01"


def make_client_version(client: RestClient, version: str) -> RestClient:
    return RestClient(
        client.base_url,
        client.tokens.credential,
        workspace_path=client.paths.workspace,
        api_version=version,
    )


def test_unknown_api_version_is_bad_request(client: RestClient) -> None:
    with make_client_version(client, "1999-01-01") as bad, pytest.raises(errors.BadRequestError) as caught:
        bad.get(bad.paths.endpoints())
    assert caught.value.code == "InvalidApiVersionParameter"
    assert "1999-01-01" in str(caught.value)


def test_missing_resource_is_not_found_with_suggestions(client: RestClient) -> None:
    name = unique("ep")
    client.run("PUT", client.paths.endpoint(name), {"location": "local", "properties": {"authMode": "Key"}})
    try:
        with pytest.raises(errors.NotFoundError) as caught:
            client.get(client.paths.endpoint(name + "x"))
        error = caught.value
        assert error.status == 404 and error.code == "ResourceNotFound"
        assert error.method == "GET" and "api-version" not in str(error.url)
        names = [item["name"] for item in client.list(client.paths.endpoints())]
        error.suggest(name + "x", names)
        assert f"Did you mean '{name}'?" in str(error)
        assert client.find(client.paths.endpoint(name + "x")) is None
    finally:
        client.run("DELETE", client.paths.endpoint(name))


def test_invalid_body_is_bad_request_with_details(client: RestClient) -> None:
    with pytest.raises(errors.BadRequestError) as caught:
        client.begin("PUT", client.paths.endpoint(unique("ep")), {"properties": {}})
    error = caught.value
    assert error.status == 400 and error.code
    assert "authMode" in str(error)
    assert error.method == "PUT"


def test_paging_follows_next_link(client: RestClient) -> None:
    name = "paged-" + uuid.uuid4().hex[:8]
    for version in range(1, 6):
        client.put(
            client.paths.asset_version("environments", name, str(version)),
            {"properties": {"image": "python:3.11"}},
        )
    before = client.request_count
    versions = list(client.list(client.paths.asset_versions("environments", name), params={"$top": 2}))
    assert sorted(int(item["name"]) for item in versions) == [1, 2, 3, 4, 5]
    assert client.request_count - before == 3  # pages of 2, 2 and 1


def test_workspace_down_says_how_to_start_it(tmp_path: Path) -> None:
    from support.net import free_port

    info = WorkspaceInfo(
        base_url=f"http://127.0.0.1:{free_port()}",
        port=0,
        pid=0,
        started_at="",
        home=tmp_path,
        token="t" * 40,
    )
    started = time.monotonic()
    with (
        make_client(info, retry=RetryPolicy(attempts=3, total=1.0, backoff=0.05)) as client,
        pytest.raises(errors.WorkspaceUnavailableError) as caught,
    ):
        client.get(client.paths.endpoints())
    assert time.monotonic() - started < 5
    assert isinstance(caught.value, errors.WorkspaceError)
    assert "does not answer" in str(caught.value) and "jupyter-mlep workspace start" in str(caught.value)
    assert client.request_count == 3


def test_local_settings_use_the_running_workspace(workspace: WorkspaceInfo, workspace_home: Path) -> None:
    settings = Settings(home=workspace_home, target="local", api_version="2025-06-01")
    with RestClient.from_settings(settings) as client:
        assert client.base_url == workspace.base_url and client.target == "local"
        assert client.get(client.paths.workspace)["name"] == WORKSPACE_NAME
        assert "2025-06-01" in str(client.request("GET", client.paths.endpoints()).request.url)


def test_azure_code_path_against_the_local_workspace(workspace: WorkspaceInfo) -> None:
    settings = Settings(
        home=Path("/nonexistent"),
        target="azure",
        subscription_id=SUBSCRIPTION_ID,
        resource_group=RESOURCE_GROUP,
        workspace_name=WORKSPACE_NAME,
    )
    credential = CountingCredential(workspace.token)
    name = "az-" + uuid.uuid4().hex[:8]
    with RestClient.from_settings(settings, credential=credential, base_url=workspace.base_url) as client:
        assert client.target == "azure" and client.paths.workspace == settings.workspace_path
        created = client.run(
            "PUT", client.paths.endpoint(name), {"location": "local", "properties": {"authMode": "Key"}}
        )
        assert created["properties"]["provisioningState"] == "Succeeded"
        keys = client.post(client.paths.endpoint(name, "listKeys"))
        assert keys["primaryKey"] and keys["secondaryKey"]
        assert client.run("DELETE", client.paths.endpoint(name)) is None
    assert credential.calls == [("https://management.azure.com/.default",)]


def test_azure_target_defaults_to_management_azure_com() -> None:
    settings = Settings(
        home=Path("/nonexistent"), target="azure", subscription_id="s", resource_group="r", workspace_name="w"
    )
    with RestClient.from_settings(settings, credential=StaticTokenCredential("x" * 30)) as client:
        assert client.base_url == "https://management.azure.com"
        assert client.paths.endpoint("a") == (
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w"
            "/onlineEndpoints/a"
        )
