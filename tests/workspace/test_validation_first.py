"""The workspace checks what it is sent before anything is stored or started: malformed conda files
(400 naming the line), curated environments (read-only, reserved prefix, unknown names listed),
deployments referring to assets that do not exist — over plain ARM calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.arm import Arm, deployment_body, endpoint_body, register_code
from support.waiting import unique

MALFORMED = "name: env\ndependencies:\n  - python=3.11\n  - pip:\n    - scikit-learn\n   - numpy: [\n"


@pytest.fixture(scope="module")
def endpoint(arm: Arm, azureml_examples: Path) -> Iterator[str]:
    """An empty endpoint (no deployment starts in this module)."""
    name = f"val-{uuid.uuid4().hex[:6]}"
    arm.ok(
        arm.put(
            f"/onlineEndpoints/{name}",
            endpoint_body(azureml_examples / "cli/endpoints/online/managed/sample"),
        )
    )
    try:
        yield name
    finally:
        arm.ok(arm.delete(f"/onlineEndpoints/{name}"))


def test_malformed_conda_file_is_a_400_naming_the_line(arm: Arm) -> None:
    name = unique("badconda")
    answer = arm.put(
        f"/environments/{name}/versions/1", {"properties": {"image": "python:3.11", "condaFile": MALFORMED}}
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert f"{name}:1" in error["message"] and "line 6" in error["message"]
    assert "<unicode string>" not in error["message"] and error.get("target") == "properties.condaFile"
    assert arm.get(f"/environments/{name}/versions/1").status_code == 404
    bad_pip = "dependencies:\n  - pip:\n    - 'scikit learn'\n"
    answer = arm.put(
        f"/environments/{name}/versions/1", {"properties": {"image": "python:3.11", "condaFile": bad_pip}}
    )
    assert answer.status_code == 400 and "scikit learn" in answer.json()["error"]["message"]


def test_curated_environments_are_read_only_entries_of_the_table(arm: Arm) -> None:
    version = arm.get("/environments/AzureML-sklearn-1.5/versions/54")
    assert version.status_code == 200, version.text
    props = version.json()["properties"]
    assert props["environmentType"] == "Curated" and "scikit-learn" in props["condaFile"]
    container = arm.get("/environments/azureml-SKLEARN-1.5").json()
    assert container["properties"]["latestVersion"]
    missing = arm.get("/environments/AzureML-sklearn-0.1")
    assert missing.status_code == 404
    message = missing.json()["error"]["message"]
    assert (
        "AzureML-sklearn-1.5" in message
        and "AzureML-minimal-py312-inference" in message
        and "conda" in message
    )
    reserved = arm.put("/environments/AzureML-mine/versions/1", {"properties": {"image": "python:3.11"}})
    assert reserved.status_code == 400 and "reserved" in reserved.json()["error"]["message"]


def test_deployment_with_an_unknown_curated_environment_is_refused_before_it_is_stored(
    arm: Arm, endpoint: str
) -> None:
    code = register_code(arm, unique("valcode"), "def init():\n    pass\n\n\ndef run(raw):\n    return raw\n")
    workspace = code.split("/codes/")[0]
    path = f"/onlineEndpoints/{endpoint}/deployments/blue"
    cases = [
        ("azureml://registries/azureml/environments/sklearn-0.1/labels/latest", "Known: "),
        (f"{workspace}/environments/AzureML-nope/versions/3", "Known: minimal-py312-inference"),
        ("azureml://registries/elsewhere/environments/x/versions/1", "registry 'elsewhere'"),
    ]
    for env, expected in cases:
        body = deployment_body("", code, env)
        body["properties"].pop("model")
        answer = arm.put(path, body)
        assert answer.status_code == 400, (env, answer.text)
        assert expected in answer.json()["error"]["message"], answer.text
        assert arm.get(path).status_code == 404
