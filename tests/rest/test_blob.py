"""Blob uploads over real HTTP: the local workspace's blob store and Azurite; SAS and Shared Key."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from support.net import Azurite

from jupyter_mlep import _errors as errors
from jupyter_mlep.rest import BlobContainer, RestClient, datastore_container, default_datastore

SMALL = {"single_put_size": 1024, "block_size": 700, "concurrency": 3}


def make_folder(root: Path) -> dict[str, bytes]:
    """A folder with a small file, a nested file and one large enough for blocks; name → bytes."""
    files = {
        "score.py": b"def init():\n    pass\n\ndef run(data):\n    return data\n",
        "pkg/util.py": b"VALUE = 42\n",
        "model/weights.bin": os.urandom(3000),
        "model/empty.txt": b"",
    }
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "score.cpython-311.pyc").write_bytes(b"ignored")
    return files


def check_round_trip(container: BlobContainer, folder: Path, files: dict[str, bytes], prefix: str) -> None:
    sent = container.upload(folder, prefix)
    assert sent == {f"{prefix}/{name}": len(data) for name, data in files.items()}
    for name, data in files.items():
        assert container.download(f"{prefix}/{name}") == data
    assert sorted(container.list_names(prefix)) == sorted(f"{prefix}/{name}" for name in files)
    assert not container.exists(f"{prefix}/__pycache__/score.cpython-311.pyc")


def test_folder_to_workspace_store_with_pending_upload_sas(client: RestClient, tmp_path: Path) -> None:
    files = make_folder(tmp_path / "code")
    pending = client.post(
        client.paths.code_version("blob-test", "1", "startPendingUpload"),
        {"pendingUploadType": "TemporaryBlobReference"},
    )
    sas_uri = pending["blobReferenceForConsumption"]["credential"]["sasUri"]
    container, prefix = BlobContainer.from_sas_url(sas_uri, **SMALL)
    with container:
        assert prefix.startswith("LocalUpload/") and container.account == "mlepstore"
        assert "sig=" not in repr(container)
        check_round_trip(container, tmp_path / "code", files, prefix)


def test_file_to_workspace_store_with_account_key(client: RestClient, tmp_path: Path) -> None:
    data = os.urandom(5000)
    (tmp_path / "model.bin").write_bytes(data)
    with datastore_container(client, default_datastore(client), **SMALL) as container:
        prefix = "tests/" + uuid.uuid4().hex
        assert container.upload(tmp_path / "model.bin", prefix) == {f"{prefix}/model.bin": 5000}
        assert container.download(f"{prefix}/model.bin") == data
        assert container.list_names(prefix) == [f"{prefix}/model.bin"]


def test_wrong_key_is_refused_without_showing_it(client: RestClient, tmp_path: Path) -> None:
    store = default_datastore(client)
    url = store["properties"]["properties"]["mlep.blobEndpoint"] + "/" + store["properties"]["containerName"]
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="
    with (
        BlobContainer(url, account_key=wrong, account_name="mlepstore") as container,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        container.put_blob("tests/x.txt", b"x")
    assert caught.value.status == 403 and caught.value.code == "AuthenticationFailed"
    assert wrong not in str(caught.value) and wrong not in repr(container)


def test_folder_to_azurite_with_shared_key(azurite: Azurite, tmp_path: Path) -> None:
    files = make_folder(tmp_path / "code")
    url = f"{azurite.account_url}/sharedkey-{uuid.uuid4().hex[:8]}"
    with BlobContainer(url, account_key=azurite.key, account_name=azurite.account, **SMALL) as container:
        assert container.create() is True
        assert container.create() is False
        check_round_trip(container, tmp_path / "code", files, "LocalUpload/abc/code")


def test_folder_to_azurite_with_sas(azurite: Azurite, tmp_path: Path) -> None:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    files = make_folder(tmp_path / "code")
    name = f"sas-{uuid.uuid4().hex[:8]}"
    with BlobContainer(f"{azurite.account_url}/{name}", account_key=azurite.key) as keyed:
        keyed.create()
    sas = generate_container_sas(
        azurite.account,
        name,
        account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    container, prefix = BlobContainer.from_sas_url(f"{azurite.account_url}/{name}/upload/here?{sas}", **SMALL)
    with container:
        assert prefix == "upload/here" and container.container == name
        check_round_trip(container, tmp_path / "code", files, prefix)


def test_large_file_goes_up_in_blocks_to_azurite(azurite: Azurite, tmp_path: Path) -> None:
    data = os.urandom(64 * 1024 + 17)
    (tmp_path / "big.bin").write_bytes(data)
    url = f"{azurite.account_url}/blocks-{uuid.uuid4().hex[:8]}"
    with BlobContainer(
        url, account_key=azurite.key, single_put_size=8192, block_size=4096, concurrency=4
    ) as container:
        container.create()
        before = container.sender.sent
        container.upload_file("big.bin", tmp_path / "big.bin")
        assert container.sender.sent - before == 17 + 1  # 17 blocks and the block list
        assert container.download("big.bin") == data
