"""The ASGI application of the local workspace (Starlette): dispatch, auth, faults, lifespan.

Requests are dispatched by path:

* ``/endpoints/<name>/score|swagger.json``: the scoring router (endpoint credentials);
* ``/mlepstore/…``: the blob store (SAS or admin token);
* ``/discovery``: the discovery document (its signed URL, or the admin token);
* ``/mlflow/…``: the MLflow tracking server (admin token or a job's MLflow token), see :mod:`.tracking`;
* ``/mlep/v1/…``: the workspace's own routes (admin token);
* ``/batchEndpoints/<name>/jobs…``: batch endpoint invocations and their jobs (admin token, which
  stands for the Microsoft Entra token of ``AADToken`` endpoints), see :mod:`.batchinvoke`;
* everything else: the ARM management plane (admin token, then ``api-version``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .admin import handle_admin
from .arm import (
    RESOURCE_GROUP,
    SUBSCRIPTION_ID,
    WORKSPACE_NAME,
    ArmError,
    api_version,
    error_body,
    json_response,
    now_iso,
)
from .auth import bearer, matches_any
from .batchendpoints import BATCH_SCORING_PREFIX
from .batchinvoke import handle_batch_data
from .blobstore import ACCOUNT, BlobStore, handle_blob_request
from .context import Call, Workspace
from .dataplane import DATA_PREFIX, handle_data
from .deployments import render_deployment
from .discovery import DISCOVERY_PATH, handle_discovery
from .endpoints import DEPLOYMENT_KIND, render_endpoint
from .faults import Fault
from .jobrun import shutdown_jobs
from .lro import RETRY_AFTER_SECONDS, OperationRunner
from .monitor import METRICS_PATH, metrics_response
from .recovery import recover, shutdown_deployments
from .router import ScoringRouter
from .routes import OPERATION_PATH, ROUTES
from .runhistory import HISTORY_PREFIX, handle_history
from .sampler import load_metrics, sampler
from .tracking import TRACKING_ROOT, handle_tracking

__all__ = ["create_app"]

log = logging.getLogger("jupyter_mlep.workspace")
#: The prefix of the management front end (the discovery document's ``api`` URL + this), where the
#: SDK sends a few calls (``batch_endpoints.list_jobs``): the same ARM paths follow.
MFE_PREFIX = "/mferp/managementfrontend"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class _Services:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.blobs = BlobStore(ws.paths.blobs, ws)
        self.router = ScoringRouter(ws)
        self.started_at = now_iso()
        self.connections: Any = None  # uvicorn's server state, for dropped connections


def create_app(ws: Workspace, *, recover_deployments: bool = True) -> _FastScoring:
    """The application serving workspace ``ws``."""
    services = _Services(ws)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await recover(ws, run=recover_deployments)
        await asyncio.to_thread(load_metrics, ws)
        sampling = asyncio.get_running_loop().create_task(sampler(ws))
        try:
            yield
        finally:
            sampling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampling
            await shutdown_jobs(ws)
            await ws.operations.drain()
            await shutdown_deployments(ws)
            await services.router.close()
            ws.store.close()

    app = Starlette(routes=[Route("/{path:path}", _dispatch, methods=_METHODS)], lifespan=lifespan)
    app.state.services = services
    return _FastScoring(app, services)


class _FastScoring:
    """The application: scoring requests skip the framework (unless a fault is armed), the rest is Starlette."""

    def __init__(self, app: Starlette, services: _Services) -> None:
        self.app = app
        self.state = app.state
        self._services = services

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/endpoints/")
            and not self._services.ws.faults.armed
        ):
            await self._services.router.asgi(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _dispatch(request: Request) -> Response:
    response = await _answer(request)
    if not request.url.path.startswith("/endpoints/"):
        _trace(request, response)
    return response


def _trace(request: Request, response: Response) -> None:
    """ARM's tracing headers: a new ``x-ms-request-id``, the caller's correlation id (or a new one),
    and the caller's ``x-ms-client-request-id`` echoed back."""
    response.headers["x-ms-request-id"] = str(uuid.uuid4())
    response.headers["x-ms-correlation-request-id"] = request.headers.get(
        "x-ms-correlation-request-id"
    ) or str(uuid.uuid4())
    client_id = request.headers.get("x-ms-client-request-id")
    if client_id:
        response.headers["x-ms-client-request-id"] = client_id


async def _answer(request: Request) -> Response:
    services: _Services = request.app.state.services
    ws = services.ws
    path = request.url.path
    try:
        fault = ws.faults.take(request.method, path)
        if fault is not None:
            early = await _apply_fault(request, services, fault)
            if early is not None:
                return early
        if path.startswith("/endpoints/"):
            parts = path.split("/")
            if len(parts) == 4 and parts[3] in ("score", "swagger.json"):
                return await services.router.handle(request, parts[2], parts[3].removesuffix(".json"))
            raise ArmError(
                404,
                "NotFound",
                "Scoring routes are /endpoints/<name>/score and /endpoints/<name>/swagger.json.",
            )
        if path == f"/{ACCOUNT}" or path.startswith(f"/{ACCOUNT}/"):
            container, _, blob = path[len(ACCOUNT) + 2 :].partition("/")
            return await handle_blob_request(request, services.blobs, container, blob or None)
        if path == DISCOVERY_PATH:
            return handle_discovery(request, ws)
        if path.startswith(TRACKING_ROOT):
            return await handle_tracking(request, ws, services.blobs)
        if path.startswith(HISTORY_PREFIX + "/"):
            return await handle_history(request, ws, path)
        if not matches_any(bearer(request.headers.get("authorization")), [ws.admin_token]):
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing or its bearer token is not the "
                "workspace's admin token.",
                headers={"WWW-Authenticate": 'Bearer realm="mlep-workspace"'},
            )
        if path.startswith("/mlep/v1/"):
            return await handle_admin(request, ws, path, services.started_at)
        if path.startswith(BATCH_SCORING_PREFIX + "/"):
            return await handle_batch_data(request, ws, path)
        if path.startswith(DATA_PREFIX + "/"):
            return await handle_data(request, ws, path)
        return await _management(request, ws, path)
    except ArmError as exc:
        return exc.response()
    except Exception:
        log.exception("unhandled error on %s %s", request.method, path)
        return json_response(
            error_body(
                "InternalServerError", "The local workspace failed on this request; see its server.log."
            ),
            500,
        )


async def _management(request: Request, ws: Workspace, path: str) -> Response:
    path = path.removeprefix(MFE_PREFIX)  # the management front end, as the SDK addresses some calls
    if request.method == "GET" and METRICS_PATH.match(path):
        _check_workspace(_identity_of(path))
        return metrics_response(request, ws, path)
    match = OPERATION_PATH.match(path)
    if match:
        if request.method != "GET":
            raise ArmError(
                405, "MethodNotAllowed", f"The operation resource does not support {request.method}."
            )
        version = api_version(request)
        return _operation(ws, match.group("kind").lower(), match.group("op"), version)
    for pattern, handlers in ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        params = match.groupdict()
        _check_workspace(params)
        handler = handlers.get(request.method)
        if handler is None:
            raise ArmError(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{request.method}'.",
            )
        version = api_version(request)
        return await handler(Call(request, ws, {k: v for k, v in params.items() if v is not None}, version))
    raise ArmError(
        404, "InvalidResourceType", f"No resource type of the local workspace matches the path '{path}'."
    )


def _identity_of(path: str) -> dict[str, str]:
    parts = path.split("/")
    return {"sub": parts[2], "rg": parts[4], "ws": parts[8]}


def _check_workspace(params: dict[str, str]) -> None:
    if params["sub"].lower() != SUBSCRIPTION_ID:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{params['sub']}' could not be found.")
    if params["rg"].lower() != RESOURCE_GROUP.lower():
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{params['rg']}' could not be found.")
    if params["ws"].lower() != WORKSPACE_NAME.lower():
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The workspace '{params['ws']}' was not found; the local workspace is '{WORKSPACE_NAME}'.",
        )


def _operation(ws: Workspace, kind: str, op_id: str, version: str) -> Response:
    op = ws.store.operation(op_id)
    if op is None:
        raise ArmError(404, "ResourceNotFound", f"The operation '{op_id}' was not found.")
    if kind == "mfeoperationsstatus":
        retry = {} if op.done else {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return json_response(OperationRunner.status_body(op, ws.base_url), headers=retry)
    if not op.done:
        headers = OperationRunner.headers(op, ws.base_url, version)
        return Response(
            status_code=202, headers={"Location": headers["Location"], "Retry-After": headers["Retry-After"]}
        )
    if op.status == "Failed":
        error = op.error or {"code": "OperationFailed", "message": "The operation failed."}
        return json_response({"error": error}, 400)
    if op.action == "update":
        record = ws.store.get(op.resource)
        if record is not None and record.kind == DEPLOYMENT_KIND:
            return json_response(render_deployment(ws, record))
        if record is not None:
            return json_response(render_endpoint(ws, record))
    return Response(status_code=204)


async def _apply_fault(request: Request, services: _Services, fault: Fault) -> Response | None:
    if fault.kind == "slow":
        await asyncio.sleep(fault.delaySeconds)
        return None
    if fault.kind == "drop":
        _drop_connection(request, services)
        while (await request.receive())["type"] != "http.disconnect":
            pass
        return Response(status_code=499)
    status = int(fault.kind)
    code = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}[status]
    headers = {"Retry-After": str(fault.retryAfter)} if status in (429, 503) else {}
    return json_response(
        error_body(code, f"Injected fault: {status} for {request.method} {request.url.path}."),
        status,
        headers=headers,
    )


def _drop_connection(request: Request, services: _Services) -> None:
    client = request.scope.get("client")
    connections = getattr(services.connections, "connections", ()) or ()
    for connection in list(connections):
        if getattr(connection, "client", None) == (tuple(client) if client else None):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
                return
