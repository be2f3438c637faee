"""Credentials of the local workspace: the admin token, endpoint keys and endpoint tokens.

* The admin token (a random string in a 0600 file) authorises the management plane, the
  blob store (as an AAD-style bearer) and the scoring of ``AADToken`` endpoints.
* ``Key`` endpoints take their primary or secondary key as ``Authorization: Bearer``.
* ``AMLToken`` endpoints take a token from the ``token`` action: an HMAC-signed claim
  naming the endpoint and an expiry, so tokens survive a restart of the server.

Every comparison is constant-time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path

from ._paths import write_private

__all__ = [
    "TOKEN_LIFETIME_SECONDS",
    "TokenSigner",
    "bearer",
    "load_or_create_admin_token",
    "matches_any",
    "new_key",
]

TOKEN_LIFETIME_SECONDS = 3600


def new_key() -> str:
    """A new random key (endpoint keys, the storage account key)."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def load_or_create_admin_token(path: Path) -> str:
    """Read the admin token from ``path``, creating it (mode 0600) when missing."""
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    write_private(path, token + "\n")
    return token


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def matches_any(given: str | None, expected: list[str | None]) -> bool:
    """True if ``given`` equals one of ``expected``; every candidate is compared in constant time."""
    if given is None:
        return False
    supplied = given.encode("utf-8")
    found = False
    for candidate in expected:
        if candidate is not None and hmac.compare_digest(supplied, candidate.encode("utf-8")):
            found = True
    return found


class TokenSigner:
    """Issues and checks ``AMLToken`` endpoint tokens."""

    def __init__(self, key: str) -> None:
        self._key = base64.b64decode(key)

    def issue(self, endpoint_id: str, lifetime: int = TOKEN_LIFETIME_SECONDS) -> tuple[str, int]:
        """A token for the endpoint and its expiry (Unix seconds)."""
        expiry = int(time.time()) + lifetime
        claim = json.dumps({"ep": endpoint_id.lower(), "exp": expiry, "n": secrets.token_hex(8)})
        payload = base64.urlsafe_b64encode(claim.encode("utf-8")).decode("ascii").rstrip("=")
        return f"{payload}.{self._sign(payload)}", expiry

    def check(self, token: str | None, endpoint_id: str) -> bool:
        """True if the token was issued here for this endpoint and has not expired."""
        if not token or "." not in token:
            return False
        payload, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature.encode("ascii", "replace"), self._sign(payload).encode("ascii")):
            return False
        try:
            claim = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return False
        return (
            isinstance(claim, dict)
            and claim.get("ep") == endpoint_id.lower()
            and isinstance(claim.get("exp"), int)
            and claim["exp"] > time.time()
        )

    def signature(self, claim: str) -> str:
        """The signature of a fixed ``claim`` (URLs that carry their own credential)."""
        return self._sign(claim)

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode("ascii", "replace"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
