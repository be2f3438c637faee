"""Bearer tokens: any ``TokenCredential``, cached until shortly before expiry, with a bounded wait.

``azure-identity`` is imported only when :func:`default_azure_credential` is called, so the
local target (and importing this package) never needs it.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, NamedTuple, Protocol, runtime_checkable

from .._errors import CredentialError

__all__ = [
    "ARM_SCOPE",
    "AccessToken",
    "StaticTokenCredential",
    "TokenCache",
    "TokenCredential",
    "default_azure_credential",
    "mask",
]

ARM_SCOPE = "https://management.azure.com/.default"
_CONFIGURE = (
    "Sign in with 'az login' (Azure CLI) or 'azd auth login', or set AZURE_TENANT_ID, AZURE_CLIENT_ID "
    "and AZURE_CLIENT_SECRET for a service principal, or run where a managed identity is assigned; "
    "or pass any TokenCredential to the client."
)


class AccessToken(NamedTuple):
    """A bearer token and its expiry (Unix seconds), shaped like ``azure.core.credentials.AccessToken``."""

    token: str
    expires_on: int


@runtime_checkable
class TokenCredential(Protocol):
    """What the client needs of a credential: ``get_token(*scopes)`` (azure-core's protocol)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """A token object with ``token`` and ``expires_on``."""
        ...


def mask(secret: str | None) -> str:
    """A secret for displays: its first and last four characters (``abcd…wxyz``), never the whole."""
    if not secret:
        return "(none)"
    if len(secret) <= 12:
        return "…"
    return f"{secret[:4]}…{secret[-4:]}"


class StaticTokenCredential:
    """A credential with one fixed token (the local workspace's admin token, or tests)."""

    def __init__(self, token: str, *, lifetime: float = 24 * 3600.0) -> None:
        self._token = token
        self._lifetime = lifetime

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The token, valid for ``lifetime`` seconds from now."""
        return AccessToken(self._token, int(time.time() + self._lifetime))

    def __repr__(self) -> str:
        return f"StaticTokenCredential({mask(self._token)})"


def default_azure_credential() -> TokenCredential:
    """``azure.identity.DefaultAzureCredential`` (imported now, not before)."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise CredentialError(
            "The Azure target needs the azure-identity package, which is not installed.",
            hint="pip install azure-identity",
        ) from None
    credential: TokenCredential = DefaultAzureCredential()
    return credential


def _condense(exc: BaseException) -> CredentialError:
    text = str(exc)
    tried = re.findall(r"^\s*(\w+Credential):", text, flags=re.MULTILINE)
    if tried:
        message = "No Azure credential is available (tried " + ", ".join(dict.fromkeys(tried)) + ")."
    else:
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        message = f"Could not get an Azure token: {first}"
    return CredentialError(message, hint=_CONFIGURE, code="CredentialUnavailable")


class TokenCache:
    """Tokens of one credential for one scope, refreshed ``margin`` seconds before they expire.

    The first (and every) call to the credential is bounded by ``timeout`` seconds: credential
    discovery can hang where an address accepts connections without answering.
    """

    def __init__(
        self,
        credential: TokenCredential,
        scope: str = ARM_SCOPE,
        *,
        margin: float = 300.0,
        timeout: float = 30.0,
    ) -> None:
        self.credential = credential
        self.scope = scope
        self.margin = margin
        self.timeout = timeout
        self._token: str | None = None
        self._expires_on = 0.0
        self._lock = threading.Lock()
        self.fetch_count = 0
        """How many times the credential was asked (for displays and tests)."""

    def token(self, *, force: bool = False) -> str:
        """A valid token, from the cache unless it expires within ``margin`` (or ``force``)."""
        with self._lock:
            if force or self._token is None or self._expires_on - time.time() <= self.margin:
                access = self._fetch()
                self._token, self._expires_on = str(access.token), float(access.expires_on)
                self.fetch_count += 1
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (after the service refused it)."""
        with self._lock:
            self._token = None

    def _fetch(self) -> Any:
        result: list[Any] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                result.append(self.credential.get_token(self.scope))
            except BaseException as exc:
                failure.append(exc)

        worker = threading.Thread(target=run, name="mlep-credential", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise CredentialError(
                f"No Azure credential answered within {self.timeout:g} s "
                f"({type(self.credential).__name__} is still looking).",
                hint=_CONFIGURE,
                code="CredentialTimeout",
            )
        if failure:
            if isinstance(failure[0], CredentialError):
                raise failure[0]
            raise _condense(failure[0]) from None
        access = result[0]
        if not getattr(access, "token", None):
            raise CredentialError(f"{type(self.credential).__name__} returned no token.", hint=_CONFIGURE)
        return access
