"""The blob store data plane: enough of the Azure Blob REST API for uploads and downloads.

Path-style addressing as Azurite uses it: ``http://127.0.0.1:<port>/mlepstore/<container>/<blob>``.
Operations: Create Container, Get Container Properties, List Blobs, Put Blob, Put Block,
Put Block List, Get Blob (with ranges), HEAD (Get Blob Properties), Delete Blob, Set and Get Blob
Metadata (``comp=metadata``). User metadata (``x-ms-meta-<name>`` headers) is taken at Put Blob,
Put Block List and Set Blob Metadata, returned on Get Blob, Get Blob Properties and Get Blob
Metadata, and listed with ``include=metadata``; it is kept in a JSON file per blob below
``.metadata/`` next to the blob folders (names as sent, values as strings).

Authorisation: a service SAS (``sr=b``/``sr=c``) signed with the account key that
``listSecrets`` returns, Shared Key signatures made with that key, or the admin token as
``Authorization: Bearer`` (as an Entra token would be used against Azure Storage). Blob contents are plain files below
``$MLEP_HOME/workspace/blobs/<container>/``, so a deployment can point at an uploaded folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ._identity import ACCOUNT, DEFAULT_CONTAINER, STORAGE_VERSION
from .arm import now_iso
from .auth import bearer, matches_any
from .bloblist import http_date, list_blobs, xml_escape
from .sas import SasError, check_sas, container_sas
from .sharedkey import shared_key_valid
from .store import BlobMeta

__all__ = ["ACCOUNT", "DEFAULT_CONTAINER", "BlobStore", "container_sas", "handle_blob_request"]

_STREAM_ABOVE = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
_CONTAINER_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_META_PREFIX = "x-ms-meta-"
_META_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>'
        f"{xml_escape(code)}</Code><Message>{xml_escape(message)}\nRequestId:{uuid.uuid4()}</Message></Error>"
    )
    return Response(
        body,
        status_code=status,
        media_type="application/xml",
        headers={"x-ms-error-code": code, "x-ms-version": STORAGE_VERSION},
    )


class BlobStore:
    """Blob files and their metadata."""

    def __init__(self, root: Path, ws: Any) -> None:
        self.root = root
        self.ws = ws
        (root / DEFAULT_CONTAINER).mkdir(mode=0o700, parents=True, exist_ok=True)
        (root / ".blocks").mkdir(mode=0o700, exist_ok=True)
        (root / ".metadata").mkdir(mode=0o700, exist_ok=True)

    def container_dir(self, container: str) -> Path:
        """The folder of a container."""
        return self.root / container

    def blob_path(self, container: str, name: str) -> Path:
        """The file that holds a blob."""
        return self.root / container / name

    def local_path(self, container: str, prefix: str) -> Path:
        """The local file or folder of a blob or blob "folder" (for deployments)."""
        return self.root / container / prefix.strip("/")

    def write(
        self,
        container: str,
        name: str,
        data: bytes,
        content_type: str | None,
        metadata: dict[str, str] | None = None,
    ) -> BlobMeta:
        """Store a blob's bytes, properties and user metadata (replacing what it had)."""
        target = self.blob_path(container, name)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        meta = BlobMeta(
            container,
            name,
            len(data),
            content_type or "application/octet-stream",
            base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii"),
            _new_etag(),
            now_iso(),
        )
        self.set_metadata(container, name, metadata or {})
        self.ws.store.save_blob(meta)
        return meta

    def _metadata_file(self, container: str, name: str) -> Path:
        return self.root / ".metadata" / f"{hashlib.sha256(f'{container}/{name}'.encode()).hexdigest()}.json"

    def metadata(self, container: str, name: str) -> dict[str, str]:
        """The user metadata of a blob (empty when it has none)."""
        try:
            stored = json.loads(self._metadata_file(container, name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}

    def set_metadata(self, container: str, name: str, metadata: dict[str, str]) -> None:
        """Replace the user metadata of a blob (an empty mapping removes it)."""
        target = self._metadata_file(container, name)
        if not metadata:
            target.unlink(missing_ok=True)
            return
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(metadata, sort_keys=True), encoding="utf-8")
        os.replace(tmp, target)

    def block_dir(self, container: str, name: str) -> Path:
        """Where uncommitted blocks of a blob wait for Put Block List."""
        return self.root / ".blocks" / hashlib.sha256(f"{container}/{name}".encode()).hexdigest()


def _new_etag() -> str:
    return f'"0x{uuid.uuid4().hex[:15].upper()}"'


def _request_metadata(request: Request) -> dict[str, str] | Response:
    """The ``x-ms-meta-*`` headers of a request as a mapping, or a 400 for a name that is not allowed."""
    metadata: dict[str, str] = {}
    for raw_name, raw_value in request.headers.raw:
        header = raw_name.decode("latin-1")
        if not header.lower().startswith(_META_PREFIX):
            continue
        name = header[len(_META_PREFIX) :]
        if not _META_NAME.match(name):
            return _error(400, "InvalidMetadata", f"The metadata name '{name}' is not a valid C# identifier.")
        if any(existing.lower() == name.lower() for existing in metadata):
            return _error(400, "InvalidMetadata", f"The metadata name '{name}' is given twice.")
        metadata[name] = raw_value.decode("latin-1").strip()
    return metadata


def _metadata_headers(metadata: dict[str, str]) -> dict[str, str]:
    return {f"{_META_PREFIX}{name}": value for name, value in metadata.items()}


def _valid_blob_name(name: str) -> bool:
    parts = name.split("/")
    return (
        bool(name)
        and len(name) <= 1024
        and not name.startswith("/")
        and ".." not in parts
        and "." not in parts
    )


def _authorise(
    request: Request, store: BlobStore, container: str, blob: str | None, permission: str
) -> Response | None:
    authorization = request.headers.get("authorization") or ""
    if authorization.startswith("SharedKey "):
        if shared_key_valid(request, authorization, store.ws.storage_key, ACCOUNT):
            return None
        return _error(403, "AuthenticationFailed", "The Shared Key signature is not valid for this request.")
    token = bearer(authorization)
    if token is not None:
        if matches_any(token, [store.ws.admin_token]):
            return None
        return _error(403, "AuthenticationFailed", "The bearer token is not valid for this storage account.")
    params = dict(request.query_params)
    if "sig" not in params:
        return _error(
            403,
            "AuthenticationFailed",
            "Server failed to authenticate the request: no SAS token and no bearer token.",
        )
    try:
        check_sas(params, store.ws.storage_key, ACCOUNT, container, blob, permission)
    except SasError as exc:
        return _error(403, exc.code, exc.message)
    return None


def _headers(meta: BlobMeta) -> dict[str, str]:
    return {
        "ETag": meta.etag,
        "Last-Modified": http_date(meta.modified_at),
        "Content-MD5": meta.content_md5 or "",
        "x-ms-version": STORAGE_VERSION,
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-request-server-encrypted": "true",
    }


async def handle_blob_request(
    request: Request, store: BlobStore, container: str, blob: str | None
) -> Response:
    """Serve one blob-store request (``blob`` is None for container-level operations)."""
    if not _CONTAINER_NAME.match(container) and container != "$root":
        return _error(400, "InvalidResourceName", f"The container name '{container}' is not valid.")
    query = request.query_params
    method = request.method
    if blob is None:
        return await _container_request(
            request, store, container, method, query.get("restype"), query.get("comp")
        )
    if not _valid_blob_name(blob):
        return _error(400, "InvalidResourceName", "The blob name is not valid.")
    if not store.container_dir(container).is_dir():
        return _error(404, "ContainerNotFound", "The specified container does not exist.")
    comp = query.get("comp")
    if method == "PUT":
        denied = _authorise(request, store, container, blob, "w")
        if denied:
            return denied
        if comp == "block":
            return await _put_block(request, store, container, blob)
        if comp == "blocklist":
            return await _put_block_list(request, store, container, blob)
        if comp == "metadata":
            return _set_metadata(request, store, container, blob)
        if comp is not None:
            return _error(400, "UnsupportedQueryParameter", f"comp={comp} is not supported here.")
        return await _put_blob(request, store, container, blob)
    if method in ("GET", "HEAD"):
        denied = _authorise(request, store, container, blob, "r")
        if denied:
            return denied
        if comp == "metadata":
            return _get_metadata(store, container, blob)
        if comp is not None:
            return _error(400, "UnsupportedQueryParameter", f"comp={comp} is not supported here.")
        return _get_blob(request, store, container, blob, head=method == "HEAD")
    if method == "DELETE":
        denied = _authorise(request, store, container, blob, "d")
        if denied:
            return denied
        meta = store.ws.store.blob(container, blob)
        if meta is None:
            return _error(404, "BlobNotFound", "The specified blob does not exist.")
        store.blob_path(container, blob).unlink(missing_ok=True)
        store.set_metadata(container, blob, {})
        store.ws.store.delete_blob(container, blob)
        return Response(
            status_code=202, headers={"x-ms-version": STORAGE_VERSION, "x-ms-delete-type-permanent": "true"}
        )
    return _error(405, "UnsupportedHttpVerb", f"The resource doesn't support the {method} verb.")


async def _container_request(
    request: Request, store: BlobStore, container: str, method: str, restype: str | None, comp: str | None
) -> Response:
    if restype != "container":
        return _error(400, "InvalidQueryParameterValue", "Container operations need restype=container.")
    folder = store.container_dir(container)
    if method == "PUT" and comp is None:
        denied = _authorise(request, store, container, None, "c")
        if denied:
            return denied
        if folder.is_dir():
            return _error(409, "ContainerAlreadyExists", "The specified container already exists.")
        folder.mkdir(mode=0o700, parents=True)
        return Response(
            status_code=201,
            headers={"x-ms-version": STORAGE_VERSION, "ETag": f'"0x{uuid.uuid4().hex[:15].upper()}"'},
        )
    if not folder.is_dir():
        return _error(404, "ContainerNotFound", "The specified container does not exist.")
    if method == "GET" and comp == "list":
        denied = _authorise(request, store, container, None, "l")
        if denied:
            return denied
        return list_blobs(
            request,
            store.ws.store,
            container,
            _error,
            metadata=lambda meta: store.metadata(container, meta.name),
        )
    if method in ("GET", "HEAD") and comp is None:
        denied = _authorise(request, store, container, None, "r")
        if denied:
            return denied
        return Response(
            status_code=200, headers={"x-ms-version": STORAGE_VERSION, "x-ms-lease-state": "available"}
        )
    return _error(400, "UnsupportedQueryParameter", "This container operation is not supported.")


async def _put_blob(request: Request, store: BlobStore, container: str, blob: str) -> Response:
    blob_type = request.headers.get("x-ms-blob-type")
    if blob_type is None:
        return _error(
            400,
            "MissingRequiredHeader",
            "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type.",
        )
    if blob_type != "BlockBlob":
        return _error(400, "InvalidHeaderValue", f"Only BlockBlob is supported, not {blob_type}.")
    if _exists_but_must_not(request, store, container, blob):
        return _error(409, "BlobAlreadyExists", "The specified blob already exists.")
    metadata = _request_metadata(request)
    if isinstance(metadata, Response):
        return metadata
    data = await request.body()
    md5 = request.headers.get("content-md5")
    if md5 and md5 != base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii"):
        return _error(400, "Md5Mismatch", "The MD5 value specified in the request did not match the content.")
    content_type = request.headers.get("x-ms-blob-content-type") or request.headers.get("content-type")
    try:
        meta = store.write(container, blob, data, content_type, metadata)
    except (IsADirectoryError, NotADirectoryError, FileExistsError):
        return _error(409, "BlobNameConflict", "A blob name conflicts with an existing blob 'folder' here.")
    return Response(status_code=201, headers=_headers(meta))


def _block_file(store: BlobStore, container: str, blob: str, block_id: str) -> Path:
    return store.block_dir(container, blob) / hashlib.sha256(block_id.encode("utf-8")).hexdigest()


async def _put_block(request: Request, store: BlobStore, container: str, blob: str) -> Response:
    block_id = request.query_params.get("blockid")
    if not block_id:
        return _error(400, "InvalidQueryParameterValue", "blockid is required.")
    try:
        base64.b64decode(block_id, validate=True)
    except ValueError:
        return _error(400, "InvalidQueryParameterValue", "blockid must be base64.")
    data = await request.body()
    target = _block_file(store, container, blob, block_id)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.write_bytes(data)
    return Response(
        status_code=201, headers={"x-ms-version": STORAGE_VERSION, "x-ms-request-server-encrypted": "true"}
    )


async def _put_block_list(request: Request, store: BlobStore, container: str, blob: str) -> Response:
    if _exists_but_must_not(request, store, container, blob):
        return _error(409, "BlobAlreadyExists", "The specified blob already exists.")
    metadata = _request_metadata(request)
    if isinstance(metadata, Response):
        return metadata
    try:
        root = ElementTree.fromstring(await request.body())
    except ElementTree.ParseError:
        return _error(400, "InvalidXmlDocument", "The block list is not valid XML.")
    if root.tag != "BlockList":
        return _error(400, "InvalidXmlDocument", "The root element must be BlockList.")
    chunks = []
    for element in root:
        block_id = (element.text or "").strip()
        path = _block_file(store, container, blob, block_id)
        if element.tag not in ("Latest", "Uncommitted", "Committed") or not path.exists():
            return _error(
                400, "InvalidBlockList", f"The specified block list is invalid (block {block_id!r})."
            )
        chunks.append(path.read_bytes())
    content_type = request.headers.get("x-ms-blob-content-type")
    try:
        meta = store.write(container, blob, b"".join(chunks), content_type, metadata)
    except (IsADirectoryError, NotADirectoryError, FileExistsError):
        return _error(409, "BlobNameConflict", "A blob name conflicts with an existing blob 'folder' here.")
    shutil.rmtree(store.block_dir(container, blob), ignore_errors=True)
    return Response(status_code=201, headers=_headers(meta))


def _set_metadata(request: Request, store: BlobStore, container: str, blob: str) -> Response:
    """Set Blob Metadata: the ``x-ms-meta-*`` headers replace all of the blob's metadata."""
    meta = store.ws.store.blob(container, blob)
    if meta is None or not store.blob_path(container, blob).is_file():
        return _error(404, "BlobNotFound", "The specified blob does not exist.")
    metadata = _request_metadata(request)
    if isinstance(metadata, Response):
        return metadata
    store.set_metadata(container, blob, metadata)
    meta.etag, meta.modified_at = _new_etag(), now_iso()
    store.ws.store.save_blob(meta)
    headers = _headers(meta)
    headers.pop("Content-MD5")
    return Response(status_code=200, headers=headers)


def _get_metadata(store: BlobStore, container: str, blob: str) -> Response:
    """Get Blob Metadata: the ``x-ms-meta-*`` headers, no body."""
    meta = store.ws.store.blob(container, blob)
    if meta is None or not store.blob_path(container, blob).is_file():
        return _error(404, "BlobNotFound", "The specified blob does not exist.")
    headers = _headers(meta)
    headers.pop("Content-MD5")
    headers.pop("x-ms-request-server-encrypted")
    return Response(
        status_code=200, headers={**headers, **_metadata_headers(store.metadata(container, blob))}
    )


def _get_blob(request: Request, store: BlobStore, container: str, blob: str, *, head: bool) -> Response:
    meta = store.ws.store.blob(container, blob)
    path = store.blob_path(container, blob)
    if meta is None or not path.is_file():
        return _error(404, "BlobNotFound", "The specified blob does not exist.")
    headers = {
        **_headers(meta),
        "Content-Type": meta.content_type or "application/octet-stream",
        "x-ms-blob-type": "BlockBlob",
        "Accept-Ranges": "bytes",
        "x-ms-creation-time": http_date(meta.modified_at),
        **_metadata_headers(store.metadata(container, blob)),
    }
    size = meta.size
    start, end, status = 0, size - 1, 200
    wanted = request.headers.get("x-ms-range") or request.headers.get("range")
    if wanted:
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted.strip())
        if not match or int(match.group(1)) >= max(size, 1):
            return _error(
                416, "InvalidRange", "The range specified is invalid for the current size of the resource."
            )
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(max(end - start + 1, 0))
    if head:
        return Response(status_code=status, headers=headers)
    length = max(end - start + 1, 0)
    if length <= _STREAM_ABOVE:
        with path.open("rb") as handle:
            handle.seek(start)
            return Response(handle.read(length), status_code=status, headers=headers)
    return StreamingResponse(_chunks(path, start, length), status_code=status, headers=headers)


async def _chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _exists_but_must_not(request: Request, store: BlobStore, container: str, blob: str) -> bool:
    """``If-None-Match: *`` (upload without overwrite) on a blob that exists."""
    return (
        request.headers.get("if-none-match", "").strip() == "*"
        and store.ws.store.blob(container, blob) is not None
    )
