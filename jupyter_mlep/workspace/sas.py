"""Shared access signatures (service SAS, ``sr=b`` or ``sr=c``) for the workspace blob store.

The string-to-sign follows the Azure Storage service SAS format of version 2020-12-06 and
later (earlier versions, from 2018-11-09, omit the encryption-scope line), so a SAS made by
any Azure Storage client from the account key (``listSecrets``) is accepted here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from ._identity import ACCOUNT

__all__ = ["SAS_VERSION", "SasError", "check_sas", "container_sas", "sign"]

SAS_VERSION = "2024-11-04"
_ORDER = "racwdxltmeop"


class SasError(Exception):
    """A SAS that does not authorise the request: ``code`` is the storage error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _string_to_sign(params: Mapping[str, str], account: str, container: str, blob: str | None) -> str:
    resource = f"/blob/{account}/{container}" + (f"/{blob}" if blob and params.get("sr") == "b" else "")
    fields = [
        params.get("sp", ""),
        params.get("st", ""),
        params.get("se", ""),
        resource,
        params.get("si", ""),
        params.get("sip", ""),
        params.get("spr", ""),
        params.get("sv", ""),
        params.get("sr", ""),
        params.get("snapshot", params.get("sst", "")),
    ]
    if params.get("sv", "") >= "2020-12-06":
        fields.append(params.get("ses", ""))
    fields += [params.get(key, "") for key in ("rscc", "rscd", "rsce", "rscl", "rsct")]
    return "\n".join(fields)


def sign(key: str, params: Mapping[str, str], account: str, container: str, blob: str | None = None) -> str:
    """The ``sig`` value for these SAS parameters."""
    digest = hmac.new(
        base64.b64decode(key),
        _string_to_sign(params, account, container, blob).encode("utf-8"),
        hashlib.sha256,
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def container_sas(
    key: str,
    container: str,
    *,
    permissions: str = "rl",
    hours: float = 1.0,
    account: str | None = None,
) -> str:
    """A container-level SAS query string (without '?')."""
    expiry = datetime.now(timezone.utc) + timedelta(hours=hours)
    params = {
        "sv": SAS_VERSION,
        "sr": "c",
        "sp": "".join(ch for ch in _ORDER if ch in permissions),
        "se": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    params["sig"] = sign(key, params, account or ACCOUNT, container)
    return urlencode(params)


def _parse_time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SasError(
            "AuthenticationFailed", f"Signed {name} '{value}' is not a valid ISO 8601 time."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def check_sas(
    params: Mapping[str, str], key: str, account: str, container: str, blob: str | None, permission: str
) -> None:
    """Raise :class:`SasError` unless the SAS in ``params`` allows ``permission`` on this resource."""
    if params.get("sr") not in ("b", "c"):
        raise SasError("AuthenticationFailed", "Only service SAS tokens with sr=b or sr=c are supported.")
    if "si" in params:
        raise SasError("AuthenticationFailed", "Stored access policies (si) are not supported.")
    if not params.get("sv") or not params.get("se") or not params.get("sig"):
        raise SasError("AuthenticationFailed", "The SAS is missing sv, se or sig.")
    expected = sign(key, params, account, container, blob)
    if not hmac.compare_digest(expected.encode("ascii"), params["sig"].encode("ascii", "replace")):
        raise SasError(
            "AuthenticationFailed",
            "Signature did not match. The SAS was not made with this account's key for this resource.",
        )
    now = datetime.now(timezone.utc)
    if _parse_time(params["se"], "expiry") < now:
        raise SasError("AuthenticationFailed", f"Signed expiry time [{params['se']}] has passed.")
    if params.get("st") and _parse_time(params["st"], "start") > now + timedelta(minutes=5):
        raise SasError("AuthenticationFailed", f"Signed start time [{params['st']}] is in the future.")
    if params.get("spr") == "https":
        raise SasError("AuthorizationProtocolMismatch", "This SAS requires https; the workspace speaks http.")
    if params.get("sr") == "b" and blob is None:
        raise SasError(
            "AuthorizationResourceTypeMismatch", "A blob SAS (sr=b) does not allow container operations."
        )
    allowed = params.get("sp", "")
    acceptable = {"w": "wc", "c": "cw"}.get(permission, permission)
    if not any(ch in allowed for ch in acceptable):
        raise SasError(
            "AuthorizationPermissionMismatch",
            f"This request is not authorized to perform this operation using this permission (needs '{permission}').",
        )
