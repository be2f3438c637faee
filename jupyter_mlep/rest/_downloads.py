"""Downloading a registered code or model version (its blobs) to a local folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .._errors import RestError
from ._client import RestClient
from ._uploads import datastore_container

__all__ = ["download_asset"]

_DATASTORE_URI = re.compile(r"^azureml://(?:.*?/)?datastores/(?P<store>[^/]+)/paths/(?P<path>.+)$")


def _asset_body(client: RestClient, reference: str, family: str) -> dict[str, Any]:
    from ..specs import AssetReference

    ref = AssetReference.parse(
        reference.removeprefix("azureml:") if reference.startswith("azureml:/") else reference
    )
    body: dict[str, Any] = client.get(ref.rest_id(client.paths.workspace, family))
    return body


def _store_and_prefix(client: RestClient, uri: str) -> tuple[dict[str, Any], str]:
    """The datastore holding ``uri`` (a datastore URI, or a blob URL of one of its containers) and the path in it."""
    match = _DATASTORE_URI.match(uri)
    if match:
        return client.get(client.paths.datastore(match["store"])), match["path"]
    for store in client.list(client.paths.datastores()):
        props = store.get("properties") or {}
        container = f"/{props.get('containerName')}/"
        if props.get("accountName") and container in uri:
            return store, uri.split(container, 1)[1].split("?", 1)[0]
    raise RestError(
        f"No datastore of the workspace holds {uri}.", hint="Download the asset from Azure ML studio."
    )


def download_asset(client: RestClient, reference: str, to: Path) -> Path:
    """Download the code or model version ``reference`` (an ARM id or ``azureml:name:version``)
    below ``to``; the downloaded file or folder (``to/<its name>``, as Azure mounts a model)."""
    family = "codes" if "/codes/" in reference else "models"
    props = _asset_body(client, reference, family).get("properties") or {}
    uri = str(props.get("codeUri") if family == "codes" else props.get("modelUri") or "")
    store, prefix = _store_and_prefix(client, uri)
    prefix = prefix.rstrip("/")
    target = to / prefix.rsplit("/", 1)[-1]
    with datastore_container(client, store) as container:
        for blob in container.list_names(prefix):
            if blob != prefix and not blob.startswith(prefix + "/"):
                continue
            path = target if blob == prefix else target / blob[len(prefix) + 1 :]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(container.download(blob))
    if not target.exists():
        raise RestError(f"The {family[:-1]} {reference} has no files at {uri}.", code="AssetEmpty")
    return target
