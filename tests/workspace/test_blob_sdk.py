"""The official Azure Storage client against the workspace blob store: Shared Key and SAS."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceExistsError
from azure.storage.blob import (
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    generate_container_sas,
)
from support.arm import Arm

CONTAINER = "azureml-blobstore"


@pytest.fixture(scope="module")
def key(arm: Arm) -> str:
    return str(arm.post("/datastores/workspaceblobstore/listSecrets").json()["key"])


def test_shared_key_upload_blocks_download_and_list(arm: Arm, key: str) -> None:
    service = BlobServiceClient(
        f"{arm.info.base_url}/mlepstore",
        credential={"account_name": "mlepstore", "account_key": key},
        max_single_put_size=4 * 1024,
        max_block_size=4 * 1024,
    )
    container = service.get_container_client(CONTAINER)
    prefix = f"sdk/{uuid.uuid4().hex}"
    small, large = b"hello from the sdk", bytes(range(256)) * 100
    container.upload_blob(f"{prefix}/small.txt", small)
    container.upload_blob(f"{prefix}/dir/large.bin", large)  # over max_single_put_size: blocks + block list
    assert container.download_blob(f"{prefix}/small.txt").readall() == small
    assert container.download_blob(f"{prefix}/dir/large.bin").readall() == large
    assert container.get_blob_client(f"{prefix}/dir/large.bin").get_blob_properties().size == len(large)
    with pytest.raises(ResourceExistsError):
        container.upload_blob(f"{prefix}/small.txt", b"again")  # overwrite=False: If-None-Match: *
    container.upload_blob(f"{prefix}/small.txt", small, overwrite=True)
    names = [blob.name for blob in container.list_blobs(name_starts_with=prefix)]
    assert names == [f"{prefix}/dir/large.bin", f"{prefix}/small.txt"]
    with pytest.raises(ClientAuthenticationError):
        wrong = BlobServiceClient(
            f"{arm.info.base_url}/mlepstore",
            credential={"account_name": "mlepstore", "account_key": "d3Jvbmc="},
        )
        wrong.get_container_client(CONTAINER).download_blob(f"{prefix}/small.txt").readall()


def test_sas_made_by_the_sdk(arm: Arm, key: str) -> None:
    sas = generate_container_sas(
        "mlepstore",
        CONTAINER,
        account_key=key,
        permission=ContainerSasPermissions(read=True, write=True, list=True),
        expiry=datetime.now(timezone.utc) + timedelta(minutes=10),
    )
    container = ContainerClient.from_container_url(f"{arm.info.base_url}/mlepstore/{CONTAINER}?{sas}")
    name = f"sdk-sas/{uuid.uuid4().hex}.txt"
    container.upload_blob(name, b"via sas")
    assert container.download_blob(name).readall() == b"via sas"
    assert [b.name for b in container.list_blobs(name_starts_with="sdk-sas/")].count(name) == 1
    read_only = generate_container_sas(
        "mlepstore",
        CONTAINER,
        account_key=key,
        permission=ContainerSasPermissions(read=True),
        expiry=datetime.now(timezone.utc) + timedelta(minutes=10),
    )
    limited = ContainerClient.from_container_url(f"{arm.info.base_url}/mlepstore/{CONTAINER}?{read_only}")
    with pytest.raises(HttpResponseError):
        limited.upload_blob(f"sdk-sas/{uuid.uuid4().hex}.txt", b"refused")


def test_start_pending_upload_sas_works_with_the_sdk(arm: Arm) -> None:
    pending = arm.post("/codes/sdk-code/versions/1/startPendingUpload", {}).json()
    sas_uri = pending["blobReferenceForConsumption"]["credential"]["sasUri"]
    base, _, sas = sas_uri.partition("?")
    container_url, _, folder = base.partition(f"/{CONTAINER}/")
    container = ContainerClient.from_container_url(f"{container_url}/{CONTAINER}?{sas}")
    container.upload_blob(f"{folder}/score.py", b"def run(x): return x\n")
    assert container.download_blob(f"{folder}/score.py").readall() == b"def run(x): return x\n"


def test_metadata_through_the_sdk(arm: Arm, key: str) -> None:
    service = BlobServiceClient(
        f"{arm.info.base_url}/mlepstore",
        credential={"account_name": "mlepstore", "account_key": key},
        max_single_put_size=4 * 1024,
        max_block_size=4 * 1024,
    )
    container = service.get_container_client(CONTAINER)
    prefix = f"sdk-meta/{uuid.uuid4().hex}"
    small = container.get_blob_client(f"{prefix}/small.txt")
    small.upload_blob(b"small", metadata={"name": "code", "version": "1"})
    assert small.get_blob_properties().metadata == {"name": "code", "version": "1"}
    small.set_blob_metadata({"upload_status": "completed", "name": "code", "version": "2"})
    properties = small.get_blob_properties()
    assert properties.metadata == {"upload_status": "completed", "name": "code", "version": "2"}
    download = small.download_blob()
    assert download.properties.metadata["upload_status"] == "completed" and download.readall() == b"small"

    large = container.get_blob_client(f"{prefix}/large.bin")  # over max_single_put_size: blocks + block list
    large.upload_blob(bytes(range(256)) * 100, metadata={"upload_status": "completed"})
    assert large.get_blob_properties().metadata == {"upload_status": "completed"}

    staged = container.get_blob_client(f"{prefix}/staged.bin")
    staged.stage_block("YmxvY2stMQ==", b"one-")
    staged.stage_block("YmxvY2stMg==", b"two")
    staged.commit_block_list(["YmxvY2stMQ==", "YmxvY2stMg=="], metadata={"hdi_isfolder": "false"})
    assert staged.get_blob_properties().metadata == {"hdi_isfolder": "false"}
    assert staged.download_blob().readall() == b"one-two"

    listed = {b.name: b.metadata for b in container.list_blobs(name_starts_with=prefix, include="metadata")}
    assert listed == {
        f"{prefix}/large.bin": {"upload_status": "completed"},
        f"{prefix}/small.txt": {"upload_status": "completed", "name": "code", "version": "2"},
        f"{prefix}/staged.bin": {"hdi_isfolder": "false"},
    }

    read_only = generate_container_sas(
        "mlepstore",
        CONTAINER,
        account_key=key,
        permission=ContainerSasPermissions(read=True),
        expiry=datetime.now(timezone.utc) + timedelta(minutes=10),
    )
    limited = ContainerClient.from_container_url(f"{arm.info.base_url}/mlepstore/{CONTAINER}?{read_only}")
    assert limited.get_blob_client(f"{prefix}/small.txt").get_blob_properties().metadata["version"] == "2"
    with pytest.raises(HttpResponseError):
        limited.get_blob_client(f"{prefix}/small.txt").set_blob_metadata({"version": "3"})
