"""HTTPS on loopback for the local workspace: a local certificate authority and a server certificate.

Opt-in (``jupyter-mlep workspace start --tls``, or ``MLEP_WORKSPACE_TLS=1`` for the workspace that
starts on its own). The files live under ``$MLEP_HOME/tls/`` (folder 0700, private keys 0600) and
are reused across restarts; the server certificate (names ``127.0.0.1``, ``::1`` and
``localhost``) is issued again when it is about to expire or when the authority changed::

    files = ensure_certificates(home)
    files.ca_cert        # what clients trust: httpx verify=, REQUESTS_CA_BUNDLE, SSL_CERT_FILE
    files.server_cert, files.server_key   # what the server presents

Clients verify the server against :attr:`TlsFiles.ca_cert`; nothing here turns verification off.
The authority signs only certificates for this machine's loopback names (a name constraint).
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ._paths import write_private

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["TLS_ENV", "TlsFiles", "client_context", "ensure_certificates", "tls_requested"]

TLS_ENV = "MLEP_WORKSPACE_TLS"
"""The environment variable that makes the workspace started on its own serve HTTPS (``1``)."""

_HOSTS = ("localhost",)
_ADDRESSES = ("127.0.0.1", "::1")
_CA_DAYS = 3650
_SERVER_DAYS = 397
_RENEW_BEFORE = timedelta(days=30)


def tls_requested(environ: Mapping[str, str] | None = None) -> bool | None:
    """What ``MLEP_WORKSPACE_TLS`` asks: True (``1``, ``true``, ``yes``, ``on``), False (``0``,
    ``false``, ``no``, ``off``), None when unset or empty. Other values raise a ``SettingsError``."""
    from .._errors import SettingsError

    value = (os.environ if environ is None else environ).get(TLS_ENV, "").strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(
        f"{TLS_ENV}={value!r} is neither on nor off.",
        hint=f"Set {TLS_ENV}=1 for HTTPS, 0 (or unset) for HTTP.",
    )


@dataclass(frozen=True)
class TlsFiles:
    """The certificate files of one ``MLEP_HOME`` (below :attr:`folder`)."""

    folder: Path

    @classmethod
    def under(cls, home: Path) -> TlsFiles:
        """The files below ``home`` (the resolved ``MLEP_HOME``)."""
        return cls(Path(home).expanduser() / "tls")

    @property
    def ca_cert(self) -> Path:
        """The local authority's certificate (PEM): what clients trust."""
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        """The local authority's private key (PEM, mode 0600)."""
        return self.folder / "ca-key.pem"

    @property
    def server_cert(self) -> Path:
        """The server's certificate (PEM), issued by the local authority."""
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        """The server's private key (PEM, mode 0600)."""
        return self.folder / "server-key.pem"


def client_context(ca_file: Path | str) -> ssl.SSLContext:
    """A client TLS context that trusts ``ca_file`` (verification and host names checked)."""
    return ssl.create_default_context(cafile=str(ca_file))


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_certificates(home: Path, *, now: datetime | None = None) -> TlsFiles:
    """The certificate files of ``home``, made when missing and issued again when due; returns them."""
    files = TlsFiles.under(home)
    moment = now or datetime.now(timezone.utc)
    with _locked(files.folder):
        ca = _load_ca(files, moment)
        if ca is None:
            ca = _new_ca(files, moment)
            with contextlib.suppress(FileNotFoundError):
                files.server_cert.unlink()
        if not _server_cert_current(files, ca[0], moment):
            _new_server_cert(files, ca, moment)
    return files


def _ec_key() -> ec.EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _cert_pem(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _load_ca(files: TlsFiles, moment: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert.not_valid_after_utc - _RENEW_BEFORE < moment:
        return None
    if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
        return None
    return cert, key


def _new_ca(files: TlsFiles, moment: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = _ec_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jupyter-mlep"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"jupyter-mlep local workspace CA ({os.uname().nodename})"
            ),
        ]
    )
    permitted: list[x509.GeneralName] = [x509.DNSName(host) for host in _HOSTS]
    permitted += [
        x509.IPAddress(ipaddress.ip_network(address + ("/32" if "." in address else "/128")))
        for address in _ADDRESSES
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(minutes=5))
        .not_valid_after(moment + timedelta(days=_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(files.ca_key, _key_pem(key))
    write_private(files.ca_cert, _cert_pem(cert))
    os.chmod(files.ca_cert, 0o644)
    return cert, key


def _server_cert_current(files: TlsFiles, ca: x509.Certificate, moment: datetime) -> bool:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
    except (OSError, ValueError):
        return False
    if cert.issuer != ca.subject or cert.not_valid_after_utc - _RENEW_BEFORE < moment:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except Exception:  # a signature that does not verify, or another key type
        return False
    return bool(cert.public_key().public_numbers() == key.public_key().public_numbers())  # type: ignore[union-attr]


def _new_server_cert(
    files: TlsFiles, ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], moment: datetime
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert, ca_key = ca
    key = _ec_key()
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in _HOSTS]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in _ADDRESSES]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(minutes=5))
        .not_valid_after(min(moment + timedelta(days=_SERVER_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(files.server_key, _key_pem(key))
    write_private(files.server_cert, _cert_pem(cert))
    os.chmod(files.server_cert, 0o644)
