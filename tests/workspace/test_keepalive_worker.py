"""The runtime's gunicorn configuration and its keep-alive sync worker, with a real gunicorn.

The inference server runs under gunicorn with ``runtime/agent/gunicorn_conf.py``; here a small
WSGI application stands in for azmlinfsrv's Flask app, so the worker's HTTP behaviour is
checked directly: kept-alive connections, one request at a time, closes where asked.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlep.runtime.agent import GUNICORN_CONF

pytest.importorskip("gunicorn")

APP = """
import os, time

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/empty":
        start_response("204 No Content", [])
        return []
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"a" * 10, b"b" * 20000, b"c"])
    if path == "/slow":
        time.sleep(0.3)
    body = f"{environ['REMOTE_PORT']} {os.getpid()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(tmp_path: Path, workers: int = 1, extra: str = "", **env: str) -> Iterator[int]:
    """A gunicorn with the runtime's configuration serving the test app; its port."""
    (tmp_path / "kaapp.py").write_text(APP)
    port = _free_port()
    environ = {
        **os.environ,
        "MLEP_GUNICORN_BIND": f"127.0.0.1:{port}",
        "MLEP_SERVER_CWD": str(tmp_path),
        "WORKER_COUNT": str(workers),
        "XDG_RUNTIME_DIR": str(tmp_path),
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(GUNICORN_CONF),
        "-w",
        str(workers),
        "-b",
        "0.0.0.0:0",
    ]
    command += [*extra.split(), "kaapp:app"]
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=environ, stdout=log, stderr=log, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.05)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _get(conn: http.client.HTTPConnection, path: str = "/", **headers: str) -> tuple[int, str, str]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.getheader("Connection", ""), response.read().decode()


def test_connections_are_kept_alive_and_served_one_request_at_a_time(tmp_path: Path) -> None:
    with gunicorn(tmp_path) as port:
        first = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        answers = [_get(first) for _ in range(3)]
        assert {(status, connection) for status, connection, _ in answers} == {(200, "keep-alive")}
        assert len({body for _, _, body in answers}) == 1  # same client port: one connection
        # an idle kept connection does not keep another client waiting
        second = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        started = time.monotonic()
        assert _get(second)[0] == 200
        assert time.monotonic() - started < 1.0
        assert _get(first)[0] == 200
        # answers without Content-Length, with chunks, and without body keep the connection usable
        assert _get(first, "/stream")[2] == "a" * 10 + "b" * 20000 + "c"
        assert _get(first, "/empty")[:2] == (204, "keep-alive")
        assert _get(first)[2] == answers[0][2]
        # one request at a time: two slow requests on two connections take twice as long
        results: list[float] = []

        def slow() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            _get(conn, "/slow")
            results.append(time.monotonic())
            conn.close()

        started = time.monotonic()
        threads = [threading.Thread(target=slow) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert max(results) - started >= 0.55
        first.close()
        second.close()


def test_close_when_the_client_asks_and_after_the_keepalive_timeout(tmp_path: Path) -> None:
    with gunicorn(tmp_path, extra="--keep-alive 1") as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert _get(conn, Connection="close")[:2] == (200, "close")
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv(65536).startswith(b"HTTP/1.1 200 OK")
        started = time.monotonic()
        assert raw.recv(1) == b""  # closed by the server once idle for --keep-alive seconds
        assert 0.5 < time.monotonic() - started < 5
        raw.close()


@pytest.mark.parametrize(("workers", "env"), [(1, {"MLEP_SERVER_KEEPALIVE": "0"}), (2, {})])
def test_the_sync_worker_when_turned_off_or_with_several_workers(
    tmp_path: Path, workers: int, env: dict[str, str]
) -> None:
    with gunicorn(tmp_path, workers, **env) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert _get(conn)[:2] == (200, "close")
    assert "KeepAliveSyncWorker" not in (tmp_path / "gunicorn.log").read_text()
