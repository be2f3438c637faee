"""Shared Key authorisation of blob requests (``Authorization: SharedKey <account>:<signature>``).

The string-to-sign (in :mod:`jupyter_mlep._sharedkey`, shared with the REST client) uses the raw
path, so ``/mlepstore/mlepstore/<container>/<blob>`` with path-style addressing, as with Azurite.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from starlette.requests import Request

from .._sharedkey import signature, string_to_sign

__all__ = ["shared_key_valid"]

_SKEW = timedelta(minutes=15)


def shared_key_valid(request: Request, authorization: str, key: str, account: str) -> bool:
    """True if the Shared Key signature matches and the request's date is within 15 minutes."""
    scheme, _, credential = authorization.partition(" ")
    name, _, given = credential.strip().partition(":")
    if scheme != "SharedKey" or name != account or not given:
        return False
    when = request.headers.get("x-ms-date") or request.headers.get("date")
    try:
        sent = parsedate_to_datetime(when) if when else None
    except (TypeError, ValueError):
        sent = None
    if sent is None or abs(datetime.now(timezone.utc) - sent) > _SKEW:
        return False
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    text = string_to_sign(
        request.method, request.headers.items(), raw_path.decode("latin-1"), request.url.query, account
    )
    return hmac.compare_digest(signature(key, text), given)
