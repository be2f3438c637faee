"""Kubernetes online endpoints at the REST level: the Kubernetes compute standing for this machine,
its instance types, and the 400s for endpoints and deployments that do not fit it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from support.arm import Arm, deployment_body

COMPUTE = "inferencecompute"


def _endpoint(arm: Arm, **props: Any) -> tuple[str, Any]:
    name = f"k8s-{uuid.uuid4().hex[:8]}"
    body = {"location": "local", "properties": {"authMode": "Key", **props}}
    return name, arm.put(f"/onlineEndpoints/{name}", body)


def _error(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


@pytest.fixture(scope="module")
def kube_endpoint(arm: Arm) -> Iterator[str]:
    name, response = _endpoint(arm, compute=f"{arm.info.workspace_path}/computes/{COMPUTE}")
    arm.ok(response)
    yield name
    arm.ok(arm.delete(f"/onlineEndpoints/{name}"))


def test_the_kubernetes_compute_stands_for_this_machine(arm: Arm) -> None:
    computes = {item["name"]: item for item in arm.get("/computes").json()["value"]}
    compute = computes[COMPUTE]
    assert compute["properties"]["computeType"] == "Kubernetes"
    assert compute["id"] == f"{arm.info.workspace_path}/computes/{COMPUTE}"
    details = compute["properties"]["properties"]
    assert details["defaultInstanceType"] == "defaultinstancetype"
    limits = details["instanceTypes"]["defaultinstancetype"]["resources"]["limits"]
    assert int(limits["cpu"]) >= 1 and limits["memory"].endswith("Mi")
    assert arm.get(f"/computes/{COMPUTE.upper()}").json() == compute


def test_kubernetes_endpoint_keeps_its_compute(arm: Arm, kube_endpoint: str) -> None:
    name = kube_endpoint
    body = arm.get(f"/onlineEndpoints/{name}").json()
    assert body["properties"]["compute"] == f"{arm.info.workspace_path}/computes/{COMPUTE}"
    assert body["kind"] == "Kubernetes"
    # An update may leave the compute out (it is kept) but not change it.
    update = {"location": "local", "properties": {"authMode": "Key", "traffic": {}}}
    arm.ok(arm.put(f"/onlineEndpoints/{name}", update))
    assert arm.get(f"/onlineEndpoints/{name}").json()["properties"]["compute"].endswith(COMPUTE)
    update["properties"]["compute"] = "azureml:other"
    assert "not a Kubernetes compute" in _error(arm.put(f"/onlineEndpoints/{name}", update))


def test_endpoint_compute_must_be_a_kubernetes_compute(arm: Arm) -> None:
    _, response = _endpoint(arm, compute=f"{arm.info.workspace_path}/computes/aks-missing")
    message = _error(response)
    assert "'aks-missing'" in message and COMPUTE in message
    name, response = _endpoint(arm)
    arm.ok(response)
    assert arm.get(f"/onlineEndpoints/{name}").json()["properties"].get("compute") is None
    try:
        changed = {"location": "local", "properties": {"authMode": "Key", "compute": f"azureml:{COMPUTE}"}}
        assert "cannot be changed" in _error(arm.put(f"/onlineEndpoints/{name}", changed))
    finally:
        arm.ok(arm.delete(f"/onlineEndpoints/{name}"))
    missing = {"location": "local", "kind": "Kubernetes", "properties": {"authMode": "Key"}}
    response = arm.put(f"/onlineEndpoints/k8s-{uuid.uuid4().hex[:8]}", missing)
    assert "needs 'properties.compute'" in _error(response)
    missing["properties"]["compute"] = "string"
    response = arm.put(f"/onlineEndpoints/k8s-{uuid.uuid4().hex[:8]}", missing)
    assert "Compute 'string'" in _error(response)


def _kube_deployment(**props: Any) -> dict[str, Any]:
    body = deployment_body("m", "c", "e", endpointComputeType="Kubernetes", **props)
    if "instanceType" not in props:
        del body["properties"]["instanceType"]
    return body


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"instanceType": "gpuinstancetype"}, "Instance types: defaultinstancetype"),
        (
            {"containerResourceRequirements": {"containerResourceRequests": {"cpu": "lots"}}},
            "not a positive Kubernetes quantity",
        ),
        (
            {"containerResourceRequirements": {"containerResourceLimits": {"memory": "1Gb"}}},
            "not a positive Kubernetes quantity",
        ),
        (
            {"containerResourceRequirements": {"containerResourceLimits": {"cpu": 1}}},
            "must be a string",
        ),
        (
            {"containerResourceRequirements": {"containerResourceLimits": {"gpu": "0.5"}}},
            "whole numbers",
        ),
        (
            {"containerResourceRequirements": {"containerResourceRequests": {"disk": "1Gi"}}},
            "Unknown resource 'disk'",
        ),
        (
            {
                "containerResourceRequirements": {
                    "containerResourceRequests": {"memory": "1Gi"},
                    "containerResourceLimits": {"memory": "512Mi"},
                }
            },
            "memory request '1Gi' is above its limit '512Mi'",
        ),
    ],
)
def test_kubernetes_deployment_400s(
    arm: Arm, kube_endpoint: str, props: dict[str, Any], expected: str
) -> None:
    name = kube_endpoint
    response = arm.put(f"/onlineEndpoints/{name}/deployments/blue", _kube_deployment(**props))
    assert expected in _error(response)
    assert arm.get(f"/onlineEndpoints/{name}/deployments/blue").status_code == 404


def test_deployment_type_must_match_the_endpoint(arm: Arm, kube_endpoint: str) -> None:
    name = kube_endpoint
    managed = deployment_body("m", "c", "e")
    message = _error(arm.put(f"/onlineEndpoints/{name}/deployments/blue", managed))
    assert "endpointComputeType Managed" in message and "Kubernetes endpoint" in message
    other, response = _endpoint(arm)
    arm.ok(response)
    try:
        message = _error(arm.put(f"/onlineEndpoints/{other}/deployments/blue", _kube_deployment()))
        assert "endpointComputeType Kubernetes" in message and "Managed endpoint" in message
    finally:
        arm.ok(arm.delete(f"/onlineEndpoints/{other}"))
