"""Credentials: condensed DefaultAzureCredential errors, bounded discovery, masked secrets."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from jupyter_mlep import _errors as errors
from jupyter_mlep.rest import TokenCache, mask

DEFAULT_MESSAGE = """DefaultAzureCredential failed to retrieve a token from the included credentials.
Attempted credentials:
\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not fully configured.
\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint.
\tAzureCliCredential: Azure CLI not found on path
To mitigate this issue, please refer to the troubleshooting guidelines here at https://aka.ms/azsdk/python/identity/defaultazurecredential/troubleshoot."""


class ClientAuthenticationError(Exception):
    """Shaped like azure-core's error (the client never imports azure-core to recognise it)."""


class FailingCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise ClientAuthenticationError(DEFAULT_MESSAGE)


class HangingCredential:
    def __init__(self) -> None:
        self.release = threading.Event()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.release.wait(10)
        raise RuntimeError("released")


def test_default_credential_failure_is_condensed_to_what_to_configure() -> None:
    with pytest.raises(errors.CredentialError) as caught:
        TokenCache(FailingCredential()).token()
    text = str(caught.value)
    assert "EnvironmentCredential, ManagedIdentityCredential, AzureCliCredential" in text
    assert "az login" in text and "AZURE_CLIENT_SECRET" in text
    assert "troubleshooting guidelines" not in text


def test_credential_discovery_is_bounded() -> None:
    credential = HangingCredential()
    started = time.monotonic()
    try:
        with pytest.raises(errors.CredentialError) as caught:
            TokenCache(credential, timeout=0.3).token()
    finally:
        credential.release.set()
    assert time.monotonic() - started < 2
    assert "within 0.3 s" in str(caught.value)


def test_real_default_azure_credential_without_configuration_fails_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jupyter_mlep.rest import default_azure_credential

    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_USERNAME",
        "IDENTITY_ENDPOINT",
        "MSI_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_CONFIG_DIR", "/nonexistent-azure-config")
    monkeypatch.setenv("PATH", "/nonexistent-bin")
    started = time.monotonic()
    with pytest.raises(errors.CredentialError) as caught:
        TokenCache(default_azure_credential(), timeout=5.0).token()
    assert time.monotonic() - started < 8
    assert "az login" in str(caught.value)


def test_mask_never_shows_a_whole_secret() -> None:
    secret = "abcd" + "x" * 30 + "wxyz"
    assert mask(secret) == "abcd…wxyz"
    assert mask("short") == "…" and mask(None) == "(none)"
