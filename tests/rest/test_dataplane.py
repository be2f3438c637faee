"""``RestClient.data_plane``: requests to an endpoint's own URIs through the local workspace's router,
and the one error mapper (refused keys, unknown deployments, no live traffic, throttling, no answer)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient


@pytest.fixture
def endpoint(client: RestClient) -> Iterator[tuple[str, str, str]]:
    """A key endpoint without deployments: (name, scoring URI, primary key)."""
    name = f"dp-{uuid.uuid4().hex[:6]}"
    info = ops.create_endpoint(client, name)
    try:
        assert info.scoring_uri
        yield name, info.scoring_uri, ops.get_keys(client, name).primary_key
    finally:
        ops.delete_endpoint(client, name)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def test_no_live_traffic_is_a_service_error_sent_once(
    client: RestClient, endpoint: tuple[str, str, str]
) -> None:
    name, uri, key = endpoint
    before = client.request_count
    with pytest.raises(errors.ServiceError, match="sends no live traffic") as caught:
        client.data_plane("POST", uri, endpoint=name, headers=auth(key), content=b"{}", timeout=10)
    assert client.request_count - before == 1, "a configuration 503 is not retried"
    assert caught.value.status == 503 and caught.value.method == "POST" and caught.value.url == uri
    assert "%endpoint traffic" in str(caught.value)


def test_an_unknown_deployment_is_named(client: RestClient, endpoint: tuple[str, str, str]) -> None:
    name, uri, key = endpoint
    swagger = uri.rsplit("/", 1)[0] + "/swagger.json"
    with pytest.raises(errors.NotFoundError) as caught:
        client.data_plane(
            "GET",
            swagger,
            endpoint=name,
            deployment="ghost",
            headers=auth(key),
            params={"version": "3"},
            timeout=10,
            action="Reading the OpenAPI document of",
        )
    text = str(caught.value)
    assert text.startswith(f"Reading the OpenAPI document of endpoint '{name}' (deployment 'ghost') failed")
    assert "no deployment named 'ghost'" in text and caught.value.method == "GET"
    assert caught.value.url == swagger, "the query is not part of the error's URL"


def test_a_wrong_key_is_refused(client: RestClient, endpoint: tuple[str, str, str]) -> None:
    name, uri, _ = endpoint
    with pytest.raises(
        errors.AuthenticationError, match=r"Scoring endpoint '.*' was refused \(401\)"
    ) as caught:
        client.data_plane("POST", uri, endpoint=name, headers=auth("wrong"), content=b"{}", timeout=10)
    assert caught.value.hint and "keys" in caught.value.hint


def test_throttling_is_retried_then_reported(
    client: RestClient, endpoint: tuple[str, str, str], faults: Any
) -> None:
    name, uri, key = endpoint
    path = f"/endpoints/{name}/score"
    faults.fault(path, "429", count=100, retryAfter=0)
    before = client.request_count
    with pytest.raises(errors.ThrottledError, match="still throttled") as caught:
        client.data_plane(
            "POST", uri, endpoint=name, deployment="blue", headers=auth(key), content=b"{}", timeout=10
        )
    assert client.request_count - before == client.sender.policy.attempts
    assert f"endpoint '{name}' (deployment 'blue')" in str(caught.value)


def test_no_answer_is_service_unreachable(client: RestClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}/endpoints/x/score"
    with pytest.raises(errors.ServiceUnreachableError, match="did not answer") as caught:
        client.data_plane("POST", uri, endpoint="x", headers={}, content=b"{}", timeout=2)
    assert not isinstance(caught.value, errors.WorkspaceUnavailableError), (
        "not the management plane's wording"
    )
    assert caught.value.hint and "%endpoint show" in caught.value.hint
