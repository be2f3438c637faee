"""A sweep job by the official SDK (``command(...).sweep(...)``) against a local workspace serving
HTTPS: it runs to completion, its trials are listed as its children, and the best trial is named
in its properties and readable as a command job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.sdk import record_calls, run_sdk_script

from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo

PREFIX = "sdk-sweeps"

CALLS = [
    "jobs.create_or_update(sweep)",
    "jobs.get(sweep ended)",
    "jobs.get(sweep)",
    "jobs.list(parent_job_name=sweep)",
    "jobs.get(best trial)",
]


def test_sweep_job_flow(
    workspace: WorkspaceInfo, sdk_interpreter: Path, sdk_arguments: dict[str, Any], client: RestClient
) -> None:
    run = run_sdk_script(workspace, "sweeps.py", {**sdk_arguments, "prefix": PREFIX})
    record_calls("sweeps", run)
    assert run.status == 0 and run.done and not run.failed, run.explain()
    assert run.passed == CALLS, run.explain()
    name = run.result("jobs.create_or_update(sweep)")["name"]
    assert run.result("jobs.create_or_update(sweep)") == {
        "name": name,
        "type": "sweep",
        "status": "NotStarted",
    }
    sweep = run.result("jobs.get(sweep)")
    assert sweep == {
        "type": "sweep",
        "search_space": ["layers", "lr"],
        "goal": "maximize",
        "metric": "score",
        "max_total_trials": 4,
        "policy": "BanditPolicy",
        "best": sweep["best"],
    }
    children = run.result("jobs.list(parent_job_name=sweep)")
    assert [child[0] for child in children] == [f"{name}_{i}" for i in range(4)]
    assert sweep["best"] in [child[0] for child in children]
    best = run.result("jobs.get(best trial)")
    assert best["type"] == "command" and best["status"] == "Completed"
    assert best["command"].startswith("python train.py --lr 0.") and "${{" not in best["command"]

    # the workspace's own view: the best trial has the highest last score among completed trials
    props = client.get(client.paths.job(name))["properties"]
    assert props["status"] == "Completed" and props["properties"]["best_child_run_id"] == sweep["best"]
