"""Run the workspace server in the foreground: bind 127.0.0.1, hold the lock, write server.json.

With ``tls`` it serves HTTPS on the same address with the certificate of :mod:`.tls`."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._paths import WorkspacePaths, write_private
from .arm import now_iso

if TYPE_CHECKING:
    from .tls import TlsFiles

__all__ = ["serve"]

log = logging.getLogger("jupyter_mlep.workspace")


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without it, keep-alive answers wait for delayed ACKs (~40 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _choose_socket(paths: WorkspacePaths, port: int | None) -> socket.socket:
    if port is not None:
        return _bind(port)
    with contextlib.suppress(OSError, ValueError):
        last = int(json.loads((paths.root / "last-port.json").read_text())["port"])
        return _bind(last)
    return _bind(0)


def serve(home: Path, port: int | None = None, *, tls: bool = False) -> int:
    """Serve the workspace stored under ``home`` until SIGTERM/SIGINT; returns the exit status.

    ``tls``: HTTPS with the certificate of ``$MLEP_HOME/tls/`` (made when missing), else HTTP."""
    os.umask(0o077)
    paths = WorkspacePaths.under(home)
    paths.ensure()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    lock_fd = os.open(paths.server_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            print(f"A workspace server already runs for {home}.", file=sys.stderr)
            return 1
        raise
    try:
        try:
            sock = _choose_socket(paths, port)
        except OSError as exc:
            print(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror}.", file=sys.stderr)
            return 1
        actual = sock.getsockname()[1]
        # uvicorn re-raises the signal that stopped it once it is done: exit cleanly then.
        signal.signal(signal.SIGTERM, _exit_quietly)
        signal.signal(signal.SIGINT, _exit_quietly)
        try:
            return _run_loop(_run(paths, sock, actual, _certificates(home) if tls else None))
        except SystemExit:
            return 0
    finally:
        with contextlib.suppress(OSError):
            paths.server_file.unlink()
        os.close(lock_fd)


def _certificates(home: Path) -> TlsFiles:
    from .tls import ensure_certificates

    return ensure_certificates(home)


def _run_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` on uvloop when installed (its transports cost a fraction of asyncio's), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _run(paths: WorkspacePaths, sock: socket.socket, port: int, tls: TlsFiles | None) -> int:
    import uvicorn

    from ._transport import coalescing_protocol
    from .app import create_app
    from .context import Workspace
    from .supervisor import Supervisor

    ws = Workspace.open(paths)
    ws.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    ws.supervisor = Supervisor(paths.root.parent)
    app = create_app(ws)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        http=coalescing_protocol(),
        lifespan="on",
        timeout_graceful_shutdown=10,
        server_header=False,
        ssl_certfile=str(tls.server_cert) if tls else None,
        ssl_keyfile=str(tls.server_key) if tls else None,
    )
    server = uvicorn.Server(config)
    app.state.services.connections = server.server_state
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.002)
    if server.started:
        record = {
            "pid": os.getpid(),
            "port": port,
            "url": ws.base_url,
            "ca": str(tls.ca_cert) if tls else None,
            "startedAt": now_iso(),
            "startedAtEpoch": time.time(),
        }
        write_private(paths.server_file, json.dumps(record))
        write_private(paths.root / "last-port.json", json.dumps({"port": port}))
        log.info("local workspace listening on %s (pid %d)", ws.base_url, os.getpid())
    await task
    return 0 if server.started else 1
