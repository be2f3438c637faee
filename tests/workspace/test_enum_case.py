"""Enums are case-insensitive, as Azure's are: any case is accepted, the canonical case is stored
and answered; unknown values are a 400 naming the field and the allowed values."""

from __future__ import annotations

from typing import Any

import pytest
from support.arm import Arm, job_environment
from support.waiting import unique

EP = "/onlineEndpoints"


def _sweep(goal: str, algorithm: str, **extra: Any) -> dict[str, Any]:
    return {
        "properties": {
            "jobType": "sweep",
            "objective": {"goal": goal, "primaryMetric": "accuracy"},
            "samplingAlgorithm": {"samplingAlgorithmType": algorithm, **extra.pop("sampling", {})},
            "searchSpace": {"lr": ["uniform", [0.01, 0.1]]},
            "trial": {"command": "python train.py", "environmentId": "azureml:env:1"},
            **extra,
        }
    }


def test_sweep_job_enums_any_case(arm: Arm) -> None:
    job_environment(arm)  # the trial's environment env:1
    name = unique("sweep")
    body = _sweep(
        "maximize",
        "random",
        sampling={"rule": "SOBOL"},
        earlyTermination={"policyType": "bandit", "slackFactor": 0.1},
    )
    created = arm.put(f"/jobs/{name}", body)
    assert created.status_code == 201, created.text
    for answer in (created.json(), arm.get(f"/jobs/{name}").json()):
        props = answer["properties"]
        assert props["jobType"] == "Sweep"
        assert props["objective"] == {"goal": "Maximize", "primaryMetric": "accuracy"}
        sampling = dict(props["samplingAlgorithm"])
        assert isinstance(sampling.pop("seed"), int)  # a sweep without a seed gets one, kept with it
        assert sampling == {"samplingAlgorithmType": "Random", "rule": "Sobol"}
        assert props["earlyTermination"]["policyType"] == "Bandit"
    listed = arm.list_all("/jobs", jobType="SWEEP", listViewType="all")
    assert name in [job["name"] for job in listed]
    arm.ok(arm.post(f"/jobs/{name}/cancel"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_sweep("upward", "Random"), "properties.objective.goal"),
        (_sweep("Minimize", "Annealing"), "properties.samplingAlgorithm.samplingAlgorithmType"),
        (_sweep("Minimize", "Random", sampling={"rule": "Halton"}), "properties.samplingAlgorithm.rule"),
        (
            _sweep("Minimize", "Random", earlyTermination={"policyType": "Never"}),
            "properties.earlyTermination.policyType",
        ),
        ({"properties": {"jobType": "teleport"}}, "properties.jobType"),
    ],
)
def test_unknown_enum_values_are_named(arm: Arm, body: dict[str, Any], field: str) -> None:
    response = arm.put(f"/jobs/{unique('bad')}", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BadArgument" and error["target"] == field
    assert "Allowed values" in error["message"]


def test_command_job_type_any_case(arm: Arm) -> None:
    name = unique("cmd")
    job_environment(arm)
    body = {"properties": {"jobType": "COMMAND", "command": "sleep 60", "environmentId": "azureml:env:1"}}
    created = arm.put(f"/jobs/{name}", body)
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["jobType"] == "Command"
    arm.ok(arm.post(f"/jobs/{name}/cancel"))


def test_endpoint_enums_any_case(arm: Arm) -> None:
    name = unique("ep")
    response = arm.put(
        f"{EP}/{name}",
        {"location": "local", "properties": {"authMode": "aadtoken", "publicNetworkAccess": "disabled"}},
    )
    assert response.status_code == 201, response.text
    arm.ok(response)
    props = arm.get(f"{EP}/{name}").json()["properties"]
    assert props["authMode"] == "AADToken" and props["publicNetworkAccess"] == "Disabled"
    ordered = arm.get(EP, params={"orderBy": "createdatdesc"})
    assert ordered.status_code == 200 and ordered.json()["value"][0]["name"] == name
    bad = arm.get(EP, params={"orderBy": "Sideways"})
    assert bad.status_code == 400 and bad.json()["error"]["target"] == "orderBy"
    arm.ok(arm.delete(f"{EP}/{name}"))


def test_deployment_enums_any_case(arm: Arm) -> None:
    """A deployment whose references cannot be resolved is still stored (it ends Failed): enough to
    see how its enums are stored."""
    endpoint = unique("ep")
    arm.ok(arm.put(f"{EP}/{endpoint}", {"location": "local", "properties": {"authMode": "Key"}}))
    body = {
        "location": "local",
        "properties": {
            "endpointComputeType": "managed",
            "model": "azureml:missing:1",
            "codeConfiguration": {"codeId": "azureml:missing:1", "scoringScript": "score.py"},
            "egressPublicNetworkAccess": "ENABLED",
            "scaleSettings": {"scaleType": "default"},
        },
        "sku": {"name": "Default", "capacity": 1},
    }
    response = arm.put(f"{EP}/{endpoint}/deployments/blue", body)
    assert response.status_code == 201, response.text
    arm.wait(response)
    props = arm.get(f"{EP}/{endpoint}/deployments/blue").json()["properties"]
    assert props["endpointComputeType"] == "Managed"
    assert props["egressPublicNetworkAccess"] == "Enabled"
    assert props["scaleSettings"] == {"scaleType": "Default"}
    logs = arm.post(f"{EP}/{endpoint}/deployments/blue/getLogs", {"containerType": "storageinitializer"})
    assert logs.status_code == 200, logs.text
    for field, value in (
        ("scaleSettings", {"scaleType": "Sometimes"}),
        ("egressPublicNetworkAccess", "Maybe"),
    ):
        bad = arm.put(
            f"{EP}/{endpoint}/deployments/green", {**body, "properties": {**body["properties"], field: value}}
        )
        assert bad.status_code == 400, bad.text
        assert bad.json()["error"]["target"].startswith(f"properties.{field}")
    arm.ok(arm.delete(f"{EP}/{endpoint}"))


def test_asset_and_datastore_enums_any_case(arm: Arm) -> None:
    env = unique("env")
    created = arm.put(
        f"/environments/{env}/versions/1", {"properties": {"image": "python:3.11-slim", "osType": "linux"}}
    )
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["osType"] == "Linux"
    active = arm.list_all("/environments", listViewType="activeonly")  # every page: the workspace is shared
    assert env in [c["name"] for c in active]
    assert arm.get("/environments", params={"listViewType": "Everything"}).status_code == 400
    code = unique("code")
    upload = arm.post(
        f"/codes/{code}/versions/1/startPendingUpload", {"pendingUploadType": "temporaryblobreference"}
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["pendingUploadType"] == "TemporaryBlobReference"
    store = unique("store").replace("-", "_")
    body = {
        "properties": {
            "datastoreType": "azureblob",
            "accountName": "someaccount",
            "containerName": "data",
            "credentials": {"credentialsType": "None"},
        }
    }
    response = arm.put(f"/datastores/{store}", body)
    assert response.status_code == 201, response.text
    assert arm.get(f"/datastores/{store}").json()["properties"]["datastoreType"] == "AzureBlob"
    assert arm.delete(f"/datastores/{store}").status_code == 200
