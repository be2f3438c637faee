"""The blob store over real HTTP: Put Blob/Block/Block List, Get (ranges), HEAD, List, SAS checks.

SAS tokens are signed by the tests (``support.arm.make_sas``) independently of the server's code,
following the Azure Storage service SAS string-to-sign (version 2020-12-06 and later), with the key
from listSecrets.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import httpx
import pytest
from support.arm import ACCOUNT, CONTAINER, Arm, make_sas


def qs(sas: str) -> dict[str, str]:
    """The SAS as query parameters (to merge with others)."""
    return dict(parse_qsl(sas))


@pytest.fixture(scope="module")
def key(arm: Arm) -> str:
    return str(arm.post("/datastores/workspaceblobstore/listSecrets").json()["key"])


@pytest.fixture(scope="module")
def blob_http(arm: Arm) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{arm.info.base_url}/{ACCOUNT}/{CONTAINER}") as client:
        yield client


def test_put_get_head_and_ranges(blob_http: httpx.Client, key: str) -> None:
    sas = make_sas(key)
    name = f"t/{uuid.uuid4().hex}/data.bin"
    data = bytes(range(256)) * 40
    put = blob_http.put(
        f"/{name}?{sas}",
        content=data,
        headers={"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "application/x-test"},
    )
    assert put.status_code == 201, put.text
    assert put.headers["Content-MD5"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    got = blob_http.get(f"/{name}?{sas}")
    assert got.status_code == 200 and got.content == data
    assert (
        got.headers["content-type"] == "application/x-test" and got.headers["x-ms-blob-type"] == "BlockBlob"
    )
    assert got.headers["ETag"] == put.headers["ETag"]
    head = blob_http.head(f"/{name}?{sas}")
    assert (
        head.status_code == 200 and int(head.headers["content-length"]) == len(data) and head.content == b""
    )
    part = blob_http.get(f"/{name}?{sas}", headers={"x-ms-range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = blob_http.get(f"/{name}?{sas}", headers={"Range": f"bytes={len(data) - 5}-"})
    assert tail.content == data[-5:]
    assert blob_http.get(f"/{name}?{sas}", headers={"Range": f"bytes={len(data) + 1}-"}).status_code == 416
    missing = blob_http.get(f"/nothing/here?{sas}")
    assert missing.status_code == 404 and missing.headers["x-ms-error-code"] == "BlobNotFound"


def test_large_blobs_stream_with_ranges(blob_http: httpx.Client, key: str) -> None:
    sas = make_sas(key)
    name = f"big/{uuid.uuid4().hex}.bin"
    data = os.urandom(9 * 1024 * 1024 + 123)
    assert (
        blob_http.put(f"/{name}?{sas}", content=data, headers={"x-ms-blob-type": "BlockBlob"}).status_code
        == 201
    )
    assert blob_http.get(f"/{name}?{sas}").content == data
    part = blob_http.get(f"/{name}?{sas}", headers={"x-ms-range": "bytes=100-9437283"})
    assert part.status_code == 206 and part.content == data[100:9437284]


def test_put_blob_needs_the_blob_type(blob_http: httpx.Client, key: str) -> None:
    response = blob_http.put(f"/x.txt?{make_sas(key)}", content=b"x")
    assert response.status_code == 400 and response.headers["x-ms-error-code"] == "MissingRequiredHeader"


def test_blocks_and_block_list(blob_http: httpx.Client, key: str) -> None:
    sas = make_sas(key)
    name = f"blocks/{uuid.uuid4().hex}.bin"
    chunks = [b"a" * 1000, b"b" * 10, b"c" * 500]
    ids = [base64.b64encode(f"block-{i:04d}".encode()).decode() for i in range(len(chunks))]
    for block_id, chunk in zip(ids, chunks, strict=True):
        response = blob_http.put(
            f"/{name}", params={**qs(sas), "comp": "block", "blockid": block_id}, content=chunk
        )
        assert response.status_code == 201, response.text
    assert blob_http.get(f"/{name}?{sas}").status_code == 404
    block_list = (
        "<?xml version='1.0' encoding='utf-8'?><BlockList>"
        + "".join(f"<Latest>{i}</Latest>" for i in ids)
        + "</BlockList>"
    )
    done = blob_http.put(f"/{name}", params={**qs(sas), "comp": "blocklist"}, content=block_list.encode())
    assert done.status_code == 201, done.text
    assert blob_http.get(f"/{name}?{sas}").content == b"".join(chunks)
    bad = "<BlockList><Latest>" + base64.b64encode(b"block-9999").decode() + "</Latest></BlockList>"
    response = blob_http.put(f"/{name}", params={**qs(sas), "comp": "blocklist"}, content=bad.encode())
    assert response.status_code == 400 and response.headers["x-ms-error-code"] == "InvalidBlockList"


def test_list_blobs_with_prefix_delimiter_and_paging(blob_http: httpx.Client, key: str) -> None:
    sas = make_sas(key)
    root = f"list-{uuid.uuid4().hex[:8]}"
    names = [f"{root}/a.txt", f"{root}/b/c.txt", f"{root}/b/d.txt", f"{root}/e.txt"]
    for name in names:
        assert (
            blob_http.put(f"/{name}?{sas}", content=b"x", headers={"x-ms-blob-type": "BlockBlob"}).status_code
            == 201
        )

    def listing(**params: str) -> ElementTree.Element:
        response = blob_http.get("", params={**qs(sas), "restype": "container", "comp": "list", **params})
        assert response.status_code == 200, response.text
        return ElementTree.fromstring(response.content)

    flat = listing(prefix=f"{root}/")
    assert [n.text for n in flat.iter("Name")] == names
    assert [int(n.text or 0) for n in flat.iter("Content-Length")] == [1, 1, 1, 1]
    nested = listing(prefix=f"{root}/", delimiter="/")
    assert [b.findtext("Name") for b in nested.iter("Blob")] == [f"{root}/a.txt", f"{root}/e.txt"]
    assert [p.findtext("Name") for p in nested.iter("BlobPrefix")] == [f"{root}/b/"]
    first = listing(prefix=f"{root}/", maxresults="3")
    marker = first.findtext("NextMarker")
    assert marker and len(list(first.iter("Blob"))) == 3
    second = listing(prefix=f"{root}/", maxresults="3", marker=marker)
    assert [n.text for n in second.iter("Name")] == names[3:] and not second.findtext("NextMarker")


def test_sas_signature_expiry_permissions_and_scope(blob_http: httpx.Client, key: str, arm: Arm) -> None:
    name = f"sas/{uuid.uuid4().hex}.txt"
    assert (
        blob_http.put(
            f"/{name}?{make_sas(key)}", content=b"hello", headers={"x-ms-blob-type": "BlockBlob"}
        ).status_code
        == 201
    )
    other_key = base64.b64encode(b"k" * 32).decode()
    cases = [
        (make_sas(other_key), "AuthenticationFailed"),
        (make_sas(key, expiry=timedelta(minutes=-1)), "AuthenticationFailed"),
        (make_sas(key, permissions="w"), "AuthorizationPermissionMismatch"),
        (make_sas(key, blob="another/blob.txt", permissions="r"), "AuthenticationFailed"),
        (make_sas(key, container="other-container"), "AuthenticationFailed"),
        (make_sas(key).replace("sp=racwdl", "sp=racwdlx"), "AuthenticationFailed"),
    ]
    for sas, code in cases:
        response = blob_http.get(f"/{name}?{sas}")
        assert response.status_code == 403, sas
        assert response.headers["x-ms-error-code"] == code
        assert b"<Error><Code>" in response.content
    assert blob_http.get(f"/{name}?{make_sas(key, blob=name, permissions='r')}").content == b"hello"
    read_only = make_sas(key, permissions="rl")
    assert (
        blob_http.put(
            f"/{name}?{read_only}", content=b"x", headers={"x-ms-blob-type": "BlockBlob"}
        ).status_code
        == 403
    )
    blob_only = make_sas(key, blob=name, permissions="rl")
    assert (
        blob_http.get("", params={**qs(blob_only), "restype": "container", "comp": "list"}).status_code == 403
    )
    old_version = make_sas(key, version="2019-12-12")
    assert (
        blob_http.get(f"/{name}?{old_version}").status_code == 403
    )  # pre-2020-12-06 strings have no ses line
    bearer = {"Authorization": f"Bearer {arm.info.token}"}
    assert blob_http.get(f"/{name}", headers=bearer).content == b"hello"
    assert blob_http.get(f"/{name}", headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_delete_blob_and_containers(blob_http: httpx.Client, key: str, arm: Arm) -> None:
    sas = make_sas(key)
    name = f"del/{uuid.uuid4().hex}.txt"
    blob_http.put(f"/{name}?{sas}", content=b"x", headers={"x-ms-blob-type": "BlockBlob"})
    assert blob_http.delete(f"/{name}?{sas}").status_code == 202
    assert blob_http.get(f"/{name}?{sas}").status_code == 404
    account = httpx.Client(
        base_url=f"{arm.info.base_url}/{ACCOUNT}", headers={"Authorization": f"Bearer {arm.info.token}"}
    )
    with account:
        container = f"c{uuid.uuid4().hex[:10]}"
        assert account.put(f"/{container}", params={"restype": "container"}).status_code == 201
        assert account.put(f"/{container}", params={"restype": "container"}).status_code == 409
        assert account.get(f"/{container}", params={"restype": "container"}).status_code == 200
        assert account.get("/no-such-container/x.txt").status_code == 404
        assert account.put("/Bad_Name", params={"restype": "container"}).status_code == 400


def test_blob_metadata_set_get_head_list_and_delete(blob_http: httpx.Client, key: str) -> None:
    sas = make_sas(key)
    name = f"meta/{uuid.uuid4().hex}/score.py"
    put = blob_http.put(
        f"/{name}?{sas}",
        content=b"x",
        headers={"x-ms-blob-type": "BlockBlob", "x-ms-meta-name": "code-a", "x-ms-meta-Version": "1"},
    )
    assert put.status_code == 201, put.text
    head = blob_http.head(f"/{name}?{sas}")
    assert head.headers["x-ms-meta-name"] == "code-a" and head.headers["x-ms-meta-version"] == "1"
    assert blob_http.get(f"/{name}?{sas}").headers["x-ms-meta-name"] == "code-a"

    metadata = {**qs(sas), "comp": "metadata"}
    before = head.headers["ETag"]
    updated = blob_http.put(
        f"/{name}", params=metadata, headers={"x-ms-meta-upload_status": "completed", "x-ms-meta-name": "b"}
    )
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] != before and "Last-Modified" in updated.headers
    for method in ("GET", "HEAD"):
        got = blob_http.request(method, f"/{name}", params=metadata)
        assert got.status_code == 200 and got.content == b""
        meta = {k: v for k, v in got.headers.items() if k.startswith("x-ms-meta-")}
        assert meta == {"x-ms-meta-upload_status": "completed", "x-ms-meta-name": "b"}  # replaced, not merged
        assert got.headers["ETag"] == updated.headers["ETag"]
    assert blob_http.get(f"/{name}?{sas}").content == b"x"  # the content is untouched

    listed = blob_http.get(
        "", params={**qs(sas), "restype": "container", "comp": "list", "prefix": name, "include": "metadata"}
    )
    blob = ElementTree.fromstring(listed.content).find("Blobs/Blob")
    assert blob is not None
    assert {e.tag: e.text for e in blob.findall("Metadata/*")} == {"name": "b", "upload_status": "completed"}
    plain = blob_http.get("", params={**qs(sas), "restype": "container", "comp": "list", "prefix": name})
    assert b"<Metadata>" not in plain.content

    cleared = blob_http.put(f"/{name}", params=metadata)
    assert cleared.status_code == 200
    assert not [k for k in blob_http.head(f"/{name}?{sas}").headers if k.startswith("x-ms-meta-")]

    bad = blob_http.put(f"/{name}", params=metadata, headers={"x-ms-meta-1bad": "x"})
    assert bad.status_code == 400 and bad.headers["x-ms-error-code"] == "InvalidMetadata"
    missing = blob_http.put(f"/meta/{uuid.uuid4().hex}", params=metadata, headers={"x-ms-meta-a": "1"})
    assert missing.status_code == 404 and missing.headers["x-ms-error-code"] == "BlobNotFound"
    assert blob_http.get(f"/meta/{uuid.uuid4().hex}", params=metadata).status_code == 404

    # Set Blob Metadata needs write permission, Get Blob Metadata read permission
    read_only = {**qs(make_sas(key, permissions="r")), "comp": "metadata"}
    refused = blob_http.put(f"/{name}", params=read_only, headers={"x-ms-meta-a": "1"})
    assert (
        refused.status_code == 403 and refused.headers["x-ms-error-code"] == "AuthorizationPermissionMismatch"
    )
    assert blob_http.get(f"/{name}", params=read_only).status_code == 200
    write_only = {**qs(make_sas(key, permissions="w")), "comp": "metadata"}
    assert blob_http.get(f"/{name}", params=write_only).status_code == 403
    assert (
        blob_http.put(f"/{name}", params={"comp": "metadata"}, headers={"x-ms-meta-a": "1"}).status_code
        == 403
    )

    blob_http.put(f"/{name}", params=metadata, headers={"x-ms-meta-a": "1"})
    assert blob_http.delete(f"/{name}?{sas}").status_code == 202
    again = blob_http.put(f"/{name}?{sas}", content=b"y", headers={"x-ms-blob-type": "BlockBlob"})
    assert again.status_code == 201
    assert not [k for k in blob_http.head(f"/{name}?{sas}").headers if k.startswith("x-ms-meta-")]
    assert blob_http.get(f"/{name}", params={**qs(sas), "comp": "tags"}).status_code == 400


def test_block_list_takes_metadata(blob_http: httpx.Client, key: str) -> None:
    sas = make_sas(key)
    name = f"meta/{uuid.uuid4().hex}/blocks.bin"
    block_id = base64.b64encode(b"block-1").decode()
    assert (
        blob_http.put(
            f"/{name}", params={**qs(sas), "comp": "block", "blockid": block_id}, content=b"ab"
        ).status_code
        == 201
    )
    committed = blob_http.put(
        f"/{name}",
        params={**qs(sas), "comp": "blocklist"},
        content=f"<BlockList><Latest>{block_id}</Latest></BlockList>".encode(),
        headers={"x-ms-meta-upload_status": "completed"},
    )
    assert committed.status_code == 201, committed.text
    head = blob_http.head(f"/{name}?{sas}")
    assert head.headers["x-ms-meta-upload_status"] == "completed" and head.headers["Content-Length"] == "2"
