"""A Blob service client over httpx: Put Blob, Put Block + Put Block List, Get Blob, List Blobs.

Works against Azure Storage, Azurite and the local workspace's blob store. Authorisation is a
SAS (appended to every URL) or the account key (Shared Key signatures); the key and the SAS
never appear in errors or reprs.
"""

from __future__ import annotations

import base64
import re
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

from .._errors import ConflictError, NotFoundError
from .._version import __version__
from ._hashing import iter_files
from ._retry import RetryPolicy
from ._send import Sender
from ._sharedkey import sign_request

__all__ = ["BlobContainer", "BlobUploadSummary"]

STORAGE_VERSION = "2023-11-03"
MiB = 1024 * 1024


class BlobUploadSummary(dict[str, int]):
    """Blob name → size of what an upload sent."""


def _path_style(host: str) -> bool:
    """True for path-style addressing (an IP address, localhost, any host that is not ``*.blob.*``)."""
    return ".blob." not in host


class BlobContainer:
    """One blob container, reached with a SAS (``sas``) or the account key (``account_key``).

    ``container_url`` is ``https://<account>.blob.<suffix>/<container>`` or, path-style (Azurite,
    the local workspace), ``http://127.0.0.1:<port>/<account>/<container>``. Files larger than
    ``single_put_size`` go up in blocks of ``block_size``, ``concurrency`` at a time. ``verify``: how
    an HTTPS store is verified (a context trusting the local workspace's authority, or the system's).
    """

    def __init__(
        self,
        container_url: str,
        *,
        sas: str | None = None,
        account_key: str | None = None,
        account_name: str | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        single_put_size: int = 8 * MiB,
        block_size: int = 4 * MiB,
        concurrency: int = 4,
        timeout: float = 120.0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if (sas is None) == (account_key is None):
            raise ValueError("Give either a SAS or an account key.")
        self.container_url = container_url.rstrip("/")
        parts = urlsplit(self.container_url)
        segments = [s for s in parts.path.split("/") if s]
        host = parts.hostname or ""
        path_style = _path_style(host)
        self.account = account_name or (segments[0] if path_style else host.split(".")[0])
        self.container = segments[-1]
        self._sas = (sas or "").lstrip("?")
        self._key = account_key
        self.single_put_size = single_put_size
        self.block_size = block_size
        self.concurrency = max(1, concurrency)
        self.http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"User-Agent": f"jupyter-mlep/{__version__}", "x-ms-version": STORAGE_VERSION},
            verify=verify,
        )
        self.sender = Sender(self.http, retry or RetryPolicy())

    @classmethod
    def from_sas_url(cls, sas_url: str, **options: object) -> tuple[BlobContainer, str]:
        """The container of a SAS URL (container or blob "folder") and the blob prefix in it."""
        parts = urlsplit(sas_url)
        segments = [s for s in parts.path.split("/") if s]
        skip = 2 if _path_style(parts.hostname or "") else 1
        if len(segments) < skip:
            raise ValueError("The SAS URL names no container.")
        container_url = f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:skip])
        prefix = "/".join(segments[skip:])
        return cls(container_url, sas=parts.query, **options), prefix  # type: ignore[arg-type]

    def __repr__(self) -> str:
        auth = "SAS" if self._sas else "account key"
        return f"BlobContainer({self.container_url!r}, {auth})"

    # -- requests -------------------------------------------------------------------------

    def blob_url(self, name: str) -> str:
        """The URL of a blob (without credentials)."""
        return f"{self.container_url}/{quote(name.strip('/'), safe='/')}"

    def _send(
        self,
        method: str,
        url: str,
        *,
        query: str = "",
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        full_query = "&".join(part for part in (query, self._sas) if part)
        target = httpx.URL(url + ("?" + full_query if full_query else ""))

        def build() -> httpx.Request:
            request = self.http.build_request(method, target, content=content, headers=headers)
            if self._key is not None:
                sign_request(request, self.account, self._key)
            return request

        return self.sender.send(build, idempotent=True)

    def put_blob(self, name: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        """Put Blob: one request for the whole blob."""
        self._send(
            "PUT",
            self.blob_url(name),
            content=data,
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": content_type},
        )

    def upload_file(self, name: str, path: Path, *, content_type: str = "application/octet-stream") -> int:
        """Upload a file as blob ``name`` (in blocks above ``single_put_size``); its size."""
        size = Path(path).stat().st_size
        if size <= self.single_put_size:
            self.put_blob(name, Path(path).read_bytes(), content_type=content_type)
            return size
        count = (size + self.block_size - 1) // self.block_size
        ids = [base64.b64encode(f"mlep-block-{index:08d}".encode()).decode("ascii") for index in range(count)]

        def put_block(index: int) -> None:
            with Path(path).open("rb") as handle:
                handle.seek(index * self.block_size)
                chunk = handle.read(self.block_size)
            self._send(
                "PUT",
                self.blob_url(name),
                query=f"comp=block&blockid={quote(ids[index], safe='')}",
                content=chunk,
            )

        with ThreadPoolExecutor(max_workers=min(self.concurrency, count)) as pool:
            list(pool.map(put_block, range(count)))
        block_list = "".join(f"<Latest>{block_id}</Latest>" for block_id in ids)
        self._send(
            "PUT",
            self.blob_url(name),
            query="comp=blocklist",
            content=f'<?xml version="1.0" encoding="utf-8"?><BlockList>{block_list}</BlockList>'.encode(),
            headers={"Content-Type": "application/xml", "x-ms-blob-content-type": content_type},
        )
        return size

    def upload(
        self, path: Path, prefix: str = "", *, on_file: Callable[[str, int], None] | None = None
    ) -> BlobUploadSummary:
        """Upload a file or a folder's files below ``prefix`` (a folder's own name is not added)."""
        files = iter_files(Path(path))
        base = prefix.strip("/")
        summary = BlobUploadSummary()

        def one(item: tuple[str, Path]) -> tuple[str, int]:
            name = f"{base}/{item[0]}" if base else item[0]
            size = self.upload_file(name, item[1])
            if on_file is not None:
                on_file(name, size)
            return name, size

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for name, size in pool.map(one, files):
                summary[name] = size
        return summary

    def create(self) -> bool:
        """Create Container; False when it already exists."""
        try:
            self._send("PUT", self.container_url, query="restype=container")
        except ConflictError:
            return False
        return True

    def download(self, name: str) -> bytes:
        """Get Blob: the blob's bytes."""
        return self._send("GET", self.blob_url(name)).content

    def exists(self, name: str) -> bool:
        """True if the blob exists (Get Blob Properties)."""
        try:
            self._send("HEAD", self.blob_url(name))
        except NotFoundError:
            return False
        return True

    def list_names(self, prefix: str = "") -> list[str]:
        """List Blobs: the names below ``prefix``, following ``NextMarker``."""
        names: list[str] = []
        marker = ""
        while True:
            query = "restype=container&comp=list"
            if prefix:
                query += f"&prefix={quote(prefix, safe='')}"
            if marker:
                query += f"&marker={quote(marker, safe='')}"
            text = self._send("GET", self.container_url, query=query).text
            names += [_unescape(n) for n in re.findall(r"<Blob>\s*<Name>(.*?)</Name>", text, re.DOTALL)]
            found = re.search(r"<NextMarker>(.*?)</NextMarker>", text, re.DOTALL)
            marker = _unescape(found.group(1)) if found else ""
            if not marker:
                return names

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def __enter__(self) -> BlobContainer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
