"""Start-up and shutdown of the workspace's state: recovery after a crash, stopping on exit.

At start-up, operations that a killed server left unfinished are marked Failed (and their
resources too, with the reason); deployments that were running are found again (their servers
may have survived) or started again, each as an operation, or marked Failed with the reason.
At shutdown every running deployment is stopped, so nothing is left behind; the next start
brings them back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from .arm import now_iso
from .context import Workspace
from .datastores import ensure_default_datastore
from .deployments import run_deployment, set_deployment_state
from .endpoints import DEPLOYMENT_KIND, ENDPOINT_KIND, set_endpoint_state

__all__ = ["recover", "shutdown_deployments"]

log = logging.getLogger("jupyter_mlep.workspace")
_INTERRUPTED = "The workspace server stopped while this operation was in progress; run it again."
_BUSY_STATES = ("Creating", "Updating", "Scaling", "Deleting")
_BACKGROUND: set[asyncio.Task[None]] = set()


async def recover(ws: Workspace, *, run: bool = True) -> None:
    """Bring the stored state back to a consistent, running picture."""
    if ws.store.secret("created-at") is None:
        ws.store.set_secret("created-at", now_iso())
        ws.store.set_secret("workspace-id", str(uuid.uuid4()))
    ensure_default_datastore(ws)
    ws.operations.fail_interrupted(_INTERRUPTED)
    stray: list[tuple[str, str]] = []
    for endpoint in ws.store.children(ENDPOINT_KIND):
        if endpoint.body["properties"].get("provisioningState") in _BUSY_STATES:
            set_endpoint_state(ws, endpoint.name, "Failed")
        for dep in ws.store.children(DEPLOYMENT_KIND, endpoint.id):
            state = dep.body["properties"].get("provisioningState")
            if state in _BUSY_STATES:
                set_deployment_state(ws, endpoint.name, dep.name, "Failed", failure=_INTERRUPTED)
                stray.append((endpoint.name, dep.name))
            elif state == "Succeeded" and run:
                _bring_back(ws, endpoint.name, dep.name)
            elif state == "Failed":
                stray.append((endpoint.name, dep.name))
    if stray and run:
        _stop_strays(ws, stray)


def _stop_strays(ws: Workspace, deployments: list[tuple[str, str]]) -> None:
    """Failed deployments run nothing: stop what an interrupted start may have left running."""
    supervisor = ws.supervisor
    if supervisor is None:
        return

    async def stop_all() -> None:
        for endpoint, name in deployments:
            await supervisor.stop(endpoint, name)

    task = asyncio.get_running_loop().create_task(stop_all())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def _bring_back(ws: Workspace, endpoint: str, name: str) -> None:
    set_deployment_state(ws, endpoint, name, "Updating")

    async def work() -> None:
        supervisor = ws.supervisor
        if supervisor is not None and await supervisor.attach(endpoint, name):
            log.info("deployment %s/%s still runs; attached", endpoint, name)
        else:
            await run_deployment(ws, endpoint, name)
        set_deployment_state(ws, endpoint, name, "Succeeded")

    def failed(error: dict[str, object]) -> None:
        reason = (
            f"Could not bring the deployment back after a restart of the workspace: {error.get('message')}"
        )
        set_deployment_state(ws, endpoint, name, "Failed", failure=reason)

    record = ws.store.get(f"onlineEndpoints/{endpoint}/deployments/{name}")
    if record is not None:
        ws.operations.start(record.id, "recover", work, prefix="odidp", on_failure=failed)


async def shutdown_deployments(ws: Workspace) -> None:
    """Stop the servers of every deployment (their stored state stays, to be brought back)."""
    if ws.supervisor is None or not ws.supervisor.started:
        return
    await ws.supervisor.settle()
    for endpoint in ws.store.children(ENDPOINT_KIND):
        for dep in ws.store.children(DEPLOYMENT_KIND, endpoint.id):
            await ws.supervisor.stop(endpoint.name, dep.name)
