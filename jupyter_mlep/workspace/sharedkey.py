"""Shared Key authorisation of blob requests (``Authorization: SharedKey <account>:<signature>``).

The string-to-sign is the one of the Blob service (versions 2015-02-21 and later), as the Azure
Storage clients compute it: the verb, the standard headers, the ``x-ms-*`` headers, then the
canonical resource ``/<account><raw path>`` (so ``/mlepstore/mlepstore/<container>/<blob>`` with
path-style addressing, as with Azurite) and the sorted query parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request

__all__ = ["shared_key_valid", "string_to_sign"]

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
_SKEW = timedelta(minutes=15)


def string_to_sign(request: Request, account: str) -> str:
    """The Shared Key string-to-sign of a request."""
    headers = {name.lower(): value for name, value in request.headers.items() if value}
    if headers.get("content-length") == "0":
        del headers["content-length"]
    lines = [request.method] + [headers.get(name, "") for name in _STANDARD]
    canonical_headers = "".join(
        f"{name}:{value}\n" for name, value in sorted(headers.items()) if name.startswith("x-ms-")
    )
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    resource = f"/{account}{raw_path.decode('latin-1')}"
    query = sorted(parse_qsl(request.url.query, keep_blank_values=True))
    resource += "".join(f"\n{name.lower()}:{unquote(value)}" for name, value in query)
    return "\n".join(lines) + "\n" + canonical_headers + resource


def shared_key_valid(request: Request, authorization: str, key: str, account: str) -> bool:
    """True if the Shared Key signature matches and the request's date is within 15 minutes."""
    scheme, _, credential = authorization.partition(" ")
    name, _, signature = credential.strip().partition(":")
    if scheme != "SharedKey" or name != account or not signature:
        return False
    when = request.headers.get("x-ms-date") or request.headers.get("date")
    try:
        sent = parsedate_to_datetime(when) if when else None
    except (TypeError, ValueError):
        sent = None
    if sent is None or abs(datetime.now(timezone.utc) - sent) > _SKEW:
        return False
    expected = hmac.new(
        base64.b64decode(key), string_to_sign(request, account).encode("utf-8"), hashlib.sha256
    )
    return hmac.compare_digest(base64.b64encode(expected.digest()), signature.encode("ascii", "replace"))
