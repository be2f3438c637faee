"""The workspace's own namespace, ``/mlep/v1/…`` (admin token required).

* ``GET /mlep/v1/info``: workspace path, base URL, server pid and start time.
* ``GET /mlep/v1/deployments/{endpoint}/{deployment}``: where the deployment's servers listen
  (their Unix sockets) and one CPU and memory reading per instance (what the metrics sampler
  reads), for profiling.
* ``GET|POST|DELETE /mlep/v1/faults`` and ``POST /mlep/v1/faults/operations``: fault injection
  (see :mod:`.faults`).
* ``POST /mlep/v1/faults/metrics {"delaySeconds": 90}``: every metrics answer leaves out its last
  90 seconds, as Azure Monitor's ingestion delay does (see :mod:`.metrics`); ``DELETE
  /mlep/v1/faults`` sets it back to 0.
"""

from __future__ import annotations

import asyncio
import os

from starlette.requests import Request
from starlette.responses import Response

from .._version import __version__
from .arm import WORKSPACE_PATH, ArmError, bad_request, json_response, read_json
from .context import Workspace
from .deployments import find_deployment
from .faults import Faults

__all__ = ["handle_admin"]


async def handle_admin(request: Request, ws: Workspace, path: str, started_at: str) -> Response:
    """Serve a request below ``/mlep/v1/`` (already authenticated)."""
    parts = path.strip("/").split("/")[2:]
    method = request.method
    if parts == ["info"] and method == "GET":
        return json_response(
            {
                "workspacePath": WORKSPACE_PATH,
                "baseUrl": ws.base_url,
                "version": __version__,
                "pid": os.getpid(),
                "startedAt": started_at,
            }
        )
    if parts and parts[0] == "deployments" and method == "GET" and len(parts) == 3:
        return json_response(await _deployment_servers(ws, parts[1], parts[2]))
    if parts == ["faults"]:
        if method == "GET":
            return json_response(
                {
                    "value": ws.faults.listing(),
                    "operationMinimumSeconds": ws.operations.minimum_seconds,
                    "metricsDelaySeconds": ws.metrics.publish_delay,
                }
            )
        if method == "DELETE":
            ws.faults.clear()
            ws.operations.minimum_seconds = 0.0
            ws.metrics.publish_delay = 0.0
            return Response(status_code=204)
        if method == "POST":
            try:
                fault = Faults.parse(await read_json(request))
            except ValueError as exc:
                raise bad_request(f"Invalid fault: {exc}.") from None
            ws.faults.arm(fault)
            return json_response({"value": ws.faults.listing()}, 201)
    if parts == ["faults", "operations"] and method == "POST":
        ws.operations.minimum_seconds = await _seconds(request, "minimumSeconds")
        return json_response({"operationMinimumSeconds": ws.operations.minimum_seconds})
    if parts == ["faults", "metrics"] and method == "POST":
        ws.metrics.publish_delay = await _seconds(request, "delaySeconds")
        return json_response({"metricsDelaySeconds": ws.metrics.publish_delay})
    raise ArmError(404, "NotFound", f"No such workspace admin route: {method} {path}.")


async def _seconds(request: Request, name: str) -> float:
    """The non-negative number ``name`` of the request's JSON body."""
    seconds = (await read_json(request)).get(name)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise bad_request(f"'{name}' must be a non-negative number.")
    return float(seconds)


async def _deployment_servers(ws: Workspace, endpoint: str, deployment: str) -> dict[str, object]:
    """The sockets and usage readings of a deployment (404 when it does not exist here)."""
    ep, record = find_deployment(ws, endpoint, deployment)
    supervisor = ws.supervisor
    if supervisor is None:
        return {"sockets": [], "instances": []}
    readings = await asyncio.to_thread(supervisor.usage, ep.name, record.name)
    return {
        "sockets": list(supervisor.sockets(ep.name, record.name)),
        "instances": [
            {
                "instance": r.instance,
                "cpuSeconds": r.cpu_seconds,
                "memoryBytes": r.memory_bytes,
                "memoryLimit": r.memory_limit,
                "cpus": r.cpus,
            }
            for r in readings
        ],
    }
