"""Every notebook in examples/ runs top to bottom with papermill against the local workspace.

Assertions read the machine-readable status outputs the run left (never log text), and every
output notebook is scanned for the workspace's admin token and the endpoints' keys.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.recipes import EXAMPLES, admin_token, assert_no_secrets
from support.samples import close_to

import jupyter_mlep
from jupyter_mlep.recipes import RecipeResult, run_recipe
from jupyter_mlep.workspace import WorkspaceInfo

EXPECTED_MODEL_1 = [11055.977245525679, 4503.079536107787]  # model-1 on the sample request


def _run(name: str, runs: Path, **parameters: object) -> RecipeResult:
    result = run_recipe(EXAMPLES / name, parameters, output_dir=runs)
    assert result.ok, result.summary()
    assert result.output.is_file() and result.output.parent == runs
    return result


def _endpoints(info: WorkspaceInfo) -> set[str]:
    with jupyter_mlep.connect() as client:
        return {item.name for item in jupyter_mlep.list_endpoints(client)}


def test_quickstart_deploys_scores_and_cleans_up(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    result = _run("quickstart.ipynb", tmp_path, target="local")
    endpoint = f"quickstart-{result.run_id}"
    [deploy] = result.of_kind("deploy")
    assert deploy["endpoint"] == endpoint and deploy["deployment"]["name"] == "blue"
    assert deploy["traffic"] == {"blue": 100}
    [invoke] = result.of_kind("invoke")
    assert invoke["status"] == 200 and invoke["deployment"] == "blue" and len(invoke["body"]) == 2
    assert result.of_kind("logs"), "the logs cell left no status output"
    assert endpoint not in _endpoints(workspace)  # the clean-up cell ran
    assert_no_secrets(result, admin_token(Path(workspace.home)))
    assert "Recipe quickstart.ipynb" in result.summary() and "invoke: 200 from blue" in result.summary()


def test_from_cli_yaml_deploys_the_azureml_examples_sample(
    workspace: WorkspaceInfo, tmp_path: Path, azureml_examples: Path
) -> None:
    sample = azureml_examples / "cli" / "endpoints" / "online" / "managed" / "sample"
    result = _run("from-cli-yaml.ipynb", tmp_path, sample_dir=str(sample))
    endpoint = f"cli-yaml-{result.run_id}"
    [created] = result.of_kind("endpoint")[:1]
    assert created["name"] == endpoint and created["auth_mode"] == "key"
    blue, green = result.of_kind("deploy")
    assert (blue["deployment"]["name"], blue["traffic"]) == ("blue", {"blue": 100})
    assert green["deployment"]["name"] == "green"
    # the registered assets, by reference (as ARM ids)
    assert green["deployment"]["model"].endswith(f"/models/my-model-{result.run_id}/versions/1")
    assert green["deployment"]["environment"].endswith(f"/environments/my-env-{result.run_id}/versions/1")
    first, second = result.of_kind("invoke")
    assert close_to(first["body"], EXPECTED_MODEL_1) and close_to(second["body"], EXPECTED_MODEL_1)
    assert second["deployment"] == "green"
    assert endpoint not in _endpoints(workspace)
    assert_no_secrets(result, admin_token(Path(workspace.home)))


def test_from_cli_yaml_writes_its_own_sample_without_sample_dir(
    workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    result = _run("from-cli-yaml.ipynb", tmp_path)
    assert [d["deployment"]["name"] for d in result.of_kind("deploy")] == ["blue", "green"]
    first, second = result.of_kind("invoke")
    assert first["status"] == second["status"] == 200 and first["body"] == second["body"]
    assert (
        result.workdir / f"cli-yaml-{result.run_id}" / "cli" / "endpoints" / "online" / "managed"
    ).is_dir()


@pytest.mark.parametrize("break_green", [False, True], ids=["good-green", "broken-green"])
def test_blue_green_rolls_out_or_back(workspace: WorkspaceInfo, tmp_path: Path, break_green: bool) -> None:
    result = _run("blue-green.ipynb", tmp_path, break_green=break_green, interval="2s")
    [rollout] = result.of_kind("rollout")
    traffic = result.of_kind("traffic")[-1]
    live = {name: share for name, share in traffic["traffic"].items() if share}
    if break_green:
        assert rollout["outcome"] == "failed" and rollout["rolled_back"] is True
        assert rollout["steps"][0]["state"] == "failed"  # the mirror step caught it
        assert rollout["traffic"] == {"blue": 100, "green": 0} or rollout["traffic"] == {"blue": 100}
        assert live == {"blue": 100}
    else:
        assert rollout["outcome"] == "succeeded" and rollout["rolled_back"] is False
        assert [step["state"] for step in rollout["steps"]] == ["passed"] * len(rollout["steps"])
        assert live == {"green": 100}
    assert f"blue-green-{result.run_id}" not in _endpoints(workspace)


def test_scheduled_redeploy_bootstraps_then_rolls_out_and_retires(
    workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    endpoint = f"sched-{uuid.uuid4().hex[:6]}"
    try:
        first = _run("scheduled-redeploy.ipynb", tmp_path, endpoint=endpoint, interval="1s", steps="50,100")
        [deploy] = first.of_kind("deploy")
        assert deploy["traffic"] == {f"d-{first.run_id}": 100} and not first.of_kind("rollout")

        second = _run("scheduled-redeploy.ipynb", tmp_path, endpoint=endpoint, interval="1s", steps="50,100")
        new = f"d-{second.run_id}"
        [rollout] = second.of_kind("rollout")
        assert rollout["deployment"] == new and rollout["outcome"] == "succeeded"
        assert second.of_kind("traffic")[-1]["traffic"] == {new: 100}
        with jupyter_mlep.connect() as client:
            assert [d.name for d in jupyter_mlep.list_deployments(client, endpoint)] == [new]
            keys = jupyter_mlep.get_keys(client, endpoint)
        secrets = [admin_token(Path(workspace.home)), keys.primary_key, keys.secondary_key]
        for result in (first, second):
            assert_no_secrets(result, *[s for s in secrets if s])
    finally:
        with jupyter_mlep.connect() as client:
            jupyter_mlep.delete_endpoint(client, endpoint)


def test_train_and_deploy_trains_in_a_job_and_deploys_its_model(
    workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    result = _run("train-and-deploy.ipynb", tmp_path, epochs=5)
    job, endpoint = f"train_{result.run_id}", f"train-deploy-{result.run_id}"
    [trained] = result.of_kind("job")
    assert trained["name"] == job and trained["status"] == "Completed"
    assert trained["outputs"]["model"]["uri"].endswith(f"/paths/azureml/{job}/model/")
    [metrics] = result.of_kind("job-metrics")
    assert metrics["name"] == job and metrics["params"]["epochs"] == "5"
    assert [point["step"] for point in metrics["metrics"]["test_mse"]] == [0, 1, 2, 3, 4]
    [model] = result.of_kind("model")
    assert (model["name"], model["version"]) == (f"diabetes-{result.run_id}", "1")
    assert model["path"] == f"azureml://jobs/{job}/outputs/model"
    [deploy] = result.of_kind("deploy")
    assert deploy["traffic"] == {"blue": 100}
    assert deploy["deployment"]["model"].endswith(f"/models/diabetes-{result.run_id}/versions/1")
    [invoke] = result.of_kind("invoke")
    assert invoke["status"] == 200 and len(invoke["body"]) == 2
    assert endpoint not in _endpoints(workspace)  # the clean-up cell ran
    assert_no_secrets(result, admin_token(Path(workspace.home)))
    summary = result.summary()
    assert f"job {job}: Completed in" in summary and f"metrics of job {job}: " in summary
    assert f"model azureml:diabetes-{result.run_id}:1 (custom_model) from job {job}" in summary


def test_score_script_example_catches_the_broken_script_and_tests_the_good_one(
    tmp_path: Path, model_1: Path
) -> None:
    result = run_recipe(
        EXAMPLES / "score-script.ipynb",
        {"model_dir": str(model_1), "workdir": str(tmp_path / "scripts")},
        output_dir=tmp_path,
    )
    assert result.ok, result.summary()
    text = result.output.read_text()
    assert "Caught before deployment" in text and "4 checks passed" in text
    assert (tmp_path / "scripts" / "score.py").is_file()
