"""Operations end to end: the fixture blue/green sample deployed from YAML, invoked, traffic shifted,
mirrored, logs read, keys regenerated, deleted — over real HTTP against the local workspace."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.arm import Admin
from support.clients import deployed_sample
from support.samples import EXPECTED_MODEL_1, SampleTree, close_to
from support.waiting import unique

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import OperationProgress, RestClient, StaticTokenCredential
from jupyter_mlep.settings import resolve as resolve_settings
from jupyter_mlep.specs import load_deployment
from jupyter_mlep.workspace import WorkspaceInfo
from jupyter_mlep.workspace._identity import RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME


@pytest.fixture(scope="module")
def sample(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[SampleTree]:
    """The sample on one endpoint: blue (model-1) with all traffic, green (model-2) with none."""
    root = tmp_path_factory.mktemp("sample")
    with deployed_sample(workspace, root, azureml_examples, unique("ops")) as deployed:
        assert deployed.blue.deployment.provisioning_state == "Succeeded"
        assert deployed.blue.traffic == {"blue": 100}
        assert deployed.green is not None and deployed.green.deployment.provisioning_state == "Succeeded"
        yield deployed.tree


def test_invoke_follows_traffic(client: RestClient, sample: SampleTree) -> None:
    result = ops.invoke(client, sample.endpoint, sample.request)
    assert result.status == 200 and result.deployment == "blue"
    assert close_to(result.body, EXPECTED_MODEL_1)
    assert ops.invoke(client, sample.endpoint, sample.payload(), deployment="green").body == [0.5, 0.5]
    assert "200 from blue" in repr(result) and "<pre>" in result._repr_html_()


def test_traffic_shifts_and_responses_follow(client: RestClient, sample: SampleTree) -> None:
    try:
        assert ops.update_traffic(client, sample.endpoint, {"blue": 90, "green": 10}).traffic == {
            "blue": 90,
            "green": 10,
        }
        # Each answer comes from green with p = 0.1, independently (the router draws per request).
        # Up to 150 draws, stopping once both answered: the test fails only if all 150 came from one
        # side, P = 0.9^150 + 0.1^150 = 1.4e-7 (< 1e-6; 40 draws failed 0.9^40 = 1.5 % of runs).
        # About 10 draws on average.
        seen: set[str | None] = set()
        for _ in range(150):
            seen.add(ops.invoke(client, sample.endpoint, sample.payload()).deployment)
            if len(seen) == 2:
                break
        assert seen == {"blue", "green"}
        assert ops.update_traffic(client, sample.endpoint, {"blue": 0, "green": 100}).traffic["green"] == 100
        answer = ops.invoke(client, sample.endpoint, sample.payload())
        assert answer.deployment == "green" and answer.body == [0.5, 0.5]
    finally:
        ops.update_traffic(client, sample.endpoint, {"blue": 100, "green": 0})


def test_mirror_traffic(client: RestClient, sample: SampleTree) -> None:
    try:
        shown = ops.update_traffic(client, sample.endpoint, mirror_traffic={"green": 10})
        assert shown.mirror_traffic == {"green": 10} and "mirror" in repr(shown)
        assert ops.get_traffic(client, sample.endpoint).mirror_traffic == {"green": 10}
        assert ops.invoke(client, sample.endpoint, sample.payload()).deployment == "blue"
        with pytest.raises(errors.SpecValidationError, match="mirror"):
            ops.update_traffic(client, sample.endpoint, mirror_traffic={"blue": 10})
    finally:
        ops.update_traffic(client, sample.endpoint, mirror_traffic={})


def test_traffic_not_summing_to_100_is_refused(client: RestClient, sample: SampleTree) -> None:
    with pytest.raises(errors.SpecValidationError, match="sum to 100"):
        ops.update_traffic(client, sample.endpoint, {"blue": 90, "green": 20})


def test_logs_and_details(client: RestClient, sample: SampleTree) -> None:
    assert "Init complete" in ops.get_logs(client, sample.endpoint, "blue", lines=200)
    details = ops.describe_endpoint(client, sample.endpoint)
    assert {d.name for d in details.deployments} == {"blue", "green"}
    assert "blue" in repr(details) and "<table>" in details._repr_html_()
    assert sample.endpoint in repr(ops.list_all(client))


def test_unknown_names_say_did_you_mean(client: RestClient, sample: SampleTree) -> None:
    with pytest.raises(errors.NotFoundError) as caught:
        ops.invoke(client, sample.endpoint + "x", {"data": []})
    assert "Did you mean" in str(caught.value) and sample.endpoint in str(caught.value)
    with pytest.raises(errors.NotFoundError, match="Did you mean 'green'"):
        ops.get_deployment(client, sample.endpoint, "gren")


def test_non_json_payload_gets_a_clear_error(client: RestClient, sample: SampleTree) -> None:
    with pytest.raises(errors.BadRequestError, match="payload is not JSON"):
        ops.invoke(client, sample.endpoint, b"\x00\x01 not json", deployment="blue")


def test_regenerated_key_refuses_the_old_one(client: RestClient, sample: SampleTree) -> None:
    import httpx

    old = ops.get_keys(client, sample.endpoint).primary_key
    ops.regenerate_key(client, sample.endpoint, "primary")
    new = ops.get_keys(client, sample.endpoint).primary_key
    assert new != old
    uri = str(ops.get_endpoint(client, sample.endpoint).scoring_uri)
    refused = httpx.post(uri, json=sample.payload(), headers={"Authorization": f"Bearer {old}"})
    assert refused.status_code == 401
    assert ops.invoke(client, sample.endpoint, sample.payload()).status == 200
    shown = repr(ops.KeysResult(sample.endpoint, ops.get_keys(client, sample.endpoint)))
    assert new not in shown and f"{new[:4]}…{new[-4:]}" in shown


def test_invoke_and_deploy_succeed_through_injected_faults(
    workspace: WorkspaceInfo, client: RestClient, sample: SampleTree
) -> None:
    admin = Admin(workspace)
    score = f"/endpoints/{sample.endpoint}/score"
    deployment = client.paths.deployment(sample.endpoint, "green")
    try:
        admin.fault(score, "429", count=2, retryAfter=0)
        admin.fault(score, "drop", count=1)
        admin.fault(score, "503", count=1)
        assert close_to(ops.invoke(client, sample.endpoint, sample.payload()).body, EXPECTED_MODEL_1)
        assert admin.armed() == []
        admin.fault(deployment, "503", count=2, method="PUT")
        admin.fault(client.paths.endpoint(sample.endpoint), "429", count=1, method="GET", retryAfter=0)
        again = ops.deploy(client, load_deployment(sample.green), timeout=300)
        assert again.deployment.provisioning_state == "Succeeded" and admin.armed() == []
        admin.fault(deployment, "503", count=100, method="PUT", retryAfter=0)
        with pytest.raises(errors.ServiceError, match="503"):
            ops.deploy(client, load_deployment(sample.green), timeout=60)
        admin.clear()
        admin.fault(score, "503", count=100, retryAfter=0)
        with pytest.raises(errors.ServiceError, match="503") as caught:
            ops.invoke(client, sample.endpoint, sample.payload())
        assert caught.value.status == 503
    finally:
        admin.clear()
        admin.http.close()


def test_ctrl_c_during_a_deploy_reports_the_state(client: RestClient, sample: SampleTree) -> None:
    def interrupt(update: OperationProgress) -> None:
        if update.polls >= 1:
            raise KeyboardInterrupt

    spec = load_deployment(sample.green, overrides={"environment_variables": {"ROUND": "2"}})
    with pytest.raises(errors.OperationInterruptedError) as caught:
        ops.deploy(client, spec, progress=interrupt)
    assert "last known state was" in str(caught.value) and "goes on in the service" in str(caught.value)
    assert isinstance(caught.value, KeyboardInterrupt)
    started = ops.deploy(client, load_deployment(sample.green), wait=False)
    assert started.deployment.name == "green"
    for _ in range(120):
        if ops.get_deployment(client, sample.endpoint, "green").provisioning_state == "Succeeded":
            break
        time.sleep(0.25)
    assert ops.invoke(client, sample.endpoint, sample.payload(), deployment="green").body == [0.5, 0.5]


def test_azure_target_through_the_same_client(workspace: WorkspaceInfo, sample: SampleTree) -> None:
    settings = resolve_settings(
        {
            "target": "azure",
            "subscription_id": SUBSCRIPTION_ID,
            "resource_group": RESOURCE_GROUP,
            "workspace_name": WORKSPACE_NAME,
        }
    )
    with RestClient.from_settings(
        settings, credential=StaticTokenCredential(workspace.token), base_url=workspace.base_url
    ) as azure:
        assert azure.target == "azure"
        assert sample.endpoint in [e.name for e in ops.list_endpoints(azure)]
        answer = ops.invoke(azure, sample.endpoint, sample.payload(), deployment="blue")
        assert close_to(answer.body, EXPECTED_MODEL_1)


@pytest.mark.parametrize("auth_mode", ["aml_token", "aad_token"])
def test_token_endpoints_are_scored_with_their_token(client: RestClient, auth_mode: str) -> None:
    name = f"tok-{uuid.uuid4().hex[:6]}"
    ops.create_endpoint(client, name, auth_mode=auth_mode)
    try:
        assert ops.get_endpoint(client, name).auth_mode == auth_mode
        # The token is accepted: the answer is about the missing deployment, not the credentials.
        with pytest.raises(errors.NotFoundError, match="no deployment named 'nope'"):
            ops.invoke(client, name, {"data": [1]}, deployment="nope")
        with pytest.raises(errors.ServiceError, match="no live traffic") as caught:
            ops.invoke(client, name, {"data": [1]})
        assert "%endpoint traffic" in str(caught.value)
        if auth_mode == "aml_token":
            assert "…" in repr(ops.get_token(client, name))
    finally:
        ops.delete_endpoint(client, name)


def test_references_are_kept_and_inline_assets_registered_once(
    client: RestClient, sample: SampleTree, azureml_examples: Path
) -> None:
    from jupyter_mlep.specs import spec_from_dict

    ref = spec_from_dict(
        {
            "name": "refs",
            "endpoint_name": sample.endpoint,
            "model": "azureml:some-model:3",
            "environment": "azureml:some-env:2",
            "code_configuration": {"code": "azureml:some-code:1", "scoring_script": "score.py"},
        },
        kind="managedOnlineDeployment",
    )
    assets = ops.register_deployment_assets(client, ref, endpoint=sample.endpoint)
    assert (assets.model_id, assets.code_id, assets.environment_id, assets.registered) == (
        None,
        None,
        None,
        [],
    )
    body = ref.to_rest(workspace=client.paths.workspace, location="local")
    assert body["properties"]["model"].endswith("/models/some-model/versions/3")
    assert body["properties"]["environmentId"].endswith("/environments/some-env/versions/2")
    inline = load_deployment(sample.blue)
    first = ops.register_deployment_assets(client, inline, endpoint=sample.endpoint)
    again = ops.register_deployment_assets(client, inline, endpoint=sample.endpoint)
    assert all(asset.reused for asset in again.registered) and again.environment_id == first.environment_id
    assert first.model_id == again.model_id and first.code_id == again.code_id


def test_public_api_is_flat() -> None:
    import jupyter_mlep

    assert jupyter_mlep.deploy is ops.deploy and jupyter_mlep.invoke is ops.invoke
    assert jupyter_mlep.get_keys is ops.get_keys and jupyter_mlep.connect is ops.connect


def test_traffic_for_one_deployment() -> None:
    assert ops.split_traffic({"blue": 100}, "green", 100, rest_to="one") == {"blue": 0, "green": 100}
    assert ops.split_traffic({"blue": 100, "green": 0}, "green", 10, rest_to="one") == {
        "blue": 90,
        "green": 10,
    }
    assert ops.split_traffic({}, "blue", 0, rest_to="one") == {"blue": 0}
    with pytest.raises(errors.SpecValidationError, match="exactly one other deployment"):
        ops.split_traffic({"blue": 50, "green": 50}, "red", 10, rest_to="one")
