"""Batch endpoint invocations really run: mini-batches on worker processes in the deployment's
environment, the output file, retries, the error threshold, logs in Azure's layout, repeated
POSTs, cancel, and a worker killed mid-batch.

Everything goes over real HTTP to the package's workspace; the workers are real processes running
a real ``init()``/``run(mini_batch)`` scoring script in a virtual environment of the runtime's cache.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from support.arm import Arm, job_environment, register_model
from support.batch import (
    batch_deployment,
    batch_endpoint,
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


@pytest.fixture(scope="module")
def parts(arm: Arm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A model, the scoring code and an environment without packages (built once, then cached)."""
    model = tmp_path_factory.mktemp("bmodel") / "model"
    model.mkdir()
    (model / "weights.txt").write_text("1\n")
    return {
        "model": register_model(arm, unique("bmodel"), model),
        "code": scoring_code(arm),
        "env": job_environment(arm, unique("benv")),
    }


@pytest.fixture(scope="module")
def endpoint(arm: Arm, parts: dict[str, str]) -> str:
    """A batch endpoint whose default deployment runs 2 workers, 3 files per mini-batch."""
    name = batch_endpoint(arm)
    props = deployment_props(
        parts["model"], parts["code"], parts["env"], maxConcurrencyPerInstance=2, miniBatchSize=3,
        retrySettings={"maxRetries": 1, "timeout": "PT20S"}, outputAction="appendrow",
    )  # fmt: skip
    batch_deployment(arm, name, props)
    return name


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
    stdout = log(arm, name, "logs/user/stdout/process000.stdout.txt")
    assert "init" in stdout and "azureml-models" in stdout
