"""The sizing recommendation of a profile: the cheapest managed instance type and instance count
that serve ``target_rps`` with a p95 latency under ``target_p95_ms``, with its reasoning.

The model, shown line by line in :attr:`Recommendation.reasoning`:

1. Per worker (one inference-server worker serves one request at a time), the capacity is the
   highest throughput measured with p95 under the target, divided by the workers that served it,
   and at most 70 % of a core's worth of requests (``0.7 / CPU seconds per request``).
2. An instance of a size runs one worker per core (``WORKER_COUNT`` = its cores), as many as its
   memory holds: 80 % of it (the rest is the OS's and Azure ML's agents'), each worker needing the
   memory measured per worker plus 25 %.
3. Instances = target / (workers per instance × capacity per worker), rounded up; the size with the
   lowest hourly cost (instances × price) wins, then the one with fewer instances.

It assumes a core of the chosen size is as fast as one of the machine that was measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..specs import MANAGED_SIZES, VmSize

__all__ = ["CPU_HEADROOM", "MEMORY_HEADROOM", "USABLE_MEMORY", "LoadLevel", "Recommendation", "recommend"]

CPU_HEADROOM = 0.7
"""The share of a core a worker is planned to use at the target rate."""
USABLE_MEMORY = 0.8
"""The share of an instance's memory left to the inference server."""
MEMORY_HEADROOM = 1.25
"""Memory planned per worker, as a multiple of what was measured."""


@dataclass(frozen=True)
class Recommendation:
    """The chosen size and count (None when no size fits), and the reasoning, one step a line."""

    instance_type: str | None
    instance_count: int
    workers_per_instance: int
    usd_per_hour: float
    target_rps: float
    target_p95_ms: float
    reasoning: tuple[str, ...] = field(default_factory=tuple)

    @property
    def summary(self) -> str:
        """One line: what to deploy, or why nothing is recommended."""
        if self.instance_type is None:
            return f"No recommendation for {self.target_rps:g} req/s at p95 ≤ {self.target_p95_ms:g} ms."
        return (
            f"Recommended: {self.instance_count} × {self.instance_type} (WORKER_COUNT="
            f"{self.workers_per_instance}), about ${self.usd_per_hour:.2f}/h, for {self.target_rps:g} req/s "
            f"at p95 ≤ {self.target_p95_ms:g} ms."
        )


@dataclass(frozen=True)
class LoadLevel:
    """What one load level measured: throughput (req/s) and p95 latency (ms)."""

    label: str
    throughput: float
    p95_ms: float


def recommend(
    levels: Sequence[LoadLevel],
    *,
    workers: int,
    target_rps: float,
    target_p95_ms: float,
    cpu_seconds_per_request: float | None,
    memory_per_worker: float | None,
    sizes: Sequence[VmSize] = MANAGED_SIZES,
) -> Recommendation:
    """The cheapest managed size and count for the targets, from the load levels measured on
    ``workers`` workers in all (instances × ``WORKER_COUNT``)."""
    why: list[str] = []
    empty = Recommendation(None, 0, 0, 0.0, target_rps, target_p95_ms)
    meeting = [level for level in levels if level.p95_ms <= target_p95_ms and level.throughput > 0]
    if not meeting:
        floor = min(levels, key=lambda level: level.p95_ms, default=None)
        seen = (
            f"the lowest p95 measured was {floor.p95_ms:.1f} ms ({floor.label})"
            if floor
            else "nothing was measured"
        )
        why.append(
            f"No load level kept p95 ≤ {target_p95_ms:g} ms: {seen}. More instances do not lower the "
            "latency of one request: make run() faster, or relax --target-p95-ms."
        )
        return _with(empty, why)
    best = max(meeting, key=lambda level: level.throughput)
    per_worker = best.throughput / max(workers, 1)
    why.append(
        f"1. The highest throughput with p95 ≤ {target_p95_ms:g} ms was {best.throughput:.1f} req/s "
        f"({best.label}, p95 {best.p95_ms:.1f} ms) on {workers} worker(s): {per_worker:.1f} req/s per worker."
    )
    if cpu_seconds_per_request:
        cpu_bound = CPU_HEADROOM / cpu_seconds_per_request
        why.append(
            f"   A request costs {cpu_seconds_per_request * 1000:.2f} ms of CPU: a worker at "
            f"{CPU_HEADROOM:.0%} of a core serves {cpu_bound:.1f} req/s."
        )
        per_worker = min(per_worker, cpu_bound)
    why.append(f"   Planned capacity: {per_worker:.1f} req/s per worker.")
    if memory_per_worker:
        why.append(
            f"2. Memory: {memory_per_worker / 2**20:.0f} MiB per worker measured, planned "
            f"{memory_per_worker * MEMORY_HEADROOM / 2**20:.0f} MiB; {USABLE_MEMORY:.0%} of an instance's memory is usable."
        )
    choices = []
    for size in sizes:
        if size.gpus:
            continue
        fit = size.cores
        if memory_per_worker:
            fit = min(fit, int(size.memory_gb * 1e9 * USABLE_MEMORY // (memory_per_worker * MEMORY_HEADROOM)))
        if fit < 1:
            continue
        count = max(1, math.ceil(target_rps / (fit * per_worker)))
        choices.append((count * size.usd_per_hour, count, size.cores, size, fit))
    if not choices:
        why.append("No managed CPU size has the memory for one worker.")
        return _with(empty, why)
    choices.sort(key=lambda c: (c[0], c[1], c[2]))
    cost, count, _, size, fit = choices[0]
    why.append(
        f"3. {size.name} ({size.cores} cores, {size.memory_gb:g} GB, {size.tier}) runs {fit} worker(s): "
        f"{target_rps:g} req/s / ({fit} × {per_worker:.1f}) → {count} instance(s), about ${cost:.2f}/h, "
        "the lowest hourly cost of the managed sizes."
    )
    for other in choices[1:3]:
        why.append(f"   Next: {other[1]} × {other[3].name}, about ${other[0]:.2f}/h.")
    if size.cores < 2:
        why.append("   Azure notes that 1-core sizes may be too small to start larger models.")
    if count < 3:
        why.append("   Azure recommends at least 3 instances for production (upgrades and failures).")
    why.append(
        "   Assumes a core of this size is as fast as one of the machine measured; profile on Azure to confirm."
    )
    return Recommendation(size.name, count, fit, cost, target_rps, target_p95_ms, tuple(why))


def _with(base: Recommendation, why: list[str]) -> Recommendation:
    return Recommendation(
        base.instance_type,
        base.instance_count,
        base.workers_per_instance,
        base.usd_per_hour,
        base.target_rps,
        base.target_p95_ms,
        tuple(why),
    )
