"""examples/batch-scoring.ipynb runs top to bottom with papermill against the local workspace: a
dry run in the kernel, a folder of CSV files scored by a scoring script and by an MLflow model with
no code, the corrupt file's failure counted and named, and everything cleaned up."""

from __future__ import annotations

from pathlib import Path

from support.recipes import EXAMPLES, admin_token, assert_no_secrets

import jupyter_mlep
from jupyter_mlep.recipes import run_recipe
from jupyter_mlep.workspace import WorkspaceInfo


def test_batch_scoring_scores_a_folder_twice_and_cleans_up(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    result = run_recipe(EXAMPLES / "batch-scoring.ipynb", {"target": "local"}, output_dir=tmp_path)
    assert result.ok, result.summary()
    endpoint = f"batch-{result.run_id}"
    [dry] = result.of_kind("batch-dry-run")
    assert dry["rows"] == 75 and len(dry["files"]) == 3
    script, no_code = result.of_kind("batch-job")
    assert (script["status"], script["deployment"], script["endpoint"]) == ("Completed", "script", endpoint)
    assert script["mini_batches"] == {"total": 3, "done": 2, "failed": 1, "running": 0}
    assert script["output"] and script["output"].endswith("predictions.csv")
    assert (no_code["deployment"], no_code["items"]) == ("mlflow", {"succeeded": 8, "failed": 1})
    assert [error["file"] for error in no_code["errors"]] == ["patients-99-corrupt.csv"]
    [jobs] = result.of_kind("batch-jobs")
    assert {job["name"] for job in jobs["jobs"]} >= {script["name"], no_code["name"]}
    with jupyter_mlep.connect() as client:
        assert endpoint not in {
            e.name for e in jupyter_mlep.operations.list_batch_endpoints(client).endpoints
        }
    assert_no_secrets(result, admin_token(Path(workspace.home)))
