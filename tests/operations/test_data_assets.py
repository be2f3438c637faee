"""Registering data assets: a local file and a local folder go to the default datastore first."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.waiting import unique

from jupyter_mlep._errors import SpecValidationError
from jupyter_mlep.operations import register_data
from jupyter_mlep.rest import HASH_TAG, RestClient, datastore_container, default_datastore
from jupyter_mlep.specs import Data, load_data, spec_from_dict


def _data(mapping: dict[str, str]) -> Data:
    spec = spec_from_dict(mapping, kind="data")
    assert isinstance(spec, Data)
    return spec


def _download(client: RestClient, uri: str) -> bytes:
    blob = uri.split("/paths/", 1)[1]
    with datastore_container(client, default_datastore(client)) as container:
        return container.download(blob)


def test_a_local_file_is_uploaded_then_registered_by_its_datastore_uri(
    client: RestClient, tmp_path: Path
) -> None:
    name = unique("data-file")
    (tmp_path / "iris.csv").write_text("sepal_length,species\n5.1,setosa\n")
    spec_file = tmp_path / "data.yml"
    spec_file.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json\n"
        f"name: {name}\ntype: uri_file\npath: iris.csv\ndescription: Iris\ntags: {{source: test}}\n"
    )
    first = register_data(client, load_data(spec_file))
    assert not first.reused and first.version == "1" and first.uploaded_bytes > 0
    assert first.uri.startswith("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    assert first.uri.endswith("/iris.csv")
    assert _download(client, first.uri) == (tmp_path / "iris.csv").read_bytes()
    body = client.get(client.paths.asset_version("data", name, "1"))
    props = body["properties"]
    assert props["dataType"] == "uri_file" and props["dataUri"] == first.uri
    assert props["description"] == "Iris" and props["tags"] == {
        "source": "test",
        HASH_TAG: first.content_hash,
    }
    assert body["id"] == first.id

    before = client.request_count
    again = register_data(client, load_data(spec_file))
    assert again.reused and again.version == "1" and again.uploaded_bytes == 0
    assert client.request_count - before == 1  # one lookup by content hash, no upload

    (tmp_path / "iris.csv").write_text("sepal_length,species\n4.9,setosa\n")
    changed = register_data(client, load_data(spec_file))
    assert not changed.reused and changed.version == "2" and changed.uri != first.uri


def test_a_local_folder_is_uploaded_then_registered(client: RestClient, tmp_path: Path) -> None:
    folder = tmp_path / "titanic"
    (folder / "parts").mkdir(parents=True)
    (folder / "train.csv").write_text("a,b\n1,2\n")
    (folder / "parts" / "more.csv").write_text("a,b\n3,4\n")
    spec = _data({"name": unique("data-folder"), "version": "7", "type": "uri_folder", "path": str(folder)})

    registered = register_data(client, spec)
    assert not registered.reused and registered.version == "7"
    assert registered.uri.endswith("/titanic/")
    assert _download(client, registered.uri + "parts/more.csv") == b"a,b\n3,4\n"
    props = client.get(client.paths.asset_version("data", registered.name, "7"))["properties"]
    assert props["dataType"] == "uri_folder" and props["dataUri"] == registered.uri


def test_a_uri_is_registered_as_given(client: RestClient) -> None:
    uri = "wasbs://data@azuremlexampledata.blob.core.windows.net/titanic.csv"
    spec = _data({"name": unique("data-url"), "type": "uri_file", "path": uri})
    first = register_data(client, spec)
    assert first.uri == uri and first.version == "1" and first.uploaded_bytes == 0
    pinned = _data({"name": first.name, "version": "1", "type": "uri_file", "path": uri})
    assert register_data(client, pinned).reused


@pytest.mark.parametrize(
    ("kind", "make", "words"),
    [
        ("uri_file", "folder", "is a folder"),
        ("uri_folder", "file", "is a file"),
        ("mltable", "folder", "no MLTable file"),
    ],
)
def test_local_paths_must_fit_the_type(
    client: RestClient, tmp_path: Path, kind: str, make: str, words: str
) -> None:
    path = tmp_path / "thing"
    if make == "folder":
        path.mkdir()
        (path / "x.csv").write_text("x\n")
    else:
        path.write_text("x\n")
    spec = _data({"name": unique("data-bad"), "type": kind, "path": str(path)})
    with pytest.raises(SpecValidationError, match=words):
        register_data(client, spec)
