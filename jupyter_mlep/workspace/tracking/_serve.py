"""The entry of the tracking server: the path below the tracking URI, auth, dispatch, errors."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._identity import RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME
from ..arm import ArmError
from ..auth import bearer, matches_any
from ..blobstore import BlobStore
from ..context import Workspace
from . import _api, _artifacts, _models, _registry
from ._entities import TrackingError
from ._store import TrackingStore
from ._wire import Ctx, error_response

__all__ = ["TRACKING_ROOT", "handle_tracking"]

log = logging.getLogger("jupyter_mlep.workspace")

TRACKING_ROOT = "/mlflow/"
"""Every path of the tracking server starts so (``/mlflow/v1.0/subscriptions/…``)."""

_PREFIX = re.compile(
    r"^/mlflow/v1\.0/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)
_A = _artifacts.ARTIFACTS_PATH
_TEMPLATES: list[tuple[str, str, Any]] = [
    *_api.ROUTES,
    *_models.ROUTES,
    *_registry.ROUTES,
    ("GET", "/api/2.0/mlflow/artifacts/list", _artifacts.list_run_artifacts),
    ("GET", _A, _artifacts.list_artifacts),
    ("GET", _A + "/{path:path}", _artifacts.download),
    ("PUT", _A + "/{path:path}", _artifacts.upload),
    ("DELETE", _A + "/{path:path}", _artifacts.delete),
]
_RAW = {_artifacts.upload}
_EXACT: dict[tuple[str, str], Any] = {}
_PATTERNS: list[tuple[str, re.Pattern[str], Any]] = []
for _method, _template, _handler in _TEMPLATES:
    if "{" not in _template:
        _EXACT[(_method, _template)] = _handler
        continue
    _regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", _template)
    _regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", _regex)
    _PATTERNS.append((_method, re.compile(f"^{_regex}$"), _handler))


def _route(method: str, path: str) -> tuple[Any, dict[str, str]]:
    handler = _EXACT.get((method, path))
    if handler is not None:
        return handler, {}
    known = any(p == path for _, p in _EXACT)
    for wanted, pattern, candidate in _PATTERNS:
        match = pattern.match(path)
        if match is None:
            continue
        known = True
        if wanted == method:
            return candidate, match.groupdict()
    if known:
        raise TrackingError("ENDPOINT_NOT_FOUND", f"{path} does not support {method}.")
    raise TrackingError("ENDPOINT_NOT_FOUND", f"This MLflow tracking server does not serve {method} {path}.")


def _authorise(request: Request, ws: Workspace) -> None:
    token = bearer(request.headers.get("authorization"))
    if token is not None and (
        matches_any(token, [ws.admin_token]) or TrackingStore.of(ws).token_run(token) is not None
    ):
        return
    raise TrackingError(
        "UNAUTHENTICATED",
        "Authentication failed: send 'Authorization: Bearer <token>' with the workspace's admin token or a "
        "job's MLflow token (MLFLOW_TRACKING_TOKEN).",
    )


async def handle_tracking(request: Request, ws: Workspace, blobs: BlobStore) -> Response:
    """Serve one request below ``/mlflow/`` (the workspace's MLflow tracking URI)."""
    try:
        _authorise(request, ws)
        match = _PREFIX.match(request.url.path)
        if match is None:
            raise TrackingError(
                "ENDPOINT_NOT_FOUND",
                "The MLflow tracking URI of the local workspace is /mlflow/v1.0 followed by the workspace's ARM "
                "path; see the workspace resource's mlFlowTrackingUri.",
            )
        if (
            match["sub"].lower() != SUBSCRIPTION_ID
            or match["rg"].lower() != RESOURCE_GROUP.lower()
            or match["ws"].lower() != WORKSPACE_NAME.lower()
        ):
            raise TrackingError(
                "RESOURCE_DOES_NOT_EXIST",
                f"No workspace '{match['ws']}' here: the local workspace is '{WORKSPACE_NAME}' in resource group "
                f"'{RESOURCE_GROUP}'.",
            )
        path = match["rest"] or "/"
        handler, params = _route(request.method, path)
        ctx = await Ctx.read(request, ws, blobs, path, params, raw=handler in _RAW)
        response: Response = await handler(ctx)
        return response
    except TrackingError as exc:
        return error_response(exc)
    except ArmError as exc:  # a rule of the workspace's resources (a model's name, an immutable version)
        code = {404: "RESOURCE_DOES_NOT_EXIST", 409: "RESOURCE_ALREADY_EXISTS"}.get(
            exc.status, "INVALID_PARAMETER_VALUE"
        )
        return error_response(TrackingError(code, exc.message))
    except Exception:
        log.exception("MLflow request failed: %s %s", request.method, request.url.path)
        return error_response(
            TrackingError("INTERNAL_ERROR", "The local workspace failed on this request; see its server.log.")
        )
