"""Start-up and shutdown of the workspace's state: recovery after a crash, stopping on exit.

At start-up, operations that a killed server left unfinished are marked Failed (and their
resources too, with the reason); deployments that were running are found again on the runtime
they were created on (their servers may have survived) or started again there, each as an
operation, or marked Failed with the reason (say, that runtime's engine does not answer). An
update that was interrupted leaves the deployment Failed and its previous servers serving (the
servers the update had started are stopped). Every
server the workspace started (its ledger, and the runtime records of its deployments) that no
deployment wants any more is stopped; servers of a runtime whose engine does not answer are
stopped as soon as it answers again. At shutdown every server is stopped, so nothing is left
behind; the next start brings them back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from typing import Any

from .arm import now_iso
from .batchendpoints import recover_batch_resources
from .context import Workspace
from .datastores import ensure_default_datastore
from .deployments import run_deployment, set_deployment_state
from .endpoints import DEPLOYMENT_KIND, ENDPOINT_KIND, set_endpoint_state
from .jobrun import recover_jobs
from .ownership import record_runtime, stored_runtime
from .sweeprun import recover_sweeps

__all__ = ["recover", "shutdown_deployments"]

log = logging.getLogger("jupyter_mlep.workspace")
_INTERRUPTED = "The workspace server stopped while this operation was in progress; run it again."
_BUSY_STATES = ("Creating", "Updating", "Scaling", "Deleting")
#: Busy states of a deployment whose previous servers keep serving when the change was interrupted.
_CHANGING_STATES = ("Updating", "Scaling")
_BACKGROUND: set[asyncio.Task[None]] = set()
_RETRYING: set[str] = set()
#: Seconds between two tries to reach an engine that did not answer, to stop what runs there.
ENGINE_RETRY_SECONDS = 3.0


def _background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def _key(endpoint: str, name: str) -> tuple[str, str]:
    return endpoint.lower(), name.lower()


async def recover(ws: Workspace, *, run: bool = True) -> None:
    """Bring the stored state back to a consistent, running picture."""
    if ws.store.secret("created-at") is None:
        ws.store.set_secret("created-at", now_iso())
        ws.store.set_secret("workspace-id", str(uuid.uuid4()))
    ensure_default_datastore(ws)
    ws.operations.fail_interrupted(_INTERRUPTED)
    recover_batch_resources(ws, _INTERRUPTED)
    await recover_jobs(ws, run=run)
    await recover_sweeps(ws, run=run)
    if run and ws.supervisor is not None:
        await asyncio.to_thread(_adopt_recorded, ws)
    wanted: dict[tuple[str, str], str] = {}
    for endpoint in ws.store.children(ENDPOINT_KIND):
        if endpoint.body["properties"].get("provisioningState") in _BUSY_STATES:
            set_endpoint_state(ws, endpoint.name, "Failed")
        for dep in ws.store.children(DEPLOYMENT_KIND, endpoint.id):
            state = dep.body["properties"].get("provisioningState")
            runtime = stored_runtime(dep.body)
            if state in _BUSY_STATES:
                set_deployment_state(ws, endpoint.name, dep.name, "Failed", failure=_INTERRUPTED)
                if state in _CHANGING_STATES and runtime is not None and run:
                    # An interrupted update fails like any other: what served before goes on serving.
                    wanted[_key(endpoint.name, dep.name)] = runtime
                    _keep_serving(ws, endpoint.name, dep.name, runtime, wanted)
            elif state == "Succeeded" and run:
                if runtime is not None:
                    wanted[_key(endpoint.name, dep.name)] = runtime
                _bring_back(ws, endpoint.name, dep.name, runtime, wanted)
            elif state == "Failed" and runtime is not None and run:
                wanted[_key(endpoint.name, dep.name)] = runtime
                _keep_serving(ws, endpoint.name, dep.name, runtime)
    if run and ws.supervisor is not None:
        _background(_stop_unwanted(ws, wanted))


def _adopt_recorded(ws: Workspace) -> None:
    """Servers in the runtime's records of stored deployments are ours, even from before the ledger;
    a deployment stored without its runtime gets the one its record names."""
    from ..runtime import recorded_deployments

    assert ws.supervisor is not None
    stored = {}
    for endpoint in ws.store.children(ENDPOINT_KIND):
        for dep in ws.store.children(DEPLOYMENT_KIND, endpoint.id):
            stored[_key(endpoint.name, dep.name)] = (endpoint.name, dep.name, stored_runtime(dep.body))
    for runtime, endpoint_name, name in recorded_deployments(ws.supervisor.settings):
        found = stored.get(_key(endpoint_name, name))
        if found is None:
            continue  # not a deployment of this workspace (the runtime used directly?): not ours
        ws.supervisor.adopt(runtime, endpoint_name, name)
        if found[2] is None:
            record_runtime(ws, found[0], found[1], runtime)


def _wanted_now(ws: Workspace, runtime: str, endpoint: str, name: str) -> bool:
    """True when the deployment exists, runs on ``runtime`` and is not Failed (or is being changed)."""
    from .deployments import deployment_path

    record = ws.store.get(deployment_path(endpoint, name))
    if record is None or stored_runtime(record.body) != runtime:
        return False
    return bool(record.body["properties"].get("provisioningState") != "Failed")


async def _stop_unwanted(ws: Workspace, wanted: dict[tuple[str, str], str]) -> None:
    """Stop what no deployment wants; runtimes whose engine does not answer are retried."""
    supervisor = ws.supervisor
    assert supervisor is not None
    unreachable = await asyncio.to_thread(
        supervisor.stop_unwanted, lambda runtime, ep, name: wanted.get(_key(ep, name)) == runtime
    )
    for runtime in unreachable:
        _background(_stop_when_reachable(ws, runtime))


async def _stop_when_reachable(ws: Workspace, runtime: str) -> None:
    """Stop the servers on ``runtime`` that no deployment wants, once its engine answers."""
    supervisor = ws.supervisor
    if supervisor is None or runtime in _RETRYING:
        return
    _RETRYING.add(runtime)
    try:
        while True:
            left = await asyncio.to_thread(
                supervisor.stop_unwanted,
                lambda owned, ep, name: owned != runtime or _wanted_now(ws, owned, ep, name),
            )
            if runtime not in left:
                return
            log.info("servers on the %s runtime will be stopped once its engine answers", runtime)
            await asyncio.sleep(ENGINE_RETRY_SECONDS)
    finally:
        _RETRYING.discard(runtime)


def _keep_serving(
    ws: Workspace,
    endpoint: str,
    name: str,
    runtime: str,
    interrupted: dict[tuple[str, str], str] | None = None,
) -> None:
    """A Failed deployment whose previous servers still run keeps serving (its state stays Failed).

    ``interrupted``: its change was interrupted; when nothing serves (a first start was under
    way), what that change started is stopped (now, or once the runtime's engine answers).
    """
    supervisor = ws.supervisor
    assert supervisor is not None

    async def attach() -> None:
        try:
            if await supervisor.attach(endpoint, name, runtime):
                log.info(
                    "deployment %s/%s (Failed) still serves its previous version; attached", endpoint, name
                )
                return
            if interrupted is not None:
                await supervisor.stop(endpoint, name)
        except Exception as exc:  # its engine is gone: nothing serves, the stored reason stays
            log.info("deployment %s/%s (Failed) not attached: %s", endpoint, name, exc)
            if interrupted is not None:
                interrupted.pop(_key(endpoint, name), None)
                _background(_stop_when_reachable(ws, runtime))

    _background(attach())


def _bring_back(
    ws: Workspace, endpoint: str, name: str, runtime: str | None, wanted: dict[tuple[str, str], str]
) -> None:
    set_deployment_state(ws, endpoint, name, "Updating")

    async def work() -> None:
        supervisor = ws.supervisor
        if (
            supervisor is not None
            and runtime is not None
            and await supervisor.attach(endpoint, name, runtime)
        ):
            log.info("deployment %s/%s still runs on the %s runtime; attached", endpoint, name, runtime)
        else:
            await run_deployment(ws, endpoint, name)
        set_deployment_state(ws, endpoint, name, "Succeeded")

    def failed(error: dict[str, object]) -> None:
        wanted.pop(_key(endpoint, name), None)
        if runtime is not None:  # what survived there (its engine may not answer now) is stopped
            _background(_stop_when_reachable(ws, runtime))
        reason = (
            f"Could not bring the deployment back after a restart of the workspace: {error.get('message')}"
        )
        set_deployment_state(ws, endpoint, name, "Failed", failure=reason)

    record = ws.store.get(f"onlineEndpoints/{endpoint}/deployments/{name}")
    if record is not None:
        ws.operations.start(record.id, "recover", work, prefix="odidp", on_failure=failed)


async def shutdown_deployments(ws: Workspace) -> None:
    """Stop the servers of every deployment, on every runtime (their stored state stays, to be brought back)."""
    if ws.supervisor is None or not ws.supervisor.started:
        return
    await ws.supervisor.settle()
    left = await asyncio.to_thread(ws.supervisor.stop_unwanted, lambda runtime, ep, name: False)
    if left:
        log.warning(
            "servers on the %s runtime could not be stopped (no engine answers); "
            "jupyter-mlep workspace stop tries again",
            ", ".join(sorted(left)),
        )
