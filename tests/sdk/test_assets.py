"""Models, environments, code, data assets and datastores by the official SDK against a local
workspace serving HTTPS (the azureml-examples assets and resources notebooks): versions are
immutable (same content: the same version; no version: the next one), ``latest`` resolves,
archived versions leave the list, code is found again by its content hash, and models and data
are registered by datastore URI after an upload with the official storage client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.sdk import record_calls, run_sdk_script

from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo

PREFIX = "sdk-assets"


def test_assets_and_datastores(
    workspace: WorkspaceInfo, sdk_interpreter: Path, sdk_arguments: dict[str, Any], client: RestClient
) -> None:
    run = run_sdk_script(workspace, "assets.py", {**sdk_arguments, "prefix": PREFIX})
    record_calls("assets", run)
    assert run.status == 0 and run.done and not run.failed, run.explain()
    assert len(run.passed) == 32, run.explain()

    assert run.result("models.create_or_update(version 1)")["version"] == "1"
    assert run.result("models.create_or_update(same version, same content)") == {"version": "1"}
    assert run.result("models.create_or_update(no version: the next one)") == {"version": "2"}
    assert run.result("models.get(label latest)") == {"version": "2"}
    assert run.result("models.list(name, after archive)") == ["2"]
    assert run.result("environments.create_or_update(changed, no version)") == {"version": "2"}
    assert run.result("environments.list(name)") == ["1", "2"]
    code = run.result("code.create_or_update(local folder)")
    assert run.result("code.create_or_update(same folder again: reused)") == {"name": code["name"]}
    assert run.result("data.create_or_update(uri_folder, no version)") == {"version": "2"}
    assert run.result("data.list(name)") == ["1", "2"]
    assert "workspaceblobstore" in run.result("datastores.list")
    store = f"{PREFIX.replace('-', '_')}_store"
    assert store not in run.result("datastores.list(after delete)")

    # the workspace's own view
    first = client.get(client.paths.environment_version(f"{PREFIX}-env", "1"))
    second = client.get(client.paths.environment_version(f"{PREFIX}-env", "2"))
    assert "pyyaml" not in first["properties"]["condaFile"]
    assert "pyyaml" in second["properties"]["condaFile"]
    models = client.get(client.paths.asset("models", f"{PREFIX}-model"))
    assert models["properties"]["latestVersion"] == "2"
    assert client.get(client.paths.model_version(f"{PREFIX}-model", "1"))["properties"]["isArchived"] is False
    data = client.get(client.paths.asset_version("data", f"{PREFIX}-data", "1"))
    assert data["properties"]["dataType"] == "uri_folder"
    assert client.find(client.paths.datastore(store)) is None
