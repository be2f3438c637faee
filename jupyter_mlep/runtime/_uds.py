"""Unix domain sockets of the deployments' servers: where they live, and a small HTTP client for them.

Every server (and every warm launcher's control socket) of a deployment listens on a Unix
socket in the deployment's own folder ``$MLEP_HOME/sockets/<id>/``; both folders are ``0700``
and the servers' sockets ``0600``, so only the owner of the deployment reaches them. Nothing of
a deployment listens on TCP. A Docker container gets its deployment's folder mounted at the same
path, so a socket path is valid on the host and in the container.

:func:`uds_request` calls a server directly (health probes, tests, benchmarks)::

    status, headers, body = uds_request(info.socket, "POST", "/score", b'{"data": [[1]]}',
                                        {"Content-Type": "application/json"})
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
from collections.abc import Mapping
from pathlib import Path

from .._errors import RuntimeBackendError

__all__ = ["MAX_SOCKET_PATH", "new_id", "socket_folder", "socket_path", "uds_request"]

#: The longest path a Unix socket address can hold on Linux (``sun_path`` is 108 bytes with its NUL).
MAX_SOCKET_PATH = 107


class _UnixConnection(http.client.HTTPConnection):
    """An HTTP/1.1 connection over a Unix domain socket (``Host: localhost``)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def uds_request(
    socket_path: str | os.PathLike[str],
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request to the server listening on ``socket_path``: (status, headers, body).

    Connection errors (no such socket, refused, timed out) raise :class:`OSError`.
    """
    conn = _UnixConnection(os.fspath(socket_path), timeout)
    try:
        conn.request(method, path, body=body or None, headers=dict(headers or {}))
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    except http.client.HTTPException as exc:
        raise OSError(f"{type(exc).__name__}: {exc}") from None
    finally:
        conn.close()


def new_id() -> str:
    """A short unique id for a server or a launcher (ten hex digits)."""
    return secrets.token_hex(5)


def socket_folder(home: Path, deployment_id: str) -> Path:
    """The socket folder of one deployment (``$MLEP_HOME/sockets/<id>``), created ``0700`` with its parent."""
    parent = home / "sockets"
    for folder in (parent, parent / deployment_id):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    return parent / deployment_id


def socket_path(folder: Path, name: str) -> str:
    """``folder/name`` as a socket path, refused when it is too long for a Unix socket address."""
    path = str(folder / name)
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise RuntimeBackendError(
            f"The socket path {path} is longer than the {MAX_SOCKET_PATH} bytes a Unix socket allows.",
            hint="Set MLEP_HOME to a shorter folder (for example ~/.jupyter_mlep).",
        )
    return path
