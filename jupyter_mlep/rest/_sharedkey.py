"""Shared Key signing of Blob service requests (``Authorization: SharedKey <account>:<signature>``).

The string-to-sign of the Blob service (versions 2015-02-21 and later): the verb, eleven standard
headers (Content-Length empty when zero), the sorted ``x-ms-*`` headers, then the canonical
resource ``/<account><encoded path>`` and the sorted, decoded query parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate
from urllib.parse import parse_qsl

import httpx

__all__ = ["sign_request"]

_STANDARD = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def _string_to_sign(request: httpx.Request, account: str) -> str:
    headers = {name.lower(): value.strip() for name, value in request.headers.items()}
    if headers.get("content-length") == "0":
        headers["content-length"] = ""
    lines = [request.method.upper()] + [headers.get(name, "") for name in _STANDARD]
    canonical_headers = "".join(
        f"{name}:{value}\n" for name, value in sorted(headers.items()) if name.startswith("x-ms-")
    )
    resource = f"/{account}{request.url.raw_path.split(b'?', 1)[0].decode('ascii')}"
    grouped: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True):
        grouped.setdefault(name.lower(), []).append(value)
    resource += "".join(f"\n{name}:{','.join(sorted(values))}" for name, values in sorted(grouped.items()))
    return "\n".join(lines) + "\n" + canonical_headers + resource


def sign_request(request: httpx.Request, account: str, key: str) -> None:
    """Date and sign ``request`` in place with the account key (base64, as storage keys are given)."""
    request.headers["x-ms-date"] = formatdate(usegmt=True)
    digest = hmac.new(
        base64.b64decode(key), _string_to_sign(request, account).encode("utf-8"), hashlib.sha256
    ).digest()
    request.headers["Authorization"] = f"SharedKey {account}:{base64.b64encode(digest).decode('ascii')}"
