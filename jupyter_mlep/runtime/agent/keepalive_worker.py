"""A gunicorn worker like the sync worker, that keeps connections alive (stdlib and gunicorn only).

gunicorn's sync worker closes every connection after one answer, so a client (the workspace's
scoring router) pays a TCP connect, accept and close per request. This worker serves exactly as
the sync worker does (one request at a time, in the main thread, so the inference server's
``SCORING_TIMEOUT_MS`` alarm still applies; gunicorn's ``--timeout`` still kills a stuck worker),
but after an answer it keeps the connection open, unless the client or the answer asks to close,
and waits for the next request on it and on the listening sockets at once. A connection idle for
``keepalive`` seconds (gunicorn's setting) is closed. Pipelined requests are not read ahead.

gunicorn writes an answer's head and its body with two ``sendall`` calls; this worker holds the
head back until the first body bytes (or the end of the answer) and sends them together, so a
small answer is one TCP segment and its reader wakes up once. The bytes sent are the same.

Used for a server with one worker (``WORKER_COUNT=1``, the default): with several workers a kept
connection stays with one worker, and a request on it would wait while another worker is idle.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import sys
import time
from datetime import datetime
from typing import Any

from gunicorn import http, util  # type: ignore[import-untyped, unused-ignore]
from gunicorn.http import wsgi  # type: ignore[import-untyped, unused-ignore]
from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped, unused-ignore]

__all__ = ["KeepAliveSyncWorker"]


class _Conn:
    __slots__ = ("addr", "deadline", "listener", "parser", "sock")

    def __init__(self, listener: Any, sock: socket.socket, addr: Any, parser: Any) -> None:
        self.listener = listener
        self.sock = sock
        self.addr = addr
        self.parser = parser
        self.deadline = 0.0


class _HeldHead:
    """The client socket as the answer sees it: the first write (the head) waits for the next one."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._held: bytes | None = None
        self._first = True

    def sendall(self, data: bytes) -> None:
        if self._first:
            self._first = False
            self._held = bytes(data)
            return
        if self._held is not None:
            data, self._held = self._held + data, None
        self._sock.sendall(data)

    def flush(self) -> None:
        """Send the head if it is still held (an answer without body bytes)."""
        if self._held is not None:
            held, self._held = self._held, None
            self._sock.sendall(held)

    def __getattr__(self, name: str) -> Any:
        self.flush()  # anything else (send, sendfile, fileno…) may write: after the head
        return getattr(self._sock, name)


def _parser(cfg: Any, sock: socket.socket, addr: Any) -> Any:
    get_parser = getattr(http, "get_parser", None)  # gunicorn ≥ 24
    return get_parser(cfg, sock, addr) if get_parser is not None else http.RequestParser(cfg, sock, addr)


class KeepAliveSyncWorker(SyncWorker):  # type: ignore[misc]
    """The sync worker, with kept-alive connections served one request at a time."""

    def run(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
        selector = selectors.DefaultSelector()
        for listener in self.sockets:
            selector.register(listener, selectors.EVENT_READ, None)
        selector.register(self.PIPE[0], selectors.EVENT_READ, "pipe")
        kept: dict[int, _Conn] = {}
        try:
            while self.alive:
                self.notify()
                now = time.monotonic()
                for fd, conn in list(kept.items()):
                    if conn.deadline <= now:
                        self._forget(selector, kept, fd)
                        util.close(conn.sock)
                wait = self.timeout or 0.5
                if kept:
                    wait = max(0.0, min(wait, min(c.deadline for c in kept.values()) - now))
                try:
                    events = selector.select(wait)
                except OSError as exc:
                    if exc.errno != errno.EINTR:
                        raise
                    continue
                for key, _ in events:
                    if not self.alive:
                        break
                    if key.data == "pipe":
                        os.read(self.PIPE[0], 1)
                    elif key.data is None:
                        self._accept(key.fileobj, selector, kept)
                    else:
                        self._forget(selector, kept, key.fd)
                        self._serve(key.data, selector, kept)
                if not self.is_parent_alive():
                    return
        finally:
            for conn in kept.values():
                util.close(conn.sock)
            selector.close()

    @staticmethod
    def _forget(selector: selectors.BaseSelector, kept: dict[int, _Conn], fd: int) -> None:
        if kept.pop(fd, None) is not None:
            selector.unregister(fd)

    def _accept(self, listener: Any, selector: selectors.BaseSelector, kept: dict[int, _Conn]) -> None:
        try:
            client, addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        client.setblocking(True)
        util.close_on_exec(client)
        self._serve(_Conn(listener, client, addr, None), selector, kept)

    def _serve(self, conn: _Conn, selector: selectors.BaseSelector, kept: dict[int, _Conn]) -> None:
        """Serve the next request of ``conn``; keep ``conn`` when the answer allows it."""
        keep = False
        req = None
        try:
            if conn.parser is None:
                conn.parser = _parser(self.cfg, conn.sock, conn.addr)
            req = next(conn.parser)
            keep = self._handle_kept(conn, req, len(kept))
        except http.errors.NoMoreData as exc:
            self.log.debug("Ignored premature client disconnection. %s", exc)
        except StopIteration as exc:
            self.log.debug("Closing connection. %s", exc)
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except BaseException as exc:
            self.handle_error(req, conn.sock, conn.addr, exc)
        if keep and self.alive:
            conn.deadline = time.monotonic() + self.cfg.keepalive
            kept[conn.sock.fileno()] = conn
            selector.register(conn.sock, selectors.EVENT_READ, conn)
        else:
            getattr(util, "close_graceful", util.close)(conn.sock)  # close_graceful: gunicorn ≥ 25

    def _handle_kept(self, conn: _Conn, req: Any, kept_count: int) -> bool:
        """SyncWorker.handle_request without its forced close; whether the connection may stay open."""
        environ: dict[str, Any] = {}
        resp = None
        out = _HeldHead(conn.sock)
        try:
            self.cfg.pre_request(self, req)
            request_start = datetime.now()
            resp, environ = wsgi.create(req, out, conn.addr, conn.listener.getsockname(), self.cfg)
            self.nr += 1
            if self.nr >= self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            if not self.alive or not self.cfg.keepalive or kept_count >= self.cfg.worker_connections:
                resp.force_close()
            respiter = self.wsgi(environ, resp.start_response)
            try:
                if isinstance(respiter, environ["wsgi.file_wrapper"]):
                    resp.write_file(respiter)
                else:
                    for item in respiter:
                        resp.write(item)
                resp.close()
                out.flush()
            finally:
                request_time = datetime.now() - request_start
                self.log.access(resp, req, environ, request_time)
                if hasattr(respiter, "close"):
                    respiter.close()
            return not resp.should_close()
        except OSError:
            util.reraise(*sys.exc_info())
            raise
        except (Exception, SystemExit):
            if resp and resp.headers_sent:
                # Timeout abort is SystemExit: writing a 500 after a started answer corrupts it.
                self.log.exception("Error handling request")
                with contextlib.suppress(OSError):
                    out.flush()  # what the sync worker would have sent before closing
                raise StopIteration() from None
            raise
        finally:
            try:
                self.cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")
