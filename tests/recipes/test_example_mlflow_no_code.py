"""examples/mlflow-no-code.ipynb runs top to bottom with papermill against the local workspace:
a %%job trains with MLflow, its output is registered as an MLflow model, deployed with no scoring
script and no environment, scored with a DataFrame, and cleaned up."""

from __future__ import annotations

from pathlib import Path

from support.recipes import EXAMPLES, admin_token, assert_no_secrets

import jupyter_mlep
from jupyter_mlep.recipes import run_recipe
from jupyter_mlep.workspace import WorkspaceInfo


def test_mlflow_no_code_trains_registers_deploys_and_scores(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    result = run_recipe(EXAMPLES / "mlflow-no-code.ipynb", {"target": "local"}, output_dir=tmp_path)
    assert result.ok, result.summary()
    endpoint = f"mlflow-{result.run_id}"
    deploy, green = result.of_kind("deploy")
    assert deploy["endpoint"] == endpoint and deploy["traffic"] == {"blue": 100}
    assert "code_configuration" not in deploy["deployment"] and "environment" not in deploy["deployment"]
    assert deploy["deployment"]["model"].endswith(f"/models/iris-{result.run_id}/versions/1")
    assert green["deployment"]["name"] == "green"  # deployed from azureml://jobs/<job>/outputs/model
    assert "code_configuration" not in green["deployment"]
    invoke, from_output = result.of_kind("invoke")
    assert invoke["status"] == 200 and invoke["body"] == [0, 1, 2]
    assert from_output["deployment"] == "green" and from_output["body"] == [0, 1, 2]
    with jupyter_mlep.connect() as client:
        assert endpoint not in {item.name for item in jupyter_mlep.list_endpoints(client)}
    assert_no_secrets(result, admin_token(Path(workspace.home)))
