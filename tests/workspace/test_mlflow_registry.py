"""MLflow's model registry is the workspace's model registry: what MLflow registers is an Azure ML
model version (``azureml:<name>:<n>``), and the other way round."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from support.tracking import mlflow_env, tracking_uri
from support.waiting import unique

from jupyter_mlep.workspace import WorkspaceInfo

API = {"api-version": "2026-07-01"}


@pytest.fixture
def mlflow_client(workspace: WorkspaceInfo) -> Iterator[MlflowClient]:
    with mlflow_env(tracking_uri(workspace), workspace.token):
        yield MlflowClient()


def _arm(workspace: WorkspaceInfo, method: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.request(
        method,
        f"{workspace.base_url}{workspace.workspace_path}/{path}",
        params=API,
        headers={"Authorization": f"Bearer {workspace.token}"},
        timeout=30.0,
        **kwargs,  # type: ignore[arg-type]
    )


def test_log_model_with_a_registered_name_is_a_workspace_model(
    mlflow_client: MlflowClient, workspace: WorkspaceInfo
) -> None:
    from sklearn.linear_model import LogisticRegression

    name = unique("diabetes")
    features = np.array([[0.0], [1.0], [2.0], [3.0]])
    labels = np.array([0, 0, 1, 1])
    mlflow.set_experiment(unique("registry"))
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            LogisticRegression().fit(features, labels), name="model", registered_model_name=name
        )
    assert str(info.registered_model_version) == "1"

    version = mlflow_client.get_model_version(name, "1")
    assert (version.status, version.run_id, version.source) == ("READY", run.info.run_id, info.model_uri)
    asset = _arm(workspace, "GET", f"models/{name}/versions/1").json()["properties"]
    assert asset["modelType"] == "mlflow_model"
    assert asset["modelUri"] == f"azureml://datastores/workspaceblobstore/paths/LoggedModels/{info.model_id}"
    assert set(asset["flavors"]) == {"python_function", "sklearn"} and asset["jobName"] == run.info.run_id
    assert list(mlflow.pyfunc.load_model(f"models:/{name}/1").predict(features)) == [0, 0, 1, 1]

    again = mlflow_client.create_model_version(name, info.model_uri, run.info.run_id, tags={"k": "v"})
    assert again.version == "2" and again.tags == {"k": "v"}
    assert _arm(workspace, "GET", f"models/{name}").json()["properties"]["latestVersion"] == "2"

    mlflow_client.set_registered_model_alias(name, "champion", "1")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "1"
    assert list(mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(features)) == [0, 0, 1, 1]
    assert mlflow_client.get_registered_model(name).aliases == {"champion": "1"}
    mlflow_client.delete_registered_model_alias(name, "champion")
    assert mlflow_client.get_registered_model(name).aliases == {}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # stages are deprecated in MLflow, kept by Azure
        mlflow_client.transition_model_version_stage(name, "2", "Production")
        assert [v.version for v in mlflow_client.get_latest_versions(name, ["Production"])] == ["2"]
    assert _arm(workspace, "GET", f"models/{name}/versions/2").json()["properties"]["stage"] == "Production"

    mlflow_client.set_model_version_tag(name, "1", "checked", "yes")
    mlflow_client.update_model_version(name, "1", description="first")
    first = mlflow_client.get_model_version(name, "1")
    assert first.tags == {"checked": "yes"} and first.description == "first"
    assert sorted(v.version for v in mlflow_client.search_model_versions(f"name = '{name}'")) == ["1", "2"]
    assert [m.name for m in mlflow_client.search_registered_models(f"name LIKE '{name[:12]}%'")] == [name]

    mlflow_client.delete_model_version(name, "2")
    assert _arm(workspace, "GET", f"models/{name}/versions/2").status_code == 404
    mlflow_client.delete_registered_model(name)
    assert _arm(workspace, "GET", f"models/{name}").status_code == 404


def test_a_model_registered_through_arm_is_seen_by_mlflow(
    mlflow_client: MlflowClient, workspace: WorkspaceInfo
) -> None:
    name = unique("armmodel")
    body = {"properties": {"modelType": "custom_model", "modelUri": "file:///tmp/model", "tags": {"t": "1"}}}
    assert _arm(workspace, "PUT", f"models/{name}/versions/3", json=body).status_code == 201
    model = mlflow_client.get_registered_model(name)
    assert [v.version for v in model.latest_versions] == ["3"]
    assert mlflow_client.get_model_version(name, "3").tags == {"t": "1"}
    assert mlflow_client.get_model_version_download_uri(name, "3") == "file:///tmp/model"


def test_registry_errors(mlflow_client: MlflowClient) -> None:
    name = unique("errs")
    mlflow_client.create_registered_model(name, tags={"a": "b"}, description="d")
    with pytest.raises(MlflowException) as exc:
        mlflow_client.create_registered_model(name)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as exc:
        mlflow_client.get_model_version(name, "9")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        mlflow_client.create_registered_model("bad name!")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        mlflow_client.rename_registered_model(name, name + "-new")
    assert "cannot be renamed" in exc.value.message
