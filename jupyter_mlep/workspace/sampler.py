"""The CPU and memory sampler: every few seconds (``MLEP_METRICS_SAMPLE_SECONDS``, default 10)
each running deployment's instances are read through the runtime and their utilisation since the
previous reading goes into the metric series (``CpuUtilizationPercentage``,
``CpuMemoryUtilizationPercentage`` by ``instanceId``)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from .context import Workspace
from .endpoints import DEPLOYMENT_KIND, ENDPOINT_KIND

__all__ = ["sample_once", "sampler"]

log = logging.getLogger("jupyter_mlep.workspace")


def _interval() -> float:
    try:
        return max(1.0, float(os.environ.get("MLEP_METRICS_SAMPLE_SECONDS", "10")))
    except ValueError:
        return 10.0


def sample_once(ws: Workspace, previous: dict[tuple[str, str, str], tuple[float, Any]]) -> int:
    """Read every running deployment once (blocking); record the utilisation since the readings in
    ``previous`` (updated). The number of instances recorded."""
    from ..runtime import utilisation

    if ws.supervisor is None:
        return 0
    recorded = 0
    seen = set()
    for endpoint in ws.store.children(ENDPOINT_KIND):
        for dep in ws.store.children(DEPLOYMENT_KIND, endpoint.id):
            now = time.monotonic()
            for reading in ws.supervisor.usage(endpoint.name, dep.name):
                key = (endpoint.name, dep.name, reading.instance)
                seen.add(key)
                before = previous.get(key)
                previous[key] = (now, reading)
                if before is None:
                    continue
                cpu, memory = utilisation(before[1], reading, now - before[0])
                ws.metrics.sample(endpoint.name, dep.name, reading.instance, cpu, memory)
                recorded += 1
    for key in set(previous) - seen:
        del previous[key]
    return recorded


async def sampler(ws: Workspace) -> None:
    """Sample until cancelled."""
    previous: dict[tuple[str, str, str], tuple[float, Any]] = {}
    interval = _interval()
    while True:
        try:
            await asyncio.to_thread(sample_once, ws, previous)
        except Exception:  # a sampling failure must never stop the workspace
            log.exception("metrics sampling failed")
        await asyncio.sleep(interval)
