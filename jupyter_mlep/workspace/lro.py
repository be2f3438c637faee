"""Long-running operations as Azure runs them: status resources, polling headers, 409 while busy.

A PUT/PATCH/DELETE/POST action on an endpoint or deployment starts an :class:`Operation`
(saved in the store) and a background task that does the work. Clients poll
``…/locations/local/mfeOperationsStatus/{id}`` (``Azure-AsyncOperation``) or
``…/mfeOperationResults/{id}`` (``Location``) until it is done.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from .arm import LOCATION, PROVIDER, SUBSCRIPTION_ID, ArmError, now_iso
from .store import Operation, Store

__all__ = ["OperationRunner", "operation_urls"]

log = logging.getLogger("jupyter_mlep.workspace")

RETRY_AFTER_SECONDS = 1
OPERATION_TIMEOUT = "PT1H"


def operation_urls(base_url: str, op_id: str, api_version: str) -> tuple[str, str]:
    """The ``Azure-AsyncOperation`` (status) and ``Location`` (result) URLs of an operation."""
    root = f"{base_url}/subscriptions/{SUBSCRIPTION_ID}/providers/{PROVIDER}/locations/{LOCATION}"
    query = f"?api-version={api_version}"
    return f"{root}/mfeOperationsStatus/{op_id}{query}", f"{root}/mfeOperationResults/{op_id}{query}"


class OperationRunner:
    """Starts, tracks and finishes long-running operations."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._tasks: set[asyncio.Task[None]] = set()
        self.minimum_seconds = 0.0
        """Every operation lasts at least this long (fault injection; 0 by default)."""

    def busy(self, *rids: str) -> Operation | None:
        """An unfinished operation on one of these resources, or None."""
        wanted = {rid.lower() for rid in rids}
        for op in self._store.operations_in_progress():
            if op.resource in wanted:
                return op
        return None

    def refuse_if_busy(self, what: str, *rids: str) -> None:
        """409 ``Conflict`` when an operation is in progress on one of these resources."""
        op = self.busy(*rids)
        if op is not None:
            raise ArmError(
                409,
                "Conflict",
                f"There is already an operation in progress on {what} (operation {op.id}, {op.action}). "
                "Wait until it finishes, then retry.",
            )

    def start(
        self,
        resource: str,
        action: str,
        work: Callable[[], Awaitable[None]],
        *,
        prefix: str = "op",
        on_failure: Callable[[dict[str, Any]], None] | None = None,
    ) -> Operation:
        """Record a new operation on ``resource`` and run ``work`` in the background.

        ``work`` finishing means Succeeded; raising :class:`ArmError` means Failed with that
        error; ``on_failure`` then gets the error (to mark the resource Failed).
        """
        op = Operation(
            f"{prefix}:{uuid.uuid4()}:{uuid.uuid4()}",
            resource.lower(),
            action,
            "InProgress",
            None,
            now_iso(),
            None,
        )
        self._store.save_operation(op)
        task = asyncio.get_running_loop().create_task(self._run(op, work, on_failure))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return op

    def settle(
        self, resource: str, action: str, set_state: Callable[[str], None], *, prefix: str = "op"
    ) -> Operation:
        """An operation whose work was done before it started (the resource is stored): when it ends,
        ``set_state`` gets ``"Succeeded"``, or ``"Failed"`` if it fails (the server stopped first)."""

        async def work() -> None:
            set_state("Succeeded")

        return self.start(
            resource, action, work, prefix=prefix, on_failure=lambda _error: set_state("Failed")
        )

    async def _run(
        self,
        op: Operation,
        work: Callable[[], Awaitable[None]],
        on_failure: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        error: dict[str, Any] | None = None
        try:
            await asyncio.sleep(self.minimum_seconds)  # 0 by default: the client gets its 201/202 first
            await work()
        except ArmError as exc:
            error = exc.body()["error"]
        except asyncio.CancelledError:
            error = {"code": "Canceled", "message": "The workspace server stopped during the operation."}
            raise
        except Exception as exc:
            log.exception("operation %s failed", op.id)
            error = {"code": "InternalServerError", "message": f"{type(exc).__name__}: {exc}", "details": []}
        finally:
            op.status = "Succeeded" if error is None else "Failed"
            op.error = error
            op.end_time = now_iso()
            if error is not None and on_failure is not None:
                try:
                    on_failure(error)
                except Exception:
                    log.exception("marking %s failed", op.resource)
            self._store.save_operation(op)

    def fail_interrupted(self, reason: str) -> list[Operation]:
        """Mark every unfinished operation Failed (after a crash); returns them."""
        interrupted = self._store.operations_in_progress()
        for op in interrupted:
            op.status = "Failed"
            op.error = {"code": "OperationInterrupted", "message": reason, "details": []}
            op.end_time = now_iso()
            self._store.save_operation(op)
        return interrupted

    async def drain(self) -> None:
        """Cancel the operations still running (server shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    def status_body(op: Operation, base_url: str) -> dict[str, Any]:
        """The ARM operation-status body."""
        body: dict[str, Any] = {
            "id": operation_urls(base_url, op.id, "x")[0].split("?")[0].removeprefix(base_url),
            "name": op.id,
            "status": op.status,
            "startTime": op.start_time,
        }
        if op.end_time:
            body["endTime"] = op.end_time
        if op.error:
            body["error"] = op.error
        return body

    @staticmethod
    def headers(op: Operation, base_url: str, api_version: str) -> dict[str, str]:
        """Polling headers for a 201/202: both URLs, ``Retry-After`` and the timeout."""
        status_url, result_url = operation_urls(base_url, op.id, api_version)
        return {
            "Azure-AsyncOperation": status_url,
            "Location": result_url,
            "Retry-After": str(RETRY_AFTER_SECONDS),
            "x-ms-async-operation-timeout": OPERATION_TIMEOUT,
        }
