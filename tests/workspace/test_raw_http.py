"""Raw HTTP through the scoring router: binary bodies and headers both ways unchanged (an
``@rawhttp`` script that receives a PNG and returns a PNG), CORS preflights answered by the
deployment (``AML_CORS_ORIGINS``, or a script that sets the headers itself) while every other
request still needs credentials, and Azure's limits answered with 413/431 before the deployment."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.clients import make_client
from support.raw_scripts import CORS_SCRIPT, JSON_SCRIPT, PNG_SCRIPT, decode_png, deployed_script, encode_png
from support.waiting import unique

from jupyter_mlep.workspace import WorkspaceInfo
from jupyter_mlep.workspace.scoring_limits import MAX_BODY_BYTES, MAX_HEADER_COUNT, MAX_HEADER_FIELD_BYTES

ALLOWED = "http://127.0.0.1:8123"
OTHER = "http://localhost:9999"


@pytest.fixture(scope="module")
def png_endpoint(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    name = unique("png")
    with (
        make_client(workspace) as client,
        deployed_script(client, tmp_path_factory.mktemp("png"), name, PNG_SCRIPT) as key,
    ):
        yield f"{workspace.base_url}/endpoints/{name}/score", key


def test_png_in_png_out_with_custom_headers(png_endpoint: tuple[str, str]) -> None:
    url, key = png_endpoint
    pixels = bytes(range(0, 256, 4)) * 4  # 16 x 16, every byte value class, including non-UTF-8 ones
    image = encode_png(16, 16, pixels)
    answer = httpx.post(
        url,
        content=image,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "image/png", "X-Custom": "trace 42; a=b"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["x-image-size"] == "16x16"
    assert answer.headers["x-echo"] == "trace 42; a=b"  # a custom header in, another out
    assert answer.headers["azureml-model-deployment"] == "blue"
    width, height, inverted = decode_png(answer.content)
    assert (width, height) == (16, 16) and inverted == bytes(255 - p for p in pixels)
    refused = httpx.post(
        url, content=b"GIF89a", headers={"Authorization": f"Bearer {key}", "Content-Type": "image/png"}
    )
    assert refused.status_code == 400 and refused.text == "not a PNG"


def test_headers_over_the_limits_get_431(png_endpoint: tuple[str, str]) -> None:
    url, key = png_endpoint
    many = {f"X-Field-{i}": "1" for i in range(MAX_HEADER_COUNT)}
    answer = httpx.post(url, content=b"", headers={"Authorization": f"Bearer {key}", **many})
    assert answer.status_code == 431
    assert f"at most {MAX_HEADER_COUNT}" in answer.json()["error"]["message"]
    big = {"X-Big": "a" * MAX_HEADER_FIELD_BYTES}
    answer = httpx.post(url, content=b"", headers={"Authorization": f"Bearer {key}", **big})
    assert answer.status_code == 431
    assert "'x-big'" in answer.json()["error"]["message"] and "Move the data to the body" in answer.text


def test_body_over_the_limit_gets_413_before_it_is_read(png_endpoint: tuple[str, str]) -> None:
    url, key = png_endpoint
    parsed = httpx.URL(url)
    head = (
        f"POST {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: image/png\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    )
    with socket.create_connection((parsed.host, parsed.port or 80), timeout=10) as sock:
        sock.sendall(head.encode() + b"\x89PNG")  # the body never comes: the answer must not wait for it
        reply = sock.recv(65536).decode("latin-1")
    assert reply.startswith("HTTP/1.1 413"), reply[:200]
    assert "RequestEntityTooLarge" in reply and "MiB" in reply
    streamed = httpx.post(
        url,
        content=iter([b"\0" * (1024 * 1024)] * (MAX_BODY_BYTES // (1024 * 1024) + 1)),  # chunked, no length
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert streamed.status_code == 413


def _preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


@pytest.mark.parametrize("configured", ["aml_cors_origins", "script"])
def test_cors_preflight_and_answer(workspace: WorkspaceInfo, tmp_path: Path, configured: str) -> None:
    name = unique("cors")
    script, env = (
        (JSON_SCRIPT, {"AML_CORS_ORIGINS": f"{ALLOWED}, http://example.com"})
        if configured == "aml_cors_origins"
        else (CORS_SCRIPT, {"ALLOWED_ORIGIN": ALLOWED})
    )
    with make_client(workspace) as client, deployed_script(client, tmp_path, name, script, env) as key:
        url = f"{workspace.base_url}/endpoints/{name}/score"
        allowed = _preflight(url, ALLOWED)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert "POST" in allowed.headers["access-control-allow-methods"]
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        other = _preflight(url, OTHER)
        assert "access-control-allow-origin" not in other.headers
        answer = httpx.post(
            url, json={"data": [1, 2]}, headers={"Authorization": f"Bearer {key}", "Origin": ALLOWED}
        )
        assert answer.status_code == 200 and answer.json() == {"echo": {"data": [1, 2]}}
        assert answer.headers["access-control-allow-origin"] == ALLOWED
        # only a preflight goes without credentials
        assert httpx.post(url, json={"data": [1]}, headers={"Origin": ALLOWED}).status_code == 401
        assert httpx.options(url).status_code == 401
        assert (
            httpx.options(
                f"{workspace.base_url}/endpoints/no-such-endpoint/score",
                headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"},
            ).status_code
            == 401
        )
