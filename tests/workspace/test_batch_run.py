"""Batch endpoint invocations really run: mini-batches on worker processes in the deployment's
environment, the output file, retries, the error threshold, logs in Azure's layout, repeated
POSTs, cancel, and a worker killed mid-batch.

Everything goes over real HTTP to the package's workspace; the workers are real processes running
a real ``init()``/``run(mini_batch)`` scoring script in a virtual environment of the runtime's cache.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from support.arm import Arm, job_environment, register_model, upload_folder
from support.batch import (
    batch_deployment,
    batch_endpoint,
    batch_parts,
    deployment_props,
    error_of,
    input_folder,
    invoke,
    log,
    output_text,
    scoring_code,
    wait_job,
)
from support.owners import processes_with
from support.waiting import unique
from support.workspace import running_workspace

from jupyter_mlep.workspace import control


@pytest.fixture(scope="module")
def parts(arm: Arm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A model, the scoring code and an environment without packages."""
    return batch_parts(arm, tmp_path_factory.mktemp("bmodel"))


@pytest.fixture(scope="module")
def endpoint(arm: Arm, parts: dict[str, str]) -> str:
    """A batch endpoint whose default deployment runs 2 workers, 3 files per mini-batch."""
    name = batch_endpoint(arm)
    props = deployment_props(
        parts["model"],
        parts["code"],
        parts["env"],
        maxConcurrencyPerInstance=2,
        miniBatchSize=3,
        retrySettings={"maxRetries": 1, "timeout": "PT20S"},
        outputAction="appendrow",
    )
    batch_deployment(arm, name, props)
    return name


def workers_of(job: str) -> list[int]:
    """The job's worker processes: forked by its driver, they share its command line."""
    found = processes_with(f"{job}/batch/")

    def parent(pid: int) -> int:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])

    return [pid for pid in found if parent(pid) in found]


def files(count: int, **special: str) -> dict[str, str]:
    found = {f"f{index:03d}.txt": "x" * (index + 1) for index in range(count)}
    found.update(special)
    return found


def test_an_invocation_scores_every_file_in_mini_batches_on_two_workers(
    arm: Arm, endpoint: str, tmp_path: Path
) -> None:
    uri = input_folder(arm, tmp_path, files(10))
    response = invoke(arm, endpoint, uri)
    assert response.status_code == 200, response.text
    body = response.json()
    name = body["name"]
    assert body["properties"]["status"] in ("NotStarted", "Queued", "Preparing", "Running")
    tags = body["properties"]["tags"]
    assert tags["azureml.batchrun"] == "true" and tags["azureml.endpointname"] == endpoint
    assert set(body["properties"]["outputs"]) == {"score"}
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    output = output_text(arm, job)
    assert output.status_code == 200, output.text
    rows = sorted(output.text.splitlines())
    assert rows == [f"f{index:03d}.txt,{index + 1}" for index in range(10)]
    overview = log(arm, name, "logs/job_progress_overview.txt")
    assert "Total mini batches: 4" in overview and "Items succeeded: 10" in overview, overview
    report = log(arm, name, "logs/sys/job_report/processed_mini-batches.csv").splitlines()
    assert len(report) == 5 and {line.split(",")[5] for line in report[1:]} <= {"process000", "process001"}
    stdout = "".join(log(arm, name, f"logs/user/stdout/process00{i}.stdout.txt") for i in (0, 1))
    assert "init" in stdout and "azureml-models" in stdout


@pytest.fixture(scope="module")
def slow(arm: Arm, endpoint: str, parts: dict[str, str]) -> str:
    """A second deployment of the endpoint (not the default) whose run() takes 0.4 s per file."""
    props = deployment_props(
        parts["model"],
        parts["code"],
        parts["env"],
        maxConcurrencyPerInstance=2,
        miniBatchSize=2,
        environmentVariables={"BATCH_DELAY": "0.4"},
    )
    return batch_deployment(arm, endpoint, props, default=False)


def test_a_failing_mini_batch_is_retried_then_counted_and_the_job_completes_below_the_threshold(
    arm: Arm, endpoint: str, tmp_path: Path
) -> None:
    uri = input_folder(arm, tmp_path, files(5, **{"f001.txt": "boom", "f004.txt": "skip"}))
    name = invoke(arm, endpoint, uri).json()["name"]
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    overview = log(arm, name, "logs/job_progress_overview.txt")
    assert "Items succeeded: 1" in overview and "Items failed: 4" in overview, overview
    errors = log(arm, name, "logs/user/error.txt")
    assert "ValueError: cannot score f001.txt" in errors
    assert errors.count("mini-batch 0 attempt") == 2, errors  # maxRetries 1: two attempts
    report = log(arm, name, "logs/sys/job_report/processed_mini-batches.csv").splitlines()
    assert "0,3,0,3,2," in "\n".join(report) and "1,2,1,1,1," in "\n".join(report), report
    assert output_text(arm, job).text.splitlines() == ["f003.txt,4"]


def test_more_failed_items_than_the_error_threshold_fail_the_job_saying_so(
    arm: Arm, endpoint: str, tmp_path: Path
) -> None:
    uri = input_folder(arm, tmp_path, files(6, **{"f000.txt": "boom"}))
    name = invoke(arm, endpoint, uri, errorThreshold=2).json()["name"]
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Failed"
    assert "3 items failed, more than the error threshold (2)" in error_of(arm, name)


def test_run_returning_neither_a_list_nor_a_dataframe_fails_the_mini_batch_with_azures_message(
    arm: Arm, endpoint: str, tmp_path: Path
) -> None:
    uri = input_folder(arm, tmp_path, files(3, **{"f002.txt": "none"}))
    name = invoke(arm, endpoint, uri).json()["name"]
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    errors = log(arm, name, "logs/user/error.txt")
    assert "must return a list or a pandas DataFrame" in errors and "it returned NoneType" in errors
    assert errors.count("attempt") == 1  # not retried: the script would answer the same
    assert "Items failed: 3" in log(arm, name, "logs/job_progress_overview.txt")


def test_a_worker_that_dies_mid_batch_is_replaced_and_the_mini_batch_retried(
    arm: Arm, endpoint: str, tmp_path: Path
) -> None:
    uri = input_folder(arm, tmp_path, files(6, **{"f004.txt": "crash"}))
    name = invoke(arm, endpoint, uri).json()["name"]
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    assert len(output_text(arm, job).text.splitlines()) == 6
    assert "its worker process died" in log(arm, name, "logs/user/error.txt")


def test_a_worker_killed_from_outside_is_replaced_and_the_header_picks_the_deployment(
    arm: Arm, endpoint: str, slow: str, tmp_path: Path
) -> None:
    uri = input_folder(arm, tmp_path, files(8))
    name = invoke(arm, endpoint, uri, headers={"azureml-model-deployment": slow}).json()["name"]
    wait_job(arm, name, ("Running",))
    deadline = time.monotonic() + 60
    while "init" not in log(arm, name, "logs/user/stdout/process001.stdout.txt"):
        assert time.monotonic() < deadline
    os.kill(workers_of(name)[0], signal.SIGKILL)
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    assert job["properties"]["tags"]["azureml.deploymentname"] == slow
    assert len(output_text(arm, job).text.splitlines()) == 8


def test_cancel_stops_the_driver_and_every_worker(arm: Arm, endpoint: str, slow: str, tmp_path: Path) -> None:
    uri = input_folder(arm, tmp_path, files(20))
    name = invoke(arm, endpoint, uri, headers={"azureml-model-deployment": slow}).json()["name"]
    wait_job(arm, name, ("Running",))
    assert processes_with(f"{name}/batch/")
    response = arm.post(f"/jobs/{name}/cancel")
    assert response.status_code == 202, response.text
    assert wait_job(arm, name)["properties"]["status"] == "Canceled"
    assert processes_with(f"{name}/batch/") == []


def test_a_repeated_post_answers_the_job_it_created_first(arm: Arm, endpoint: str, tmp_path: Path) -> None:
    uri = input_folder(arm, tmp_path, files(2))
    repeat = {"repeatability_request-id": unique("repeat")}
    first = invoke(arm, endpoint, uri, headers=repeat).json()["name"]
    second = invoke(arm, endpoint, uri, headers=repeat).json()["name"]
    assert first == second
    third = invoke(arm, endpoint, uri, headers={"repeatability-request-id": unique("repeat")}).json()["name"]
    assert third != first
    for job in (first, third):
        assert wait_job(arm, job)["properties"]["status"] == "Completed"


def test_overrides_of_the_invocation_win_over_the_deployment(arm: Arm, endpoint: str, tmp_path: Path) -> None:
    uri = input_folder(arm, tmp_path, files(10))
    name = invoke(arm, endpoint, uri, miniBatchSize=5, outputFileName="scores.csv").json()["name"]
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    assert "Total mini batches: 2" in log(arm, name, "logs/job_progress_overview.txt")
    assert len(output_text(arm, job, "scores.csv").text.splitlines()) == 10


def test_an_existing_output_file_is_never_overwritten(arm: Arm, endpoint: str, tmp_path: Path) -> None:
    uri = input_folder(arm, tmp_path, files(2))
    target = f"azureml://datastores/workspaceblobstore/paths/batch-out/{unique('o')}/"
    output: dict[str, Any] = {"outputData": {"score": {"jobOutputType": "UriFolder", "uri": target}}}
    name = invoke(arm, endpoint, uri, **output).json()["name"]
    assert wait_job(arm, name)["properties"]["status"] == "Completed", error_of(arm, name)
    again = invoke(arm, endpoint, uri, **output)
    assert again.status_code == 400 and "exists already" in again.json()["error"]["message"], again.text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"uri": "azureml://datastores/workspaceblobstore/paths/nothing/here/"}, "does not exist"),
        ({"empty": True}, "holds no files"),
        ({"miniBatchSize": 0}, "miniBatchSize"),
        ({"errorThreshold": -2}, "errorThreshold"),
    ],
)
def test_bad_invocations_are_refused_before_any_job_exists(
    arm: Arm, endpoint: str, tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    if change.pop("empty", False):  # a folder holding only a sub-folder: nothing at its top level
        (tmp_path / "empty" / "sub").mkdir(parents=True)
        (tmp_path / "empty" / "sub" / "a.txt").write_text("x")
        change["uri"] = upload_folder(arm, tmp_path / "empty", f"LocalUpload/{unique('e')}")
    uri = change.pop("uri", None) or input_folder(arm, tmp_path, files(1))
    before = len(arm.list_all("/jobs"))
    response = invoke(arm, endpoint, uri, **change)
    assert response.status_code == 400, response.text
    assert expected in response.json()["error"]["message"]
    assert len(arm.list_all("/jobs")) == before


def test_a_deployment_name_that_does_not_exist_is_a_404(arm: Arm, endpoint: str, tmp_path: Path) -> None:
    uri = input_folder(arm, tmp_path, files(1))
    response = invoke(arm, endpoint, uri, headers={"azureml-model-deployment": "nope"})
    assert response.status_code == 404, response.text


def test_the_scoring_uri_needs_the_token(anon: Any, arm: Arm, endpoint: str) -> None:
    scoring = arm.get(f"/batchEndpoints/{endpoint}").json()["properties"]["scoringUri"]
    assert anon.post(scoring, json={"properties": {}}).status_code == 401


def test_a_mini_batch_over_its_timeout_is_stopped_retried_then_failed(
    arm: Arm, endpoint: str, parts: dict[str, str], tmp_path: Path
) -> None:
    props = deployment_props(
        parts["model"],
        parts["code"],
        parts["env"],
        miniBatchSize=1,
        environmentVariables={"BATCH_DELAY": "30"},
        retrySettings={"maxRetries": 1, "timeout": "PT1S"},
    )
    late = batch_deployment(arm, endpoint, props, default=False)
    uri = input_folder(arm, tmp_path, files(1))
    name = invoke(arm, endpoint, uri, headers={"azureml-model-deployment": late}).json()["name"]
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    errors = log(arm, name, "logs/user/error.txt")
    assert errors.count("timed out after 1 s") == 2, errors
    assert "Items failed: 1" in log(arm, name, "logs/job_progress_overview.txt")


def test_summary_only_writes_no_output_file(
    arm: Arm, endpoint: str, parts: dict[str, str], tmp_path: Path
) -> None:
    props = deployment_props(parts["model"], parts["code"], parts["env"], outputAction="SummaryOnly")
    summary = batch_deployment(arm, endpoint, props, default=False)
    uri = input_folder(arm, tmp_path, files(4))
    name = invoke(arm, endpoint, uri, headers={"azureml-model-deployment": summary}).json()["name"]
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    assert "Items succeeded: 4" in log(arm, name, "logs/job_progress_overview.txt")
    assert output_text(arm, job).status_code == 404


def test_a_registered_data_asset_is_an_input(arm: Arm, endpoint: str, tmp_path: Path) -> None:
    uri = input_folder(arm, tmp_path, files(3))
    data = unique("bdata")
    response = arm.put(f"/data/{data}/versions/1", {"properties": {"dataUri": uri, "dataType": "uri_folder"}})
    assert response.status_code in (200, 201), response.text
    name = invoke(arm, endpoint, f"azureml:{data}:1").json()["name"]
    job = wait_job(arm, name)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    assert len(output_text(arm, job).text.splitlines()) == 3
    listed = arm.http.get(arm.get(f"/batchEndpoints/{endpoint}").json()["properties"]["scoringUri"])
    assert name in {item["name"] for item in listed.json()["value"]}
    one = arm.get(f"/batchEndpoints/{endpoint}/jobs", api="2020-09-01-dataplanepreview")
    assert name in {item["name"] for item in one.json()["value"]}


def test_a_killed_workspace_fails_its_batch_job_and_leaves_no_worker(
    tmp_path: Path, env_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MLEP_RUNTIME", "process")
    monkeypatch.setenv("MLEP_ENVS_DIR", str(env_cache))
    monkeypatch.setenv("MLEP_HOME", str(home))
    info = control.start(home)
    try:
        with Arm(info) as arm:
            model = tmp_path / "model"
            model.mkdir()
            (model / "w.txt").write_text("1")
            props = deployment_props(
                register_model(arm, "m", model),
                scoring_code(arm),
                job_environment(arm),
                maxConcurrencyPerInstance=2,
                miniBatchSize=1,
                environmentVariables={"BATCH_DELAY": "30"},
            )
            endpoint = batch_endpoint(arm)
            batch_deployment(arm, endpoint, props)
            name = invoke(arm, endpoint, input_folder(arm, tmp_path, files(4))).json()["name"]
            wait_job(arm, name, ("Running",))
            deadline = time.monotonic() + 60
            while len(processes_with(f"{name}/batch/")) < 3:  # the driver and its two workers
                assert time.monotonic() < deadline
        os.kill(info.pid, signal.SIGKILL)
        while control.status(home) is not None:
            assert time.monotonic() < deadline + 30
        with running_workspace(home) as again, Arm(again) as arm:
            assert processes_with(f"{name}/batch/") == []
            assert arm.get(f"/jobs/{name}").json()["properties"]["status"] == "Failed"
            assert "killed" in error_of(arm, name)
    finally:
        control.stop(home)
