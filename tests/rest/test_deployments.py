"""Deployments that really run (process runtime): a working one, and one whose init() fails.

The two share one small environment (the inference server only), built once per test run.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from support.arm import deployment_body
from support.samples import SCORE_BROKEN

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import Operation, RestClient, register_code, register_model

ECHO_SCORE = """\
import json
import os


def init():
    print("Init complete; model dir has", sorted(os.listdir(os.environ["AZUREML_MODEL_DIR"])))


def run(raw_data):
    return {"echo": json.loads(raw_data)}
"""

CONDA = """\
name: minimal
dependencies:
  - python=3.11
  - pip:
    - azureml-inference-server-http
"""


def minimal_environment(client: RestClient) -> str:
    """The id of the shared small environment."""
    body = client.put(
        client.paths.environment_version("minimal", "1"),
        {
            "properties": {
                "image": "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest",
                "condaFile": CONDA,
            }
        },
    )
    return str(body["id"])


def test_working_deployment_takes_traffic_and_has_logs(client: RestClient, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:6]
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "score.py").write_text(ECHO_SCORE)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.txt").write_text("1 2 3")
    model = register_model(client, tmp_path / "model", name=f"tiny-{suffix}")
    code = register_code(client, tmp_path / "code", name=f"echo-{suffix}")
    endpoint = f"ok-{suffix}"
    ops.create_endpoint(client, endpoint)
    try:
        body = deployment_body(model.id, code.id, minimal_environment(client))
        deployment = ops.create_or_update_deployment(client, endpoint, body, name="blue", timeout=300)
        assert deployment.provisioning_state == "Succeeded"
        assert [d.name for d in ops.list_deployments(client, endpoint)] == ["blue"]
        updated = ops.set_traffic(client, endpoint, {"blue": 100})
        assert updated.traffic == {"blue": 100}
        key = ops.get_keys(client, endpoint).primary_key
        assert updated.scoring_uri
        answer = httpx.post(
            updated.scoring_uri, json={"data": [1, 2]}, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"echo": {"data": [1, 2]}}
        assert "Init complete" in ops.get_logs(client, endpoint, "blue", lines=200)
    finally:
        ops.delete_endpoint(client, endpoint, timeout=120)


def test_failed_deployment_raises_with_the_log_tail(
    client: RestClient, model_1: Path, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:6]
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "score.py").write_text(SCORE_BROKEN)
    model = register_model(client, model_1 / "model", name=f"m1-{suffix}")
    code = register_code(client, tmp_path / "code", name=f"broken-{suffix}")
    endpoint = f"fail-{suffix}"
    client.run(
        "PUT", client.paths.endpoint(endpoint), {"location": "local", "properties": {"authMode": "Key"}}
    )
    body = deployment_body(model.id, code.id, minimal_environment(client))
    try:
        hooked: list[str] = []

        def log_tail(operation: Operation) -> str:
            hooked.append(operation.resource)
            return ops.get_logs(client, endpoint, "blue", lines=50)

        with pytest.raises(errors.OperationFailedError) as caught:
            client.run(
                "PUT", client.paths.deployment(endpoint, "blue"), body, timeout=300, on_failure=log_tail
            )
        assert hooked == [client.paths.deployment(endpoint, "blue")]
        error = caught.value
        assert error.state == "Failed" and error.code
        assert "init exploded on purpose" in error.log_tail
        assert "Last lines of the deployment log" in str(error)
    finally:
        client.run("DELETE", client.paths.endpoint(endpoint), timeout=120)
