"""Faults on purpose: 429 with Retry-After, 500, 503, slow answers and dropped connections."""

from __future__ import annotations

import time

import httpx
import pytest
from support.arm import API, Arm


def _arm_fault(arm: Arm, **fault: object) -> None:
    response = arm.admin("POST", "faults", json=fault)
    assert response.status_code == 201, response.text


def test_faults_are_off_by_default(arm: Arm) -> None:
    assert arm.admin("GET", "faults").json() == {
        "value": [],
        "operationMinimumSeconds": 0.0,
        "metricsDelaySeconds": 0.0,
    }


def test_a_metrics_delay_is_set_shown_and_cleared(arm: Arm) -> None:
    assert arm.admin("POST", "faults/metrics", json={"delaySeconds": 90}).json() == {
        "metricsDelaySeconds": 90.0
    }
    assert arm.admin("GET", "faults").json()["metricsDelaySeconds"] == 90.0
    wrong = arm.admin("POST", "faults/metrics", json={"delaySeconds": -1})
    assert wrong.status_code == 400 and "'delaySeconds' must be a non-negative number" in wrong.text
    assert arm.admin("DELETE", "faults").status_code == 204
    assert arm.admin("GET", "faults").json()["metricsDelaySeconds"] == 0.0


@pytest.mark.parametrize("status", [429, 500, 503])
def test_status_faults_hit_the_next_n_requests(arm: Arm, clean_faults: None, status: int) -> None:
    path = arm.url("/onlineEndpoints")
    _arm_fault(arm, path=path, kind=str(status), count=2, retryAfter=3)
    for _ in range(2):
        response = arm.get("/onlineEndpoints")
        assert response.status_code == status
        assert response.json()["error"]["message"].startswith("Injected fault")
        if status in (429, 503):
            assert response.headers["Retry-After"] == "3"
    assert arm.get("/onlineEndpoints").status_code == 200
    assert arm.admin("GET", "faults").json()["value"] == []


def test_method_and_prefix_matching(arm: Arm, clean_faults: None) -> None:
    _arm_fault(arm, path=arm.url("/onlineEndpoints"), kind="503", count=1, method="PUT", match="prefix")
    assert arm.get("/onlineEndpoints").status_code == 200
    response = arm.put(
        "/onlineEndpoints/faulty-one", {"location": "local", "properties": {"authMode": "Key"}}
    )
    assert response.status_code == 503
    assert arm.get("/onlineEndpoints/faulty-one").status_code == 404


def test_slow_and_dropped(arm: Arm, clean_faults: None) -> None:
    _arm_fault(arm, path=arm.url("/computes"), kind="slow", delaySeconds=0.4)
    started = time.monotonic()
    assert arm.get("/computes").status_code == 200
    assert time.monotonic() - started >= 0.4
    _arm_fault(arm, path=arm.url("/computes"), kind="drop", count=1)
    with (
        httpx.Client(
            base_url=arm.info.base_url, headers={"Authorization": f"Bearer {arm.info.token}"}
        ) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.get(arm.url("/computes"), params={"api-version": API})
    assert arm.get("/computes").status_code == 200


def test_invalid_faults_are_refused(arm: Arm, clean_faults: None) -> None:
    for fault in (
        {"path": "relative", "kind": "500"},
        {"path": "/x", "kind": "418"},
        {"path": "/x", "kind": "500", "count": 0},
    ):
        assert arm.admin("POST", "faults", json=fault).status_code == 400
    assert arm.admin("POST", "faults/operations", json={"minimumSeconds": -1}).status_code == 400
