"""The workspace as an MLflow tracking server, driven by the unmodified MLflow client (mlflow-skinny)
in this process: experiments, runs, params, metrics, tags, log_batch, search, artifacts, logged
models, and MLflow's error answers over raw HTTP."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException
from support.tracking import call, mlflow_env, tracking_uri
from support.waiting import unique

from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture
def mlflow_client(workspace: WorkspaceInfo) -> Iterator[MlflowClient]:
    """MLflow's client of the workspace, with the admin token (as a notebook user sets it up)."""
    with mlflow_env(tracking_uri(workspace), workspace.token):
        yield MlflowClient()


def test_the_workspace_resource_names_the_tracking_uri(workspace: WorkspaceInfo) -> None:
    answer = httpx.get(
        f"{workspace.base_url}{workspace.workspace_path}",
        params={"api-version": "2026-07-01"},
        headers={"Authorization": f"Bearer {workspace.token}"},
    )
    assert answer.json()["properties"]["mlFlowTrackingUri"] == tracking_uri(workspace)


def test_experiments_create_get_search_rename_delete_restore(mlflow_client: MlflowClient) -> None:
    name = unique("exp")
    experiment_id = mlflow_client.create_experiment(name, tags={"team": "vision"})
    got = mlflow_client.get_experiment(experiment_id)
    assert (got.name, got.lifecycle_stage, got.tags["team"]) == (name, "active", "vision")
    assert got.artifact_location.startswith("mlflow-artifacts:")
    assert mlflow_client.get_experiment_by_name(name).experiment_id == experiment_id
    assert mlflow_client.get_experiment_by_name(unique("missing")) is None
    with pytest.raises(MlflowException) as exc:
        mlflow_client.create_experiment(name)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"

    found = mlflow_client.search_experiments(
        filter_string=f"name LIKE '{name[:8]}%' AND tags.team = 'vision'"
    )
    assert experiment_id in [e.experiment_id for e in found]
    mlflow_client.set_experiment_tag(experiment_id, "stage", "dev")
    assert mlflow_client.get_experiment(experiment_id).tags == {"team": "vision", "stage": "dev"}

    renamed = unique("renamed")
    mlflow_client.rename_experiment(experiment_id, renamed)
    assert mlflow_client.get_experiment(experiment_id).name == renamed
    mlflow_client.delete_experiment(experiment_id)
    assert mlflow_client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    active = [e.experiment_id for e in mlflow_client.search_experiments()]
    deleted = [e.experiment_id for e in mlflow_client.search_experiments(view_type=ViewType.DELETED_ONLY)]
    assert experiment_id not in active and experiment_id in deleted
    mlflow_client.restore_experiment(experiment_id)
    assert mlflow_client.get_experiment(experiment_id).lifecycle_stage == "active"

    with pytest.raises(MlflowException) as exc:
        mlflow_client.get_experiment("987654321")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_runs_params_metrics_with_steps_and_tags(mlflow_client: MlflowClient) -> None:
    experiment_id = mlflow_client.create_experiment(unique("runs"))
    run = mlflow_client.create_run(experiment_id, run_name="first", tags={"team": "a"})
    run_id = run.info.run_id
    assert (run.info.status, run.info.run_name, run.data.tags["mlflow.runName"]) == (
        "RUNNING",
        "first",
        "first",
    )

    mlflow_client.log_param(run_id, "alpha", "0.5")
    mlflow_client.log_param(run_id, "alpha", "0.5")  # the same value again is fine
    with pytest.raises(MlflowException) as exc:
        mlflow_client.log_param(run_id, "alpha", "0.7")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    for step, loss in enumerate([0.9, 0.5, 0.3, 0.2]):
        mlflow_client.log_metric(run_id, "loss", loss, step=step, timestamp=1_700_000_000_000 + step)
    mlflow_client.log_metric(
        run_id, "loss", 0.25, step=1, timestamp=1_700_000_000_100
    )  # an older step, later
    mlflow_client.set_tag(run_id, "phase", "train")
    mlflow_client.set_tag(run_id, "drop", "me")
    mlflow_client.delete_tag(run_id, "drop")

    got = mlflow_client.get_run(run_id)
    assert got.data.params == {"alpha": "0.5"}
    assert got.data.metrics == {"loss": 0.2}  # the value of the highest step
    assert got.data.tags["phase"] == "train" and "drop" not in got.data.tags
    history = mlflow_client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.5), (1, 0.25), (2, 0.3), (3, 0.2)]

    mlflow_client.set_terminated(run_id, "FINISHED")
    ended = mlflow_client.get_run(run_id).info
    assert ended.status == "FINISHED" and ended.end_time >= ended.start_time
    mlflow_client.update_run(run_id, name="renamed")
    assert mlflow_client.get_run(run_id).info.run_name == "renamed"
    assert mlflow_client.get_run(run_id).data.tags["mlflow.runName"] == "renamed"

    mlflow_client.delete_run(run_id)
    assert mlflow_client.get_run(run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(MlflowException):
        mlflow_client.log_metric(run_id, "loss", 0.1)
    mlflow_client.restore_run(run_id)
    assert mlflow_client.get_run(run_id).info.lifecycle_stage == "active"
    with pytest.raises(MlflowException) as exc:
        mlflow_client.get_run("0" * 32)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_fluent_api_and_log_batch(mlflow_client: MlflowClient) -> None:
    mlflow.set_experiment(unique("fluent"))
    with mlflow.start_run(run_name="batch") as run:
        mlflow.log_params({"lr": 0.01, "epochs": 3})
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=1)
        mlflow.set_tags({"kind": "smoke"})
    now = int(time.time() * 1000)
    metrics = [Metric("curve", float(i) / 10, now + i, i) for i in range(1000)]
    mlflow_client.log_batch(
        run.info.run_id,
        metrics=metrics,
        params=[Param("batch", "yes")],
        tags=[RunTag("batched", "true")],
    )
    mlflow_client.log_batch(
        run.info.run_id, metrics=[Metric("odd", math.nan, now, 0), Metric("odd", math.inf, now, 1)]
    )
    got = mlflow_client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"lr": "0.01", "epochs": "3", "batch": "yes"}
    assert got.data.metrics["curve"] == pytest.approx(99.9) and got.data.metrics["acc"] == 0.9
    assert got.data.tags["kind"] == "smoke" and got.data.tags["batched"] == "true"
    history = mlflow_client.get_metric_history(run.info.run_id, "curve")
    assert [m.step for m in history] == list(range(1000))
    odd = mlflow_client.get_metric_history(run.info.run_id, "odd")
    assert math.isnan(odd[0].value) and odd[1].value == math.inf


def test_search_runs_filters_order_and_pages(mlflow_client: MlflowClient) -> None:
    experiment_id = mlflow_client.create_experiment(unique("search"))
    specs = [("ridge", 0.7, "a", 10), ("lasso", 0.9, "b", 30), ("ridge", 0.8, "b", 20)]
    ids = []
    for model, acc, team, start in specs:
        run = mlflow_client.create_run(
            experiment_id, start_time=1_700_000_000_000 + start, tags={"team": team}
        )
        mlflow_client.log_param(run.info.run_id, "model", model)
        mlflow_client.log_metric(run.info.run_id, "acc", acc)
        ids.append(run.info.run_id)
    mlflow_client.set_terminated(ids[1], "FINISHED")

    def names(filter_string: str = "", order_by: list[str] | None = None) -> list[str]:
        runs = mlflow_client.search_runs([experiment_id], filter_string, order_by=order_by)
        return [ids.index(r.info.run_id) for r in runs]

    assert names() == [1, 2, 0]  # newest first
    assert names("metrics.acc > 0.75") == [1, 2]
    assert names("metrics.acc >= 0.7 AND params.model = 'ridge'") == [2, 0]
    assert names("params.`model` != 'ridge' and tags.team = 'b'") == [1]
    assert names("tags.team LIKE 'B%'") == [] and names("tags.team ILIKE 'B%'") == [1, 2]
    assert names("attributes.status = 'FINISHED'") == [1]
    assert names("attributes.status IN ('RUNNING', 'KILLED')") == [2, 0]
    assert names(f"attributes.run_id = '{ids[0]}'") == [0]
    assert names("params.missing IS NULL and metrics.acc < 0.8") == [0]
    assert names(order_by=["metrics.acc DESC"]) == [1, 2, 0]
    assert names(order_by=["params.model ASC", "metrics.acc"]) == [1, 0, 2]
    assert names(order_by=["attributes.start_time ASC"]) == [0, 2, 1]

    first = mlflow_client.search_runs([experiment_id], max_results=2, order_by=["metrics.acc"])
    second = mlflow_client.search_runs(
        [experiment_id], max_results=2, order_by=["metrics.acc"], page_token=first.token
    )
    assert [ids.index(r.info.run_id) for r in [*first, *second]] == [0, 2, 1] and not second.token

    frame = mlflow.search_runs([experiment_id], filter_string="metrics.acc > 0.75")
    assert sorted(frame["params.model"]) == ["lasso", "ridge"]

    with pytest.raises(MlflowException) as exc:
        mlflow_client.search_runs([experiment_id], "metrics.acc > 'high'")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException):
        mlflow_client.search_runs([experiment_id], "metrics.acc > 1 OR metrics.acc < 0")


def test_nan_values_sort_after_numbers_and_runs_lacking_the_metric_last(mlflow_client: MlflowClient) -> None:
    experiment_id = mlflow_client.create_experiment(unique("nan-order"))
    values = [1.0, math.nan, None, 3.0]
    ids = []
    for value in values:
        run_id = mlflow_client.create_run(experiment_id).info.run_id
        if value is not None:
            mlflow_client.log_metric(run_id, "m", value)
        ids.append(run_id)
    for order, expected in (("DESC", [3, 0, 1, 2]), ("ASC", [0, 3, 1, 2])):
        runs = mlflow_client.search_runs([experiment_id], order_by=[f"metrics.m {order}"])
        assert [ids.index(r.info.run_id) for r in runs] == expected


def test_artifacts_are_blobs_of_the_workspace(
    mlflow_client: MlflowClient, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    experiment_id = mlflow_client.create_experiment(unique("artifacts"))
    run_id = mlflow_client.create_run(experiment_id).info.run_id
    (tmp_path / "notes.txt").write_text("hello")
    folder = tmp_path / "plots"
    (folder / "inner").mkdir(parents=True)
    (folder / "a.csv").write_text("x,y\n1,2\n")
    (folder / "inner" / "b.bin").write_bytes(bytes(range(256)) * 8)
    mlflow_client.log_artifact(run_id, str(tmp_path / "notes.txt"))
    mlflow_client.log_artifacts(run_id, str(folder), artifact_path="plots")
    mlflow_client.log_dict(run_id, {"k": 1}, "config/params.json")

    top = mlflow_client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [("config", True), ("notes.txt", False), ("plots", True)]
    assert [(f.path, f.file_size) for f in mlflow_client.list_artifacts(run_id, "plots/inner")] == [
        ("plots/inner/b.bin", 2048)
    ]

    target = tmp_path / "down"
    target.mkdir()
    local = Path(mlflow_client.download_artifacts(run_id, "", str(target)))
    assert (local / "notes.txt").read_text() == "hello"
    assert (local / "plots" / "inner" / "b.bin").read_bytes() == bytes(range(256)) * 8
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/params.json") == {"k": 1}

    blob = httpx.get(
        f"{workspace.base_url}/mlepstore/azureml-blobstore/ExperimentRun/dcid.{run_id}/notes.txt",
        headers={"Authorization": f"Bearer {workspace.token}", "x-ms-version": "2024-11-04"},
    )
    assert blob.status_code == 200 and blob.text == "hello"

    listed = call(
        workspace, "GET", "/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "plots"}
    )
    assert listed.json() == {
        "root_uri": f"mlflow-artifacts:/ExperimentRun/dcid.{run_id}",
        "files": [
            {"path": "plots/a.csv", "is_dir": False, "file_size": 8},
            {"path": "plots/inner", "is_dir": True},
        ],
    }
    mlflow_client.delete_run(run_id)  # artifacts stay with a deleted (restorable) run
    assert [f.path for f in mlflow_client.list_artifacts(run_id, "config")] == ["config/params.json"]

    answer = call(workspace, "GET", "/api/2.0/mlflow-artifacts/artifacts/ExperimentRun/missing/file.txt")
    assert answer.status_code == 404 and answer.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    answer = call(
        workspace,
        "PUT",
        "/api/2.0/mlflow-artifacts/artifacts/ExperimentRun/%2E%2E/%2E%2E/escape.txt",
        content=b"x",
    )
    assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_sklearn_log_model_then_load_it_back(mlflow_client: MlflowClient, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    features = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    labels = np.array([0, 0, 0, 1, 1, 1])
    mlflow.set_experiment(unique("models"))
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(LogisticRegression().fit(features, labels), name="model")
    assert info.model_id and info.model_uri == f"models:/{info.model_id}"
    logged = mlflow_client.get_logged_model(info.model_id)
    assert logged.status == "READY" and logged.source_run_id == run.info.run_id
    assert [o.model_id for o in mlflow_client.get_run(run.info.run_id).outputs.model_outputs] == [
        info.model_id
    ]

    local = mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri, dst_path=str(tmp_path))
    assert (Path(local) / "MLmodel").is_file()
    loaded = mlflow.pyfunc.load_model(local)
    assert list(loaded.predict(features)) == [0, 0, 0, 1, 1, 1]
    assert list(mlflow.pyfunc.load_model(info.model_uri).predict(features)) == [0, 0, 0, 1, 1, 1]
    found = mlflow_client.search_logged_models(
        [logged.experiment_id], filter_string=f"name = '{logged.name}'"
    )
    assert [m.model_id for m in found] == [info.model_id]
    mlflow_client.set_logged_model_tags(info.model_id, {"stage": "candidate"})
    assert mlflow_client.get_logged_model(info.model_id).tags["stage"] == "candidate"
    files = mlflow_client.list_logged_model_artifacts(info.model_id)
    assert "MLmodel" in [f.path for f in files]


def test_autolog_records_params_metrics_dataset_and_model(mlflow_client: MlflowClient) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    features = rng.random((40, 3))
    labels = (features[:, 0] > 0.5).astype(int)
    mlflow.set_experiment(unique("autolog"))
    mlflow.sklearn.autolog(log_models=True)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(C=0.5).fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = mlflow_client.get_run(run.info.run_id)
    assert got.data.params["C"] == "0.5"
    assert 0.0 <= got.data.metrics["training_accuracy_score"] <= 1.0
    assert [d.dataset.digest for d in got.inputs.dataset_inputs] and got.inputs.dataset_inputs[0].tags
    (output,) = got.outputs.model_outputs
    assert mlflow_client.get_logged_model(output.model_id).source_run_id == run.info.run_id


def test_mlflow_2_log_model_records_the_model_history(
    mlflow_client: MlflowClient, workspace: WorkspaceInfo
) -> None:
    run_id = mlflow_client.create_run(mlflow_client.create_experiment(unique("v2"))).info.run_id
    for path in ("model", "other"):
        model = {"artifact_path": path, "run_id": run_id, "flavors": {"python_function": {}}}
        answer = call(
            workspace,
            "POST",
            "/api/2.0/mlflow/runs/log-model",
            json={"run_id": run_id, "model_json": json.dumps(model)},
        )
        assert answer.status_code == 200
    history = json.loads(mlflow_client.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [m["artifact_path"] for m in history] == ["model", "other"]


def test_every_route_needs_a_token(workspace: WorkspaceInfo) -> None:
    for token in ("", "not-a-token"):
        answer = call(
            workspace, "GET", "/api/2.0/mlflow/experiments/get", token=token, params={"experiment_id": "0"}
        )
        assert answer.status_code == 401
        assert answer.json()["error_code"] == "UNAUTHENTICATED"
        assert "MLFLOW_TRACKING_TOKEN" in answer.json()["message"]
    answer = call(workspace, "GET", "/api/2.0/mlflow-artifacts/artifacts", token="", params={"path": ""})
    assert answer.status_code == 401
    answer = call(workspace, "GET", "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    assert answer.status_code == 200 and answer.json()["experiment"]["name"] == "Default"


def test_errors_are_mlflow_errors(workspace: WorkspaceInfo) -> None:
    answer = call(workspace, "GET", "/api/2.0/mlflow/runs/get", params={"run_id": "nope"})
    assert answer.status_code == 404
    assert answer.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run with id=nope not found"}
    answer = call(
        workspace, "POST", "/api/2.0/mlflow/runs/search", json={"experiment_ids": ["0"], "filter": "x y z"}
    )
    assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    answer = call(workspace, "POST", "/api/2.0/mlflow/experiments/create", json={})
    assert answer.status_code == 400 and "name" in answer.json()["message"]
    answer = call(workspace, "POST", "/api/2.0/mlflow/runs/log-metric", content=b"{not json")
    assert answer.status_code == 400 and answer.json()["error_code"] == "MALFORMED_REQUEST"
    answer = call(workspace, "GET", "/api/2.0/mlflow/no-such-thing")
    assert answer.status_code == 404 and answer.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    other = tracking_uri(workspace).replace("/workspaces/local", "/workspaces/other")
    answer = httpx.get(
        other + "/api/2.0/mlflow/experiments/get",
        params={"experiment_id": "0"},
        headers={"Authorization": f"Bearer {workspace.token}"},
    )
    assert answer.status_code == 404 and answer.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_metric_history_bulk_interval(mlflow_client: MlflowClient, workspace: WorkspaceInfo) -> None:
    experiment_id = mlflow_client.create_experiment(unique("bulk"))
    runs = [mlflow_client.create_run(experiment_id).info.run_id for _ in range(2)]
    for run_id in runs:
        mlflow_client.log_batch(
            run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000, s) for s in range(50)]
        )
    answer = call(
        workspace,
        "GET",
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={"run_ids": runs, "metric_key": "loss", "start_step": 10, "end_step": 40, "max_results": 5},
    )
    assert answer.status_code == 200
    metrics = answer.json()["metrics"]
    for run_id in runs:
        steps = [m["step"] for m in metrics if m["run_id"] == run_id]
        assert len(steps) == 5 and steps[0] == 10 and steps[-1] == 40
