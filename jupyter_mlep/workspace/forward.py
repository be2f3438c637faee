"""A small HTTP/1.1 client for forwarding scoring requests to inference servers on loopback.

The router sends each request in one write (headers and body together) and reads the answer by
``Content-Length``, chunked encoding or until the server closes. Servers that keep connections
alive get them reused; the inference server (gunicorn's sync worker) closes after each answer.
A general-purpose client costs several milliseconds per request here; this costs a fraction.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass

__all__ = ["ForwardError", "Forwarder", "Reply"]

_MAX_IDLE = 16
_MAX_HEADER_BYTES = 64 * 1024


class ForwardError(Exception):
    """The inference server could not be reached or sent a malformed answer."""


@dataclass
class Reply:
    """An answer of the inference server."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Forwarder:
    """Sends requests to ``http://host:port`` addresses, reusing kept-alive connections."""

    def __init__(self) -> None:
        self._idle: defaultdict[tuple[str, int], list[Connection]] = defaultdict(list)

    async def close(self) -> None:
        """Close every idle connection."""
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()

    async def request(
        self,
        host: str,
        port: int,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        timeout: float,
    ) -> Reply:
        """Send one request and read the whole answer (``TimeoutError`` after ``timeout`` s)."""
        return await asyncio.wait_for(self._request(host, port, method, target, headers, body), timeout)

    async def _request(
        self, host: str, port: int, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> Reply:
        head = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        key = (host, port)
        reused = bool(self._idle[key])
        try:
            return await self._exchange(key, payload, method)
        except (ConnectionError, asyncio.IncompleteReadError, ForwardError) as exc:
            if not reused:
                raise ForwardError(str(exc) or type(exc).__name__) from None
            return await self._exchange(key, payload, method, fresh=True)  # a stale kept-alive connection
        except OSError as exc:
            raise ForwardError(str(exc)) from None

    async def _exchange(
        self, key: tuple[str, int], payload: bytes, method: str, fresh: bool = False
    ) -> Reply:
        idle = self._idle[key]
        reader, writer = idle.pop() if idle and not fresh else await asyncio.open_connection(*key)
        try:
            writer.write(payload)
            reply, keep = await _read_reply(reader, method)
        except BaseException:
            writer.close()
            raise
        if keep and len(idle) < _MAX_IDLE:
            idle.append((reader, writer))
        else:
            writer.close()
        return reply


async def _read_reply(reader: asyncio.StreamReader, method: str) -> tuple[Reply, bool]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise ForwardError("the answer's headers are too large") from None
    if len(raw) > _MAX_HEADER_BYTES:
        raise ForwardError("the answer's headers are too large")
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ForwardError(f"malformed status line {lines[0]!r}")
    status, version = int(parts[1]), parts[0]
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    fields = {name.lower(): value for name, value in headers}
    keep = fields.get("connection", "").lower() != "close" and version == "HTTP/1.1"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return Reply(status, headers, b""), keep
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return Reply(status, headers, await _read_chunked(reader)), keep
    if "content-length" in fields:
        try:
            length = int(fields["content-length"])
        except ValueError:
            raise ForwardError("malformed Content-Length") from None
        return Reply(status, headers, await reader.readexactly(length)), keep
    body = await reader.read()
    return Reply(status, headers, body), False


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ForwardError("malformed chunk size") from None
        if size == 0:
            with contextlib.suppress(asyncio.IncompleteReadError):
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
