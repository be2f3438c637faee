"""Batch endpoints by the official SDK against a local workspace serving HTTPS: endpoint and
deployment created (local code uploaded, an inline environment), the default set, invoked on a
datastore folder, the job followed and listed, the endpoint deleted; the job's output checked here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.sdk import record_calls, run_sdk_script

from jupyter_mlep.workspace import WorkspaceInfo

CALLS = [
    "datastores.get_default(include_secrets=True)",
    "storage.upload_blob(model and data)",
    "models.create_or_update",
    "compute.list",
    "batch_endpoints.begin_create_or_update",
    "batch_deployments.begin_create_or_update",
    "batch_endpoints.begin_create_or_update(defaults)",
    "batch_endpoints.invoke",
    "jobs.get(until done)",
    "jobs.get",
    "batch_endpoints.list_jobs",
    "batch_deployments.list",
    "batch_endpoints.begin_delete",
]


def test_batch_endpoint_flow(
    workspace: WorkspaceInfo, sdk_interpreter: Path, sdk_arguments: dict[str, Any]
) -> None:
    run = run_sdk_script(workspace, "batch_endpoints.py", {**sdk_arguments, "prefix": "sdk-batch"})
    record_calls("batch_endpoints", run)
    assert run.status == 0 and run.done and not run.failed, run.explain()
    assert run.passed == CALLS, run.explain()
    assert run.result("batch_deployments.begin_create_or_update") == {
        "state": "Succeeded",
        "mini_batch_size": 2,
    }
    job = run.result("jobs.get")
    assert job["outputs"] == ["score"] or "score" in job["outputs"]
    assert job["tags"]["azureml.batchrun"] == "true"
    assert run.result("batch_endpoints.list_jobs") == 1
