"""Registering code and models from local files: upload once, reuse by content hash."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from support.net import Azurite

from jupyter_mlep.rest import HASH_TAG, BlobContainer, RestClient, content_hash, register_code, register_model

SMALL = {"single_put_size": 1024, "block_size": 512}


def code_folder(root: Path) -> Path:
    folder = root / "src"
    (folder / "lib").mkdir(parents=True)
    (folder / "score.py").write_text("def init():\n    pass\n\ndef run(raw):\n    return raw\n")
    (folder / "lib" / "helpers.py").write_text("X = 1\n" * 400)
    return folder


def test_content_hash_depends_on_names_and_bytes_only(tmp_path: Path) -> None:
    first = code_folder(tmp_path / "a")
    second = code_folder(tmp_path / "b")
    assert content_hash(first) == content_hash(second)
    (second / "__pycache__").mkdir()
    (second / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert content_hash(first) == content_hash(second)
    (second / "lib" / "helpers.py").rename(second / "lib" / "other.py")
    assert content_hash(first) != content_hash(second)


def test_code_is_uploaded_once_and_found_by_hash(client: RestClient, tmp_path: Path) -> None:
    name = "code-" + uuid.uuid4().hex[:8]
    folder = code_folder(tmp_path)
    first = register_code(client, folder, name=name, blob_options=SMALL)
    assert not first.reused and first.version == "1" and first.uploaded_bytes > 0
    assert first.id.endswith(f"/codes/{name}/versions/1")
    container, _ = BlobContainer.from_sas_url(
        client.post(client.paths.code_version(name, "x", "startPendingUpload"), {})[
            "blobReferenceForConsumption"
        ]["credential"]["sasUri"]
    )
    with container:
        blob_prefix = first.uri.split("/azureml-blobstore/", 1)[1]
        assert container.download(f"{blob_prefix}/score.py") == (folder / "score.py").read_bytes()
        assert (
            container.download(f"{blob_prefix}/lib/helpers.py")
            == (folder / "lib" / "helpers.py").read_bytes()
        )

    copy = shutil.copytree(folder, tmp_path / "copy")
    before = client.request_count
    again = register_code(client, copy, name=name, blob_options=SMALL)
    assert again.reused and again.version == "1" and again.id == first.id and again.uploaded_bytes == 0
    assert client.request_count - before == 1  # one hash lookup, no upload, no new version

    (copy / "score.py").write_text("def init():\n    pass\n\ndef run(raw):\n    return [raw]\n")
    changed = register_code(client, copy, name=name, blob_options=SMALL)
    assert not changed.reused and changed.version == "2"


def test_model_file_is_uploaded_once_and_found_by_tag(
    client: RestClient, model_1: Path, tmp_path: Path
) -> None:
    name = "model-" + uuid.uuid4().hex[:8]
    model_file = model_1 / "model" / "sklearn_regression_model.pkl"
    first = register_model(client, model_file, name=name, blob_options=SMALL)
    assert not first.reused and first.version == "1"
    assert first.uri.startswith("azureml://subscriptions/") and first.uri.endswith(
        "/sklearn_regression_model.pkl"
    )
    body = client.get(client.paths.model_version(name, "1"))
    assert body["properties"]["tags"][HASH_TAG] == first.content_hash
    assert body["properties"]["modelType"] == "custom_model"

    again = register_model(client, model_file, name=name)
    assert again.reused and again.version == "1"


def test_model_folder_to_azurite_through_a_registered_datastore(
    client: RestClient, azurite: Azurite, tmp_path: Path
) -> None:
    container_name = "models-" + uuid.uuid4().hex[:8]
    with BlobContainer(f"{azurite.account_url}/{container_name}", account_key=azurite.key) as keyed:
        keyed.create()
    datastore = "azurite" + uuid.uuid4().hex[:6]
    client.put(
        client.paths.datastore(datastore),
        {
            "properties": {
                "datastoreType": "AzureBlob",
                "accountName": azurite.account,
                "containerName": container_name,
                "credentials": {
                    "credentialsType": "AccountKey",
                    "secrets": {"secretsType": "AccountKey", "key": azurite.key},
                },
                "properties": {"mlep.blobEndpoint": azurite.account_url},
            }
        },
    )
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(bytes(range(256)) * 20)
    (folder / "meta.json").write_text('{"framework": "none"}')
    name = "azmodel-" + uuid.uuid4().hex[:6]
    first = register_model(client, folder, name=name, datastore=datastore, blob_options=SMALL)
    assert not first.reused and f"/datastores/{datastore}/paths/LocalUpload/" in first.uri
    with BlobContainer(f"{azurite.account_url}/{container_name}", account_key=azurite.key) as keyed:
        prefix = first.uri.split("/paths/", 1)[1]
        assert keyed.download(f"{prefix}/weights.bin") == (folder / "weights.bin").read_bytes()
        assert sorted(keyed.list_names(prefix)) == [f"{prefix}/meta.json", f"{prefix}/weights.bin"]
    assert register_model(client, folder, name=name, datastore=datastore).reused
