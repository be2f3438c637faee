"""Settings resolution: explicit values, environment variables, config.json, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlep import SettingsError
from jupyter_mlep.settings import DEFAULT_API_VERSION, find_config_file, resolve

AZURE_ENV = {
    "AZURE_SUBSCRIPTION_ID": "sub-env",
    "AZURE_RESOURCE_GROUP": "rg-env",
    "AZUREML_WORKSPACE_NAME": "ws-env",
}


def test_defaults_are_local(tmp_path: Path) -> None:
    settings = resolve(environ={}, cwd=tmp_path)
    assert settings.target == "local"
    assert settings.api_version == DEFAULT_API_VERSION
    assert settings.home == Path("~/.jupyter_mlep").expanduser()
    assert settings.workspace_path is None
    assert all(source == "default" for _, _, source in settings.describe())


def test_environment_variables_select_azure(tmp_path: Path) -> None:
    settings = resolve(environ=AZURE_ENV, cwd=tmp_path)
    assert settings.target == "azure"
    assert settings.workspace_path == (
        "/subscriptions/sub-env/resourceGroups/rg-env/providers/Microsoft.MachineLearningServices/workspaces/ws-env"
    )
    assert settings.sources["subscription_id"] == "environment variable AZURE_SUBSCRIPTION_ID"


def test_config_json_is_found_in_a_parent_folder_like_the_sdk(tmp_path: Path) -> None:
    (tmp_path / ".azureml").mkdir()
    config = tmp_path / ".azureml" / "config.json"
    config.write_text(json.dumps({"subscription_id": "s", "resource_group": "r", "workspace_name": "w"}))
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_config_file(nested) == config
    settings = resolve(environ={}, cwd=nested)
    assert (settings.target, settings.subscription_id, settings.workspace_name) == ("azure", "s", "w")
    assert settings.sources["workspace_name"] == f"config.json at {config}"


def test_explicit_beats_environment_beats_config_json(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"subscription_id": "s-cfg", "resource_group": "r-cfg", "workspace_name": "w-cfg"})
    )
    settings = resolve(
        {"workspace_name": "w-explicit"},
        environ={"AZURE_RESOURCE_GROUP": "r-env"},
        cwd=tmp_path,
        sources={"workspace_name": "%mlep use"},
    )
    assert (settings.subscription_id, settings.resource_group, settings.workspace_name) == (
        "s-cfg",
        "r-env",
        "w-explicit",
    )
    assert settings.sources["workspace_name"] == "%mlep use"


def test_target_local_overrides_azure_settings(tmp_path: Path) -> None:
    settings = resolve({"target": "local"}, environ=AZURE_ENV, cwd=tmp_path)
    assert settings.target == "local"


def test_azure_without_workspace_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="resource_group, workspace_name are not set") as info:
        resolve({"target": "azure", "subscription_id": "s"}, environ={}, cwd=tmp_path)
    assert "%mlep use azure" in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target": "cloud"}, "Unknown target 'cloud'"),
        ({"api_version": "latest"}, "Invalid api-version 'latest'"),
        ({"colour": "red"}, "Unknown setting"),
    ],
)
def test_invalid_settings_are_named(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        resolve(overrides, environ={}, cwd=tmp_path)


def test_broken_config_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(SettingsError, match="Cannot read the Azure ML workspace file"):
        resolve(environ={}, cwd=tmp_path)


def test_home_from_environment_is_expanded(tmp_path: Path) -> None:
    settings = resolve(environ={"MLEP_HOME": "~/elsewhere"}, cwd=tmp_path)
    assert settings.home == Path("~/elsewhere").expanduser()
    assert settings.sources["home"] == "environment variable MLEP_HOME"
