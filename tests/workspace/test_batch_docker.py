"""A batch deployment asking for the Docker runtime (``mlep.runtime: docker``) runs its driver and
workers in a container of the deployment's environment: the job completes with its output, and a
cancel removes the container. Real Docker engine, real workspace of the test's own."""

from __future__ import annotations

import uuid
from pathlib import Path

import docker
import pytest
from support.arm import Arm, register_model
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
from support.samples import BASE_IMAGE
from support.workspace import running_workspace


def test_a_batch_job_runs_in_a_container_when_the_deployment_asks(
    tmp_path: Path, env_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    prefix = f"mlep-test-batch-{uuid.uuid4().hex[:8]}"
    for key, value in {
        "MLEP_IMAGE_PREFIX": prefix,
        "MLEP_ENVS_DIR": str(env_cache),
        "MLEP_HOME": str(home),
    }.items():
        monkeypatch.setenv(key, value)
    client = docker.from_env()
    try:
        with running_workspace(home) as info, Arm(info) as arm:
            created = arm.put("/environments/base/versions/1", {"properties": {"image": BASE_IMAGE}})
            assert created.status_code == 201, created.text
            model = tmp_path / "model"
            model.mkdir()
            (model / "w.txt").write_text("1")
            props = deployment_props(
                register_model(arm, "m", model),
                scoring_code(arm),
                str(created.json()["id"]),
                miniBatchSize=2,
                maxConcurrencyPerInstance=2,
                properties={"mlep.runtime": "docker"},
            )
            endpoint = batch_endpoint(arm)
            batch_deployment(arm, endpoint, props)
            files = {f"f{index}.txt": "x" * (index + 1) for index in range(5)}
            name = invoke(arm, endpoint, input_folder(arm, tmp_path, files)).json()["name"]
            job = wait_job(arm, name, timeout=300)
            assert job["properties"]["status"] == "Completed", error_of(arm, name)
            assert sorted(output_text(arm, job).text.splitlines()) == [f"f{i}.txt,{i + 1}" for i in range(5)]
            stdout = "".join(log(arm, name, f"logs/user/stdout/process00{i}.stdout.txt") for i in (0, 1))
            assert "azureml-models" in stdout
            assert not client.containers.list(all=True, filters={"label": f"mlep.job={name}"})
    finally:
        for container in client.containers.list(all=True, filters={"label": f"mlep.home={home / 'runtime'}"}):
            container.remove(force=True)
        for image in client.images.list(name=prefix):
            for tag in image.tags:
                client.images.remove(tag, force=True)
