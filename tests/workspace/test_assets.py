"""Models, codes (with startPendingUpload and hash lookup), environments, datastores, computes, jobs."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import httpx
import pytest
from support.arm import Arm, job_environment
from support.waiting import unique

from . import schemas


def _name(prefix: str) -> str:
    return unique(prefix)  # never the same name twice in a session (P(clash) = 0)


@pytest.mark.parametrize(
    ("family", "props"),
    [
        (
            "models",
            {"modelUri": "azureml://datastores/workspaceblobstore/paths/m/", "modelType": "CustomModel"},
        ),
        ("codes", {"codeUri": "https://blobStorage/folderName"}),
        (
            "environments",
            {"image": "python:3.11-slim", "condaFile": "name: x\ndependencies: [python=3.11]\n"},
        ),
        (
            "data",
            {"dataType": "uri_file", "dataUri": "azureml://datastores/workspaceblobstore/paths/d/x.csv"},
        ),
    ],
)
def test_versions_and_containers(arm: Arm, family: str, props: dict[str, str]) -> None:
    name = _name(family[:-1])
    created = arm.put(f"/{family}/{name}/versions/1", {"properties": {"description": "first", **props}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == arm.url(f"/{family}/{name}/versions/1")
    assert body["type"] == f"Microsoft.MachineLearningServices/workspaces/{family}/versions"
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert body["properties"]["isArchived"] is False
    again = arm.put(f"/{family}/{name}/versions/1", {"properties": {"description": "again", **props}})
    assert again.status_code == 200
    arm.put(f"/{family}/{name}/versions/2", {"properties": {**props, "tags": {"stage": "prod"}}})
    container = arm.get(f"/{family}/{name}").json()
    assert container["properties"]["latestVersion"] == "2" and container["properties"]["nextVersion"] == "3"
    versions = arm.get(f"/{family}/{name}/versions").json()["value"]
    assert [v["name"] for v in versions] == ["1", "2"]
    tagged = arm.get(f"/{family}/{name}/versions", params={"tags": "stage=prod"}).json()["value"]
    assert [v["name"] for v in tagged] == ["2"]
    assert name in [c["name"] for c in arm.list_all(f"/{family}")]
    assert arm.delete(f"/{family}/{name}/versions/1").status_code == 200
    assert arm.get(f"/{family}/{name}/versions/1").status_code == 404
    assert arm.delete(f"/{family}/{name}/versions/1").status_code == 204
    assert arm.delete(f"/{family}/{name}").status_code == 200
    assert arm.get(f"/{family}/{name}/versions/2").status_code == 404


def test_container_put_and_archive_filter(arm: Arm) -> None:
    name = _name("mc")
    assert (
        arm.put(f"/models/{name}", {"properties": {"description": "d", "isArchived": True}}).status_code
        == 201
    )
    active = [c["name"] for c in arm.get("/models").json()["value"]]
    archived = [
        c["name"] for c in arm.get("/models", params={"listViewType": "ArchivedOnly"}).json()["value"]
    ]
    assert name not in active and name in archived


def test_asset_validation(arm: Arm) -> None:
    assert (
        arm.put("/environments/e1/versions/1", {"properties": {"description": "no image"}}).status_code == 400
    )
    assert arm.put("/environments/e1/versions/1", {"properties": {"build": {}}}).status_code == 400
    assert arm.put("/models/bad name/versions/1", {"properties": {}}).status_code == 400
    assert arm.put("/models/m/versions/1", {}).status_code == 400
    missing = arm.get("/models/nothing/versions/9")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"


def test_saved_asset_examples_are_accepted(arm: Arm) -> None:
    root = schemas.examples() / "from-2024-10-01"
    for family, example in (
        ("models", "ModelVersion"),
        ("codes", "CodeVersion"),
        ("environments", "EnvironmentVersion"),
    ):
        body = json.loads((root / f"Workspace/{example}/createOrUpdate.json").read_text())["parameters"][
            "body"
        ]
        response = arm.put(f"/{family}/{_name('ex')}/versions/1", body)
        assert response.status_code == 201, (family, response.text)
        expected = json.loads((root / f"Workspace/{example}/createOrUpdate.json").read_text())["responses"][
            "201"
        ]["body"]
        assert set(expected["properties"]) - {"environmentType"} <= set(response.json()["properties"])
    upload = json.loads((root / "Workspace/CodeVersion/createOrGetStartPendingUpload.json").read_text())
    response = arm.post(f"/codes/{_name('up')}/versions/1/startPendingUpload", upload["parameters"]["body"])
    assert response.status_code == 200, response.text
    assert set(upload["responses"]["200"]["body"]) <= set(response.json())


def test_code_upload_through_start_pending_upload_then_hash_lookup(arm: Arm) -> None:
    name = _name("code")
    pending = arm.post(
        f"/codes/{name}/versions/1/startPendingUpload", {"pendingUploadType": "TemporaryBlobReference"}
    )
    assert pending.status_code == 200
    body = pending.json()
    reference = body["blobReferenceForConsumption"]
    assert reference["credential"]["credentialType"] == "SAS"
    sas_uri = reference["credential"]["sasUri"]
    base, _, sas = sas_uri.partition("?")
    assert base == reference["blobUri"] and body["pendingUploadId"] in base
    with httpx.Client() as plain:
        put = plain.put(
            f"{base}/score.py?{sas}", content=b"def init(): pass\n", headers={"x-ms-blob-type": "BlockBlob"}
        )
        assert put.status_code == 201, put.text
        assert plain.get(f"{base}/score.py?{sas}").content == b"def init(): pass\n"
    digest = uuid.uuid4().hex
    created = arm.put(
        f"/codes/{name}/versions/1",
        {
            "properties": {
                "codeUri": reference["blobUri"],
                "properties": {"hash_sha256": digest, "hash_version": "202208"},
            }
        },
    )
    assert created.status_code == 201
    found = arm.get(f"/codes/{name}/versions", params={"hash": digest, "hashVersion": "202208"}).json()[
        "value"
    ]
    assert [v["name"] for v in found] == ["1"]
    assert arm.get(f"/codes/{name}/versions", params={"hash": "0" * 32}).json()["value"] == []
    not_codes = arm.post(f"/models/{name}/versions/1/startPendingUpload", {})
    assert not_codes.status_code == 404


def test_datastores_default_get_and_list_secrets(arm: Arm) -> None:
    def others() -> set[str]:  # the workspace is shared: other tests may have added datastores
        return {d["name"] for d in arm.get("/datastores", params={"isDefault": "false"}).json()["value"]}

    before = others()
    default = arm.get("/datastores", params={"isDefault": "true"}).json()["value"]
    assert [d["name"] for d in default] == ["workspaceblobstore"]
    props = default[0]["properties"]
    assert props["isDefault"] is True and props["datastoreType"] == "AzureBlob"
    assert props["credentials"]["credentialsType"] == "AccountKey"
    assert "key" not in json.dumps(props["credentials"]).lower().replace("accountkey", "")
    assert props["properties"]["mlep.blobEndpoint"] == f"{arm.info.base_url}/{props['accountName']}"
    secrets = arm.post("/datastores/workspaceblobstore/listSecrets")
    assert secrets.status_code == 200 and secrets.json()["secretsType"] == "AccountKey"
    assert len(base64.b64decode(secrets.json()["key"])) == 32
    assert (
        arm.post("/datastores/workspaceblobstore/listSecrets", {"expirableSecret": False}).status_code == 200
    )
    assert arm.delete("/datastores/workspaceblobstore").status_code == 400
    other = arm.put(
        "/datastores/extra",
        {
            "properties": {
                "datastoreType": "AzureBlob",
                "accountName": "acct",
                "containerName": "c",
                "credentials": {
                    "credentialsType": "AccountKey",
                    "secrets": {"secretsType": "AccountKey", "key": "c2VjcmV0"},
                },
            }
        },
    )
    assert other.status_code == 201, other.text
    assert "c2VjcmV0" not in other.text and "c2VjcmV0" not in arm.get("/datastores/extra").text
    assert arm.post("/datastores/extra/listSecrets").json() == {
        "secretsType": "AccountKey",
        "key": "c2VjcmV0",
    }
    assert "extra" not in before and others() - before == {"extra"}
    assert "workspaceblobstore" not in others()
    assert arm.put("/datastores/bad", {"properties": {"datastoreType": "AzureBlob"}}).status_code == 400
    assert arm.delete("/datastores/extra").status_code == 200
    assert arm.get("/datastores/extra").status_code == 404


def test_datastore_list_example_parameters_are_accepted(arm: Arm) -> None:
    example = json.loads((schemas.examples() / "from-2024-10-01/Datastore/list.json").read_text())[
        "parameters"
    ]
    query = {
        key: value
        for key, value in example.items()
        if key in ("$skipToken", "count", "searchText", "orderBy")
    }
    query |= {"isDefault": "false", "orderByAsc": "false", "names": ",".join(example["names"])}
    response = arm.get("/datastores", params=query)
    assert response.status_code == 200, response.text
    assert response.json()["value"] == []


def test_computes_describe_this_machine(arm: Arm) -> None:
    computes = arm.get("/computes").json()["value"]
    assert len(computes) == 1
    compute = computes[0]
    assert compute["properties"]["computeType"] and compute["properties"]["provisioningState"] == "Succeeded"
    assert arm.get(f"/computes/{compute['name']}").json() == compute
    assert arm.get("/computes/not-this-one").status_code == 404


def test_workspace_get(arm: Arm) -> None:
    body = arm.get("").json()
    assert body["id"] == arm.info.workspace_path and body["location"] == "local"
    assert body["type"] == "Microsoft.MachineLearningServices/workspaces"


def test_jobs_are_stored_validated_listed_and_canceled(arm: Arm) -> None:
    root = schemas.examples() / "from-2024-10-01/Job"
    env_id = job_environment(arm)
    for kind in ("CommandJob", "SweepJob"):
        body = json.loads((root / kind / "createOrUpdate.json").read_text())["parameters"]["body"]
        if kind == "CommandJob":  # command jobs run: the example's placeholder references must exist
            props = body["properties"]
            for key in ("computeId", "codeId", "distribution"):
                props.pop(key)
            props.update(environmentId=env_id, command="sleep 60")
            for output in props["outputs"].values():
                output.pop("uri")
        else:  # sweeps run too: the example's placeholder search space, trial and compute must be real
            props = body["properties"]
            props.pop("computeId")
            props["searchSpace"] = {"string": ["choice", [["a", "b"]]]}
            props["trial"].update(environmentId=env_id, command="sleep 60")
            for key in ("codeId", "distribution"):
                props["trial"].pop(key)
        name = _name("job")
        created = arm.put(f"/jobs/{name}", body)
        assert created.status_code == 201, created.text
        assert created.json()["properties"]["status"] == "NotStarted"
        assert arm.get(f"/jobs/{name}").json()["properties"]["jobType"] == body["properties"]["jobType"]
    name = _name("job")
    command = {"properties": {"jobType": "Command", "command": "sleep 60", "environmentId": "azureml:env:1"}}
    assert arm.put(f"/jobs/{name}", command).status_code == 201
    retag = arm.put(f"/jobs/{name}", {"properties": {**command["properties"], "tags": {"a": "b"}}})
    assert retag.status_code == 200 and retag.json()["properties"]["tags"] == {"a": "b"}
    assert name in [job["name"] for job in arm.list_all("/jobs", jobType="Command")]
    cancel = arm.post(f"/jobs/{name}/cancel")
    assert cancel.status_code == 202 and "Location" in cancel.headers
    arm.ok(cancel)
    assert arm.get(f"/jobs/{name}").json()["properties"]["status"] == "Canceled"
    assert arm.post(f"/jobs/{name}/cancel").status_code == 400
    arm.ok(arm.delete(f"/jobs/{name}"))
    assert arm.get(f"/jobs/{name}").status_code == 404
    for bad in (
        {"properties": {"jobType": "Command", "command": "x"}},
        {"properties": {"jobType": "Teleport"}},
        {
            "properties": {
                "jobType": "Sweep",
                "objective": {"goal": "Up"},
                "samplingAlgorithm": {},
                "searchSpace": {},
                "trial": {},
            }
        },
    ):
        response = arm.put(f"/jobs/{_name('bad')}", bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "BadArgument"


@pytest.mark.parametrize(
    ("family", "props", "changed"),
    [
        (
            "models",
            {"modelUri": "azureml://datastores/workspaceblobstore/paths/m/", "modelType": "custom_model"},
            {"modelUri": "azureml://datastores/workspaceblobstore/paths/other/"},
        ),
        ("codes", {"codeUri": "https://blobStorage/folderName"}, {"codeUri": "https://blobStorage/other"}),
        (
            "environments",
            {"image": "python:3.11-slim", "condaFile": "name: x\ndependencies: [python=3.11]\n"},
            {"condaFile": "name: x\ndependencies: [python=3.12]\n"},
        ),
        (
            "data",
            {"dataType": "uri_folder", "dataUri": "https://example.org/data/"},
            {"dataUri": "wasbs://c@account.blob.core.windows.net/other/"},
        ),
    ],
)
def test_versions_are_immutable(
    arm: Arm, family: str, props: dict[str, str], changed: dict[str, str]
) -> None:
    name = _name(f"immutable-{family[:-1]}")
    path = f"/{family}/{name}/versions/1"
    first = arm.put(path, {"properties": {**props, "tags": {"a": "1"}, "properties": {"k": "v"}}})
    assert first.status_code == 201, first.text
    same = arm.put(
        path,
        {"properties": {**props, "description": "new words", "tags": {"b": "2"}, "properties": {"k2": "v2"}}},
    )
    assert same.status_code == 200, same.text
    kept = same.json()["properties"]
    assert kept["description"] == "new words" and kept["tags"] == {"b": "2"}
    assert kept["properties"] == {"k": "v", "k2": "v2"}  # properties can be added, not removed
    assert {k: kept[k] for k in props} == props
    assert same.json()["systemData"]["createdAt"] == first.json()["systemData"]["createdAt"]

    refused = arm.put(path, {"properties": {**props, **changed}})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "UserError"
    kind = {"models": "Model", "codes": "Code", "environments": "Environment", "data": "Data"}[family]
    assert error["message"].startswith(
        f"{kind} {name} with version 1 is already registered and cannot be changed."
    )
    assert next(iter(changed)) in error["message"] and "the next one is 2" in error["message"]
    altered = arm.put(path, {"properties": {**props, "properties": {"k": "other"}}})
    assert altered.status_code == 409 and "properties.k" in altered.json()["error"]["message"]
    stored = arm.get(path).json()["properties"]
    assert {k: stored[k] for k in props} == props  # the refused content did not replace it

    container = arm.get(f"/{family}/{name}").json()["properties"]
    assert container["latestVersion"] == "1" and container["nextVersion"] == "2"
    # what the SDK does next: register the container's nextVersion
    assert arm.put(f"/{family}/{name}/versions/2", {"properties": {**props, **changed}}).status_code == 201
    # an update of an older version keeps the newest as latestVersion
    assert arm.put(path, {"properties": {**props, "description": "later"}}).status_code == 200
    container = arm.get(f"/{family}/{name}").json()["properties"]
    assert container["latestVersion"] == "2" and container["nextVersion"] == "3"


def test_a_model_sent_back_as_rendered_is_the_same_version(arm: Arm) -> None:
    path = f"/models/{_name('round-trip')}/versions/1"
    props = {"modelUri": "azureml://datastores/workspaceblobstore/paths/m/", "modelType": "custom_model"}
    assert arm.put(path, {"properties": props}).status_code == 201
    rendered = arm.get(path).json()["properties"]
    assert rendered["flavors"] == {}  # stored without flavors, rendered with an empty object
    again = arm.put(path, {"properties": {**props, "flavors": rendered["flavors"]}})
    assert again.status_code == 200, again.text
    flavored = arm.put(path, {"properties": {**props, "flavors": {"python_function": {"data": {}}}}})
    assert flavored.status_code == 409, flavored.text


def test_code_hash_lookup_spans_every_code_name(arm: Arm) -> None:
    owner, other, fresh = _name("hash-owner"), _name("hash-other"), f"{uuid.uuid4()}"
    digest = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    for name in (owner, other):
        created = arm.put(
            f"/codes/{name}/versions/3",
            {
                "properties": {
                    "codeUri": f"https://blobStorage/{name}",
                    "isAnonymous": True,
                    "properties": {"hash_sha256": digest, "hash_version": "202208"},
                }
            },
        )
        assert created.status_code == 201, created.text
    query = {"hash": digest, "hashVersion": "202208"}
    # the SDK looks anonymous code up under a name it has just made up
    found = arm.get(f"/codes/{fresh}/versions", params=query)
    assert found.status_code == 200, found.text
    ids = [item["id"] for item in found.json()["value"]]
    assert sorted(ids) == sorted(arm.url(f"/codes/{n}/versions/3") for n in (owner, other))
    for item in found.json()["value"]:
        assert item["properties"]["properties"]["hash_sha256"] == digest
    # the name asked for comes first
    mine = arm.get(f"/codes/{other}/versions", params=query).json()["value"]
    assert mine[0]["id"] == arm.url(f"/codes/{other}/versions/3")
    assert arm.get(f"/codes/{fresh}/versions", params={**query, "hashVersion": "1"}).json()["value"] == []
    assert arm.get(f"/codes/{fresh}/versions", params={"hash": "0" * 64}).json()["value"] == []
    # without a hash a list stays the versions of one name
    assert arm.get(f"/codes/{fresh}/versions").json()["value"] == []
