"""Online endpoints over real HTTP: LRO sequences, schemas, keys, tokens, validation, conflicts."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from support.arm import Arm
from support.waiting import unique

from . import schemas

EP = "/onlineEndpoints"


def _name(prefix: str = "ep") -> str:
    return unique(prefix)  # never the same name twice in a session (P(clash) = 0)


def _create(arm: Arm, name: str, auth_mode: str = "Key", **props: Any) -> dict[str, Any]:
    response = arm.put(f"{EP}/{name}", {"location": "local", "properties": {"authMode": auth_mode, **props}})
    assert response.status_code == 201, response.text
    arm.ok(response)
    return dict(arm.get(f"{EP}/{name}").json())


def _failed_deployment(arm: Arm, endpoint: str, name: str) -> None:
    """A deployment record that exists (its model cannot be resolved, so it ends Failed)."""
    body = {
        "location": "local",
        "properties": {
            "endpointComputeType": "Managed",
            "model": "azureml:missing:1",
            "codeConfiguration": {"codeId": "azureml:missing:1", "scoringScript": "score.py"},
        },
        "sku": {"name": "Default", "capacity": 1},
    }
    response = arm.put(f"{EP}/{endpoint}/deployments/{name}", body)
    assert response.status_code == 201, response.text
    assert arm.wait(response)["status"] == "Failed"


def test_create_is_a_long_running_operation_then_get(arm: Arm) -> None:
    name = _name()
    response = arm.put(f"{EP}/{name}", {"location": "local", "properties": {"authMode": "key"}})
    assert response.status_code == 201
    schemas.validate("OnlineEndpoints_CreateOrUpdate", 201, response.json())
    assert response.json()["properties"]["provisioningState"] == "Creating"
    for header in ("Azure-AsyncOperation", "Location", "Retry-After", "x-ms-async-operation-timeout"):
        assert header in response.headers
    assert int(response.headers["Retry-After"]) >= 0
    status = arm.wait(response)
    assert status["status"] == "Succeeded" and status["startTime"] and status["endTime"]
    result = arm.http.get(response.headers["Location"])
    assert result.status_code == 204
    got = arm.get(f"{EP}/{name}")
    assert got.status_code == 200
    body = got.json()
    schemas.validate("OnlineEndpoints_Get", 200, body)
    assert body["name"] == name
    assert body["id"] == arm.url(f"{EP}/{name}")
    assert body["type"] == "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
    assert body["properties"]["authMode"] == "Key"
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert body["properties"]["scoringUri"] == f"{arm.info.base_url}/endpoints/{name}/score"
    assert body["properties"]["swaggerUri"] == f"{arm.info.base_url}/endpoints/{name}/swagger.json"
    assert "keys" not in body["properties"] or body["properties"]["keys"] is None


def test_lookup_is_case_insensitive_and_list_pages(arm: Arm) -> None:
    names = [_name("pg") for _ in range(3)]
    for name in names:
        _create(arm, name)
    assert arm.get(f"{EP}/{names[0].upper()}").json()["name"] == names[0]
    first = arm.get(EP, params={"count": "2"})
    schemas.validate("OnlineEndpoints_List", 200, first.json())
    seen = [item["name"] for item in first.json()["value"]]
    link = first.json().get("nextLink")
    while link:
        page = arm.http.get(link).json()
        schemas.validate("OnlineEndpoints_List", 200, page)
        seen += [item["name"] for item in page["value"]]
        link = page.get("nextLink")
    assert set(names) <= set(seen)
    assert len(seen) == len(set(seen))


def test_keys_list_regenerate_and_create_time_keys(arm: Arm) -> None:
    name = _name()
    response = arm.put(
        f"{EP}/{name}",
        {
            "location": "local",
            "properties": {
                "authMode": "Key",
                "keys": {"primaryKey": "given-primary-key-1", "secondaryKey": "given-secondary-key-2"},
            },
        },
    )
    arm.ok(response)
    keys = arm.post(f"{EP}/{name}/listKeys")
    assert keys.status_code == 200
    schemas.validate("OnlineEndpoints_ListKeys", 200, keys.json())
    assert keys.json() == {"primaryKey": "given-primary-key-1", "secondaryKey": "given-secondary-key-2"}
    regen = arm.post(f"{EP}/{name}/regenerateKeys", {"keyType": "Primary"})
    assert regen.status_code == 202 and "Location" in regen.headers and "Retry-After" in regen.headers
    arm.ok(regen)
    after = arm.post(f"{EP}/{name}/listKeys").json()
    assert after["primaryKey"] != "given-primary-key-1" and after["secondaryKey"] == "given-secondary-key-2"
    arm.ok(arm.post(f"{EP}/{name}/regenerateKeys", {"keyType": "Secondary", "keyValue": "chosen-value"}))
    assert arm.post(f"{EP}/{name}/listKeys").json()["secondaryKey"] == "chosen-value"
    bad = arm.post(f"{EP}/{name}/regenerateKeys", {"keyType": "Tertiary"})
    assert bad.status_code == 400
    schemas.validate("OnlineEndpoints_RegenerateKeys", 400, bad.json())
    token = arm.post(f"{EP}/{name}/token")
    assert token.status_code == 400 and "AMLToken" in token.json()["error"]["message"]


def test_token_for_aml_token_endpoints(arm: Arm) -> None:
    name = _name()
    _create(arm, name, "AMLToken")
    token = arm.post(f"{EP}/{name}/token")
    assert token.status_code == 200
    schemas.validate("OnlineEndpoints_GetToken", 200, token.json())
    body = token.json()
    assert body["tokenType"] == "Bearer" and body["accessToken"]
    assert time.time() < body["refreshAfterTimeUtc"] < body["expiryTimeUtc"]
    assert arm.post(f"{EP}/{name}/listKeys").status_code == 400


def test_patch_tags_is_a_202_with_location_polling(arm: Arm) -> None:
    name = _name()
    _create(arm, name)
    response = arm.patch(f"{EP}/{name}", {"tags": {"team": "blue"}})
    assert response.status_code == 202 and response.content == b""
    assert int(response.headers["Retry-After"]) >= 0
    location = response.headers["Location"]
    deadline = time.monotonic() + 10
    while True:
        result = arm.http.get(location)
        if result.status_code != 202:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert result.status_code == 200
    schemas.validate("OnlineEndpoints_Get", 200, result.json())
    assert result.json()["tags"] == {"team": "blue"}
    assert arm.get(f"{EP}/{name}").json()["tags"] == {"team": "blue"}


def test_update_by_put_answers_200_and_moves_through_updating(arm: Arm) -> None:
    name = _name()
    _create(arm, name, description="first")
    response = arm.put(
        f"{EP}/{name}", {"location": "local", "properties": {"authMode": "Key", "description": "second"}}
    )
    assert response.status_code == 200
    assert response.json()["properties"]["provisioningState"] == "Updating"
    schemas.validate("OnlineEndpoints_CreateOrUpdate", 200, response.json())
    arm.ok(response)
    assert arm.get(f"{EP}/{name}").json()["properties"]["description"] == "second"


def test_delete_is_a_202_then_404(arm: Arm) -> None:
    name = _name()
    _create(arm, name)
    response = arm.delete(f"{EP}/{name}")
    assert response.status_code == 202 and "Location" in response.headers
    arm.ok(response)
    gone = arm.get(f"{EP}/{name}")
    assert gone.status_code == 404
    schemas.validate("OnlineEndpoints_Get", 404, gone.json())
    assert gone.json()["error"]["code"] == "ResourceNotFound"
    assert arm.delete(f"{EP}/{name}").status_code == 204


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"location": "local", "properties": {"authMode": "Password"}}, "Unknown authMode"),
        ({"location": "local", "properties": {}}, "authMode' is required"),
        ({"location": "local"}, "'properties' is required"),
        ({"location": "local", "properties": {"authMode": "Key", "traffic": {"nope": 100}}}, "do not exist"),
        ({"location": "local", "properties": {"authMode": "Key", "traffic": {"a": "x"}}}, "integer"),
        (
            {"location": "local", "properties": {"authMode": "Key", "publicNetworkAccess": "Sometimes"}},
            "publicNetworkAccess",
        ),
    ],
)
def test_invalid_bodies_are_400_with_arm_errors(arm: Arm, body: dict[str, Any], fragment: str) -> None:
    response = arm.put(f"{EP}/{_name()}", body)
    assert response.status_code == 400, response.text
    schemas.validate("OnlineEndpoints_CreateOrUpdate", 400, response.json())
    error = response.json()["error"]
    assert error["code"] == "BadArgument" and fragment in error["message"]


def test_invalid_json_and_names(arm: Arm) -> None:
    response = arm.request(
        "PUT", f"{EP}/{_name()}", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    for bad in ("1starts-with-digit", "ab", "ends-with-", "has_underscore", "x" * 33):
        response = arm.put(f"{EP}/{bad}", {"location": "local", "properties": {"authMode": "Key"}})
        assert response.status_code == 400, bad
        assert "endpoint name" in response.json()["error"]["message"]


def test_traffic_and_mirror_rules(arm: Arm) -> None:
    name = _name()
    _create(arm, name)
    for dep in ("blue", "green", "red"):
        _failed_deployment(arm, name, dep)

    def put(props: dict[str, Any]) -> Any:
        return arm.put(f"{EP}/{name}", {"location": "local", "properties": {"authMode": "Key", **props}})

    assert "sum to 100" in put({"traffic": {"blue": 60, "green": 30}}).json()["error"]["message"]
    assert "do not exist" in put({"traffic": {"blue": 50, "ghost": 50}}).json()["error"]["message"]
    over = put({"traffic": {"blue": 100}, "mirrorTraffic": {"green": 51}})
    assert over.status_code == 400 and "from 0 to 50" in over.json()["error"]["message"]
    two = put({"traffic": {"blue": 100}, "mirrorTraffic": {"green": 10, "red": 10}})
    assert two.status_code == 400 and "one deployment" in two.json()["error"]["message"]
    live = put({"traffic": {"blue": 90, "green": 10}, "mirrorTraffic": {"green": 10}})
    assert live.status_code == 400 and "live traffic" in live.json()["error"]["message"]
    good = put({"traffic": {"blue": 90, "green": 10}, "mirrorTraffic": {"red": 20}})
    assert good.status_code == 200, good.text
    arm.ok(good)
    props = arm.get(f"{EP}/{name}").json()["properties"]
    assert props["traffic"] == {"blue": 90, "green": 10} and props["mirrorTraffic"] == {"red": 20}
    zero = put({"traffic": {"blue": 0, "green": 0}})
    assert zero.status_code == 200
    arm.ok(zero)


def test_deleting_a_deployment_with_traffic_is_refused(arm: Arm) -> None:
    name = _name()
    _create(arm, name)
    _failed_deployment(arm, name, "blue")
    arm.ok(
        arm.put(
            f"{EP}/{name}", {"location": "local", "properties": {"authMode": "Key", "traffic": {"blue": 100}}}
        )
    )
    refused = arm.delete(f"{EP}/{name}/deployments/blue")
    assert refused.status_code == 400
    schemas.validate("OnlineDeployments_Delete", 400, refused.json())
    assert "traffic" in refused.json()["error"]["message"]
    arm.ok(arm.put(f"{EP}/{name}", {"location": "local", "properties": {"authMode": "Key", "traffic": {}}}))
    arm.ok(arm.delete(f"{EP}/{name}/deployments/blue"))
    assert arm.get(f"{EP}/{name}/deployments/blue").status_code == 404


def test_deleting_an_endpoint_deletes_its_deployments(arm: Arm) -> None:
    name = _name()
    _create(arm, name)
    _failed_deployment(arm, name, "blue")
    arm.ok(arm.delete(f"{EP}/{name}"))
    assert arm.get(f"{EP}/{name}/deployments/blue").status_code == 404
    _create(arm, name)
    assert arm.get(f"{EP}/{name}/deployments").json()["value"] == []


def test_conflict_while_an_operation_is_in_progress(arm: Arm, clean_faults: None) -> None:
    name = _name()
    assert arm.admin("POST", "faults/operations", json={"minimumSeconds": 1.5}).status_code == 200
    created = arm.put(f"{EP}/{name}", {"location": "local", "properties": {"authMode": "Key"}})
    assert created.status_code == 201
    in_progress = arm.http.get(created.headers["Azure-AsyncOperation"])
    assert in_progress.json()["status"] == "InProgress" and int(in_progress.headers["Retry-After"]) >= 1
    assert arm.http.get(created.headers["Location"]).status_code == 202
    for response in (
        arm.put(f"{EP}/{name}", {"location": "local", "properties": {"authMode": "Key"}}),
        arm.patch(f"{EP}/{name}", {"tags": {"a": "b"}}),
        arm.delete(f"{EP}/{name}"),
        arm.post(f"{EP}/{name}/regenerateKeys", {"keyType": "Primary"}),
    ):
        assert response.status_code == 409, response.text
        schemas.validate("OnlineEndpoints_Update", 409, response.json())
        assert response.json()["error"]["code"] == "Conflict"
    assert arm.get(f"{EP}/{name}").json()["properties"]["provisioningState"] == "Creating"
    arm.ok(created)
    done = arm.http.get(created.headers["Azure-AsyncOperation"])
    assert done.json()["status"] == "Succeeded" and "Retry-After" not in done.headers
    assert arm.get(f"{EP}/{name}").json()["properties"]["provisioningState"] == "Succeeded"
    arm.ok(arm.patch(f"{EP}/{name}", {"tags": {"a": "b"}}))


def test_conflict_while_a_deployment_operation_is_in_progress(arm: Arm, clean_faults: None) -> None:
    name = _name()
    _create(arm, name)
    arm.admin("POST", "faults/operations", json={"minimumSeconds": 1.5})
    body = {
        "location": "local",
        "properties": {
            "endpointComputeType": "Managed",
            "model": "azureml:missing:1",
            "codeConfiguration": {"codeId": "azureml:missing:1", "scoringScript": "score.py"},
        },
    }
    created = arm.put(f"{EP}/{name}/deployments/blue", body)
    assert created.status_code == 201
    path = f"{EP}/{name}/deployments/blue"
    for response in (
        arm.put(path, body),
        arm.patch(path, {"sku": {"capacity": 2}}),
        arm.delete(path),
        arm.put(f"{EP}/{name}", {"location": "local", "properties": {"authMode": "Key"}}),
        arm.delete(f"{EP}/{name}"),
    ):
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "Conflict"
    assert arm.get(path).json()["properties"]["provisioningState"] == "Creating"
    assert arm.wait(created)["status"] == "Failed"
    assert arm.get(path).json()["properties"]["provisioningState"] == "Failed"


def test_unknown_endpoint_is_404_everywhere(arm: Arm) -> None:
    for method, suffix in (
        ("GET", ""),
        ("PATCH", ""),
        ("POST", "/listKeys"),
        ("POST", "/token"),
        ("POST", "/regenerateKeys"),
        ("GET", "/deployments"),
        ("GET", "/deployments/blue"),
    ):
        response = arm.request(method, f"{EP}/nothing-here{suffix}", json={"keyType": "Primary", "tags": {}})
        assert response.status_code == 404, (method, suffix, response.text)
        assert response.json()["error"]["code"] == "ResourceNotFound"


def test_saved_example_bodies_are_accepted(arm: Arm) -> None:
    examples = schemas.examples()
    name = _name("ex")
    create = json.loads(
        (examples / "from-2024-10-01/Workspace/OnlineEndpoint/createOrUpdate.json").read_text()
    )
    body = create["parameters"]["body"]
    # Its traffic {"string": 1} names no deployment and does not sum to 100: rejected as Azure would.
    refused = arm.put(f"{EP}/{name}", body)
    assert refused.status_code == 400
    accepted = arm.put(f"{EP}/{name}", {**body, "properties": {**body["properties"], "traffic": {}}})
    assert accepted.status_code == 201, accepted.text
    arm.ok(accepted)
    got = arm.get(f"{EP}/{name}").json()
    assert got["properties"]["authMode"] == "AMLToken" and got["sku"]["name"] == "string"
    deployment = json.loads(
        (
            examples / "from-2024-10-01/OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json"
        ).read_text()
    )["parameters"]["body"]
    response = arm.put(f"{EP}/{name}/deployments/string", deployment)
    assert response.status_code == 201, response.text
    schemas.validate("OnlineDeployments_CreateOrUpdate", 201, response.json())
    # The example's model, code and environment ("string") do not exist here: the operation fails.
    assert arm.wait(response)["status"] == "Failed"
    arm.ok(
        arm.put(f"{EP}/{name}", {**body, "properties": {**body["properties"], "traffic": {"string": 100}}})
    )
    update = json.loads((examples / "Workspace/OnlineEndpoint/update.json").read_text())["parameters"]["body"]
    arm.ok(arm.patch(f"{EP}/{name}", update))
    regen = json.loads((examples / "Workspace/OnlineEndpoint/regenerateKeys.json").read_text())["parameters"][
        "body"
    ]
    assert arm.post(f"{EP}/{name}/regenerateKeys", regen).status_code == 400  # AMLToken endpoint has no keys
    keyed = _name("ex")
    _create(arm, keyed)
    arm.ok(arm.post(f"{EP}/{keyed}/regenerateKeys", regen))
    assert arm.post(f"{EP}/{keyed}/listKeys").json()["primaryKey"] == regen["keyValue"]
    dep_update = json.loads(
        (examples / "from-2024-10-01/OnlineDeployment/ManagedOnlineDeployment/update.json").read_text()
    )["parameters"]["body"]
    patched = arm.patch(f"{EP}/{name}/deployments/string", dep_update)
    assert patched.status_code == 202
    arm.wait(patched)
    logs = json.loads((examples / "from-2024-10-01/OnlineDeployment/getLogs.json").read_text())["parameters"][
        "body"
    ]
    got_logs = arm.post(f"{EP}/{name}/deployments/string/getLogs", logs)
    assert got_logs.status_code == 200
    schemas.validate("OnlineDeployments_GetLogs", 200, got_logs.json())
    assert "Deployment failed: The model URI string cannot be reached" in got_logs.json()["content"]


def test_answers_carry_arm_tracing_headers(arm: Arm) -> None:
    first = arm.get(f"{EP}/{_name()}")  # an error answer is traced too
    second = arm.get("", headers={"x-ms-client-request-id": "my-id", "x-ms-correlation-request-id": "corr"})
    assert first.status_code == 404 and second.status_code == 200
    ids = [response.headers["x-ms-request-id"] for response in (first, second)]
    assert len(set(ids)) == 2 and all(len(value) == 36 for value in ids)
    assert len(first.headers["x-ms-correlation-request-id"]) == 36
    assert second.headers["x-ms-correlation-request-id"] == "corr"
    assert second.headers["x-ms-client-request-id"] == "my-id"
