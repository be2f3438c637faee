"""Registering local files and folders as code and model versions, uploading only what changed.

* Code: the content hash is looked up with ``CodeVersions_List?hash=…&hashVersion=…``; when no
  version has it, ``startPendingUpload`` gives a SAS into the workspace storage, the files go up,
  and the version is created with ``properties.codeUri`` and the hash in its ``properties``.
* Models: the hash is looked up through the tag ``mlep.contentHash``; when no version has it, the
  files go to the default datastore (``listSecrets``: account key or SAS) below
  ``LocalUpload/<hash>/<name>``, and the version points there with an ``azureml://`` URI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import RestError
from ._blob import BlobContainer
from ._client import RestClient
from ._hashing import HASH_VERSION, content_hash

__all__ = [
    "HASH_TAG",
    "RegisteredAsset",
    "datastore_container",
    "default_datastore",
    "register_code",
    "register_model",
]

HASH_TAG = "mlep.contentHash"
"""The tag (and property) of a model version that carries the content hash of its files."""


@dataclass(frozen=True)
class RegisteredAsset:
    """A code or model version made from local files (or found already registered)."""

    name: str
    version: str
    id: str
    """The ARM id of the version, for deployment bodies."""
    uri: str
    """Where its files are (``codeUri`` / ``modelUri``)."""
    content_hash: str
    reused: bool
    """True when an existing version had the same content: nothing was uploaded."""
    uploaded_bytes: int = 0


def next_version(client: RestClient, family: str, name: str) -> str:
    container = client.find(client.paths.asset(family, name))
    if isinstance(container, dict):
        value = (container.get("properties") or {}).get("nextVersion")
        if value:
            return str(value)
    return "1"


def _asset(
    family: str, name: str, body: dict[str, Any], digest: str, reused: bool, size: int = 0
) -> RegisteredAsset:
    props = body.get("properties") or {}
    uri = props.get("codeUri") if family == "codes" else props.get("modelUri")
    return RegisteredAsset(
        name=name,
        version=str(body.get("name")),
        id=str(body.get("id")),
        uri=str(uri or ""),
        content_hash=digest,
        reused=reused,
        uploaded_bytes=size,
    )


def register_code(
    client: RestClient,
    path: Path,
    *,
    name: str,
    version: str | None = None,
    description: str | None = None,
    blob_options: dict[str, Any] | None = None,
    on_file: Callable[[str, int], None] | None = None,
) -> RegisteredAsset:
    """A code version holding ``path`` (a folder, or one file): an existing one with the same content, or a new one."""
    path = Path(path)
    digest = content_hash(path)
    versions = client.paths.asset_versions("codes", name)
    # the service matches the hash across every code name: keep this name's versions
    own = f"/codes/{name}/versions/".lower()
    for item in client.list(versions, params={"hash": digest, "hashVersion": HASH_VERSION}):
        stored = (item.get("properties") or {}).get("properties") or {}
        if (
            stored.get("hash_sha256") == digest
            and stored.get("hash_version") == HASH_VERSION
            and own in str(item.get("id")).lower()
        ):
            return _asset("codes", name, item, digest, reused=True)
    version = version or next_version(client, "codes", name)
    pending = client.post(
        client.paths.code_version(name, version, "startPendingUpload"),
        {"pendingUploadId": None, "pendingUploadType": "TemporaryBlobReference"},
    )
    reference = pending["blobReferenceForConsumption"]
    container, prefix = BlobContainer.from_sas_url(
        reference["credential"]["sasUri"], **{"verify": client.verify, **(blob_options or {})}
    )
    with container:
        sent = container.upload(path, prefix, on_file=on_file)
    body = {
        "properties": {
            "codeUri": reference["blobUri"],
            "description": description,
            "isAnonymous": False,
            "properties": {"hash_sha256": digest, "hash_version": HASH_VERSION},
        }
    }
    created = client.put(client.paths.code_version(name, version), body)
    return _asset("codes", name, created, digest, reused=False, size=sum(sent.values()))


def default_datastore(client: RestClient) -> dict[str, Any]:
    """The workspace's default datastore (``Datastores_List?isDefault=true``)."""
    for item in client.list(client.paths.datastores(), params={"isDefault": "true"}):
        return item
    raise RestError("The workspace has no default datastore.", code="NoDefaultDatastore")


def datastore_container(client: RestClient, datastore: dict[str, Any], **blob_options: Any) -> BlobContainer:
    """A :class:`BlobContainer` of an Azure Blob datastore, authorised by its ``listSecrets``."""
    props = datastore.get("properties") or {}
    if props.get("datastoreType") != "AzureBlob":
        raise RestError(
            f"Datastore '{datastore.get('name')}' is {props.get('datastoreType')}, not AzureBlob.",
            code="UnsupportedDatastore",
        )
    account = str(props.get("accountName"))
    account_url = (props.get("properties") or {}).get("mlep.blobEndpoint") or (
        f"{props.get('protocol') or 'https'}://{account}.blob.{props.get('endpoint') or 'core.windows.net'}"
    )
    container_url = f"{str(account_url).rstrip('/')}/{props.get('containerName')}"
    secrets = client.post(client.paths.datastore(str(datastore.get("name")), "listSecrets"), {}) or {}
    blob_options = {"verify": client.verify, **blob_options}
    kind = secrets.get("secretsType")
    if kind == "AccountKey" and secrets.get("key"):
        return BlobContainer(container_url, account_key=secrets["key"], account_name=account, **blob_options)
    if kind == "Sas" and secrets.get("sasToken"):
        return BlobContainer(container_url, sas=secrets["sasToken"], account_name=account, **blob_options)
    raise RestError(
        f"Datastore '{datastore.get('name')}' gives no account key or SAS (secretsType {kind}).",
        hint="Use a datastore with account-key or SAS credentials, or upload with an identity.",
        code="UnsupportedDatastoreCredentials",
    )


def register_model(
    client: RestClient,
    path: Path,
    *,
    name: str,
    version: str | None = None,
    model_type: str = "custom_model",
    description: str | None = None,
    datastore: str | None = None,
    blob_options: dict[str, Any] | None = None,
    on_file: Callable[[str, int], None] | None = None,
) -> RegisteredAsset:
    """A model version holding ``path``: an existing one with the same content, or a new one uploaded now."""
    path = Path(path)
    digest = content_hash(path)
    versions = client.paths.asset_versions("models", name)
    for item in client.list(versions, params={"tags": f"{HASH_TAG}={digest}"}):
        if ((item.get("properties") or {}).get("tags") or {}).get(HASH_TAG) == digest:
            return _asset("models", name, item, digest, reused=True)
    store = client.get(client.paths.datastore(datastore)) if datastore else default_datastore(client)
    base = f"LocalUpload/{digest[:32]}"
    prefix = f"{base}/{path.name}"
    with datastore_container(client, store, **(blob_options or {})) as container:
        sent = container.upload(path, base if path.is_file() else prefix, on_file=on_file)
    workspace = client.paths.workspace.strip("/").split("/")
    uri = (
        f"azureml://subscriptions/{workspace[1]}/resourcegroups/{workspace[3]}/workspaces/{workspace[7]}"
        f"/datastores/{store.get('name')}/paths/{prefix}"
    )
    version = version or next_version(client, "models", name)
    body = {
        "properties": {
            "modelUri": uri,
            "modelType": model_type,
            "description": description,
            "tags": {HASH_TAG: digest},
            "properties": {"hash_sha256": digest, "hash_version": HASH_VERSION},
        }
    }
    created = client.put(client.paths.model_version(name, version), body)
    return _asset("models", name, created, digest, reused=False, size=sum(sent.values()))
