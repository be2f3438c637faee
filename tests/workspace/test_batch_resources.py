"""Batch endpoints and deployments as resources of the local workspace: the REST shapes, defaults and
validation of the 2026-07-01 spec, LROs, PATCH limits, paging, delete rules and listkeys.

Everything goes over real HTTP to the package's workspace.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.arm import Arm
from support.batch import batch_deployment, batch_endpoint, batch_parts, deployment_props
from support.waiting import unique


@pytest.fixture(scope="module")
def parts(arm: Arm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A model, the scoring code and an environment without packages."""
    return batch_parts(arm, tmp_path_factory.mktemp("rmodel"))


def test_an_endpoint_is_created_by_an_lro_and_answers_the_spec_shape(arm: Arm) -> None:
    name = unique("bep")
    response = arm.put(
        f"/batchEndpoints/{name}", {"location": "local", "properties": {"authMode": "aadtoken"}}
    )
    assert response.status_code == 201, response.text
    assert "Azure-AsyncOperation" in response.headers and response.headers["Retry-After"]
    assert response.json()["properties"]["provisioningState"] == "Creating"
    arm.ok(response)
    body = arm.get(f"/batchEndpoints/{name}").json()
    assert body["type"] == "Microsoft.MachineLearningServices/workspaces/batchEndpoints"
    props = body["properties"]
    assert props["authMode"] == "AADToken" and props["provisioningState"] == "Succeeded"
    assert props["defaults"] == {"deploymentName": None} and props["keys"] is None
    assert props["scoringUri"].endswith(f"/batchEndpoints/{name}/jobs")
    assert props["scoringUri"].startswith(("http://127.0.0.1:", "https://127.0.0.1:"))
    keys = arm.post(f"/batchEndpoints/{name}/listkeys")
    assert keys.status_code == 200 and keys.json() == {"primaryKey": None, "secondaryKey": None}
    again = arm.put(
        f"/batchEndpoints/{name}",
        {"location": "local", "properties": {"authMode": "AADToken", "description": "d"}},
    )
    assert again.status_code == 200
    arm.ok(again)


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"authMode": "Key"}, "only authMode AADToken"),
        ({}, "authMode"),
        ({"authMode": "AADToken", "defaults": {"deploymentName": "nope"}}, "does not exist"),
    ],
)
def test_bad_endpoints_are_refused(arm: Arm, props: dict[str, Any], expected: str) -> None:
    response = arm.put(f"/batchEndpoints/{unique('bep')}", {"location": "local", "properties": props})
    assert response.status_code == 400, response.text
    assert expected in response.json()["error"]["message"]


def test_endpoint_patch_changes_tags_only_and_lists_are_paged(arm: Arm) -> None:
    name = batch_endpoint(arm)
    batch_endpoint(arm)
    patched = arm.patch(f"/batchEndpoints/{name}", {"tags": {"team": "a"}})
    assert patched.status_code == 202
    arm.ok(patched)
    assert arm.get(f"/batchEndpoints/{name}").json()["tags"] == {"team": "a"}
    refused = arm.patch(f"/batchEndpoints/{name}", {"properties": {"defaults": {"deploymentName": "x"}}})
    assert refused.status_code == 400 and "PUT" in refused.json()["error"]["message"]
    first = arm.get("/batchEndpoints", params={"count": 1}).json()
    assert len(first["value"]) == 1 and "skip=1" in first["nextLink"]
    assert name in {item["name"] for item in arm.list_all("/batchEndpoints", count=1)}


def test_a_deployment_gets_the_spec_defaults_and_enums_in_any_case(arm: Arm, parts: dict[str, str]) -> None:
    endpoint = batch_endpoint(arm)
    props = deployment_props(
        parts["model"], parts["code"], parts["env"], outputAction="summaryonly", loggingLevel="debug"
    )
    name = unique("bdep")
    response = arm.put(
        f"/batchEndpoints/{endpoint}/deployments/{name}", {"location": "local", "properties": props}
    )
    assert response.status_code == 201, response.text
    assert response.json()["properties"]["provisioningState"] == "Creating"
    arm.ok(response)
    body = arm.get(f"/batchEndpoints/{endpoint}/deployments/{name}").json()
    assert body["type"] == "Microsoft.MachineLearningServices/workspaces/batchEndpoints/deployments"
    got = body["properties"]
    assert got["provisioningState"] == "Succeeded"
    assert got["outputAction"] == "SummaryOnly" and got["loggingLevel"] == "Debug"
    assert (got["miniBatchSize"], got["maxConcurrencyPerInstance"], got["errorThreshold"]) == (10, 1, -1)
    assert got["retrySettings"] == {"maxRetries": 3, "timeout": "PT30S"}
    assert got["outputFileName"] == "predictions.csv" and got["resources"]["instanceCount"] == 1
    listed = arm.get(f"/batchEndpoints/{endpoint}/deployments", params={"$top": 5}).json()
    assert [item["name"] for item in listed["value"]] == [name]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"miniBatchSize": 0}, "miniBatchSize"),
        ({"miniBatchSize": -3}, "miniBatchSize"),
        ({"errorThreshold": -2}, "errorThreshold"),
        ({"maxConcurrencyPerInstance": 0}, "maxConcurrencyPerInstance"),
        ({"retrySettings": {"timeout": "soon"}}, "retrySettings.timeout"),
        ({"retrySettings": {"maxRetries": -1}}, "maxRetries"),
        ({"outputFileName": "a/b.csv"}, "outputFileName"),
        ({"outputAction": "Everything"}, "outputAction"),
        ({"loggingLevel": "Loud"}, "loggingLevel"),
        ({"resources": {"instanceCount": 0}}, "instanceCount"),
        ({"model": {"referenceType": "Id", "assetId": "azureml:no-such-model:1"}}, "model"),
        ({"codeConfiguration": {"codeId": "CODE", "scoringScript": "missing.py"}}, "missing.py"),
        ({"compute": "azureml:no-such-cluster"}, "no-such-cluster"),
        ({"codeConfiguration": None, "environmentId": None}, "MLflow"),
        ({"deploymentConfiguration": {"deploymentConfigurationType": "PipelineComponent"}}, "Pipeline"),
    ],
)
def test_bad_deployments_are_refused_before_anything_is_stored(
    arm: Arm, parts: dict[str, str], change: dict[str, Any], expected: str
) -> None:
    endpoint = batch_endpoint(arm)
    props = {**deployment_props(parts["model"], parts["code"], parts["env"]), **change}
    if props.get("codeConfiguration") and props["codeConfiguration"]["codeId"] == "CODE":
        props["codeConfiguration"]["codeId"] = parts["code"]
    name = unique("bdep")
    response = arm.put(
        f"/batchEndpoints/{endpoint}/deployments/{name}", {"location": "local", "properties": props}
    )
    assert response.status_code == 400, response.text
    assert expected in response.json()["error"]["message"]
    assert arm.get(f"/batchEndpoints/{endpoint}/deployments/{name}").status_code == 404


def test_deployment_patch_delete_and_endpoint_delete_follow_azure(arm: Arm, parts: dict[str, str]) -> None:
    endpoint = batch_endpoint(arm)
    props = deployment_props(parts["model"], parts["code"], parts["env"])
    default = batch_deployment(arm, endpoint, props)
    other = batch_deployment(arm, endpoint, props, default=False)
    path = f"/batchEndpoints/{endpoint}/deployments"
    arm.ok(arm.patch(f"{path}/{other}", {"tags": {"a": "b"}, "properties": {"description": "new"}}))
    body = arm.get(f"{path}/{other}").json()
    assert body["tags"] == {"a": "b"} and body["properties"]["description"] == "new"
    refused = arm.patch(f"{path}/{other}", {"properties": {"miniBatchSize": 3}})
    assert refused.status_code == 400 and "properties.miniBatchSize" in refused.json()["error"]["message"]
    kept = arm.delete(f"{path}/{default}")
    assert kept.status_code == 400 and "default deployment" in kept.json()["error"]["message"]
    arm.ok(arm.delete(f"{path}/{other}"))
    assert arm.get(f"{path}/{other}").status_code == 404
    assert arm.delete(f"{path}/{other}").status_code == 204
    arm.ok(arm.delete(f"/batchEndpoints/{endpoint}"))
    assert arm.get(f"/batchEndpoints/{endpoint}").status_code == 404
    assert arm.get(f"{path}/{default}").status_code == 404


def test_an_online_and_a_batch_endpoint_cannot_share_a_name(arm: Arm) -> None:
    name = batch_endpoint(arm)
    online = arm.put(f"/onlineEndpoints/{name}", {"location": "local", "properties": {"authMode": "Key"}})
    assert online.status_code == 409 and "unique across online and batch" in online.json()["error"]["message"]
