"""The CPU and memory sampler: every few seconds (``MLEP_METRICS_SAMPLE_SECONDS``, default 10)
each running deployment's instances are read through the runtime and their utilisation since the
previous reading goes into the metric series (``CpuUtilizationPercentage``,
``CpuMemoryUtilizationPercentage`` by ``instanceId``). The series are saved to
``$MLEP_HOME/metrics.json`` every minute (``MLEP_METRICS_SAVE_SECONDS``, default 60) and when the
workspace stops, and read back when it starts: a workspace killed outright loses at most that last
minute. The file holds at most the series' retention (25 hours of per-minute slots, a few MiB for
ten busy deployments), so it does not grow without limit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

from ._paths import write_private
from .context import Workspace
from .endpoints import DEPLOYMENT_KIND, ENDPOINT_KIND

__all__ = ["SAVE_SECONDS", "load_metrics", "sample_once", "sampler", "save_metrics"]

SAVE_SECONDS = 60.0
"""How often the series are written to disk by default (and once when the workspace stops)."""

log = logging.getLogger("jupyter_mlep.workspace")


def _seconds(name: str, default: float) -> float:
    """A period in seconds from the environment (at least 1 s; the default when unreadable)."""
    try:
        return max(1.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


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


def save_metrics(ws: Workspace) -> None:
    """Write the metric series to ``$MLEP_HOME/metrics.json`` (bounded by the series' retention)."""
    write_private(ws.paths.metrics, ws.metrics.dump())


def load_metrics(ws: Workspace) -> None:
    """Read back the series a previous run of the workspace saved, if any."""
    with contextlib.suppress(OSError):
        ws.metrics.load(ws.paths.metrics.read_text(encoding="utf-8"))


async def sampler(ws: Workspace) -> None:
    """Sample until cancelled; save the series every :data:`SAVE_SECONDS` (and when cancelled)."""
    previous: dict[tuple[str, str, str], tuple[float, Any]] = {}
    interval = _seconds("MLEP_METRICS_SAMPLE_SECONDS", 10.0)
    every = _seconds("MLEP_METRICS_SAVE_SECONDS", SAVE_SECONDS)
    saved = time.monotonic()
    try:
        while True:
            try:
                await asyncio.to_thread(sample_once, ws, previous)
                if time.monotonic() - saved >= every:
                    saved = time.monotonic()
                    await asyncio.to_thread(save_metrics, ws)
            except Exception:  # a sampling failure must never stop the workspace
                log.exception("metrics sampling failed")
            await asyncio.sleep(interval)
    finally:
        with contextlib.suppress(Exception):
            save_metrics(ws)
