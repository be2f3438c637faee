"""Wire shapes the Azure ML SDK relies on: model versions always carry ``flavors``; regenerateKeys
with the current key (what the SDK sends) makes a new key."""

from __future__ import annotations

from typing import Any

from support.arm import Arm
from support.waiting import unique

EP = "/onlineEndpoints"
_MODEL = {"modelUri": "azureml://datastores/workspaceblobstore/paths/m/", "modelType": "custom_model"}


def _model_answers(arm: Arm, name: str, version: str) -> list[dict[str, Any]]:
    listed = arm.get(f"/models/{name}/versions").json()["value"]
    return [
        arm.get(f"/models/{name}/versions/{version}").json(),
        next(v for v in listed if v["name"] == version),
    ]


def test_model_versions_always_have_flavors(arm: Arm) -> None:
    name = unique("model")
    created = arm.put(f"/models/{name}/versions/1", {"properties": _MODEL})
    assert created.status_code == 201, created.text
    for answer in [created.json(), *_model_answers(arm, name, "1")]:
        assert answer["properties"]["flavors"] == {}
    flavors = {"python_function": {"data": {"loader_module": "mlflow.sklearn"}}, "sklearn": {}}
    second = arm.put(f"/models/{name}/versions/2", {"properties": {**_MODEL, "flavors": flavors}})
    assert second.status_code == 201, second.text
    for answer in [second.json(), *_model_answers(arm, name, "2")]:
        assert answer["properties"]["flavors"] == {
            "python_function": {"data": {"loader_module": "mlflow.sklearn"}},
            "sklearn": {"data": {}},
        }
    nulled = arm.put(f"/models/{name}/versions/3", {"properties": {**_MODEL, "flavors": None}})
    assert nulled.status_code == 201 and nulled.json()["properties"]["flavors"] == {}
    # other families are left as they are
    code = arm.put(f"/codes/{unique('code')}/versions/1", {"properties": {"codeUri": "https://x/y"}})
    assert "flavors" not in code.json()["properties"]


def _keys(arm: Arm, name: str) -> dict[str, str]:
    return dict(arm.post(f"{EP}/{name}/listKeys").json())


def test_regenerate_with_the_current_key_makes_a_new_key(arm: Arm) -> None:
    name = unique("ep")
    arm.ok(arm.put(f"{EP}/{name}", {"location": "local", "properties": {"authMode": "Key"}}))
    before = _keys(arm, name)
    # what the SDK sends: listKeys, then the current key as keyValue (keyType in any case)
    arm.ok(arm.post(f"{EP}/{name}/regenerateKeys", {"keyType": "primary", "keyValue": before["primaryKey"]}))
    after = _keys(arm, name)
    assert after["primaryKey"] not in (before["primaryKey"], before["secondaryKey"])
    assert len(after["primaryKey"]) >= 32 and after["secondaryKey"] == before["secondaryKey"]
    arm.ok(
        arm.post(f"{EP}/{name}/regenerateKeys", {"keyType": "SECONDARY", "keyValue": after["secondaryKey"]})
    )
    last = _keys(arm, name)
    assert last["secondaryKey"] != after["secondaryKey"] and last["primaryKey"] == after["primaryKey"]
    # a different value is "the value the key is set to"
    arm.ok(
        arm.post(f"{EP}/{name}/regenerateKeys", {"keyType": "Primary", "keyValue": "chosen-primary-value"})
    )
    assert _keys(arm, name)["primaryKey"] == "chosen-primary-value"
    # the old key no longer scores, the new one is accepted by the router (no deployment: not 401)
    score = f"{arm.info.base_url}/endpoints/{name}/score"
    old = arm.http.post(score, json={}, headers={"Authorization": f"Bearer {before['primaryKey']}"})
    assert old.status_code == 401
    new = arm.http.post(score, json={}, headers={"Authorization": "Bearer chosen-primary-value"})
    assert new.status_code != 401, new.text
    arm.ok(arm.delete(f"{EP}/{name}"))
