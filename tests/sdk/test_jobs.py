"""Command jobs by the official SDK against a local workspace serving HTTPS (the azureml-examples
single-step job notebooks): created with local code, a literal input and a data input by datastore
URI, followed with ``jobs.stream``, their outputs found as ``jobs.download`` finds them, their logs
read from run history, listed (with their children: none for a command job) and canceled. Each
call's effect is checked by the script and here, and the workspace's state through the project's
own client.

``jobs.download`` itself cannot fetch the files: after finding the outputs it addresses the storage
account by the SDK's cloud suffix, as uploads do (test_uploads); the script reads the same files
through the official storage client at the datastore path instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.sdk import record_calls, run_sdk_script

from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo

PREFIX = "sdk-jobs"

CALLS = [
    "datastores.get_default(include_secrets=True)",
    "storage.upload_blob(data folder)",
    "jobs.create_or_update(command, local code)",
    "jobs.get",
    "jobs.stream",
    "jobs.get(after stream)",
    "jobs.download: outputs resolved (run data, data plane)",
    "storage.download_blob(job output)",
    "run history: log files (the job's logs)",
    "jobs.list(parent_job_name)",
    "jobs.list",
    "jobs.create_or_update(long job)",
    "jobs.get(long job running)",
    "jobs.begin_cancel",
    "jobs.get(after cancel)",
]


def test_command_job_flow(
    workspace: WorkspaceInfo, sdk_interpreter: Path, sdk_arguments: dict[str, Any], client: RestClient
) -> None:
    run = run_sdk_script(workspace, "jobs.py", {**sdk_arguments, "prefix": PREFIX})
    record_calls("jobs", run)
    assert run.status == 0 and run.done and not run.failed, run.explain()
    assert run.passed == CALLS, run.explain()

    created = run.result("jobs.create_or_update(command, local code)")
    name = created["name"]
    assert created == {"name": name, "status": "NotStarted", "code": True, "type": "command"}
    assert run.result("jobs.get") == {
        "name": name,
        "experiment": PREFIX,
        "display_name": "sdk command job",
        "inputs": ["data", "greeting"],
        "outputs": ["result"],
    }
    assert run.result("jobs.stream") == {"log": True, "streamed": True, "summary": True}
    assert run.result("jobs.get(after stream)") == {"status": "Completed"}
    found = run.result("jobs.download: outputs resolved (run data, data plane)")
    assert found["result"] == f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/result/"
    assert run.result("storage.download_blob(job output)") == {"result.txt": "hello: 1 file(s)"}
    assert "user_logs/std_log.txt" in run.result("run history: log files (the job's logs)")
    assert run.result("jobs.list(parent_job_name)") == []
    assert name in run.result("jobs.list")
    assert run.result("jobs.get(long job running)") == {"status": "Running"}
    assert run.result("jobs.get(after cancel)") == {"status": "Canceled"}

    # the workspace's own view
    job = client.get(client.paths.job(name))["properties"]
    assert job["status"] == "Completed" and job["inputs"]["greeting"]["value"] == "hello"
    assert job["outputs"]["result"]["uri"] == found["result"]
    long_name = run.result("jobs.create_or_update(long job)")["name"]
    assert client.get(client.paths.job(long_name))["properties"]["status"] == "Canceled"
