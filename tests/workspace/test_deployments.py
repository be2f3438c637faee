"""Deployments that really run: the sample's blue/green flow through plain ARM calls and the router.

blue serves model-1 (real predictions), green serves model-2 (always [0.5, 0.5]), so every
answer tells who gave it. Both run on the process runtime with the real inference server.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.arm import (
    Arm,
    deployment_body,
    endpoint_body,
    register_code,
    register_environment,
    register_model,
)
from support.samples import EXPECTED_MODEL_1, SCORE_BROKEN, SCORE_MODEL_1, SCORE_MODEL_2, sample_request

from jupyter_mlep.runtime import uds_request
from jupyter_mlep.workspace import control

from . import schemas

HEADER = "azureml-model-deployment"


class Sample:
    """The blue/green sample deployed on one endpoint."""

    def __init__(self, arm: Arm, endpoint: str, ids: dict[str, str]) -> None:
        self.arm = arm
        self.endpoint = endpoint
        self.ids = ids
        self.keys = arm.post(f"/onlineEndpoints/{endpoint}/listKeys").json()
        self.scoring_uri = arm.get(f"/onlineEndpoints/{endpoint}").json()["properties"]["scoringUri"]
        self.client = httpx.Client(headers={"Authorization": f"Bearer {self.keys['primaryKey']}"}, timeout=30)

    def score(self, payload: Any, **headers: str) -> httpx.Response:
        return self.client.post(self.scoring_uri, json=payload, headers=headers)

    def set_traffic(self, traffic: dict[str, int], mirror: dict[str, int] | None = None) -> None:
        body = {
            "location": "local",
            "properties": {"authMode": "Key", "traffic": traffic, "mirrorTraffic": mirror or {}},
        }
        self.arm.ok(self.arm.put(f"/onlineEndpoints/{self.endpoint}", body))

    def metric(self, name: str, split: str, deployment: str | None = None) -> dict[str, float]:
        """The last hour's ``Total`` of metric ``name`` by value of dimension ``split``, from the
        Azure Monitor metrics of the endpoint (or of one deployment)."""
        path = f"/onlineEndpoints/{self.endpoint}" + (f"/deployments/{deployment}" if deployment else "")
        params = {"metricnames": name, "timespan": "PT1H", "interval": "PT1H", "aggregation": "Total,Average"}
        answer = self.arm.get(
            path + "/providers/Microsoft.Insights/metrics",
            api="2023-10-01",
            params={**params, "$filter": f"{split} eq '*'"} if split else params,
        )
        assert answer.status_code == 200, answer.text
        out: dict[str, float] = {}
        for series in answer.json()["value"][0]["timeseries"]:
            key = series["metadatavalues"][0]["value"] if split else ""
            for point in series["data"]:
                out[key] = out.get(key, 0.0) + point.get("total", point.get("average", 0.0))
        return out

    def live(self) -> dict[str, float]:
        """Live requests by deployment (the endpoint's series: mirrored copies are not the endpoint's)."""
        return self.metric("RequestsPerMinute", "deployment")

    def answered(self, deployment: str) -> dict[str, float]:
        """Requests a deployment answered (live and mirrored), by status code."""
        return self.metric("RequestsPerMinute", "statusCode", deployment)


@pytest.fixture(scope="module")
def sample(arm: Arm, azureml_examples: Path, model_1: Path) -> Iterator[Sample]:
    """Endpoint + blue (model-1, all traffic) + green (model-2, no traffic), from the sample's YAMLs."""
    model_2 = model_1.parent / "model-2"
    ids = {
        "model-1": register_model(arm, "model-1", model_1 / "model"),
        "model-2": register_model(arm, "model-2", model_2 / "model"),
        "code-1": register_code(arm, "code-1", SCORE_MODEL_1),
        "code-2": register_code(arm, "code-2", SCORE_MODEL_2),
        "env": register_environment(arm, "sklearn-env", model_1 / "environment" / "conda.yaml"),
    }
    endpoint = f"my-endpoint-{uuid.uuid4().hex[:6]}"
    arm.ok(
        arm.put(
            f"/onlineEndpoints/{endpoint}",
            endpoint_body(azureml_examples / "cli/endpoints/online/managed/sample"),
        )
    )
    blue = arm.put(
        f"/onlineEndpoints/{endpoint}/deployments/blue",
        deployment_body(ids["model-1"], ids["code-1"], ids["env"]),
    )
    assert blue.status_code == 201, blue.text
    assert blue.json()["properties"]["provisioningState"] == "Creating"
    arm.ok(blue, timeout=600)
    state = Sample(arm, endpoint, ids)
    state.set_traffic({"blue": 100})
    green = arm.put(
        f"/onlineEndpoints/{endpoint}/deployments/green",
        deployment_body(ids["model-2"], ids["code-2"], ids["env"]),
    )
    arm.ok(green, timeout=600)
    try:
        yield state
    finally:
        state.client.close()


def test_both_deployments_succeeded_and_match_the_schema(sample: Sample) -> None:
    for name in ("blue", "green"):
        body = sample.arm.get(f"/onlineEndpoints/{sample.endpoint}/deployments/{name}").json()
        schemas.validate("OnlineDeployments_Get", 200, body)
        assert body["properties"]["provisioningState"] == "Succeeded"
    listed = sample.arm.get(f"/onlineEndpoints/{sample.endpoint}/deployments").json()
    schemas.validate("OnlineDeployments_List", 200, listed)
    assert sorted(d["name"] for d in listed["value"]) == ["blue", "green"]
    skus = sample.arm.get(f"/onlineEndpoints/{sample.endpoint}/deployments/blue/skus").json()
    schemas.validate("OnlineDeployments_ListSkus", 200, skus)


def test_scoring_goes_to_blue_and_says_so(sample: Sample, model_1: Path) -> None:
    response = sample.score(sample_request(model_1))
    assert response.status_code == 200, response.text
    assert response.json() == pytest.approx(EXPECTED_MODEL_1)
    assert response.headers[HEADER] == "blue"


def test_header_selects_a_deployment_without_traffic(sample: Sample, model_1: Path) -> None:
    response = sample.score(sample_request(model_1), **{HEADER: "green"})
    assert response.status_code == 200 and response.json() == [0.5, 0.5]
    assert response.headers[HEADER] == "green"
    unknown = sample.score(sample_request(model_1), **{HEADER: "purple"})
    assert unknown.status_code == 404 and "purple" in unknown.json()["error"]["message"]


def test_keys_authorise_scoring_and_nothing_else_does(sample: Sample, model_1: Path) -> None:
    payload = sample_request(model_1)
    secondary = httpx.post(
        sample.scoring_uri, json=payload, headers={"Authorization": f"Bearer {sample.keys['secondaryKey']}"}
    )
    assert secondary.status_code == 200
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {sample.arm.info.token}"},
    ):
        response = httpx.post(sample.scoring_uri, json=payload, headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "Unauthorized"


def test_scoring_errors_keep_the_inference_server_status(sample: Sample) -> None:
    response = sample.score({"data": "not a matrix"})
    assert response.status_code == 500
    assert response.headers[HEADER] == "blue"
    assert sample.answered("blue").get("500", 0) >= 1


def test_aad_token_mode_takes_the_admin_token(sample: Sample, model_1: Path) -> None:
    body = {"location": "local", "properties": {"authMode": "AADToken", "traffic": {"blue": 100}}}
    sample.arm.ok(sample.arm.put(f"/onlineEndpoints/{sample.endpoint}", body))
    try:
        admin = httpx.post(
            sample.scoring_uri,
            json=sample_request(model_1),
            headers={"Authorization": f"Bearer {sample.arm.info.token}"},
        )
        assert admin.status_code == 200 and admin.headers[HEADER] == "blue"
        assert sample.score(sample_request(model_1)).status_code == 401
    finally:
        sample.set_traffic({"blue": 100})
    assert sample.score(sample_request(model_1)).status_code == 200


def test_swagger_is_served_through_the_router(sample: Sample) -> None:
    swagger_uri = sample.arm.get(f"/onlineEndpoints/{sample.endpoint}").json()["properties"]["swaggerUri"]
    response = sample.client.get(swagger_uri)
    assert response.status_code == 200 and "paths" in response.json()


def test_traffic_split_90_10_over_1000_requests(sample: Sample, model_1: Path) -> None:
    sample.set_traffic({"blue": 90, "green": 10})
    payload = sample_request(model_1)
    before = sample.live()
    answered: collections.Counter[str] = collections.Counter()
    for _ in range(1000):
        response = sample.score(payload)
        assert response.status_code == 200
        who = response.headers[HEADER]
        assert (response.json() == [0.5, 0.5]) == (who == "green")
        answered[who] += 1
    # green answers X ~ Binomial(1000, 0.1) (the router draws per request): mean 100, sd 9.5.
    # Exact tails: P(X < 50) = 2.8e-9, P(X > 150) = 2.8e-7, so this fails with P = 2.8e-7 (< 1e-6);
    # the former bounds 60..140 failed with P = 2.7e-5.
    assert 50 <= answered["green"] <= 150, answered
    after = sample.live()
    for name in ("blue", "green"):
        assert after[name] - before.get(name, 0) == answered[name]
        assert sample.metric("RequestLatency_P50", "", name)[""] > 0
    sample.set_traffic({"blue": 100})


def test_mirror_traffic_reaches_green_but_callers_only_see_blue(sample: Sample, model_1: Path) -> None:
    sample.set_traffic({"blue": 100}, mirror={"green": 20})
    payload = sample_request(model_1)
    live_before, answered_before = sample.live().get("green", 0), sample.answered("green")
    for _ in range(300):
        response = sample.score(payload)
        assert response.status_code == 200 and response.headers[HEADER] == "blue"
        assert response.json() == pytest.approx(EXPECTED_MODEL_1)
    sample.set_traffic({"blue": 100}, mirror={"green": 0})
    live_after, answered_after = sample.live().get("green", 0), sample.answered("green")
    mirrored = sum(answered_after.values()) - sum(answered_before.values())
    # mirrored copies X ~ Binomial(300, 0.2) (the router draws per request): mean 60, sd 6.9.
    # Exact tails: P(X < 25) = 8.0e-9, P(X > 100) = 2.1e-8, so this fails with P = 2.9e-8 (< 1e-6);
    # the former bounds 30..90 failed with P = 1.5e-5.
    assert 25 <= mirrored <= 100, answered_after
    assert live_after == live_before, "green took no live request"
    assert answered_after.get("200", 0) - answered_before.get("200", 0) == mirrored


def test_get_logs_of_both_containers(sample: Sample) -> None:
    path = f"/onlineEndpoints/{sample.endpoint}/deployments/blue/getLogs"
    server = sample.arm.post(path, {"containerType": "InferenceServer"})
    assert server.status_code == 200
    schemas.validate("OnlineDeployments_GetLogs", 200, server.json())
    assert "Init complete" in server.json()["content"]
    storage = sample.arm.post(path, {"containerType": "StorageInitializer"})
    assert storage.status_code == 200 and storage.json()["content"]
    short = sample.arm.post(path, {"tail": 3}).json()["content"]
    assert 0 < len(short.strip().splitlines()) <= 3
    assert sample.arm.post(path, {"containerType": "Sidecar"}).status_code == 400


def test_scale_with_patch_then_both_instances_answer(sample: Sample, model_1: Path) -> None:
    path = f"/onlineEndpoints/{sample.endpoint}/deployments/green"
    response = sample.arm.patch(path, {"sku": {"capacity": 2}})
    assert response.status_code == 202
    assert sample.arm.get(path).json()["properties"]["provisioningState"] == "Scaling"
    sample.arm.ok(response, timeout=300)
    final = sample.arm.http.get(response.headers["Location"])
    assert final.status_code == 200
    schemas.validate("OnlineDeployments_Update", 200, final.json())
    body = sample.arm.get(path).json()
    assert body["sku"]["capacity"] == 2 and body["properties"]["provisioningState"] == "Succeeded"
    assert final.json()["sku"] == body["sku"]
    for _ in range(4):
        assert sample.score(sample_request(model_1), **{HEADER: "green"}).json() == [0.5, 0.5]
    sample.arm.ok(sample.arm.patch(path, {"sku": {"capacity": 1}}), timeout=300)


def test_update_by_put_restarts_with_the_new_code(sample: Sample, model_1: Path) -> None:
    code_id = register_code(sample.arm, "code-3", SCORE_MODEL_2.replace("[0.5, 0.5]", "[0.25, 0.75]"))
    body = deployment_body(sample.ids["model-2"], code_id, sample.ids["env"])
    path = f"/onlineEndpoints/{sample.endpoint}/deployments/green"
    response = sample.arm.put(path, body)
    assert response.status_code == 200
    assert response.json()["properties"]["provisioningState"] == "Updating"
    sample.arm.ok(response, timeout=300)
    assert sample.score(sample_request(model_1), **{HEADER: "green"}).json() == [0.25, 0.75]


def test_a_deployment_that_never_gets_healthy_fails_with_its_log(sample: Sample) -> None:
    code_id = register_code(sample.arm, "code-broken", SCORE_BROKEN)
    body = deployment_body(sample.ids["model-2"], code_id, sample.ids["env"])
    path = f"/onlineEndpoints/{sample.endpoint}/deployments/broken"
    response = sample.arm.put(path, body)
    status = sample.arm.wait(response, timeout=300)
    assert status["status"] == "Failed"
    assert "init exploded on purpose" in status["error"]["message"]
    assert sample.arm.get(path).json()["properties"]["provisioningState"] == "Failed"
    unhealthy = sample.score({}, **{HEADER: "broken"})
    assert unhealthy.status_code == 503 and unhealthy.json()["error"]["code"] == "DeploymentNotReady"
    said = unhealthy.json()["error"]["message"]
    assert "provisioningState is Failed" in said and "init exploded on purpose" in said
    sample.arm.ok(sample.arm.delete(path))


def test_deleting_the_endpoint_stops_its_servers(arm: Arm, sample: Sample, model_1: Path) -> None:
    env = sample.ids["env"]
    endpoint = f"short-lived-{uuid.uuid4().hex[:6]}"
    arm.ok(
        arm.put(f"/onlineEndpoints/{endpoint}", {"location": "local", "properties": {"authMode": "AMLToken"}})
    )
    arm.ok(
        arm.put(
            f"/onlineEndpoints/{endpoint}/deployments/only",
            deployment_body(sample.ids["model-2"], sample.ids["code-2"], env),
        ),
        timeout=300,
    )
    arm.ok(
        arm.put(
            f"/onlineEndpoints/{endpoint}",
            {"location": "local", "properties": {"authMode": "AMLToken", "traffic": {"only": 100}}},
        )
    )
    token = arm.post(f"/onlineEndpoints/{endpoint}/token").json()["accessToken"]
    scoring_uri = arm.get(f"/onlineEndpoints/{endpoint}").json()["properties"]["scoringUri"]
    answer = httpx.post(scoring_uri, json={}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json() == [0.5, 0.5]
    other_token = arm.post(f"/onlineEndpoints/{sample.endpoint}/listKeys").json()["primaryKey"]
    assert (
        httpx.post(scoring_uri, json={}, headers={"Authorization": f"Bearer {other_token}"}).status_code
        == 401
    )
    server_socket = _server_socket(arm, endpoint, "only")
    assert uds_request(server_socket, "GET", "/")[0] == 200
    arm.ok(arm.delete(f"/onlineEndpoints/{endpoint}"), timeout=120)
    with pytest.raises(OSError):
        uds_request(server_socket, "GET", "/", timeout=2)
    assert httpx.post(scoring_uri, json={}, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def _server_socket(arm: Arm, endpoint: str, deployment: str) -> str:
    """Where the deployment's inference server listens (from the runtime's state record)."""
    return str(_runtime_record(arm.info.home, endpoint, deployment)["instances"][0]["socket"])


def test_kill_9_then_restart_brings_deployments_back(sample: Sample, model_1: Path) -> None:
    arm, home = sample.arm, sample.arm.info.home
    red_path = f"/onlineEndpoints/{sample.endpoint}/deployments/red"
    red_code = register_code(arm, "code-red", SCORE_MODEL_2)
    arm.ok(
        arm.put(red_path, deployment_body(sample.ids["model-2"], red_code, sample.ids["env"])), timeout=300
    )
    green, red = (_runtime_record(home, sample.endpoint, name) for name in ("green", "red"))
    red_code_uri = arm.get("/codes/code-red/versions/1").json()["properties"]["codeUri"]
    os.kill(arm.info.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while control.status(home) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for record in (green, red):  # their processes die too: they must be started again
        for instance in record["instances"]:
            for pid in (instance.get("server_pid"), instance.get("launcher_pid")):
                if pid:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pid, signal.SIGKILL)
    shutil.rmtree(
        home / "workspace" / "blobs" / "azureml-blobstore" / red_code_uri.split("/azureml-blobstore/")[1]
    )
    info = control.start(home)
    assert info.port == arm.info.port and info.token == arm.info.token
    states = {}
    for name in ("blue", "green", "red"):
        path = f"/onlineEndpoints/{sample.endpoint}/deployments/{name}"
        deadline = time.monotonic() + 300
        while (state := arm.get(path).json()["properties"]["provisioningState"]) == "Updating":
            assert time.monotonic() < deadline, state
            time.sleep(0.1)
        states[name] = state
    assert states == {"blue": "Succeeded", "green": "Succeeded", "red": "Failed"}
    assert sample.score(sample_request(model_1)).json() == pytest.approx(EXPECTED_MODEL_1)
    assert sample.score(sample_request(model_1), **{HEADER: "green"}).json() == [0.25, 0.75]
    reason = arm.post(f"{red_path}/getLogs", {"containerType": "StorageInitializer"}).json()["content"]
    assert "Could not bring the deployment back after a restart" in reason and "does not exist" in reason
    arm.ok(arm.delete(red_path))


def _runtime_record(home: Path, endpoint: str, deployment: str) -> dict[str, Any]:
    for record in (home / "runtime").glob("*/state.json"):
        data: dict[str, Any] = json.loads(record.read_text())
        if data["endpoint"] == endpoint and data["name"] == deployment:
            return data
    raise AssertionError(f"no runtime record for {endpoint}/{deployment}")


def test_stop_stops_the_servers_and_start_brings_them_back(sample: Sample, model_1: Path) -> None:
    arm, home = sample.arm, sample.arm.info.home
    blue_socket = _server_socket(arm, sample.endpoint, "blue")
    assert control.stop(home) is True
    with pytest.raises(OSError):
        uds_request(blue_socket, "GET", "/", timeout=2)
    control.start(home)
    path = f"/onlineEndpoints/{sample.endpoint}/deployments/blue"
    deadline = time.monotonic() + 300
    while (state := arm.get(path).json()["properties"]["provisioningState"]) != "Succeeded":
        assert state == "Updating" and time.monotonic() < deadline, state
        time.sleep(0.1)
    assert sample.score(sample_request(model_1)).json() == pytest.approx(EXPECTED_MODEL_1)


def test_finally_delete_green_then_the_endpoint(sample: Sample, model_1: Path) -> None:
    arm, home = sample.arm, sample.arm.info.home
    green_path = f"/onlineEndpoints/{sample.endpoint}/deployments/green"
    deadline = time.monotonic() + 300
    while arm.get(green_path).json()["properties"]["provisioningState"] == "Updating":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    green_socket = _server_socket(arm, sample.endpoint, "green")
    arm.ok(arm.delete(f"/onlineEndpoints/{sample.endpoint}/deployments/green"), timeout=120)
    assert arm.get(f"/onlineEndpoints/{sample.endpoint}/deployments/green").status_code == 404
    with pytest.raises(OSError):
        uds_request(green_socket, "GET", "/", timeout=2)
    assert sample.score(sample_request(model_1)).headers[HEADER] == "blue"
    assert "green" not in sample.live()
    arm.ok(arm.delete(f"/onlineEndpoints/{sample.endpoint}"), timeout=120)
    assert arm.get(f"/onlineEndpoints/{sample.endpoint}").status_code == 404
    leftovers = [json.loads(p.read_text()) for p in (home / "runtime").glob("*/state.json")]
    assert [r for r in leftovers if r["endpoint"] == sample.endpoint] == []
