"""Data assets: dataType (any case, stored canonical), dataUri (datastore URIs, https and wasbs URLs)."""

from __future__ import annotations

import pytest
from support.arm import Arm
from support.waiting import unique

_STORE_URI = "azureml://datastores/workspaceblobstore/paths/samples/iris.csv"


@pytest.mark.parametrize(
    ("sent", "stored"), [("URI_FILE", "uri_file"), ("Uri_Folder", "uri_folder"), ("MLTable", "mltable")]
)
def test_data_type_is_case_insensitive_and_stored_canonical(arm: Arm, sent: str, stored: str) -> None:
    path = f"/data/{unique('data-case')}/versions/1"
    created = arm.put(path, {"properties": {"dataType": sent, "dataUri": _STORE_URI}})
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["dataType"] == stored
    assert created.json()["type"] == "Microsoft.MachineLearningServices/workspaces/data/versions"
    assert arm.get(path).json()["properties"]["dataType"] == stored
    # the same content sent in another case is the same version
    assert (
        arm.put(path, {"properties": {"dataType": stored.upper(), "dataUri": _STORE_URI}}).status_code == 200
    )


@pytest.mark.parametrize(
    "uri",
    [
        _STORE_URI,
        "azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/workspaceblobstore/paths/d/",
        "https://raw.example.org/data/titanic.csv",
        "wasbs://data@azuremlexampledata.blob.core.windows.net/titanic.csv",
    ],
)
def test_data_uris_accepted_as_given(arm: Arm, uri: str) -> None:
    path = f"/data/{unique('data-uri')}/versions/1"
    created = arm.put(path, {"properties": {"dataType": "uri_file", "dataUri": uri, "description": "d"}})
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["dataUri"] == uri


@pytest.mark.parametrize(
    ("props", "words"),
    [
        ({"dataUri": _STORE_URI}, "'properties.dataType' is required"),
        ({"dataType": "csv", "dataUri": _STORE_URI}, "uri_file, uri_folder, mltable"),
        ({"dataType": "uri_file"}, "'properties.dataUri' is required"),
        ({"dataType": "uri_file", "dataUri": "ftp://example.org/x.csv"}, "Unsupported dataUri"),
        ({"dataType": "uri_file", "dataUri": "./local.csv"}, "Unsupported dataUri"),
        (
            {"dataType": "uri_file", "dataUri": "azureml://datastores/no-such-store/paths/x.csv"},
            "datastore 'no-such-store'",
        ),
    ],
)
def test_bad_data_versions_are_refused(arm: Arm, props: dict[str, str], words: str) -> None:
    name = unique("data-bad")
    refused = arm.put(f"/data/{name}/versions/1", {"properties": props})
    assert refused.status_code == 400, refused.text
    assert words in refused.json()["error"]["message"]
    assert arm.get(f"/data/{name}").status_code == 404  # nothing was stored


def test_data_containers_list_latest_and_next_version(arm: Arm) -> None:
    name = unique("data-list")
    for version in ("1", "2"):
        body = {"properties": {"dataType": "uri_folder", "dataUri": f"https://example.org/v{version}/"}}
        assert arm.put(f"/data/{name}/versions/{version}", body).status_code == 201
    container = arm.get(f"/data/{name}").json()
    assert container["type"] == "Microsoft.MachineLearningServices/workspaces/data"
    assert container["properties"]["latestVersion"] == "2" and container["properties"]["nextVersion"] == "3"
    assert name in [c["name"] for c in arm.list_all("/data")]
    # a data version has no startPendingUpload at workspace scope (only code versions do)
    assert arm.post(f"/data/{name}/versions/3/startPendingUpload", {}).status_code == 404
    assert arm.delete(f"/data/{name}").status_code == 200
    assert arm.get(f"/data/{name}/versions/1").status_code == 404
