"""The azureml-examples SDK notebook flow for managed online endpoints, by the official SDK against
a local workspace serving HTTPS: key and token endpoints, blue (local code, a model registered by
datastore URI, an inline environment) and green (a registered environment), invoke, logs, keys,
traffic, mirror traffic, scale, delete. Each call's effect is checked by the script (it prints what
it saw) and here, and the workspace's state afterwards through the project's own client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.samples import EXPECTED_MODEL_1, close_to
from support.sdk import record_calls, run_sdk_script

from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo

ENDPOINT = "sdk-online"

CALLS = [
    "workspaces.get",
    "datastores.get_default(include_secrets=True)",
    "storage.upload_blob(model folder)",
    "models.create_or_update",
    "online_endpoints.begin_create_or_update(key endpoint)",
    "online_endpoints.get",
    "online_deployments.begin_create_or_update(blue)",
    "online_endpoints.begin_create_or_update(traffic blue=100)",
    "online_endpoints.invoke",
    "online_endpoints.invoke(deployment blue)",
    "online_deployments.get_logs",
    "online_endpoints.get_keys",
    "online_endpoints.begin_regenerate_keys(primary)",
    "online_endpoints.get_keys(after regenerate)",
    "environments.create_or_update",
    "online_deployments.begin_create_or_update(green)",
    "online_endpoints.invoke(deployment green)",
    "online_endpoints.begin_create_or_update(traffic blue=90 green=10)",
    "online_endpoints.begin_create_or_update(mirror green=10)",
    "online_endpoints.begin_create_or_update(traffic green=100, no mirror)",
    "online_endpoints.invoke(after switch)",
    "online_deployments.begin_create_or_update(scale green to 2)",
    "online_deployments.get(green)",
    "online_deployments.list",
    "online_deployments.begin_delete(blue)",
    "online_endpoints.list",
    "online_endpoints.begin_create_or_update(token endpoint)",
    "online_deployments.begin_create_or_update(token endpoint)",
    "online_endpoints.begin_create_or_update(token endpoint traffic)",
    "online_endpoints.get_keys(token)",
    "online_endpoints.invoke(token endpoint)",
    "online_endpoints.begin_delete(token endpoint)",
    "online_endpoints.begin_delete(key endpoint)",
    "online_endpoints.list(after delete)",
]


def test_online_endpoints_flow(
    workspace: WorkspaceInfo, sdk_interpreter: Path, sdk_arguments: dict[str, Any], client: RestClient
) -> None:
    run = run_sdk_script(workspace, "online_endpoints.py", {**sdk_arguments, "endpoint": ENDPOINT})
    record_calls("online_endpoints", run)
    assert run.status == 0 and run.done and not run.failed, run.explain()
    assert run.passed == CALLS, run.explain()

    # what the SDK saw
    found = run.result("workspaces.get")
    assert found["name"] == "local"
    assert found["discovery_url"].startswith(f"{workspace.base_url}/discovery")
    store = run.result("datastores.get_default(include_secrets=True)")
    assert store == {
        "name": "workspaceblobstore",
        "endpoint": workspace.base_url.removeprefix("https://"),
        "protocol": "https",
        "key": True,
    }
    created = run.result("online_endpoints.begin_create_or_update(key endpoint)")
    assert created == {
        "state": "Succeeded",
        "auth_mode": "key",
        "scoring_uri": f"{workspace.base_url}/endpoints/{ENDPOINT}/score",
    }
    assert run.result("online_endpoints.get")["tags"] == {"suite": "sdk"}
    assert run.result("online_deployments.begin_create_or_update(blue)")["state"] == "Succeeded"
    assert run.result("online_endpoints.begin_create_or_update(traffic blue=100)") == {
        "traffic": {"blue": 100}
    }
    for call in ("online_endpoints.invoke", "online_endpoints.invoke(deployment blue)"):
        assert close_to(run.result(call), EXPECTED_MODEL_1), call
    assert run.result("online_deployments.get_logs")["lines"] > 0
    assert run.result("online_endpoints.get_keys(after regenerate)") == {"primary_changed": True}
    assert run.result("online_endpoints.invoke(deployment green)") == [0.5, 0.5]
    assert run.result("online_endpoints.begin_create_or_update(traffic blue=90 green=10)") == {
        "blue": 90,
        "green": 10,
    }
    assert run.result("online_endpoints.begin_create_or_update(mirror green=10)") == {"green": 10}
    assert run.result("online_endpoints.invoke(after switch)") == [0.5, 0.5]
    assert run.result("online_deployments.get(green)") == {"instance_count": 2, "state": "Succeeded"}
    assert run.result("online_deployments.list") == ["blue", "green"]
    assert run.result("online_endpoints.begin_create_or_update(token endpoint)") == {"auth_mode": "aml_token"}
    assert close_to(run.result("online_endpoints.invoke(token endpoint)"), EXPECTED_MODEL_1)

    # what the workspace holds afterwards
    assert client.find(client.paths.endpoint(ENDPOINT)) is None
    assert client.find(client.paths.endpoint(f"{ENDPOINT}-tok")) is None
    model = client.get(client.paths.model_version(f"{ENDPOINT}-model", "1"))
    assert "/paths/sdk-models/" in model["properties"]["modelUri"]
    environment = client.get(client.paths.environment_version(f"{ENDPOINT}-env", "1"))
    assert "scikit-learn" in environment["properties"]["condaFile"]
