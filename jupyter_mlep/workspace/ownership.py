"""Which runtime a deployment runs on: chosen once, recorded with it, changed only when asked.

The runtime (``process`` or ``docker``) is kept in the stored deployment body under a private key
(never rendered). A create or update may ask for one with the deployment property
``mlep.runtime``: ``process`` or ``docker`` moves the deployment there; ``auto`` chooses anew (as
``MLEP_RUNTIME=auto`` would) when it was not already the request. Without it, a deployment stays
on its runtime through every update, restart of the workspace and change of engines.
"""

from __future__ import annotations

from typing import Any

from .arm import bad_request
from .context import Workspace
from .endpoints import DEPLOYMENT_KIND
from .supervisor import RUNTIMES

__all__ = [
    "RUNTIME_KEY",
    "RUNTIME_PROPERTY",
    "apply_runtime_request",
    "deployment_runtime",
    "record_runtime",
    "requested_runtime",
    "stored_runtime",
]

#: The deployment property (``properties.properties``) that asks for a runtime.
RUNTIME_PROPERTY = "mlep.runtime"
#: The private key of the stored deployment body holding the runtime it runs on.
RUNTIME_KEY = "runtime"
_CHOICES = ("auto", *RUNTIMES)


def requested_runtime(props: dict[str, Any]) -> str | None:
    """The runtime a PUT's ``properties`` asks for (``auto``, ``process``, ``docker``), or None; 400 if unknown."""
    value = (props.get("properties") or {}).get(RUNTIME_PROPERTY)
    if value is None:
        return None
    text = str(value).strip().lower()
    if text not in _CHOICES:
        raise bad_request(
            f"Unknown runtime {value!r} in the deployment property {RUNTIME_PROPERTY}. "
            f"Use one of: {', '.join(_CHOICES)}.",
            target=f"properties.properties.{RUNTIME_PROPERTY}",
        )
    return text


def apply_runtime_request(
    stored: dict[str, Any], props: dict[str, Any], existing: dict[str, Any] | None
) -> None:
    """Carry the runtime of ``existing`` into the new ``stored`` body, or apply what ``props`` asks for."""
    asked = requested_runtime(props)
    previous = ((existing or {}).get("properties") or {}).get("properties") or {}
    kept = (existing or {}).get(RUNTIME_KEY)
    if asked is not None:
        stored["properties"].setdefault("properties", {})[RUNTIME_PROPERTY] = asked
    if asked in RUNTIMES:
        stored[RUNTIME_KEY] = asked
    elif asked == "auto" and str(previous.get(RUNTIME_PROPERTY, "")).lower() != "auto":
        stored.pop(RUNTIME_KEY, None)  # chosen anew by this start
    elif kept in RUNTIMES:
        stored[RUNTIME_KEY] = kept


def stored_runtime(body: dict[str, Any]) -> str | None:
    """The runtime recorded in a stored deployment body, or None."""
    runtime = body.get(RUNTIME_KEY)
    return runtime if runtime in RUNTIMES else None


def record_runtime(ws: Workspace, endpoint: str, name: str, runtime: str) -> None:
    """Record the runtime a deployment runs on (from now on used for all it does)."""
    from .deployments import deployment_path

    record = ws.store.get(deployment_path(endpoint, name))
    if record is not None and record.body.get(RUNTIME_KEY) != runtime:
        record.body[RUNTIME_KEY] = runtime
        ws.store.put(record.path, DEPLOYMENT_KIND, record.parent, record.name, record.body)


async def deployment_runtime(ws: Workspace, endpoint: str, name: str, spec: Any) -> str:
    """The runtime of a deployment about to start: the recorded one, else chosen now and recorded."""
    from .deployments import deployment_path

    assert ws.supervisor is not None
    record = ws.store.get(deployment_path(endpoint, name))
    runtime = stored_runtime(record.body) if record is not None else None
    if runtime is None:
        runtime = await ws.supervisor.choose_runtime(spec)
        record_runtime(ws, endpoint, name, runtime)
    return runtime
