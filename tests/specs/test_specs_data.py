"""Data asset specs (data.schema.json): uri_file, uri_folder and mltable from local paths, datastore
URIs and https/wasbs URLs; REST bodies both ways; placeholders refused like every kind."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from jupyter_mlep._errors import PlaceholderError, SpecError, SpecValidationError
from jupyter_mlep.specs import KINDS, SPEC_CLASSES, Data, detect_kind, load_data, load_model, load_spec

SCHEMA = "$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_data_is_a_kind_read_by_schema_and_by_type(tmp_path: Path) -> None:
    assert "data" in KINDS and SPEC_CLASSES["data"] is Data
    assert detect_kind({"$schema": "https://azuremlschemas.azureedge.net/latest/data.schema.json"}) == "data"
    for kind in ("uri_file", "URI_FOLDER", "mltable"):
        assert detect_kind({"type": kind}) == "data"
    spec = load_spec(write(tmp_path, "d.yml", "type: uri_file\nname: d\npath: https://example.org/d.csv\n"))
    assert isinstance(spec, Data) and spec.type == "uri_file"


def test_a_local_file_resolves_against_the_yaml_folder(tmp_path: Path) -> None:
    text = SCHEMA + "name: local-file-example-titanic\ndescription: Data asset from a local file.\n"
    text += "type: uri_file\npath: data/titanic.csv\ntags: {owner: team, year: 2024}\n"
    spec = load_data(write(tmp_path, "local-file.yml", text))
    assert spec.type == "uri_file" and spec.path == (tmp_path / "data" / "titanic.csv").resolve()
    assert spec.local_path == spec.path and spec.tags == {"owner": "team", "year": "2024"}
    with pytest.raises(SpecError, match="local"):
        spec.to_rest()
    uri = "azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/titanic.csv"
    body = spec.to_rest(data_uri=uri)
    assert body == {
        "properties": {
            "description": "Data asset from a local file.",
            "tags": {"owner": "team", "year": "2024"},
            "dataType": "uri_file",
            "dataUri": uri,
        }
    }


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("uri_folder", "azureml://datastores/workspaceblobstore/paths/example-data/"),
        (
            "uri_file",
            "azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/blobs/paths/titanic.csv",
        ),
        ("uri_file", "https://azuremlexamples.blob.core.windows.net/datasets/iris.csv"),
        ("mltable", "wasbs://data@azuremlexampledata.blob.core.windows.net/titanic/"),
    ],
)
def test_uris_are_kept_as_written(tmp_path: Path, kind: str, path: str) -> None:
    spec = load_data(write(tmp_path, "d.yml", SCHEMA + f"name: d\nversion: 2\ntype: {kind}\npath: {path}\n"))
    assert spec.path == path and spec.local_path is None and spec.version == "2"
    assert spec.to_rest()["properties"] == {"dataType": kind, "dataUri": path}


def test_the_type_defaults_to_uri_folder_and_is_case_insensitive(tmp_path: Path) -> None:
    assert load_data(write(tmp_path, "a.yml", "name: a\npath: ./folder\n")).type == "uri_folder"
    assert (
        load_data(write(tmp_path, "b.yml", SCHEMA + "name: b\ntype: MLTable\npath: ./t\n")).type == "mltable"
    )
    with pytest.raises(SpecError, match="type"):
        load_data(write(tmp_path, "c.yml", SCHEMA + "name: c\ntype: csv\npath: ./t\n"))


@pytest.mark.parametrize("path", ["ftp://example.org/x.csv", "azureml:titanic:1", "s3://bucket/key"])
def test_other_uris_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(SpecValidationError, match="not a local path, a datastore URI or an https/wasbs URL"):
        load_data(write(tmp_path, "d.yml", SCHEMA + f"name: d\ntype: uri_file\npath: {path}\n"))


def test_a_data_asset_needs_a_path_for_rest(tmp_path: Path) -> None:
    spec = load_data(write(tmp_path, "d.yml", SCHEMA + "name: d\n"))
    with pytest.raises(SpecValidationError, match="has no path"):
        spec.to_rest()


def test_placeholders_are_refused_with_their_names(tmp_path: Path) -> None:
    text = SCHEMA + "name: {{DATA_NAME}}\ntype: uri_file\npath: {{DATA_PATH}}\n"
    with pytest.raises(PlaceholderError) as caught:
        load_data(write(tmp_path, "template.yml", text))
    assert "DATA_NAME" in str(caught.value) and "DATA_PATH" in str(caught.value)


def test_a_data_file_is_not_read_as_another_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yml", SCHEMA + "name: d\npath: https://example.org/x/\n")
    with pytest.raises(SpecError, match="data spec"):
        load_model(path)


def test_rest_bodies_round_trip(tmp_path: Path) -> None:
    body = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices"
        "/workspaces/w/data/titanic/versions/3",
        "properties": {
            "dataType": "uri_folder",
            "dataUri": "azureml://datastores/workspaceblobstore/paths/titanic/",
            "description": "Titanic",
            "tags": {"k": "v"},
            "properties": {},
            "isArchived": False,
            "provisioningState": "Succeeded",
        },
    }
    spec = Data.from_rest(body)
    assert (spec.name, spec.version, spec.type) == ("titanic", "3", "uri_folder")
    assert spec.to_rest()["properties"] == {
        key: body["properties"][key] for key in ("dataType", "dataUri", "description", "tags", "properties")
    }
    dumped = spec.to_yaml_dict()
    assert dumped["$schema"].endswith("/data.schema.json") and dumped["type"] == "uri_folder"
    again = load_spec(write(tmp_path, "dump.yml", yaml.safe_dump(dumped)))
    assert isinstance(again, Data) and again.to_rest() == spec.to_rest()
