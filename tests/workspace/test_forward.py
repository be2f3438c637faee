"""The router's upstream client (``workspace/forward.py``) against small scripted HTTP servers.

Each test runs an asyncio server on a Unix socket whose behaviour is scripted per connection, and
counts connections and requests, so reuse (fewer connections) and "never sent twice" are visible.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from jupyter_mlep.workspace import forward
from jupyter_mlep.workspace.forward import Forwarder, ForwardError

Handler = Callable[["Upstream", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def socket_path() -> str:
    """A fresh socket path in a private folder (short enough for AF_UNIX)."""
    return os.path.join(tempfile.mkdtemp(prefix="mlep-fw-"), "up.sock")


class Upstream:
    """A server on a Unix socket: ``handler`` serves each connection; counts connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.path = socket_path()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Upstream:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(self, reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self._server = await asyncio.start_unix_server(serve, self.path)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.close()
        shutil.rmtree(os.path.dirname(self.path), ignore_errors=True)

    async def read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        """One request (by Content-Length), or None at the end of the connection."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length)
        self.requests.append(head + body)
        return body


def _answer(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", "X-Test: yes", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def keep_alive(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while (body := await up.read_request(reader)) is not None:
        writer.write(_answer(b"echo:" + body))


async def close_each(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = await up.read_request(reader)
    if body is not None:
        writer.write(_answer(body, "Connection: close"))
        await writer.drain()


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_kept_alive_connections_are_reused() -> None:
    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(keep_alive) as up:
            for i in range(5):
                reply = await forwarder.request(
                    up.path, "POST", "/score", [(b"x-a", b"1")], str(i).encode(), 5
                )
                assert (reply.status, reply.body) == (200, f"echo:{i}".encode())
                assert (b"x-test", b"yes") in reply.headers
            assert up.connections == 1
            assert forwarder.opened == 1
            assert len(up.requests) == 5
            assert b"x-a: 1" in up.requests[0].lower()
        await forwarder.close()

    run(main())


def test_a_server_that_closes_each_connection_gets_a_new_one() -> None:
    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(close_each) as up:
            for i in range(3):
                reply = await forwarder.request(up.path, "POST", "/score", [], str(i).encode(), 5)
                assert reply.body == str(i).encode()
            assert up.connections == 3
            assert len(up.requests) == 3
        await forwarder.close()

    run(main())


def test_a_pooled_connection_the_server_dropped_is_not_used() -> None:
    async def answer_once_then_drop(up: Upstream, reader: Any, writer: Any) -> None:
        body = await up.read_request(reader)
        writer.write(_answer(body or b""))  # claims keep-alive, then closes while idle
        await writer.drain()

    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(answer_once_then_drop) as up:
            assert (await forwarder.request(up.path, "POST", "/", [], b"a", 5)).body == b"a"
            await asyncio.sleep(0.05)
            assert (await forwarder.request(up.path, "POST", "/", [], b"b", 5)).body == b"b"
            assert up.connections == 2
            assert len(up.requests) == 2  # each request reached the server exactly once
        await forwarder.close()

    run(main())


def test_a_dead_pooled_connection_is_detected_before_writing() -> None:
    """The server closes an idle connection and the event loop has not run since: the poll sees it."""
    path = socket_path()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    requests: list[bytes] = []
    drop = threading.Event()
    dropped = threading.Event()

    def serve() -> None:
        for index in range(2):
            conn, _ = listener.accept()
            with conn:
                data = conn.recv(65536)
                requests.append(data)
                conn.sendall(_answer(data.rpartition(b"\r\n\r\n")[2]))
                if index == 0:
                    drop.wait(5)
                    conn.shutdown(socket.SHUT_RDWR)
                    dropped.set()
                else:
                    conn.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    async def main() -> None:
        forwarder = Forwarder()
        assert (await forwarder.request(path, "POST", "/", [], b"a", 5)).body == b"a"
        drop.set()
        assert dropped.wait(5)
        time.sleep(0.05)  # blocks the loop: the close reaches the socket, not yet the protocol
        reply = await forwarder.request(path, "POST", "/", [], b"b", 5)
        assert reply.body == b"b"
        assert forwarder.opened == 2
        assert len(requests) == 2  # "b" was written once, to the new connection
        await forwarder.close()

    try:
        run(main())
    finally:
        listener.close()
        thread.join(5)
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def test_a_written_request_is_never_sent_twice() -> None:
    async def read_then_drop(up: Upstream, reader: Any, writer: Any) -> None:
        if len(up.requests) == 0:
            await up.read_request(reader)
            writer.write(_answer(b"first"))
            await writer.drain()
            await up.read_request(reader)  # the second request: read, then dropped unanswered
            writer.transport.abort()
            return
        await keep_alive(up, reader, writer)

    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(read_then_drop) as up:
            assert (await forwarder.request(up.path, "POST", "/", [], b"1", 5)).body == b"first"
            with pytest.raises(ForwardError):
                await forwarder.request(up.path, "POST", "/", [], b"2", 5)
            assert len(up.requests) == 2
            assert up.connections == 1
            # the next request gets a fresh connection
            assert (await forwarder.request(up.path, "POST", "/", [], b"3", 5)).body == b"echo:3"
        await forwarder.close()

    run(main())


def test_idle_connections_older_than_the_limit_are_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forward, "MAX_IDLE_SECONDS", 0.0)

    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(keep_alive) as up:
            for _ in range(3):
                await forwarder.request(up.path, "POST", "/", [], b"x", 5)
                await asyncio.sleep(0.01)
            assert up.connections == 3
        await forwarder.close()

    run(main())


def test_answers_framed_by_chunks_or_by_the_close() -> None:
    async def chunked(up: Upstream, reader: Any, writer: Any) -> None:
        while await up.read_request(reader) is not None:
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            )

    async def until_close(up: Upstream, reader: Any, writer: Any) -> None:
        await up.read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        await writer.drain()

    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(chunked) as up:
            for _ in range(2):
                assert (await forwarder.request(up.path, "GET", "/", [], b"", 5)).body == b"abcde"
            assert up.connections == 1
        async with Upstream(until_close) as up:
            assert (await forwarder.request(up.path, "GET", "/", [], b"", 5)).body == b"all of it"
        await forwarder.close()

    run(main())


def test_timeouts_and_unreachable_servers() -> None:
    async def silent(up: Upstream, reader: Any, writer: Any) -> None:
        await up.read_request(reader)
        await asyncio.sleep(10)

    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(silent) as up:
            with pytest.raises(asyncio.TimeoutError):
                await forwarder.request(up.path, "POST", "/", [], b"x", 0.2)
            assert not forwarder._idle[up.path]
            path = up.path
        await asyncio.sleep(0.05)
        with pytest.raises(ForwardError):
            await forwarder.request(path, "POST", "/", [], b"x", 1)
        await forwarder.close()

    run(main())


def test_malformed_answers_are_forward_errors() -> None:
    async def garbage(up: Upstream, reader: Any, writer: Any) -> None:
        await up.read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()

    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(garbage) as up:
            with pytest.raises(ForwardError):
                await forwarder.request(up.path, "POST", "/", [], b"x", 5)
        await forwarder.close()

    run(main())


async def slow(up: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers each request after the number of seconds its body gives."""
    while (body := await up.read_request(reader)) is not None:
        await asyncio.sleep(float(body))
        writer.write(_answer(b"slept:" + body))


def test_in_flight_requests_are_counted_per_socket_and_drained() -> None:
    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(slow) as old, Upstream(slow) as new:
            running = [
                asyncio.ensure_future(forwarder.request(old.path, "POST", "/", [], b"0.4", 5))
                for _ in range(3)
            ]
            elsewhere = asyncio.ensure_future(forwarder.request(new.path, "POST", "/", [], b"2", 5))
            await asyncio.sleep(0.1)
            assert (forwarder.in_flight(old.path), forwarder.in_flight(new.path)) == (3, 1)
            started = time.monotonic()
            assert await forwarder.drain([old.path], timeout=5) is True
            waited = time.monotonic() - started
            assert 0.2 < waited < 1.5  # until the old requests ended, not the one elsewhere
            assert all(task.done() for task in running) and not elsewhere.done()
            assert [task.result().body for task in running] == [b"slept:0.4"] * 3
            assert forwarder.in_flight(old.path) == 0
            assert not forwarder._idle.get(old.path)  # its pooled connections are closed
            # an address with nothing in flight drains at once
            started = time.monotonic()
            assert await forwarder.drain([old.path, "/nonexistent/x.sock"], timeout=5) is True
            assert time.monotonic() - started < 0.05
            await elsewhere
        await forwarder.close()

    run(main())


def test_a_drain_is_bounded_by_its_timeout() -> None:
    async def main() -> None:
        forwarder = Forwarder()
        async with Upstream(slow) as up:
            long = asyncio.ensure_future(forwarder.request(up.path, "POST", "/", [], b"1.0", 5))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            assert await forwarder.drain([up.path], timeout=0.2) is False
            assert 0.15 < time.monotonic() - started < 0.6
            assert forwarder.in_flight(up.path) == 1
            assert (await long).body == b"slept:1.0"  # the drain does not cut it
            assert forwarder.in_flight(up.path) == 0
        await forwarder.close()

    run(main())


def test_a_real_http_server_on_a_unix_socket_is_reused_and_drained() -> None:
    """uvicorn on a Unix socket: kept-alive connections are reused, and a drain waits for a slow answer."""
    import uvicorn

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = (await receive()).get("body", b"")
        if scope["path"] == "/slow":
            await asyncio.sleep(0.3)
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"uvicorn:" + body})

    async def main() -> None:
        path = socket_path()
        server = uvicorn.Server(uvicorn.Config(app, uds=path, lifespan="off", log_level="warning"))
        serving = asyncio.ensure_future(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        forwarder = Forwarder()
        try:
            for i in range(5):
                reply = await forwarder.request(path, "POST", "/score", [], str(i).encode(), 5)
                assert (reply.status, reply.body) == (200, f"uvicorn:{i}".encode())
            assert forwarder.opened == 1
            slow = asyncio.ensure_future(forwarder.request(path, "POST", "/slow", [], b"s", 5))
            await asyncio.sleep(0.05)
            assert forwarder.in_flight(path) == 1
            assert await forwarder.drain([path], timeout=5) is True
            assert slow.done() and slow.result().body == b"uvicorn:s"
        finally:
            await forwarder.close()
            server.should_exit = True
            await serving
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)

    run(main())
