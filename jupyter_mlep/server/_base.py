"""What every panel route shares: :class:`Base` (the feed, the executor, JSON in and out) and the
HTTP status of each error class (:data:`STATUS`, a registry: a new error class is one entry)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler

from .. import _errors as errors
from ._feed import Feed, error_body

__all__ = ["STATUS", "Base", "status_of"]

T = TypeVar("T")

STATUS: dict[type[BaseException], int] = {
    errors.UsageError: 400,
    errors.SpecError: 400,
    errors.SettingsError: 400,
    errors.BadRequestError: 400,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.AuthenticationError: 403,
    errors.ServiceUnreachableError: 503,
    errors.OperationTimeoutError: 504,
    errors.MlepError: 502,
    KeyError: 404,
}
"""The HTTP status of each error class (the closest class in the error's MRO wins)."""


def status_of(exc: BaseException) -> int:
    """The HTTP status that answers ``exc``."""
    return next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), 500)


class Base(APIHandler):
    """A panel route: the feed, the executor, JSON in and out, errors as ``{"message", "hint"}``."""

    @property
    def feed(self) -> Feed:
        feed: Feed = self.settings["mlep_feed"]
        return feed

    async def call(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``work`` off the event loop on the extension's threads."""
        executor: ThreadPoolExecutor = self.settings["mlep_executor"]
        return await asyncio.get_running_loop().run_in_executor(executor, lambda: work(*args, **kwargs))

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise errors.UsageError("The request body is not JSON.", hint="Send a JSON object.") from exc
        if not isinstance(data, dict):
            raise errors.UsageError("The request body is not a JSON object.", hint="Send a JSON object.")
        return data

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data, default=str))

    def fail(self, exc: BaseException) -> None:
        self.reply(
            error_body(exc) if not isinstance(exc, KeyError) else {"message": exc.args[0], "hint": ""},
            status_of(exc),
        )

    async def guarded(self, work: Callable[..., Any], *args: Any, changes: bool = False) -> None:
        """Reply with what ``work`` returns (off the loop), or with its error; ``changes``: the
        feed re-reads afterwards."""
        try:
            result = await self.call(work, *args)
        except Exception as exc:
            self.fail(exc)
        else:
            self.reply(result)
        finally:
            if changes:
                self.feed.changed()
