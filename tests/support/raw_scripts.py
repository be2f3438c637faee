"""Scoring scripts that use raw HTTP (``@rawhttp``/``AMLResponse``): a PNG filter and the CORS
pattern of the v1 guide; a tiny PNG codec (stdlib only) for them and their tests; and the one way the
tests deploy such a script on a local workspace."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_mlep.rest import RestClient

PNG_CODEC = '''\
import struct
import zlib

SIGNATURE = b"\\x89PNG\\r\\n\\x1a\\n"


def encode_png(width, height, pixels):
    """An 8-bit greyscale PNG of ``pixels`` (bytes, row by row)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    rows = b"".join(b"\\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def decode_png(data):
    """(width, height, pixels) of an 8-bit greyscale PNG without row filters; ValueError otherwise."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    position, idat, width, height = 8, b"", 0, 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        payload = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", payload[:10])
            if (depth, colour) != (8, 0):
                raise ValueError("only 8-bit greyscale PNGs")
        elif kind == b"IDAT":
            idat += payload
        position += 12 + length
    raw = zlib.decompress(idat)
    pixels = b""
    for y in range(height):
        row = raw[y * (width + 1):(y + 1) * (width + 1)]
        if row[0] != 0:
            raise ValueError("row filters are not supported")
        pixels += row[1:]
    return width, height, pixels
'''

PNG_SCRIPT = (
    PNG_CODEC
    + '''

from azureml_inference_server_http.api.aml_request import rawhttp
from azureml_inference_server_http.api.aml_response import AMLResponse


def init():
    pass


@rawhttp
def run(request):
    """Invert a greyscale PNG; echo the X-Custom request header as X-Echo."""
    if request.headers.get("Content-Type") != "image/png":
        return AMLResponse("send image/png", 415)
    try:
        width, height, pixels = decode_png(request.get_data())
    except ValueError as exc:
        return AMLResponse(str(exc), 400)
    inverted = bytes(255 - p for p in pixels)
    headers = {"Content-Type": "image/png", "X-Echo": request.headers.get("X-Custom", ""),
               "X-Image-Size": f"{width}x{height}"}
    return AMLResponse(encode_png(width, height, inverted), 200, headers)
'''
)

CORS_SCRIPT = """\
import json
import os

from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse

ALLOWED = os.environ["ALLOWED_ORIGIN"]


def init():
    pass


@rawhttp
def run(request):
    # The v1 guide's pattern: the script answers the preflight and sets CORS headers itself.
    headers = {"Access-Control-Allow-Origin": ALLOWED} if request.headers.get("Origin") == ALLOWED else {}
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = "POST"
        headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers", "")
        return AMLResponse("", 200, headers)
    if request.method == "POST":
        answer = {"echo": json.loads(request.get_data())}
        return AMLResponse(json.dumps(answer), 200, {**headers, "Content-Type": "application/json"})
    return AMLResponse("bad request", 400)
"""

JSON_SCRIPT = """\
import json


def init():
    pass


def run(raw_data):
    return {"echo": json.loads(raw_data)}
"""

CONDA = """\
name: raw-http
dependencies:
  - python=3.11
  - pip:
    - azureml-inference-server-http
    - flask-cors
"""


def encode_png(width: int, height: int, pixels: bytes) -> bytes:
    """The codec the scripts use, for the tests."""
    scope: dict[str, Any] = {}
    exec(PNG_CODEC, scope)  # one codec, in the scripts and in the tests
    return bytes(scope["encode_png"](width, height, pixels))


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    scope: dict[str, Any] = {}
    exec(PNG_CODEC, scope)
    width, height, pixels = scope["decode_png"](data)
    return int(width), int(height), bytes(pixels)


@contextlib.contextmanager
def deployed_script(
    client: RestClient, folder: Path, endpoint: str, script: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``script`` on ``endpoint`` (deployment ``blue``, all traffic, the environment :data:`CONDA`);
    the endpoint's primary key; the endpoint is deleted at exit."""
    from jupyter_mlep import operations as ops
    from jupyter_mlep.specs import spec_from_dict

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(script)
    (folder / "conda.yml").write_text(CONDA)
    (folder / "model").mkdir(exist_ok=True)
    (folder / "model" / "README").write_text("These scripts use no model; a deployment has one.\n")
    data: dict[str, Any] = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
        "name": "blue",
        "endpoint_name": endpoint,
        "model": {"path": str(folder / "model")},
        "code_configuration": {"code": str(folder), "scoring_script": "score.py"},
        "environment": {
            "image": "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest",
            "conda_file": str(folder / "conda.yml"),
        },
        "instance_type": "Standard_DS1_v2",
        "instance_count": 1,
        "environment_variables": env or {},
    }
    try:
        ops.deploy(client, spec_from_dict(data), traffic=100, timeout=600)
        yield ops.get_keys(client, endpoint).primary_key
    finally:
        ops.delete_endpoint(client, endpoint, timeout=120)


__all__ = [
    "CONDA",
    "CORS_SCRIPT",
    "JSON_SCRIPT",
    "PNG_SCRIPT",
    "decode_png",
    "deployed_script",
    "encode_png",
]
