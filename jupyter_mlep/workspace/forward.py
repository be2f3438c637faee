"""A small HTTP/1.1 client for forwarding scoring requests to inference servers on Unix sockets.

An inference server is addressed by the path of its Unix domain socket (nothing of a deployment
listens on TCP). Each upstream connection is an asyncio protocol with an ``httptools`` response parser: a
request is one write (headers and body together), the answer is parsed as it arrives
(``Content-Length``, chunked, or until the server closes) and completes a future; the timeout
is a timer, not a task. Connections the server keeps alive are pooled per socket and reused
(the runtime's inference servers keep them alive, see ``runtime/agent/keepalive_worker.py``);
a server that closes after each answer (gunicorn's sync worker) simply gets a new connection.

Reuse is safe by construction rather than by retrying: a pooled connection is reused only when
it has been idle for less than :data:`MAX_IDLE_SECONDS` (below gunicorn's 2 s keep-alive
timeout), its protocol has not seen the server close it, and a zero-timeout ``poll`` finds
nothing to read on it (a closed or misbehaving connection is readable). A connection found dead
there is dropped before anything was written to it, and the request goes to the next pooled
connection or a new one. A request that was written is never sent again: if the connection
fails after that, the caller gets :class:`ForwardError` (the server may have run it).

The forwarder counts the requests in flight per socket, so that a rolling update can switch the
router to new servers and then :meth:`Forwarder.drain` the old ones: wait (bounded) until none
of their requests is still running, and drop their pooled connections, before they are stopped.
"""

from __future__ import annotations

import asyncio
import select
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httptools

__all__ = ["MAX_IDLE_SECONDS", "ForwardError", "Forwarder", "Reply"]

#: A pooled connection idle for longer is closed instead of reused.
MAX_IDLE_SECONDS = 1.5
_MAX_IDLE = 16
_MAX_HEADER_BYTES = 64 * 1024


class ForwardError(Exception):
    """The inference server could not be reached or sent a malformed answer."""


@dataclass
class Reply:
    """An answer of the inference server (header names lower-cased, values as sent)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class _Upstream(asyncio.Protocol):
    """One connection to an inference server; one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Reply] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._body: list[bytes] = []
        self._head = False
        self._headers_done = False
        self._framed = False
        self.reusable = False
        self._poller: Any = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self._poller = select.poll()
            self._poller.register(sock.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.close()  # nothing was asked: the connection is out of step
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ForwardError(f"malformed answer ({exc})"))
        except ForwardError as exc:
            self._fail(exc)

    def eof_received(self) -> bool | None:
        self.close()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._headers_done and not self._framed and not self._head:
            self._complete()  # the body ends where the connection does
        else:
            reason = str(exc) if exc else "the connection was closed before a complete answer"
            waiter.set_exception(ForwardError(reason))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > _MAX_HEADER_BYTES:
            raise ForwardError("the answer's headers are too large")
        name = name.lower()
        if name == b"content-length" or (name == b"transfer-encoding" and b"chunked" in value.lower()):
            self._framed = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        status = self._parser.get_status_code()
        if self._head or status in (204, 304):
            self._framed = True
        if self._head:
            self._complete(reusable=False)  # the parser would wait for a body a HEAD answer has not

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._complete(reusable=self._parser.should_keep_alive())

    # the request

    def send(self, payload: bytes, head: bool) -> asyncio.Future[Reply]:
        """Write one request; the future of its answer."""
        assert self.transport is not None
        self._waiter = self._loop.create_future()
        self._headers = []
        self._header_bytes = 0
        self._body = []
        self._head = head
        self._headers_done = False
        self._framed = False
        self.reusable = False
        self.transport.write(payload)
        return self._waiter

    def alive(self) -> bool:
        """Whether this idle connection may carry a request (see the module docstring)."""
        if self.closed or self._poller is None or self.transport is None or self.transport.is_closing():
            return False
        return not self._poller.poll(0)

    def abort(self) -> None:
        """Drop the connection (a timed-out or abandoned request)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _complete(self, reusable: bool = False) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        self.reusable = reusable
        waiter.set_result(Reply(self._parser.get_status_code(), self._headers, b"".join(self._body)))

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.abort()

    def close(self) -> None:
        """Close the connection (its answer is complete)."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Forwarder:
    """Sends requests to inference servers by socket path, reusing kept-alive connections."""

    def __init__(self) -> None:
        self._idle: defaultdict[str, list[_Upstream]] = defaultdict(list)
        self._in_flight: Counter[str] = Counter()
        self._quiet: defaultdict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self.opened = 0  # connections opened so far (for tests and diagnostics)

    async def close(self) -> None:
        """Close every idle connection."""
        for connections in self._idle.values():
            for conn in connections:
                conn.abort()
        self._idle.clear()

    def in_flight(self, address: str) -> int:
        """Requests sent to ``address`` whose answer has not been read yet."""
        return self._in_flight[address]

    async def drain(self, addresses: Iterable[str], timeout: float) -> bool:
        """Wait until no request to ``addresses`` is in flight (at most ``timeout`` s), then close
        their pooled connections; True when they all finished in time.

        Call it after the router stopped choosing these addresses: requests already sent finish,
        none is cut. Requests still running at the timeout are left to the caller (stopping the
        server ends them).
        """
        addresses = set(addresses)
        loop = asyncio.get_running_loop()
        waiters = []
        for address in addresses:
            if self._in_flight[address] > 0:
                waiter = loop.create_future()
                self._quiet[address].append(waiter)
                waiters.append(waiter)
        done = True
        if waiters:
            _, pending = await asyncio.wait(waiters, timeout=max(timeout, 0.0))
            done = not pending
            for waiter in pending:
                waiter.cancel()
        for address in addresses:
            for conn in self._idle.pop(address, []):
                conn.abort()
            if self._in_flight[address] <= 0:
                self._in_flight.pop(address, None)
                self._quiet.pop(address, None)
        return done

    async def request(
        self,
        address: str,
        method: str,
        target: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout: float,
    ) -> Reply:
        """Send one request to the server on socket ``address`` and read the whole answer
        (``TimeoutError`` after ``timeout`` s)."""
        self._in_flight[address] += 1
        try:
            return await self._request(address, method, target, headers, body, timeout)
        finally:
            self._in_flight[address] -= 1
            if self._in_flight[address] <= 0:
                for waiter in self._quiet.pop(address, []):
                    if not waiter.done():
                        waiter.set_result(None)

    async def _request(
        self,
        address: str,
        method: str,
        target: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout: float,
    ) -> Reply:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        parts = [
            f"{method} {target} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {len(body)}".encode("latin-1")
        ]
        for name, value in headers:
            parts += (b"\r\n", name, b": ", value)
        parts += (b"\r\n\r\n", body)
        payload = b"".join(parts)
        conn = self._pooled(address)
        if conn is None:
            conn = await self._open(loop, address, deadline)
        waiter = conn.send(payload, method == "HEAD")
        timer = loop.call_at(deadline, _expire, waiter)
        try:
            reply = await waiter
        except BaseException:
            conn.abort()  # timed out, failed or cancelled: the connection is out of step
            raise
        finally:
            timer.cancel()
        idle = self._idle[address]
        if conn.reusable and not conn.closed and len(idle) < _MAX_IDLE:
            conn.idle_since = time.monotonic()
            idle.append(conn)
        else:
            conn.close()
        return reply

    def _pooled(self, address: str) -> _Upstream | None:
        idle = self._idle.get(address)
        if not idle:
            return None
        oldest = time.monotonic() - MAX_IDLE_SECONDS
        while idle:
            conn = idle.pop()
            if conn.idle_since >= oldest and conn.alive():
                return conn
            conn.abort()  # dead or too old: dropped before anything was written to it
        return None

    async def _open(self, loop: asyncio.AbstractEventLoop, address: str, deadline: float) -> _Upstream:
        try:
            _, conn = await asyncio.wait_for(
                loop.create_unix_connection(lambda: _Upstream(loop), address),
                max(0.0, deadline - loop.time()),
            )
        except OSError as exc:
            raise ForwardError(exc.strerror or str(exc)) from None
        self.opened += 1
        return conn


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())
