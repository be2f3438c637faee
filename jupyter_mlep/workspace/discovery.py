"""The workspace's discovery document: where clients find its services (``GET /discovery``).

An Azure ML workspace names a regional discovery URL (``properties.discoveryUrl``); clients such as
the Azure ML SDK GET it and read the base URL of each service from it (``api`` for the management
front end and asset stores, ``history`` for run history and job logs, …). Every service of the
local workspace lives at its own base URL, so the document names that URL for each key.

The SDK fetches the document without credentials (Azure's discovery service is anonymous), so
the ``discoveryUrl`` the workspace resource gives carries its own credential: a signature (``sig``)
made with the workspace's signing key. A request is served with that signature or with the admin
token; anything else is 401, as on every other route.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .arm import ArmError, json_response
from .auth import bearer, matches_any
from .context import Workspace

__all__ = ["DISCOVERY_PATH", "SERVICES", "discovery_document", "discovery_url", "handle_discovery"]

DISCOVERY_PATH = "/discovery"
SERVICES = (
    "api",
    "catalog",
    "experimentation",
    "gallery",
    "history",
    "hyperdrive",
    "labeling",
    "modelmanagement",
    "pipelines",
    "studio",
)
"""The keys of Azure's discovery document (the SDK's ``WorkspaceDiscoveryUrlKey``)."""

_CLAIM = "discovery"


def discovery_url(ws: Workspace) -> str:
    """The workspace's ``discoveryUrl``: the discovery route with its signature."""
    return f"{ws.base_url}{DISCOVERY_PATH}?sig={ws.signer.signature(_CLAIM)}"


def discovery_document(ws: Workspace) -> dict[str, str]:
    """Service name → base URL (every service is this workspace's base URL)."""
    return {service: ws.base_url for service in SERVICES}


def handle_discovery(request: Request, ws: Workspace) -> Response:
    """``GET /discovery`` with the signature of ``discoveryUrl`` or the admin token."""
    signed = matches_any(request.query_params.get("sig"), [ws.signer.signature(_CLAIM)])
    if not signed and not matches_any(bearer(request.headers.get("authorization")), [ws.admin_token]):
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. Use the discoveryUrl of the workspace resource as given (it is signed), "
            "or send the workspace's admin token.",
            headers={"WWW-Authenticate": 'Bearer realm="mlep-workspace"'},
        )
    if request.method not in ("GET", "HEAD"):
        raise ArmError(405, "MethodNotAllowed", f"The discovery document does not support {request.method}.")
    return json_response(discovery_document(ws))
