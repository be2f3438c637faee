"""examples/sweep-and-deploy.ipynb runs top to bottom with papermill against the local workspace:
blue from a baseline job, a seeded random sweep with a bandit policy, the best trial registered
and rolled out as green behind a gate."""

from __future__ import annotations

from pathlib import Path

from support.recipes import EXAMPLES, admin_token, assert_no_secrets

import jupyter_mlep
from jupyter_mlep.recipes import run_recipe
from jupyter_mlep.workspace import WorkspaceInfo


def test_sweep_and_deploy_rolls_out_the_best_trial(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    result = run_recipe(EXAMPLES / "sweep-and-deploy.ipynb", {"epochs": 5, "trials": 4}, output_dir=tmp_path)
    assert result.ok, result.summary()
    sweep, endpoint = f"sweep_{result.run_id}", f"sweep-deploy-{result.run_id}"
    [swept] = result.of_kind("sweep")
    assert swept["name"] == sweep and swept["status"] == "Completed" and swept["metric"] == "r2"
    assert [trial["name"] for trial in swept["trials"]] == [f"{sweep}_{i}" for i in range(4)]
    assert swept["best"] in [trial["name"] for trial in swept["trials"] if trial["status"] == "Completed"]
    assert all(set(trial["parameters"]) == {"alpha", "eta0"} for trial in swept["trials"])
    for trial in swept["trials"]:  # a stopped trial says why
        assert (trial["status"] == "Canceled") == trial["reason"].startswith("Stopped by the bandit policy")
    _blue, green = result.of_kind("model")
    assert green["job"] == swept["best"] and green["name"] == f"diabetes-green-{result.run_id}"
    [rollout] = result.of_kind("rollout")
    assert rollout["succeeded"] and rollout["traffic"]["green"] == 100
    [invoke] = result.of_kind("invoke")
    assert invoke["status"] == 200 and invoke["deployment"] == "green"
    with jupyter_mlep.connect() as client:
        assert endpoint not in {item.name for item in jupyter_mlep.list_endpoints(client)}
    assert_no_secrets(result, admin_token(Path(workspace.home)))
    assert f"sweep {sweep}: Completed, 4 trial(s), " in result.summary()
    assert f"; best {swept['best']} (r2 " in result.summary()
