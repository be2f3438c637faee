"""Computes: one Kubernetes compute standing for this machine (list and get); Kubernetes online
endpoints name it in ``properties.compute`` (see :mod:`.kubernetes`)."""

from __future__ import annotations

import os
import socket
from typing import Any

from starlette.responses import Response

from .arm import LOCATION, json_response, not_found, system_data
from .context import Call, Workspace
from .kubernetes import KUBERNETES_COMPUTE, compute_properties

__all__ = ["compute_name", "render_compute"]

TYPE = "Microsoft.MachineLearningServices/workspaces/computes"


def compute_name() -> str:
    """The name of this machine's compute: ``inferencecompute``, as the azureml-examples Kubernetes
    endpoint YAML names its compute."""
    return KUBERNETES_COMPUTE


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def render_compute(ws: Workspace) -> dict[str, Any]:
    """The ``ComputeResource`` of this machine."""
    name = compute_name()
    started = ws.store.secret("created-at") or "1970-01-01T00:00:00.000Z"
    cores = os.cpu_count() or 1
    memory = _memory_gb()
    return {
        "id": ws.arm_id(f"computes/{name}"),
        "name": name,
        "type": TYPE,
        "location": LOCATION,
        "tags": {},
        "systemData": system_data(started, started),
        "properties": {
            "computeType": "Kubernetes",
            "computeLocation": LOCATION,
            "description": f"This machine ({socket.gethostname()}): {cores} cores"
            + (f", {memory} GB memory" if memory else ""),
            "provisioningState": "Succeeded",
            "createdOn": started,
            "modifiedOn": started,
            "isAttachedCompute": True,
            "disableLocalAuth": False,
            "properties": compute_properties(),
        },
    }


async def list_computes(call: Call) -> Response:
    """``Compute_List``: this machine."""
    return json_response({"value": [render_compute(call.ws)]})


async def get_compute(call: Call) -> Response:
    """``Compute_Get``."""
    if call.params["name"].lower() != compute_name().lower():
        raise not_found("compute", call.params["name"])
    return json_response(render_compute(call.ws))
