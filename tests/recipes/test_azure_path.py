"""The Azure target's code path, run against the local workspace: only the base URL (``MLEP_ARM_URL``
/ ``--arm-url``) and the credential differ. The credential is azure-identity's
``DefaultAzureCredential`` reaching a stand-in ``az`` executable that answers
``az account get-access-token`` with the workspace's admin token."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from support.recipes import EXAMPLES, admin_token, assert_no_secrets, environ_with_path

from jupyter_mlep import SettingsError
from jupyter_mlep.recipes import run_recipe
from jupyter_mlep.rest import RestClient, StaticTokenCredential
from jupyter_mlep.settings import resolve
from jupyter_mlep.workspace import WorkspaceInfo

SUBSCRIPTION, RESOURCE_GROUP, WORKSPACE = "00000000-0000-0000-0000-000000000000", "mlep-local", "local"

STAND_IN_AZ = """#!{python}
# A stand-in for the Azure CLI: 'az account get-access-token --output json --resource R' answers
# with the local workspace's admin token, in the shape azure-identity's AzureCliCredential parses.
import json, os, sys, time

args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:2] != ["account", "get-access-token"]:
    sys.exit("stand-in az: only 'account get-access-token' is supported")
token = open(os.path.join(os.environ["MLEP_HOME"], "workspace", "admin-token")).read().strip()
expires = int(time.time()) + 3600
print(json.dumps({{
    "accessToken": token,
    "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires)),
    "expires_on": expires,
    "subscription": "{subscription}",
    "tenant": "00000000-0000-0000-0000-000000000000",
    "tokenType": "Bearer",
}}))
"""


@pytest.fixture
def stand_in_az(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in ``az`` first on PATH; DefaultAzureCredential limited to the Azure CLI credential.

    Returns the file where each call's arguments are logged.
    """
    folder = tmp_path / "az-bin"
    folder.mkdir()
    log = tmp_path / "az-calls.log"
    script = folder / "az"
    script.write_text(STAND_IN_AZ.format(python=sys.executable, log=str(log), subscription=SUBSCRIPTION))
    script.chmod(0o755)
    for name, value in environ_with_path(folder).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")  # no slow probing of others
    return log


def _azure(arm_url: str | None = None, environ: dict[str, str] | None = None) -> object:
    overrides = {"target": "azure", "subscription_id": "s", "resource_group": "r", "workspace_name": "w"}
    if arm_url is not None:
        overrides["arm_url"] = arm_url
    return resolve(overrides, environ=environ or {})


def test_arm_url_defaults_to_the_public_cloud() -> None:
    settings = _azure()
    assert settings.arm_url == "https://management.azure.com"  # type: ignore[attr-defined]
    assert settings.arm_scope == "https://management.azure.com/.default"  # type: ignore[attr-defined]


def test_arm_url_from_the_environment_names_its_source_and_another_cloud_gets_its_own_scope() -> None:
    settings = _azure(environ={"MLEP_ARM_URL": "https://management.usgovcloudapi.net/"})
    assert settings.arm_url == "https://management.usgovcloudapi.net"  # type: ignore[attr-defined]
    assert settings.arm_scope == "https://management.usgovcloudapi.net/.default"  # type: ignore[attr-defined]
    assert ("arm_url", "https://management.usgovcloudapi.net", "environment variable MLEP_ARM_URL") in (
        settings.describe()  # type: ignore[attr-defined]
    )


def test_loopback_http_is_allowed_and_keeps_the_public_scope() -> None:
    settings = _azure("http://127.0.0.1:8123")
    assert settings.arm_scope == "https://management.azure.com/.default"  # type: ignore[attr-defined]
    client = RestClient.from_settings(settings, credential=StaticTokenCredential("t" * 20))  # type: ignore[arg-type]
    with client:
        assert client.base_url == "http://127.0.0.1:8123"
        assert client.tokens.scope == "https://management.azure.com/.default"


@pytest.mark.parametrize("url", ["http://management.example.com", "ftp://127.0.0.1", "management.azure.com"])
def test_plain_http_elsewhere_or_no_scheme_is_a_settings_error(url: str) -> None:
    with pytest.raises(SettingsError, match="management endpoint"):
        _azure(url)


def test_mlep_use_azure_takes_arm_url_and_status_shows_it(ip) -> None:  # type: ignore[no-untyped-def]
    ip.user_ns["sub"] = "s"
    settings = ip.run_line_magic(
        "mlep", "use azure --subscription $sub --resource-group r --workspace w --arm-url http://localhost:9/"
    )
    assert settings.arm_url == "http://localhost:9"
    assert ("arm_url", "http://localhost:9", "%mlep use") in ip.run_line_magic("mlep", "status").describe()


def test_deploy_to_azure_example_runs_through_the_azure_code_path(
    workspace: WorkspaceInfo, stand_in_az: Path, tmp_path: Path
) -> None:
    result = run_recipe(
        EXAMPLES / "deploy-to-azure.ipynb",
        {
            "target": "azure",
            "subscription_id": SUBSCRIPTION,
            "resource_group": RESOURCE_GROUP,
            "workspace_name": WORKSPACE,
            "arm_url": workspace.base_url,
        },
        output_dir=tmp_path / "runs",
    )
    assert result.ok, result.summary()
    [deploy] = result.of_kind("deploy")
    assert deploy["endpoint"] == f"azure-demo-{result.run_id}" and deploy["traffic"] == {"blue": 100}
    [invoke] = result.of_kind("invoke")
    assert invoke["status"] == 200 and len(invoke["body"]) == 2
    calls = [json.loads(line) for line in stand_in_az.read_text().splitlines()]
    assert calls and all(call[:2] == ["account", "get-access-token"] for call in calls)
    assert calls[0][calls[0].index("--resource") :][:2] == ["--resource", "https://management.azure.com"]
    assert_no_secrets(result, admin_token(Path(workspace.home)))
