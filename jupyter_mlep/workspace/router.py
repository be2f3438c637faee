"""The scoring router: ``/endpoints/<name>/score`` and ``/endpoints/<name>/swagger.json``.

* Auth by the endpoint's mode: ``Key`` (primary or secondary key), ``AMLToken`` (from the
  ``token`` action, unexpired), ``AADToken`` (the admin token), always as ``Authorization:
  Bearer``; compared in constant time; 401 otherwise.
* A request goes to a deployment drawn by the ``traffic`` weights, or to the one named by the
  ``azureml-model-deployment`` header (even at 0 %). The answer carries that header too.
* ``mirrorTraffic`` copies its share of traffic-routed requests to the shadow deployment in
  the background; the caller never waits for it nor sees its answer.
* The deployment's status code and body come back unchanged; no running deployment gives a
  503 with an ARM-style error body.
* Requests reach the inference servers on their Unix sockets over pooled kept-alive connections
  (:mod:`.forward`, shared with the supervisor, which drains old servers on a rolling update);
  scoring requests skip Starlette (:meth:`ScoringRouter.asgi`, unless a fault is armed), and
  hop-by-hop headers (``connection``, ``expect``, ``te``…) are not forwarded. Bodies and all other
  headers go both ways unchanged (binary bodies, ``Content-Type``, custom headers).
* CORS: a browser's preflight (``OPTIONS …/score`` with ``Origin`` and
  ``Access-Control-Request-Method``, never credentials) is forwarded without them, so the
  deployment answers it as in Azure: the inference server from ``AML_CORS_ORIGINS`` (flask-cors),
  or an ``@rawhttp`` script itself. Every other request needs the endpoint's credentials.
* Limits (:mod:`.scoring_limits`): too many or too large headers get 431, a too large body 413,
  before anything reaches the deployment.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .arm import ArmError, json_response
from .auth import bearer, matches_any
from .context import Workspace
from .debugging import router_timeout
from .endpoints import DEPLOYMENT_KIND, endpoint_keys, endpoint_path
from .forward import Forwarder, ForwardError
from .resolve import duration_seconds
from .scoring_limits import (
    MAX_BODY_BYTES,
    MAX_HEADER_COUNT,
    MAX_HEADER_FIELD_BYTES,
    body_too_large,
    check_head,
)

__all__ = ["DEPLOYMENT_HEADER", "ScoringRouter"]

log = logging.getLogger("jupyter_mlep.workspace")

DEPLOYMENT_HEADER = "azureml-model-deployment"
_DEPLOYMENT_HEADER = DEPLOYMENT_HEADER.encode()
# Hop-by-hop and routing headers are not forwarded. The body is forwarded whole, with its own
# Content-Length, so neither ``expect`` (uvicorn answered it) nor a transfer encoding applies.
_DROP_REQUEST = frozenset(
    {
        b"host",
        b"authorization",
        b"connection",
        b"content-length",
        b"transfer-encoding",
        b"keep-alive",
        b"expect",
        b"te",
        b"upgrade",
        b"proxy-connection",
        _DEPLOYMENT_HEADER,
    }
)
_DROP_RESPONSE = frozenset(
    {b"connection", b"content-length", b"transfer-encoding", b"keep-alive", b"server", b"date"}
)


@dataclass
class _Route:
    endpoint: str
    record_id: str
    auth_mode: str
    traffic: list[tuple[str, int]]
    mirror: list[tuple[str, int]]
    deployments: dict[str, str]  # lower-cased name -> name
    keys: list[str | None] = field(default_factory=list)
    timeouts: dict[str, float] = field(default_factory=dict)


class ScoringRouter:
    """Routes scoring requests to the deployments' inference servers."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        supervisor = ws.supervisor
        self._forwarder = supervisor.forwarder if supervisor is not None else Forwarder()
        self._cache: dict[str, tuple[int, _Route]] = {}
        self._round_robin: dict[str, itertools.count[int]] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Close the connection pool and wait for mirror copies still in flight."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._forwarder.close()

    def _route(self, name: str) -> _Route | None:
        key = name.lower()
        generation = self.ws.store.generation
        cached = self._cache.get(key)
        if cached is not None and cached[0] == generation:
            return cached[1]
        record = self.ws.store.get(endpoint_path(name))
        if record is None:
            self._cache.pop(key, None)
            return None
        props = record.body["properties"]
        deployments = self.ws.store.children(DEPLOYMENT_KIND, record.id)
        route = _Route(
            endpoint=record.name,
            record_id=record.id,
            auth_mode=props["authMode"],
            traffic=[(k, v) for k, v in (props.get("traffic") or {}).items() if v > 0],
            mirror=[(k, v) for k, v in (props.get("mirrorTraffic") or {}).items() if v > 0],
            deployments={dep.name.lower(): dep.name for dep in deployments},
            keys=list(endpoint_keys(self.ws, record)),
            timeouts={
                dep.name.lower(): router_timeout(dep.body)
                or duration_seconds(
                    (dep.body["properties"].get("requestSettings") or {}).get("requestTimeout"), 5.0
                )
                for dep in deployments
            },
        )
        self._cache[key] = (generation, route)
        return route

    def _authorised(self, authorization: str | None, route: _Route | None) -> bool:
        token = bearer(authorization)
        if token is None:
            return False
        if route is None:
            return matches_any(token, [self.ws.admin_token])
        if route.auth_mode == "Key":
            return matches_any(token, route.keys)
        if route.auth_mode == "AMLToken":
            return self.ws.signer.check(token, route.record_id)
        return matches_any(token, [self.ws.admin_token])

    def _url(self, route: _Route, deployment: str) -> str | None:
        """The socket of the deployment's next instance (round robin), None when none serves."""
        supervisor = self.ws.supervisor
        sockets = supervisor.sockets(route.endpoint, deployment) if supervisor is not None else ()
        if not sockets:
            return None
        if len(sockets) == 1:
            return sockets[0]
        counter = self._round_robin.setdefault(f"{route.endpoint}/{deployment}".lower(), itertools.count())
        return sockets[next(counter) % len(sockets)]

    async def handle(self, request: Request, endpoint: str, target: str) -> Response:
        """Serve one scoring (``score``) or swagger (``swagger.json``) request (Starlette)."""
        check_head(request.headers.raw)
        payload = await request.body()
        if len(payload) > MAX_BODY_BYTES:
            raise body_too_large(len(payload))
        status, headers, body = await self.answer(
            request.method, endpoint, target, request.headers.raw, request.url.query, payload
        )
        response = Response(body, status_code=status)
        response.raw_headers = headers
        return response

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve a request to ``/endpoints/…`` straight from ASGI (the fast path, no framework)."""
        parts = scope["path"].split("/")
        try:
            if len(scope["headers"]) > MAX_HEADER_COUNT:  # each field's size: in answer()'s loop
                check_head(scope["headers"])
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            if message.get("more_body", False):  # a large body: its announced length first
                check_head(scope["headers"])
                chunks, size = [body], len(body)
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise body_too_large()
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
                body = b"".join(chunks)
            if len(body) > MAX_BODY_BYTES:
                raise body_too_large(len(body))
            if len(parts) != 4 or parts[3] not in ("score", "swagger.json"):
                raise ArmError(
                    404,
                    "NotFound",
                    "Scoring routes are /endpoints/<name>/score and /endpoints/<name>/swagger.json.",
                )
            query = scope.get("query_string", b"").decode("latin-1")
            status, headers, body = await self.answer(
                scope["method"], parts[2], parts[3], scope["headers"], query, body
            )
        except ArmError as exc:
            status, body = exc.status, json.dumps(exc.body(), separators=(",", ":")).encode()
            headers = [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ]
            headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def answer(
        self,
        method: str,
        endpoint: str,
        target: str,
        raw_headers: Sequence[tuple[bytes, bytes]],
        query: str,
        body: bytes,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Authorise, choose the deployment, forward; the answer's status, raw headers and body."""
        authorization: str | None = None
        chosen_header: str | None = None
        headers: list[tuple[bytes, bytes]] = []
        for raw_name, value in raw_headers:
            key = raw_name.lower()  # uvicorn sends them lower-cased already
            if len(key) + len(value) > MAX_HEADER_FIELD_BYTES:
                check_head(raw_headers)  # raises the 431 that names the header
            if key not in _DROP_REQUEST:
                headers.append((key, value))
            elif key == b"authorization":
                authorization = value.decode("latin-1")
            elif key == _DEPLOYMENT_HEADER:
                chosen_header = value.decode("latin-1")
        route = self._route(endpoint)
        if self._authorised(authorization, route):
            pass
        elif route is not None and method == "OPTIONS" and target == "score" and _preflight(headers):
            body = b""  # a browser's CORS preflight carries no credentials: the deployment answers it
        else:
            raise ArmError(
                401,
                "Unauthorized",
                "Missing or invalid credentials: send 'Authorization: Bearer <endpoint key or token>'.",
                headers={"WWW-Authenticate": 'Bearer realm="endpoint"'},
            )
        if route is None:
            raise ArmError(404, "EndpointNotFound", f"The online endpoint '{endpoint}' does not exist.")
        mirror_to: str | None = None
        if chosen_header:
            deployment = route.deployments.get(chosen_header.strip().lower())
            if deployment is None:
                raise ArmError(
                    404,
                    "DeploymentNotFound",
                    f"Endpoint '{route.endpoint}' has no deployment named '{chosen_header}'.",
                )
        else:
            if not route.traffic:
                raise ArmError(
                    503,
                    "NoTrafficAssigned",
                    f"Endpoint '{route.endpoint}' sends no traffic to any deployment. Set its traffic, "
                    f"or name a deployment with the '{DEPLOYMENT_HEADER}' header.",
                )
            drawn = _draw(route.traffic)
            deployment = route.deployments.get(drawn.lower(), drawn)
            for name, percent in route.mirror:
                if random.random() * 100 < percent:
                    mirror_to = route.deployments.get(name.lower(), name)
        url = self._url(route, deployment)
        if url is None:  # no ready server: say in what state the deployment is, and why
            stored = self.ws.store.get(f"{endpoint_path(route.endpoint)}/deployments/{deployment}")
            props = stored.body.get("properties", {}) if stored is not None else {}
            failure = str(stored.body.get("failure") or "") if stored is not None else ""
            failure = failure.split("\n--- log tail ---\n")[0].strip().rstrip(".")
            head, colon, rest = failure.partition(": ")
            failure = rest if colon and rest.startswith(head + ": ") else failure  # a clause said twice
            raise ArmError(
                503,
                "DeploymentNotReady",
                f"Deployment '{deployment}' of endpoint '{route.endpoint}' is not ready: its provisioningState "
                f"is {props.get('provisioningState') or 'unknown'}"
                + (f"; failure reason: {failure}" if failure else "")
                + ". Its logs say more.",
            )
        path = "/score" if target == "score" else "/swagger.json"
        if query:
            path += "?" + query
        timeout = route.timeouts.get(deployment.lower(), 5.0) + 2.0
        if mirror_to is not None:
            self._mirror(route, mirror_to, method, path, headers, body, timeout)
        started = time.perf_counter()
        self.ws.metrics.connection(route.endpoint, deployment, 1)
        try:
            reply = await self._forwarder.request(url, method, path, headers, body, timeout)
        except asyncio.TimeoutError:
            self._record(route.endpoint, deployment, 408, started, len(body))
            raise ArmError(
                408,
                "RequestTimeout",
                f"Deployment '{deployment}' did not answer within {timeout - 2.0:g} s "
                "(requestSettings.requestTimeout).",
            ) from None
        except ForwardError as exc:
            self._record(route.endpoint, deployment, 502, started, len(body))
            raise ArmError(502, "BadGateway", f"Deployment '{deployment}' did not answer: {exc}.") from None
        self._record(route.endpoint, deployment, reply.status, started, len(body) + len(reply.body))
        out_headers = [(k, v) for k, v in reply.headers if k not in _DROP_RESPONSE]
        out_headers.append((_DEPLOYMENT_HEADER, deployment.encode("latin-1")))
        out_headers.append((b"content-length", str(len(reply.body)).encode()))
        return reply.status, out_headers, reply.body

    def _record(self, endpoint: str, deployment: str, status: int, started: float, size: int) -> None:
        """Count one live request in the rollout counters and in the metric series."""
        latency = _ms(started)
        self.ws.counters.record(endpoint, deployment, status, latency, mirror=False)
        self.ws.metrics.request(endpoint, deployment, status, latency, size)
        self.ws.metrics.connection(endpoint, deployment, -1)

    def _mirror(
        self,
        route: _Route,
        deployment: str,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeout: float,
    ) -> None:

        async def copy() -> None:
            # The socket is chosen when the copy starts, and counted in flight from then on, so
            # a rolling update that switched meanwhile drains it like any other request.
            address = self._url(route, deployment)
            if address is None:
                self.ws.counters.record(route.endpoint, deployment, 503, 0.0, mirror=True)
                return
            started = time.perf_counter()
            try:
                reply = await self._forwarder.request(address, method, path, headers, body, timeout)
                status = reply.status
            except (ForwardError, asyncio.TimeoutError):
                status = 0
            latency = _ms(started)
            self.ws.counters.record(route.endpoint, deployment, status, latency, mirror=True)
            self.ws.metrics.request(route.endpoint, deployment, status, latency, len(body), mirror=True)

        task = asyncio.get_running_loop().create_task(copy())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _preflight(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request is a CORS preflight (``Origin`` and ``Access-Control-Request-Method``)."""
    names = {name for name, _ in headers}
    return b"origin" in names and b"access-control-request-method" in names


def _draw(weights: list[tuple[str, int]]) -> str:
    if len(weights) == 1:
        return weights[0][0]
    point = random.random() * sum(weight for _, weight in weights)
    for name, weight in weights:
        point -= weight
        if point < 0:
            return name
    return weights[-1][0]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def counters_response(ws: Workspace, endpoint: str | None) -> Response:
    """The counters document (see :mod:`.counters`)."""
    data: dict[str, Any] = ws.counters.snapshot(endpoint)
    return json_response(data)
