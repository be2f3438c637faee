"""Command jobs really run in the local workspace: statuses, cancel, timeout, failures, inputs and
outputs of each kind, logs through run history while the job runs, the concurrency limit, and a
workspace killed (SIGKILL) while a job runs.

Everything goes over real HTTP to the package's workspace (or a workspace of the test's own) and
runs real processes; the environment is a conda file without packages (a virtual environment of
the runtime's cache, built once).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.arm import ACCOUNT, CONTAINER, Arm, upload_folder
from support.workspace import running_workspace

from jupyter_mlep.workspace import WorkspaceInfo, control

BARE_CONDA = "name: bare\ndependencies:\n  - python=3.11\n  - pip\n"
DONE = ("Completed", "Failed", "Canceled")
ORDER = ("NotStarted", "Queued", "Preparing", "Running", "Finalizing", "Completed")
HISTORY = "/history/v1.0"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def env_id(arm: Arm) -> str:
    """An environment without packages (its virtual environment is built once, then cached)."""
    name = unique("jobenv")
    response = arm.put(
        f"/environments/{name}/versions/1", {"properties": {"image": "python:3.11-slim", "condaFile": BARE_CONDA}}
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def register_code(arm: Arm, tmp: Path, files: dict[str, str]) -> str:
    folder = tmp / unique("src")
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    uri = upload_folder(arm, folder, f"LocalUpload/{uuid.uuid4().hex}")
    name = unique("code")
    response = arm.put(f"/codes/{name}/versions/1", {"properties": {"codeUri": uri}})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def command_job(env: str, command: str, **props: Any) -> dict[str, Any]:
    return {"properties": {"jobType": "Command", "command": command, "environmentId": env, **props}}


def submit(arm: Arm, body: dict[str, Any], name: str | None = None) -> str:
    name = name or unique("job")
    response = arm.put(f"/jobs/{name}", body)
    assert response.status_code == 201, response.text
    assert response.json()["properties"]["status"] == "NotStarted"
    return name


def status(arm: Arm, name: str) -> str:
    return str(arm.get(f"/jobs/{name}").json()["properties"]["status"])


def wait_status(arm: Arm, name: str, wanted: tuple[str, ...] = DONE, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while True:
        now = status(arm, name)
        if now in wanted:
            return now
        assert time.monotonic() < deadline, f"job {name} still {now}, wanted {wanted}"
        time.sleep(0.05)


def history(arm: Arm, name: str, suffix: str = "", **kwargs: Any) -> httpx.Response:
    """A run-history request (the admin token)."""
    return arm.http.get(f"{HISTORY}{arm.url('')}/runs/{name}{suffix}", **kwargs)


def details(arm: Arm, name: str) -> dict[str, Any]:
    response = history(arm, name, "/details")
    assert response.status_code == 200, response.text
    return dict(response.json())


def log_text(arm: Arm, name: str, path: str = "user_logs/std_log.txt") -> str:
    response = history(arm, name, f"/logs/{path}")
    assert response.status_code == 200, response.text
    return response.text


def blob_text(arm: Arm, uri: str, file: str) -> str:
    """A blob below an azureml://datastores/workspaceblobstore/paths/… URI, read over the blob API."""
    prefix = uri.split("/paths/", 1)[1].strip("/")
    response = arm.http.get(f"/{ACCOUNT}/{CONTAINER}/{prefix}/{file}")
    assert response.status_code == 200, response.text
    return response.text


def wait_for(predicate: Any, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return [pid for pid in found if pid != os.getpid()]


# -- statuses ---------------------------------------------------------------------------------------
def test_a_job_goes_through_every_status_with_times(arm: Arm, env_id: str, tmp_path: Path) -> None:
    code = register_code(arm, tmp_path, {"hello.py": "import sys, os\nprint('hello from', os.getcwd())\n"})
    name = submit(arm, command_job(env_id, "python hello.py && echo run=$AZUREML_RUN_ID", codeId=code))
    assert wait_status(arm, name) == "Completed"
    run = details(arm, name)
    seen = [item["status"] for item in run["statusHistory"]]
    assert seen == list(ORDER), seen
    assert run["status"] == "Completed" and run["error"] is None
    assert run["startTimeUtc"] and run["endTimeUtc"] and run["startTimeUtc"] <= run["endTimeUtc"]
    text = log_text(arm, name)
    assert "hello from" in text and f"run={name}" in text
    assert set(run["logFiles"]) >= {"user_logs/std_log.txt"}


def test_non_zero_exit_fails_with_exit_code_and_log_tail(arm: Arm, env_id: str) -> None:
    name = submit(arm, command_job(env_id, "echo about to fail; echo oops >&2; exit 3"))
    assert wait_status(arm, name) == "Failed"
    error = details(arm, name)["error"]["error"]
    assert "exited with code 3" in error["message"] and "oops" in error["message"]
    assert {"code": "exit_code", "message": "3"} in error["details"]


def test_cancel_stops_the_whole_process_tree(arm: Arm, env_id: str) -> None:
    marker = unique("tree")
    name = submit(arm, command_job(env_id, f"sleep 300 & sleep 301 & echo {marker}; wait # {marker}"))
    wait_status(arm, name, ("Running",))
    wait_for(lambda: marker in log_text(arm, name), what="the job's first line")
    assert processes_with(marker)
    cancel = arm.post(f"/jobs/{name}/cancel")
    assert cancel.status_code == 202
    arm.ok(cancel)
    assert status(arm, name) == "Canceled"
    wait_for(lambda: not processes_with(marker), timeout=10, what="the job's processes to go")
    assert not processes_with("sleep 301")
    assert arm.post(f"/jobs/{name}/cancel").status_code == 400


def test_timeout_fails_the_job_and_stops_it(arm: Arm, env_id: str) -> None:
    marker = unique("slow")
    body = command_job(env_id, f"echo {marker}; sleep 120", limits={"jobLimitsType": "Command", "timeout": "PT2S"})
    name = submit(arm, body)
    assert wait_status(arm, name, timeout=60) == "Failed"
    error = details(arm, name)["error"]["error"]
    assert error["code"] == "JobTimeout" and "limits.timeout" in error["message"]
    assert not processes_with(f"echo {marker}")


# -- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "target", "words"),
    [
        ({"command": "python x.py --n ${{inputs.n}}"}, "properties.command", "inputs.n"),
        ({"command": "echo ${{outputs.model}}"}, "properties.command", "outputs.model"),
        (
            {"inputs": {"data": {"jobInputType": "uri_folder", "uri": "azureml://datastores/workspaceblobstore/paths/none/here"}}},
            "properties.inputs.data.uri",
            "does not exist",
        ),
        ({"inputs": {"data": {"jobInputType": "uri_file", "uri": "azureml:nosuchdata:1"}}}, "properties.inputs.data.uri", "nosuchdata"),
        ({"environmentId": "azureml:nosuchenv:1"}, "properties.environmentId", "nosuchenv"),
        ({"computeId": "azureml:cpu-cluster"}, "properties.computeId", "cpu-cluster"),
        ({"distribution": {"distributionType": "Mpi", "processCountPerInstance": 2}}, "properties.distribution.distributionType", "MPI"),
        ({"distribution": {"distributionType": "TensorFlow", "workerCount": 2}}, "properties.distribution.distributionType", "TensorFlow"),
    ],
)
def test_bad_jobs_are_refused_before_anything_is_created(
    arm: Arm, env_id: str, change: dict[str, Any], target: str, words: str
) -> None:
    name = unique("bad")
    body = command_job(env_id, "echo hi")
    body["properties"].update(change)
    response = arm.put(f"/jobs/{name}", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["target"] == target and words in error["message"], error
    assert arm.get(f"/jobs/{name}").status_code == 404


def test_invalid_job_name_is_refused(arm: Arm, env_id: str) -> None:
    response = arm.put("/jobs/-bad name", command_job(env_id, "echo hi"))
    assert response.status_code == 400 and response.json()["error"]["target"] == "name"
