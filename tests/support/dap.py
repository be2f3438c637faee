"""A minimal Debug Adapter Protocol client over a TCP socket (what VS Code speaks to debugpy)."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from typing import Any


class DapClient:
    """Sends DAP requests and collects responses and events from a reader thread."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.create_connection((host, port), timeout=5.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self._sock.settimeout(None)
        self._seq = 0
        self._responses: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stream = self._sock.makefile("rb")
        try:
            while True:
                length = 0
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value.strip())
                message = json.loads(stream.read(length))
                if message.get("type") == "response":
                    with self._lock:
                        box = self._responses.setdefault(message["request_seq"], queue.Queue())
                    box.put(message)
                elif message.get("type") == "event":
                    self.events.put(message)
        except OSError:
            return

    def send(self, command: str, **arguments: Any) -> int:
        """Send a request; its sequence number."""
        with self._lock:
            self._seq += 1
            seq = self._seq
            self._responses.setdefault(seq, queue.Queue())
        data = json.dumps(
            {"seq": seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self._sock.sendall(f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        return seq

    def response(self, seq: int, timeout: float = 30.0) -> dict[str, Any]:
        """The response to request ``seq`` (AssertionError when it failed)."""
        message = self._responses[seq].get(timeout=timeout)
        assert message.get("success"), message
        return message.get("body") or {}

    def request(self, command: str, timeout: float = 30.0, **arguments: Any) -> dict[str, Any]:
        """Send a request and wait for its response body."""
        return self.response(self.send(command, **arguments), timeout)

    def event(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        """The next event named ``name`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.events.get(timeout=max(deadline - time.monotonic(), 0.01))
            if message.get("event") == name:
                return message.get("body") or {}

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()
