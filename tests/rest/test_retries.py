"""Retries through faults injected into the real workspace: 429, 503, 500, dropped connections."""

from __future__ import annotations

import time
import uuid
from email.utils import formatdate

import httpx
import pytest
from support.arm import Admin
from support.clients import make_client

from jupyter_mlep import _errors as errors
from jupyter_mlep.rest import RestClient, RetryPolicy, retry_after
from jupyter_mlep.workspace import WorkspaceInfo


def test_429_with_retry_after_is_honoured(client: RestClient, faults: Admin) -> None:
    path = client.paths.endpoints()
    faults.fault(path, "429", count=2, retryAfter=1)
    started = time.monotonic()
    before = client.request_count
    assert "value" in client.get(path)
    assert time.monotonic() - started >= 2.0  # two Retry-After: 1 waits, not the fast backoff
    assert client.request_count - before == 3
    assert faults.armed() == []


@pytest.mark.parametrize("kind", ["503", "500", "drop"])
def test_transient_failures_of_idempotent_requests_are_retried(
    client: RestClient, faults: Admin, kind: str
) -> None:
    path = client.paths.endpoints()
    faults.fault(path, kind, count=2, retryAfter=0)
    before = client.request_count
    assert "value" in client.get(path)
    assert client.request_count - before == 3
    assert faults.armed() == []


def test_put_is_retried_through_dropped_connections(client: RestClient, faults: Admin) -> None:
    name = "retry-" + uuid.uuid4().hex[:6]
    path = client.paths.asset_version("environments", name, "1")
    faults.fault(path, "drop", count=1, method="PUT")
    faults.fault(path, "503", count=1, method="PUT", retryAfter=0)
    body = client.put(path, {"properties": {"image": "python:3.11"}})
    assert body["name"] == "1"


def test_safe_post_action_is_retried(client: RestClient, faults: Admin) -> None:
    path = client.paths.datastore("workspaceblobstore", "listSecrets")
    faults.fault(path, "503", count=2, retryAfter=0)
    assert client.post(path, {})["secretsType"] == "AccountKey"


def test_unsafe_post_is_not_retried_after_a_server_error(client: RestClient, faults: Admin) -> None:
    path = client.paths.endpoint("whatever", "regenerateKeys")
    faults.fault(path, "500", count=2)
    with pytest.raises(errors.ServiceError) as caught:
        client.request("POST", path, json={"keyType": "Primary"})
    assert caught.value.status == 500 and caught.value.code == "InternalServerError"
    assert len(faults.armed()) == 1 and faults.armed()[0]["count"] == 1  # sent once


def test_persistent_faults_fail_clearly_within_the_bound(workspace: WorkspaceInfo, faults: Admin) -> None:
    with make_client(
        workspace, retry=RetryPolicy(attempts=20, total=2.0, backoff=0.2, max_backoff=0.5)
    ) as client:
        path = client.paths.endpoints()
        faults.fault(path, "503", count=100, retryAfter=1)
        started = time.monotonic()
        with pytest.raises(errors.ServiceError) as caught:
            client.get(path)
        assert time.monotonic() - started < 4.0
        error = caught.value
        assert error.status == 503 and error.code == "ServiceUnavailable"
        assert "Injected fault" in str(error) and "-> 503" in str(error)
        assert 2 <= client.request_count <= 4


def test_persistent_throttling_is_a_throttled_error(workspace: WorkspaceInfo, faults: Admin) -> None:
    with make_client(workspace, retry=RetryPolicy(attempts=3, total=5.0)) as client:
        path = client.paths.endpoints()
        faults.fault(path, "429", count=10, retryAfter=0)
        with pytest.raises(errors.ThrottledError) as caught:
            client.get(path)
        assert caught.value.status == 429 and client.request_count == 3


def test_persistent_dropped_connections_are_service_unreachable(
    workspace: WorkspaceInfo, faults: Admin
) -> None:
    with make_client(workspace, retry=RetryPolicy(attempts=3, total=5.0, backoff=0.05)) as client:
        path = client.paths.endpoints()
        faults.fault(path, "drop", count=10)
        with pytest.raises(errors.WorkspaceUnavailableError) as caught:
            client.get(path)
        assert "does not answer" in str(caught.value)
        assert client.request_count == 3


def test_lro_polls_survive_faults(client: RestClient, faults: Admin) -> None:
    name = "retry-lro-" + uuid.uuid4().hex[:6]
    path = client.paths.endpoint(name)
    faults.fault(path, "503", count=1, method="PUT", retryAfter=0)
    faults.fault("/subscriptions/", "429", count=1, match="prefix", method="GET", retryAfter=0)
    try:
        body = client.run("PUT", path, {"location": "local", "properties": {"authMode": "Key"}})
        assert body["properties"]["provisioningState"] == "Succeeded"
        assert faults.armed() == []
    finally:
        client.run("DELETE", path)


def test_retry_after_in_seconds_milliseconds_or_http_date() -> None:
    assert retry_after(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    in_three = retry_after(httpx.Headers({"Retry-After": formatdate(time.time() + 3, usegmt=True)}))
    assert in_three is not None and 1.5 <= in_three <= 3.5
    assert retry_after(httpx.Headers({"Retry-After": formatdate(time.time() - 60, usegmt=True)})) == 0.0
    assert retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after(httpx.Headers({})) is None


def test_only_safe_actions_count_as_idempotent() -> None:
    base = "http://h/subscriptions/s/onlineEndpoints/e"
    assert RetryPolicy.idempotent("GET", base) and RetryPolicy.idempotent("PUT", base)
    assert RetryPolicy.idempotent("DELETE", base)
    assert RetryPolicy.idempotent("POST", base + "/listKeys?api-version=x")
    assert RetryPolicy.idempotent("POST", base + "/deployments/d/getLogs")
    assert not RetryPolicy.idempotent("POST", base + "/regenerateKeys")
    assert not RetryPolicy.idempotent("PATCH", base)
