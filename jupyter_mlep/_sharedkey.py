"""Shared Key signatures of Azure Blob service requests (``Authorization: SharedKey <account>:<signature>``).

One implementation for both sides: the REST client signs uploads with an account key, and the
local workspace's blob store checks them. The string-to-sign is the Blob service's (versions
2015-02-21 and later): the verb, eleven standard headers (Content-Length empty when zero), the
sorted ``x-ms-*`` headers, then the canonical resource ``/<account><raw path>`` and the query
parameters, names lower-cased and sorted, values decoded, sorted and comma-joined.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl

__all__ = ["signature", "string_to_sign"]

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


def string_to_sign(
    method: str, headers: Iterable[tuple[str, str]], raw_path: str, query: str, account: str
) -> str:
    """The string-to-sign of a request; ``raw_path`` without the query, ``query`` still encoded."""
    values = {name.lower(): value.strip() for name, value in headers}
    if values.get("content-length") == "0":
        values["content-length"] = ""
    lines = [method.upper()] + [values.get(name, "") for name in _STANDARD]
    canonical_headers = "".join(
        f"{name}:{value}\n" for name, value in sorted(values.items()) if name.startswith("x-ms-")
    )
    grouped: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        grouped.setdefault(name.lower(), []).append(value)
    resource = f"/{account}{raw_path}" + "".join(
        f"\n{name}:{','.join(sorted(items))}" for name, items in sorted(grouped.items())
    )
    return "\n".join(lines) + "\n" + canonical_headers + resource


def signature(key: str, text: str) -> str:
    """The base64 HMAC-SHA256 of ``text`` with the base64 account ``key``."""
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
