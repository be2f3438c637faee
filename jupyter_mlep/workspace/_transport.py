"""One write per answer: a transport wrapper for uvicorn's HTTP protocol.

uvicorn writes an answer's status line and headers, then its body, as two writes; each is a
system call and a TCP segment, which on small answers costs as much as the rest of the routing.
The wrapper gathers the writes made during one turn of the event loop and sends them together.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

__all__ = ["coalescing_protocol"]


class _CoalescingTransport:
    """Forwards everything to ``transport``, but joins the writes of one loop turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def coalescing_protocol() -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class (httptools, else h11) with writes joined per loop turn."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:  # httptools is not installed
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]

    class CoalescingProtocol(Base):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            wrapped = _CoalescingTransport(transport, asyncio.get_running_loop())
            super().connection_made(cast(asyncio.Transport, wrapped))

    return CoalescingProtocol
