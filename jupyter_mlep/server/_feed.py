"""The panel's view of the current target and its change feed.

One :class:`Feed` per Jupyter server: it reads every registered kind (:mod:`._kinds`) of the
current target into a snapshot with a version, and re-reads it only when something may have
changed. A target with a change marker (the local workspace: a few ``stat`` calls on its
database) is checked four times a second and re-read when the marker moves; any other target
is re-read with backoff (2 s, doubling to 30 s while nothing changes). Nothing runs while no
panel has asked for a minute. Browsers wait for a newer version (:meth:`Feed.wait`, a long
poll) instead of polling: an idle panel costs one request every 20 s and no reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Any

from .._errors import MlepError
from ..operations import connect
from ..rest import RestClient
from ..settings import Settings, resolve
from ..targets import target_names
from ._kinds import kinds

__all__ = ["Feed"]

MARKER_INTERVAL = 0.25
"""Seconds between two looks at a target's change marker."""
FULL_REFRESH = 30.0
"""Seconds after which a target with a change marker is re-read anyway (metrics, clocks)."""
BACKOFF = (2.0, 30.0)
"""First and longest pause between two reads of a target without a change marker."""
IDLE_AFTER = 60.0
"""Seconds without a panel asking after which the feed stops reading."""


def error_body(exc: BaseException) -> dict[str, str]:
    """``{"message", "hint"}`` of an error, as the panel shows it."""
    if isinstance(exc, MlepError):
        return {"message": exc.message, "hint": exc.hint or ""}
    return {"message": f"{type(exc).__name__}: {exc}", "hint": ""}


class Feed:
    """The current target's resources as a versioned snapshot, re-read when they may have changed."""

    def __init__(self, target: str | None = None) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._client: RestClient | None = None
        self._settings = resolve({"target": target} if target else {})
        self._version = 0
        self._body: dict[str, Any] = {}
        self._asked = 0.0
        self._stale = True
        self._stop = False
        self._thread: threading.Thread | None = None
        self._publish(self._empty())

    # -- what handlers call ------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings of the current target."""
        return self._settings

    def snapshot(self) -> dict[str, Any]:
        """The latest snapshot: ``version``, ``target``, ``targets``, ``sections``, ``servers``, ``error``."""
        self._touch()
        with self._lock:
            return {**self._body, "version": self._version}

    async def wait(self, since: int, timeout: float) -> dict[str, Any]:
        """The snapshot once its version is past ``since`` (or after ``timeout`` seconds)."""
        self._touch()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            newer = self._version != since
            if not newer:
                self._waiters.append((loop, future))
        if not newer:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(future, timeout)
            with self._lock, contextlib.suppress(ValueError):
                self._waiters.remove((loop, future))
        return self.snapshot()

    def client(self) -> RestClient:
        """The REST client of the current target (made on first use, started if it starts implicitly)."""
        with self._lock:
            if self._client is None:
                self._client = connect(self._settings)
            return self._client

    def use(self, target: str) -> None:
        """Switch to ``target`` (a registered name): the next snapshot is of that target."""
        settings = resolve({"target": target})
        with self._lock:
            old, self._client, self._settings = self._client, None, settings
        if old is not None:
            old.close()
        self._publish(self._empty())
        self.changed()

    def changed(self) -> None:
        """Re-read now (after an action made from the panel, or a refresh)."""
        with self._lock:
            self._stale = True
        self._touch()
        self._wake.set()

    def close(self) -> None:
        """Stop reading and close the client."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- the reading thread --------------------------------------------------------------------

    def _touch(self) -> None:
        self._asked = time.monotonic()
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="mlep-panel-feed", daemon=True)
                    self._thread.start()
        self._wake.set()

    def _empty(self) -> dict[str, Any]:
        return {
            "target": self._settings.target,
            "targets": target_names(),
            "sections": [{"kind": k.name, "title": k.title, "items": []} for k in kinds() if k.section],
            "servers": [],
            "error": None,
            "can_start": self._settings.target_info.capabilities.implicit_start,
            "loading": True,
        }

    def _run(self) -> None:
        marker: object = None
        last_read, pause = 0.0, BACKOFF[0]
        while not self._stop:
            if time.monotonic() - self._asked > IDLE_AFTER:
                self._wake.wait()  # nobody watches: sleep until a panel asks
                self._wake.clear()
                continue
            target = self._settings.target_info
            now = time.monotonic()
            if target.change_marker is not None:
                try:
                    seen = target.change_marker(self._settings)
                except OSError:
                    seen = None
                due = seen != marker or now - last_read > FULL_REFRESH
                marker, wait = seen, MARKER_INTERVAL
            else:
                due, wait = now - last_read > pause, MARKER_INTERVAL * 4
            if due or self._stale:
                self._stale = False
                changed = self._read()
                last_read = time.monotonic()
                pause = BACKOFF[0] if changed else min(pause * 2, BACKOFF[1])
            self._wake.wait(wait)
            self._wake.clear()

    def _read(self) -> bool:
        """Read every kind; publish when the result differs; whether it did."""
        body = self._empty()
        body["loading"] = False
        try:
            client = self._connected()
            for section in body["sections"]:
                kind = next(k for k in kinds() if k.name == section["kind"])
                section["items"] = kind.read(client)
        except Exception as exc:  # shown in the panel, with its hint
            body["error"] = error_body(exc)
        body["servers"] = self._servers(body)
        return self._publish(body)

    def _connected(self) -> RestClient:
        target = self._settings.target_info
        if self._client is None and target.capabilities.implicit_start:
            target.address(self._settings)  # raises "not running" (with how to start it) instead of starting
        return self.client()

    def _servers(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The deployment servers this machine runs (for the running-sessions panel)."""
        if not self._settings.target_info.capabilities.implicit_start:
            return []
        return [
            {"endpoint": child["parent"], "deployment": child["name"], "state": child["state"]}
            for section in body["sections"]
            for item in section["items"]
            for child in item["children"]
            if child["kind"] == "online-deployment" and child["state"] in ("Succeeded", "Updating")
        ]

    def _publish(self, body: dict[str, Any]) -> bool:
        with self._lock:
            if json.dumps(body, sort_keys=True, default=str) == json.dumps(
                self._body, sort_keys=True, default=str
            ):
                return False
            self._body = body
            self._version += 1
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_finish, future)
        return True


def _finish(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
