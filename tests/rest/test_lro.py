"""Long-running operations over real HTTP: create, update, delete, progress, timeout, Ctrl-C, 409."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator

import pytest
from support.arm import Admin
from support.clients import make_client
from support.waiting import unique

from jupyter_mlep import _errors as errors
from jupyter_mlep.rest import OperationProgress, RestClient, RetryPolicy
from jupyter_mlep.workspace import WorkspaceInfo

BODY = {"location": "local", "properties": {"authMode": "Key", "description": "made by the REST tests"}}


@pytest.fixture
def name(client: RestClient) -> Iterator[str]:
    """A fresh endpoint name; the endpoint is deleted after the test if it exists."""
    value = unique("lro")
    yield value
    client.min_poll_interval = 0.05
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.run("DELETE", client.paths.endpoint(value), timeout=30)
            return
        except errors.ConflictError:
            time.sleep(0.2)


def test_endpoint_create_update_delete_through_the_lro_protocol(client: RestClient, name: str) -> None:
    before = client.request_count
    operation = client.begin("PUT", client.paths.endpoint(name), BODY)
    assert operation.initial.status_code == 201
    assert operation.status_url and "mfeOperationsStatus" in operation.status_url
    seen: list[OperationProgress] = []
    created = operation.wait(progress=seen.append)
    assert created["name"] == name and created["properties"]["provisioningState"] == "Succeeded"
    assert seen[-1].done and seen[-1].status == "Succeeded" and seen[-1].resource.endswith(name)
    create_requests = client.request_count - before
    assert create_requests == 3  # PUT 201, one status poll, GET the resource

    before = client.request_count
    updated = client.begin("PATCH", client.paths.endpoint(name), {"tags": {"stage": "test"}})
    assert updated.initial.status_code == 202 and updated.location_url
    body = updated.wait()
    assert body["tags"] == {"stage": "test"} and body["properties"]["provisioningState"] == "Succeeded"
    assert client.request_count - before == 3  # PATCH 202, status poll, GET Location

    deleted = client.begin("DELETE", client.paths.endpoint(name))
    assert deleted.initial.status_code == 202
    assert deleted.wait() is None
    with pytest.raises(errors.NotFoundError):
        client.get(client.paths.endpoint(name))


def test_the_first_poll_comes_soon_and_later_polls_follow_retry_after(
    workspace: WorkspaceInfo, name: str, faults: Admin
) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with make_client(workspace, sleep=sleep, min_poll_interval=0.1) as client:
        faults.slow_operations(1.5)
        operation = client.begin("PUT", client.paths.endpoint(name), BODY)
        assert operation.initial.headers["Retry-After"] == "1"
        operation.wait()
    assert slept[0] == pytest.approx(0.1)  # an operation that ends at once is not waited a second for
    assert slept[1:] and all(seconds == pytest.approx(1.0) for seconds in slept[1:])  # then Retry-After


def test_location_only_polling_and_final_state(client: RestClient, name: str, faults: Admin) -> None:
    client.run("PUT", client.paths.endpoint(name), BODY)
    faults.slow_operations(1.2)
    operation = client.begin("PATCH", client.paths.endpoint(name), {"tags": {"a": "1"}})
    operation.status_url = None  # follow Location alone, as a client that only knows Location would
    states: list[str] = []
    body = operation.wait(progress=lambda p: states.append(p.status))
    assert body["tags"] == {"a": "1"}
    assert states[0] == "InProgress" and states[-1] == "Succeeded"
    assert operation.polls >= 2  # 202 while running, then 200 with the resource


def test_progress_reports_state_and_elapsed_time_without_busy_polling(
    client: RestClient, name: str, faults: Admin
) -> None:
    faults.slow_operations(2.0)
    seen: list[OperationProgress] = []
    started = time.monotonic()
    client.begin("PUT", client.paths.endpoint(name), BODY).wait(progress=seen.append)
    elapsed = time.monotonic() - started
    assert elapsed >= 2.0
    assert [p.status for p in seen[:-1]] == ["InProgress"] * (len(seen) - 1) and seen[
        -1
    ].status == "Succeeded"
    assert all(b.elapsed >= a.elapsed for a, b in itertools.pairwise(seen))
    assert seen[-1].polls <= 4  # Retry-After: 1 s, so about one poll per second


def test_timeout_says_the_operation_goes_on(client: RestClient, name: str, faults: Admin) -> None:
    faults.slow_operations(3.0)
    operation = client.begin("PUT", client.paths.endpoint(name), BODY)
    started = time.monotonic()
    with pytest.raises(errors.OperationTimeoutError) as caught:
        operation.wait(timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert "goes on" in str(caught.value) and "InProgress" in str(caught.value)
    faults.slow_operations(0)
    assert operation.wait(timeout=30)["properties"]["provisioningState"] == "Succeeded"


def test_ctrl_c_stops_waiting_and_reports_the_last_state(
    client: RestClient, name: str, faults: Admin
) -> None:
    faults.slow_operations(2.0)
    operation = client.begin("PUT", client.paths.endpoint(name), BODY)

    def interrupt(progress: OperationProgress) -> None:
        if progress.polls >= 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        operation.wait(progress=interrupt)
    error = caught.value
    assert isinstance(error, errors.OperationInterruptedError)
    assert "last known state was InProgress" in str(error) and "goes on in the service" in str(error)


def test_busy_endpoint_conflict_is_waited_out(client: RestClient, name: str, faults: Admin) -> None:
    faults.slow_operations(1.0)
    client.begin("PUT", client.paths.endpoint(name), BODY)  # still running
    retried = client.sender.retried
    started = time.monotonic()
    body = client.run("PUT", client.paths.endpoint(name), {**BODY, "tags": {"second": "yes"}})
    assert body["tags"] == {"second": "yes"}
    assert client.sender.retried > retried  # at least one 409 was waited out
    assert time.monotonic() - started >= 0.5


def test_busy_wait_ends_with_the_real_outcome(client: RestClient, name: str, faults: Admin) -> None:
    client.run("PUT", client.paths.endpoint(name), BODY)
    faults.slow_operations(1.0)
    client.begin("DELETE", client.paths.endpoint(name))
    faults.slow_operations(0)
    with pytest.raises(errors.NotFoundError):
        # 409 while the delete runs (waited out), then the endpoint is gone
        client.run("PATCH", client.paths.endpoint(name), {"tags": {"x": "y"}})


def test_busy_conflict_wait_is_bounded(workspace: WorkspaceInfo, name: str, faults: Admin) -> None:
    faults.slow_operations(3.0)
    policy = RetryPolicy(conflict_wait=0.6, conflict_interval=0.2)
    with make_client(workspace, retry=policy) as client:
        client.begin("PUT", client.paths.endpoint(name), BODY)
        started = time.monotonic()
        with pytest.raises(errors.ConflictError) as caught:
            client.begin("PUT", client.paths.endpoint(name), BODY)
        assert time.monotonic() - started < 2.0
        assert caught.value.status == 409 and "in progress" in str(caught.value)


def test_failed_deployment_operation_raises_with_the_arm_error(client: RestClient, name: str) -> None:
    client.run("PUT", client.paths.endpoint(name), BODY)
    missing = client.paths.model_version("no-such-model-" + uuid.uuid4().hex[:6], "1")
    body = {
        "location": "local",
        "sku": {"name": "Default", "capacity": 1},
        "properties": {
            "endpointComputeType": "Managed",
            "model": missing,
            "codeConfiguration": {
                "codeId": client.paths.code_version("nothing", "1"),
                "scoringScript": "score.py",
            },
            "environmentId": client.paths.environment_version("nothing", "1"),
            "instanceType": "Standard_DS3_v2",
        },
    }
    try:
        with pytest.raises(errors.OperationFailedError) as caught:
            client.run("PUT", client.paths.deployment(name, "blue"), body, timeout=60)
    except errors.BadRequestError as exc:  # a service may also refuse the body at once
        pytest.fail(f"expected the operation to fail, the PUT itself was refused: {exc}")
    error = caught.value
    assert error.state == "Failed" and error.code
    assert "ended Failed" in str(error) and error.method == "PUT"
