"""CPU and memory use of a deployment's instances: the processes of a launcher and its server
(from /proc), or a container (from the Docker engine's statistics).

Figures are cumulative CPU seconds and resident memory; the caller turns two readings into a
utilisation (:func:`utilisation`), as Azure Monitor's ``CpuUtilizationPercentage`` and
``CpuMemoryUtilizationPercentage`` report per instance.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["InstanceUsage", "group_usage", "machine_memory", "utilisation"]

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class InstanceUsage:
    """One reading of an instance: CPU seconds used so far, resident memory and its limit (bytes),
    and the CPUs it may use."""

    instance: str
    cpu_seconds: float
    memory_bytes: int
    memory_limit: int
    cpus: float


def machine_memory() -> int:
    """This machine's memory in bytes."""
    return int(os.sysconf("SC_PHYS_PAGES")) * _PAGE


def group_usage(groups: Iterable[int]) -> tuple[float, int]:
    """CPU seconds (user + system, children reaped included) and resident bytes of every process
    in the process groups ``groups``."""
    wanted = {g for g in groups if g}
    cpu, rss = 0.0, 0
    if not wanted:
        return cpu, rss
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) not in wanted:
            continue
        cpu += sum(int(v) for v in fields[11:15]) / _TICKS  # utime, stime, cutime, cstime
        rss += int(fields[21]) * _PAGE
    return cpu, rss


def utilisation(before: InstanceUsage, after: InstanceUsage, seconds: float) -> tuple[float, float]:
    """(CPU %, memory %) of an instance between two readings ``seconds`` apart; CPU is a share of
    the CPUs the instance may use."""
    busy = max(0.0, after.cpu_seconds - before.cpu_seconds)
    cpu = 100.0 * busy / (seconds * max(after.cpus, 1e-9)) if seconds > 0 else 0.0
    memory = 100.0 * after.memory_bytes / after.memory_limit if after.memory_limit else 0.0
    return min(cpu, 100.0), min(memory, 100.0)
