"""The panel's HTTP routes below ``/jupyter-mlep/``: thin handlers over :mod:`jupyter_mlep.operations`.

Every route is authenticated (``@tornado.web.authenticated``; changes also need the XSRF token
Jupyter checks on POST, PUT and DELETE). Blocking calls run on the extension's own threads, never
on the event loop. Errors answer ``{"message", "hint"}`` with the status of the error's class.
Keys are shown masked; the whole key only comes from its own POST (for the clipboard). The logs
route is :mod:`._logs`; what all routes share is :mod:`._base`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tornado.web
from jupyter_server.utils import url_path_join

from .. import _errors as errors
from .. import operations as ops
from ..rest import mask
from ._base import Base
from ._feed import Feed
from ._kinds import get_kind
from ._logs import LogsHandler

__all__ = ["ROUTES", "setup_handlers"]

LONG_POLL = 20.0
"""Seconds a browser's ``GET /panel?since=V`` waits for a newer version before it is answered."""


class PanelHandler(Base):
    """``GET /panel[?since=V]``: the snapshot; with ``since`` equal to the current version, the
    answer waits (up to 20 s) for a change. ``POST /panel`` with ``{"target"}`` switches the
    target, with ``{"refresh": true}`` re-reads."""

    @tornado.web.authenticated
    async def get(self) -> None:
        since = self.get_query_argument("since", None)
        if since is None or not since.lstrip("-").isdigit():
            snapshot = self.feed.snapshot()
        else:
            snapshot = await self.feed.wait(int(since), LONG_POLL)
        etag = f'"{snapshot["version"]}"'
        self.set_header("ETag", etag)
        if self.request.headers.get("If-None-Match") == etag:
            self.set_status(304)
            self.finish()
            return
        self.reply(snapshot)

    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            data = self.body()
            if data.get("target"):
                await self.call(self.feed.use, str(data["target"]))
            if data.get("start"):
                await self.call(self.feed.client)
            self.feed.changed()
        except Exception as exc:
            self.fail(exc)
            return
        self.reply(self.feed.snapshot())


def _example(feed: Feed, endpoint: str) -> dict[str, Any]:
    try:
        example = ops.get_swagger(feed.client(), endpoint).request_example()
    except errors.MlepError:
        example = None
    return {"endpoint": endpoint, "example": example}


def _invoke(feed: Feed, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
    deployment = data.get("deployment") or None
    payload = data.get("payload")
    if payload is None:
        raise errors.UsageError(
            "Nothing to send: the payload is empty.", hint='Write a JSON payload, e.g. {"data": [[1, 2]]}.'
        )
    result = ops.invoke(feed.client(), endpoint, payload, deployment=deployment)
    return {**result.to_dict(), "text": result.text()}


class InvokeHandler(Base):
    """``GET /endpoints/NAME/invoke``: the example payload of its swagger document (or null);
    ``POST`` ``{"payload", "deployment"?}``: the answer, its status and the deployment that answered."""

    @tornado.web.authenticated
    async def get(self, endpoint: str) -> None:
        await self.guarded(_example, self.feed, endpoint)

    @tornado.web.authenticated
    async def post(self, endpoint: str) -> None:
        try:
            data = self.body()
        except errors.MlepError as exc:
            self.fail(exc)
            return
        await self.guarded(_invoke, self.feed, endpoint, data)


def _move(data: dict[str, Any]) -> dict[str, Any]:
    """A slider's move with the traffic widget's rules: the new split and what the service would refuse."""
    traffic = {str(k): int(v) for k, v in (data.get("traffic") or {}).items()}
    mirror = {str(k): int(v) for k, v in (data.get("mirror_traffic") or {}).items()}
    if data.get("deployment"):
        traffic = ops.split_traffic(
            traffic,
            str(data["deployment"]),
            int(data.get("percent", 0)),
            locked=[str(n) for n in data.get("locked") or []],
            clamp=True,
        )
    return {
        "traffic": traffic,
        "mirror_traffic": mirror,
        "problem": ops.traffic_problem(traffic, mirror, traffic),
    }


def _apply(feed: Feed, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
    traffic = {str(k): int(v) for k, v in (data.get("traffic") or {}).items()}
    mirror = {str(k): int(v) for k, v in (data.get("mirror_traffic") or {}).items() if int(v)}
    return ops.update_traffic(feed.client(), endpoint, traffic, mirror_traffic=mirror).to_dict()


class TrafficHandler(Base):
    """``POST /endpoints/NAME/traffic``: ``{"traffic", "mirror_traffic", "deployment"?, "percent"?,
    "locked"?}`` → the split after a slider's move and the problem the service would see (nothing is
    sent); ``PUT``: apply the split and wait until the endpoint reports it."""

    @tornado.web.authenticated
    async def post(self, endpoint: str) -> None:
        try:
            self.reply(_move(self.body()))
        except Exception as exc:
            self.fail(exc)

    @tornado.web.authenticated
    async def put(self, endpoint: str) -> None:
        try:
            data = self.body()
        except errors.MlepError as exc:
            self.fail(exc)
            return
        await self.guarded(_apply, self.feed, endpoint, data, changes=True)


def _keys(feed: Feed, endpoint: str, which: str | None) -> dict[str, Any]:
    keys = ops.get_keys(feed.client(), endpoint)
    if which is None:
        return {
            "endpoint": endpoint,
            "primary": mask(keys.primary_key),
            "secondary": mask(keys.secondary_key),
        }
    if which not in ("primary", "secondary"):
        raise errors.UsageError(
            f"There is no {which!r} key.", hint="Ask for the primary or the secondary key."
        )
    return {"endpoint": endpoint, "key": keys.primary_key if which == "primary" else keys.secondary_key}


class KeysHandler(Base):
    """``GET /endpoints/NAME/keys``: both keys masked; ``POST /endpoints/NAME/keys/primary`` (or
    ``secondary``): that key whole, for the clipboard (a change-protected call: XSRF-checked)."""

    @tornado.web.authenticated
    async def get(self, endpoint: str, which: str | None = None) -> None:
        await self.guarded(_keys, self.feed, endpoint, None)

    @tornado.web.authenticated
    async def post(self, endpoint: str, which: str | None = None) -> None:
        await self.guarded(_keys, self.feed, endpoint, which or "primary")


def _delete(feed: Feed, kind: str, name: str, parent: str | None) -> dict[str, Any]:
    found = get_kind(kind)
    if found.delete is None:
        raise errors.UsageError(f"A {kind} cannot be deleted from the panel.", hint="Use the magic instead.")
    found.delete(feed.client(), name, parent)
    return {"deleted": name, "kind": kind, "parent": parent}


class ResourceHandler(Base):
    """``DELETE /resources/KIND/NAME[?parent=P]``: delete through the kind's operation (a deployment
    that takes live traffic is refused, as everywhere)."""

    @tornado.web.authenticated
    async def delete(self, kind: str, name: str) -> None:
        parent = self.get_query_argument("parent", None)
        await self.guarded(_delete, self.feed, kind, name, parent, changes=True)


ROUTES: list[tuple[str, type[Base]]] = [
    (r"panel", PanelHandler),
    (r"endpoints/([^/]+)/invoke", InvokeHandler),
    (r"endpoints/([^/]+)/traffic", TrafficHandler),
    (r"endpoints/([^/]+)/keys(?:/([^/]+))?", KeysHandler),
    (r"resources/([^/]+)/([^/]+)", ResourceHandler),
    (r"logs/([^/]+)/([^/]+)", LogsHandler),
]
"""Each route below ``/jupyter-mlep/`` and its handler."""


def setup_handlers(web_app: tornado.web.Application, feed: Feed) -> None:
    """Add the panel's routes to Jupyter's web application, sharing ``feed`` and a small executor."""
    web_app.settings["mlep_feed"] = feed
    web_app.settings["mlep_executor"] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mlep-panel")
    base = url_path_join(web_app.settings["base_url"], "jupyter-mlep")
    web_app.add_handlers(".*$", [(url_path_join(base, pattern), handler) for pattern, handler in ROUTES])
