"""Debug deployments: the local-only deployment property that starts a debugpy listener.

A create or update may carry ``mlep.debug`` in ``properties.properties``: ``PORT`` (listen on
``127.0.0.1:PORT``) or ``PORT,wait`` (and wait for a client before ``init()``). The deployment
then runs one instance with one worker, ``debugpy`` is added to its environment, and no timeout
(the inference server's, gunicorn's, the router's) cuts a request held at a breakpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .arm import bad_request
from .context import Workspace
from .endpoints import DEPLOYMENT_KIND

__all__ = [
    "DEBUG_PROPERTY",
    "DEBUG_TIMEOUT_S",
    "REMOTE_ROOT_PROPERTY",
    "debug_request",
    "record_debug_root",
    "router_timeout",
]

#: The deployment property (``properties.properties``) that asks for a debugger.
DEBUG_PROPERTY = "mlep.debug"
#: The property the workspace sets: the code folder as the server sees it (a debugger's remote root).
REMOTE_ROOT_PROPERTY = "mlep.debug.remoteRoot"
#: The request timeout of a debug deployment, in seconds (an hour).
DEBUG_TIMEOUT_S = 3600.0


def debug_request(props: dict[str, Any], capacity: int = 1) -> tuple[int, bool] | None:
    """The ``(port, wait)`` a deployment's ``properties`` ask for, or None; 400 when malformed."""
    value = (props.get("properties") or {}).get(DEBUG_PROPERTY)
    if value is None or str(value).strip() == "":
        return None
    port_text, _, mode = str(value).strip().partition(",")
    target = f"properties.properties.{DEBUG_PROPERTY}"
    if not port_text.strip().isdigit() or not 1024 <= int(port_text) <= 65535:
        raise bad_request(
            f"The deployment property {DEBUG_PROPERTY}={value!r} is not PORT or PORT,wait "
            "(a port from 1024 to 65535).",
            target=target,
        )
    if mode.strip().lower() not in ("", "wait", "nowait"):
        raise bad_request(
            f"Unknown debug mode {mode!r} in {DEBUG_PROPERTY}: use wait or nowait.", target=target
        )
    if capacity > 1:
        raise bad_request(
            f"A debug deployment ({DEBUG_PROPERTY}) runs one instance; this one asks for {capacity}.",
            target="sku.capacity",
        )
    return int(port_text), mode.strip().lower() == "wait"


def router_timeout(body: dict[str, Any]) -> float | None:
    """The router's request timeout for a stored deployment body when it is a debug deployment."""
    value = ((body.get("properties") or {}).get("properties") or {}).get(DEBUG_PROPERTY)
    return DEBUG_TIMEOUT_S if value not in (None, "") else None


def record_debug_root(ws: Workspace, endpoint: str, name: str, runtime: str, code: Path) -> None:
    """Record where the server of a debug deployment sees its code (``mlep.debug.remoteRoot``).

    A container reaches the host's loopback only on the host's network: another network mode
    (``MLEP_DOCKER_NETWORK``) is refused with the way out.
    """
    from ..runtime import server_app_root
    from .deployments import deployment_path

    network = ws.supervisor.settings.docker_network if ws.supervisor is not None else "host"
    if runtime == "docker" and network != "host":
        raise bad_request(
            f"A debug deployment's listener binds 127.0.0.1, which a container on the '{network}' network "
            "(MLEP_DOCKER_NETWORK) cannot share with this machine. Restart the workspace with "
            "MLEP_DOCKER_NETWORK=host, or run the deployment as a local process (property mlep.runtime=process).",
            target=f"properties.properties.{DEBUG_PROPERTY}",
        )

    record = ws.store.get(deployment_path(endpoint, name))
    if record is None:
        return
    props = record.body["properties"].setdefault("properties", {})
    root = server_app_root(runtime, code)
    if props.get(REMOTE_ROOT_PROPERTY) != root:
        props[REMOTE_ROOT_PROPERTY] = root
        ws.store.put(record.path, DEPLOYMENT_KIND, record.parent, record.name, record.body)
