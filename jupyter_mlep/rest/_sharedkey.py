"""Shared Key signing of Blob service requests (``Authorization: SharedKey <account>:<signature>``).

The string-to-sign is in :mod:`jupyter_mlep._sharedkey`, shared with the local workspace.
"""

from __future__ import annotations

from email.utils import formatdate

import httpx

from .._sharedkey import signature, string_to_sign

__all__ = ["sign_request"]


def sign_request(request: httpx.Request, account: str, key: str) -> None:
    """Date and sign ``request`` in place with the account key (base64, as storage keys are given)."""
    request.headers["x-ms-date"] = formatdate(usegmt=True)
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    text = string_to_sign(request.method, request.headers.items(), path, query, account)
    request.headers["Authorization"] = f"SharedKey {account}:{signature(key, text)}"
