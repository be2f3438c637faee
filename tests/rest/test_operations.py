"""The first operations on endpoints and deployments, against the real local workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import OperationProgress, RestClient


@pytest.fixture
def endpoint(client: RestClient) -> Iterator[str]:
    name = "ops-" + uuid.uuid4().hex[:8]
    yield name
    ops.delete_endpoint(client, name, timeout=60)


def test_endpoint_lifecycle_and_keys(client: RestClient, endpoint: str) -> None:
    seen: list[OperationProgress] = []
    created = ops.create_endpoint(client, endpoint, auth_mode="key", progress=seen.append)
    assert created.name == endpoint and created.provisioning_state == "Succeeded"
    assert created.scoring_uri and created.scoring_uri.endswith(f"/endpoints/{endpoint}/score")
    assert seen and seen[-1].status == "Succeeded"
    assert endpoint in [item.name for item in ops.list_endpoints(client)]

    keys = ops.get_keys(client, endpoint)
    assert keys.primary_key and keys.secondary_key and keys.primary_key != keys.secondary_key
    assert keys.primary_key not in repr(keys) and keys.primary_key not in str(keys)
    assert f"{keys.primary_key[:4]}…{keys.primary_key[-4:]}" in repr(keys)
    ops.regenerate_key(client, endpoint, "primary")
    renewed = ops.get_keys(client, endpoint)
    assert renewed.primary_key != keys.primary_key and renewed.secondary_key == keys.secondary_key

    with pytest.raises(errors.BadRequestError):
        ops.get_token(client, endpoint)  # key endpoints have no tokens

    ops.delete_endpoint(client, endpoint)
    with pytest.raises(errors.NotFoundError):
        ops.get_endpoint(client, endpoint)


def test_token_endpoint(client: RestClient, endpoint: str) -> None:
    ops.create_endpoint(client, endpoint, auth_mode="aml_token")
    token = ops.get_token(client, endpoint)
    assert token.access_token and token.expiry_time_utc > token.refresh_after_time_utc > 0
    assert token.access_token not in repr(token)


def test_unknown_names_get_did_you_mean(client: RestClient, endpoint: str) -> None:
    ops.create_endpoint(client, endpoint)
    with pytest.raises(errors.NotFoundError) as caught:
        ops.get_endpoint(client, endpoint[:-1] + "z")
    assert f"No online endpoint named '{endpoint[:-1]}z' exists." in str(caught.value)
    assert f"Did you mean '{endpoint}'?" in str(caught.value)
    with pytest.raises(errors.NotFoundError) as missing_deployment:
        ops.get_deployment(client, endpoint, "blue")
    assert "There are none yet." in str(missing_deployment.value)
    assert ops.list_deployments(client, endpoint) == []


def test_traffic_is_checked_before_anything_is_sent(client: RestClient, endpoint: str) -> None:
    ops.create_endpoint(client, endpoint)
    before = client.request_count
    with pytest.raises(errors.SpecValidationError):
        ops.set_traffic(client, endpoint, {"blue": 90, "green": 20})
    assert client.request_count - before == 2  # the endpoint and its deployments were read, nothing written
