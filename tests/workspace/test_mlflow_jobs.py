"""The jobs' side of the tracking server: a run created with the job's name as its id
(``start_job_run``), a job's process logging through the environment ``tracking_env`` gives it
(an unmodified script in a subprocess), the job token's scope, and ``end_job_run``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow import MlflowClient
from support.tracking import call, mlflow_env, open_workspace, tracking_uri
from support.waiting import unique

from jupyter_mlep.workspace import WorkspaceInfo
from jupyter_mlep.workspace.tracking import end_job_run, start_job_run, tracking_env

SCRIPT = textwrap.dedent(
    """
    import mlflow

    with mlflow.start_run() as run:          # the job's run, from MLFLOW_RUN_ID
        mlflow.log_param("epochs", 3)
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_text("trained", "outputs/note.txt")
        mlflow.set_tag("by", "script")
    print("RUN", run.info.run_id, run.info.experiment_id)
    """
)


def test_a_job_run_has_the_job_name_as_id(workspace: WorkspaceInfo) -> None:
    job, experiment = unique("job"), unique("training")
    with open_workspace(workspace) as ws:
        asyncio.run(
            start_job_run(ws, run_id=job, experiment=experiment, run_name="tidy-job", tags={"k": "v"})
        )
    with mlflow_env(tracking_uri(workspace), workspace.token):
        run = mlflow.get_run(job)
        assert run.info.run_id == job and run.info.status == "RUNNING" and run.info.run_name == "tidy-job"
        assert run.data.tags["k"] == "v" and run.data.tags["mlflow.runName"] == "tidy-job"
        found = MlflowClient().get_experiment_by_name(experiment)
        assert found is not None and run.info.experiment_id == found.experiment_id
        assert run.info.artifact_uri == f"mlflow-artifacts:/ExperimentRun/dcid.{job}"
    with open_workspace(workspace) as ws:  # started again (the same job): running again, tags merged
        asyncio.run(
            start_job_run(ws, run_id=job, experiment=experiment, run_name="tidy-job", tags={"n": "2"})
        )
        asyncio.run(end_job_run(ws, job, "KILLED"))
        with pytest.raises(ValueError, match="FINISHED, FAILED or KILLED"):
            asyncio.run(end_job_run(ws, job, "DONE"))
    with mlflow_env(tracking_uri(workspace), workspace.token):
        run = mlflow.get_run(job)
        assert run.info.status == "KILLED" and run.info.end_time is not None
        assert run.data.tags["k"] == "v" and run.data.tags["n"] == "2"


def test_a_job_process_logs_through_its_environment(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    job, experiment = unique("job"), unique("training")
    with open_workspace(workspace) as ws:
        asyncio.run(start_job_run(ws, run_id=job, experiment=experiment, run_name=job, tags={}))
        env = tracking_env(ws, job, experiment)
    assert env["MLFLOW_TRACKING_URI"] == tracking_uri(workspace)
    assert env["MLFLOW_RUN_ID"] == job and env["MLFLOW_EXPERIMENT_NAME"] == experiment
    assert env["MLFLOW_TRACKING_TOKEN"] != workspace.token
    assert env["AZUREML_RUN_ID"] == job and env["AZUREML_ARM_PROJECT_NAME"] == experiment

    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**base, **env, "MLFLOW_DISABLE_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"RUN {job} {env['MLFLOW_EXPERIMENT_ID']}" in done.stdout

    with open_workspace(workspace) as ws:
        asyncio.run(end_job_run(ws, job, "FINISHED"))
    with mlflow_env(tracking_uri(workspace), workspace.token):
        client = MlflowClient()
        run = client.get_run(job)
        assert run.info.status == "FINISHED"  # the job's end, not the script's
        assert run.data.params == {"epochs": "3"} and run.data.tags["by"] == "script"
        assert [(m.step, m.value) for m in client.get_metric_history(job, "loss")] == [
            (0, 1.0),
            (1, 0.5),
            (2, pytest.approx(1 / 3)),
        ]
        assert mlflow.artifacts.load_text(f"runs:/{job}/outputs/note.txt") == "trained"
        assert job in [
            r.info.run_id for r in mlflow.search_runs(experiment_names=[experiment], output_format="list")
        ]


def test_the_job_token_opens_the_mlflow_routes_only_until_the_job_ends(workspace: WorkspaceInfo) -> None:
    job, experiment = unique("job"), unique("training")
    with open_workspace(workspace) as ws:
        asyncio.run(start_job_run(ws, run_id=job, experiment=experiment, run_name=job, tags={}))
        token = tracking_env(ws, job, experiment)["MLFLOW_TRACKING_TOKEN"]
    assert (
        call(workspace, "GET", "/api/2.0/mlflow/runs/get", token=token, params={"run_id": job}).status_code
        == 200
    )
    answer = call(
        workspace,
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        token=token,
        json={"run_id": job, "key": "m", "value": 1},
    )
    assert answer.status_code == 200

    bearer = {"Authorization": f"Bearer {token}"}
    arm = httpx.get(
        f"{workspace.base_url}{workspace.workspace_path}",
        params={"api-version": "2026-07-01"},
        headers=bearer,
    )
    assert arm.status_code == 401
    admin = httpx.get(f"{workspace.base_url}/mlep/v1/info", headers=bearer)
    assert admin.status_code == 401
    blob = httpx.get(
        f"{workspace.base_url}/mlepstore/azureml-blobstore/ExperimentRun/dcid.{job}/x.txt",
        headers={**bearer, "x-ms-version": "2024-11-04"},
    )
    assert blob.status_code == 403

    with open_workspace(workspace) as ws:
        asyncio.run(end_job_run(ws, job, "FAILED"))
    answer = call(workspace, "GET", "/api/2.0/mlflow/runs/get", token=token, params={"run_id": job})
    assert answer.status_code == 401 and answer.json()["error_code"] == "UNAUTHENTICATED"
    answer = call(workspace, "GET", "/api/2.0/mlflow/runs/get", params={"run_id": job})
    assert answer.json()["run"]["info"]["status"] == "FAILED"
