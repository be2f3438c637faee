"""``GET /jupyter-mlep/logs/KIND/NAME``: a deployment's or a job's log as server-sent events."""

from __future__ import annotations

import asyncio
import json

import tornado.iostream
import tornado.web

from .. import _errors as errors
from ._base import Base
from ._feed import error_body
from ._kinds import get_kind

__all__ = ["LogsHandler"]

LOG_POLL = 1.0
"""Seconds between two reads of a followed log."""


class LogsHandler(Base):
    """``GET /logs/KIND/NAME[?parent=P]``: the log as server-sent events (``data:`` one line each),
    new lines every second until the browser closes the stream."""

    @tornado.web.authenticated
    async def get(self, kind: str, name: str) -> None:
        parent = self.get_query_argument("parent", None)
        try:
            follow = get_kind(kind).follow
            if follow is None:
                raise errors.UsageError(
                    f"A {kind} has no log.", hint="Open the log of a deployment or a job."
                )
            lines = follow(self.feed.client(), name, parent)
        except Exception as exc:
            self.fail(exc)
            return
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")
        try:
            while not self.request.connection.stream.closed():  # type: ignore[union-attr]
                try:
                    new = await self.call(next, lines)
                except Exception as exc:  # said in the stream, which then ends
                    self.write(f"event: failure\ndata: {json.dumps(error_body(exc))}\n\n")
                    await self.flush()
                    break
                for line in new:
                    self.write(f"data: {json.dumps(line)}\n\n")
                await self.flush()
                await asyncio.sleep(LOG_POLL)
        except tornado.iostream.StreamClosedError:
            pass  # the browser closed the tab
        finally:
            lines.close()
