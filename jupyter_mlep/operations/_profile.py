"""Profiling a deployment: sample requests sent at a fixed rate or at each of several
concurrencies (:func:`~jupyter_mlep.rest.run_load`), through the endpoint's router or straight to
the deployment's servers, then its CPU and memory and a sizing recommendation.

CPU and memory come from where the metrics come from: the local workspace reads its
deployments' processes or containers (``/mlep/v1/deployments/…``, the readings its metrics
sampler takes, here taken before and after each level, so each level's CPU is exact); on both
targets the peaks are the Azure Monitor maxima of ``CpuUtilizationPercentage`` and
``CpuMemoryUtilizationPercentage`` over the profile's minutes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from .._errors import MlepError, ServiceError, UsageError
from ..rest import DEPLOYMENT_HEADER, LoadTarget, RestClient, Shot, run_load
from ..specs import VM_SIZE_TABLE, OnlineDeployment
from ._deployments import get_deployment
from ._invoke import Payload, encode_payload, invoke, scoring_endpoint, scoring_headers
from ._metrics import get_metrics
from ._profile_result import ProfileLevel, ProfileResult
from ._recommend import LoadLevel, recommend

__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_TARGET_P95_MS", "LevelProgress", "profile"]

DEFAULT_CONCURRENCY = (1, 2, 4, 8)
"""The concurrency sweep when neither a rate nor concurrencies are given."""
DEFAULT_TARGET_P95_MS = 200.0
"""The p95 latency the recommendation aims at unless told otherwise."""

LevelProgress = Callable[[str, float, float, Sequence[Shot]], None]
"""Called about once a second while a level runs: (level label, seconds so far, level duration, answers so far)."""


def _check(
    requests: Sequence[Payload], rps: float | None, concurrency: Sequence[int] | None, duration: float
) -> None:
    if not requests:
        raise UsageError(
            "No sample requests to send.", hint="Give a request file, a $variable or a list of requests."
        )
    if rps is not None and concurrency:
        raise UsageError(
            "Give either --rps or --concurrency, not both.", hint="E.g. --rps 50, or --concurrency 1,2,4,8."
        )
    if rps is not None and not rps > 0:
        raise UsageError(f"--rps must be above 0, not {rps:g}.", hint="E.g. --rps 50.")
    if concurrency and any(c < 1 for c in concurrency):
        raise UsageError("Every --concurrency must be 1 or more.", hint="E.g. --concurrency 1,2,4,8.")
    if not duration > 0:
        raise UsageError(f"--duration must be above 0 s, not {duration:g}.", hint="E.g. --duration 30s.")


def _bodies(requests: Sequence[Payload]) -> tuple[tuple[bytes, ...], str]:
    encoded = [encode_payload(request) for request in requests]
    kinds = {content_type for _, content_type, _ in encoded}
    if len(kinds) > 1:
        raise UsageError(
            f"The sample requests mix content types ({', '.join(sorted(kinds))}).",
            hint="Profile one kind of request at a time (all JSON, or all binary).",
        )
    return tuple(body for body, _, _ in encoded), kinds.pop()


def _servers(client: RestClient, endpoint: str, deployment: str) -> dict[str, Any] | None:
    if not client.capabilities.deployment_servers:
        return None
    data: dict[str, Any] = client.get(f"/mlep/v1/deployments/{endpoint}/{deployment}") or {}
    return data


def _cpu(servers: dict[str, Any] | None) -> tuple[float, float, int, int] | None:
    """(CPU seconds, CPUs, resident bytes, memory limit) summed over the instances."""
    instances = (servers or {}).get("instances") or []
    if not instances:
        return None
    return (
        sum(float(i["cpuSeconds"]) for i in instances),
        sum(float(i["cpus"]) for i in instances),
        sum(int(i["memoryBytes"]) for i in instances),
        sum(int(i["memoryLimit"]) for i in instances),
    )


def profile(
    client: RestClient,
    endpoint: str,
    deployment: str,
    requests: Sequence[Payload],
    *,
    rps: float | None = None,
    concurrency: Sequence[int] | None = None,
    duration: float = 30.0,
    direct: bool = False,
    target_rps: float | None = None,
    target_p95_ms: float | None = None,
    progress: LevelProgress | None = None,
) -> ProfileResult:
    """Load ``deployment`` of ``endpoint`` with ``requests`` (sent in turn) for ``duration``
    seconds at ``rps`` requests per second, or for ``duration`` seconds at each of
    ``concurrency`` (default 1, 2, 4, 8 clients); ``direct``: on the deployment's own servers
    (local workspace), else through the endpoint's scoring URI pinned to ``deployment``.

    The recommendation aims at ``target_rps`` (default: the highest throughput measured) with p95
    ≤ ``target_p95_ms`` (default 200 ms). Raises :class:`~jupyter_mlep.UsageError` for bad
    arguments and the scoring errors of :func:`invoke` when a sample request is refused.
    """
    _check(requests, rps, concurrency, duration)
    bodies, content_type = _bodies(requests)
    if direct and not client.capabilities.deployment_servers:
        raise UsageError(
            "--direct reaches a deployment's servers on the local workspace only.",
            hint="On Azure, profile through the endpoint (leave out --direct): the "
            f"{DEPLOYMENT_HEADER} header already sends every request to the deployment.",
        )
    info = scoring_endpoint(client, endpoint)
    spec = get_deployment(client, endpoint, deployment)
    checked = invoke(
        client, endpoint, bodies[0], deployment=deployment, headers={"Content-Type": content_type}
    )
    headers = {"Content-Type": content_type, **scoring_headers(client, endpoint, info.auth_mode)}
    headers[DEPLOYMENT_HEADER] = checked.deployment or deployment
    servers = _servers(client, endpoint, deployment)
    sockets = tuple((servers or {}).get("sockets") or ())
    if direct and not sockets:
        raise ServiceError(
            f"Deployment '{deployment}' of endpoint '{endpoint}' has no running server to profile.",
            hint=f"Check it with %endpoint show {endpoint}, or profile without --direct.",
        )
    assert info.scoring_uri is not None
    target = LoadTarget(
        url="http://localhost/score" if direct else info.scoring_uri,
        headers={"Content-Type": content_type} if direct else headers,
        bodies=bodies,
        sockets=sockets if direct else (),
        verify=client.verify,
    )
    plan = (
        [(f"{rps:g} req/s", rps, None)]
        if rps is not None
        else [(f"concurrency {c}", None, c) for c in (concurrency or DEFAULT_CONCURRENCY)]
    )
    started = time.time()
    levels = []
    for label, rate, clients in plan:
        before = _cpu(_servers(client, endpoint, deployment))
        run = run_load(
            target,
            duration=duration,
            rps=rate,
            concurrency=clients,
            progress=None if progress is None else functools.partial(_report, progress, label, duration),
        )
        after = _cpu(_servers(client, endpoint, deployment))
        level = ProfileLevel.from_shots(label, rate, clients, run.seconds, run.shots)
        extra: dict[str, Any] = {"client_cpu_seconds": run.client_cpu_seconds}
        if before and after:
            used = max(0.0, after[0] - before[0])
            extra |= {
                "cpu_seconds": used,
                "cpu_percent": 100.0 * used / (run.seconds * max(after[1], 1e-9)),
                "memory_bytes": after[2],
            }
        levels.append(replace(level, **extra))
    return _result(client, endpoint, deployment, spec, levels, started, direct, target_rps, target_p95_ms)


def _report(
    progress: LevelProgress, label: str, duration: float, seconds: float, shots: Sequence[Shot]
) -> None:
    progress(label, seconds, duration, shots)


def _peaks(
    client: RestClient, endpoint: str, deployment: str, since: float
) -> tuple[float | None, float | None, float | None, str]:
    """Peak CPU %, peak memory % and mean CPU % of the instances over the last ``since`` seconds
    (Azure Monitor's per-minute maxima and averages)."""
    try:
        metrics = get_metrics(
            client,
            endpoint,
            deployment,
            metrics=["CpuUtilizationPercentage", "CpuMemoryUtilizationPercentage"],
            since=since,
            aggregations=["Maximum", "Average"],
        )
    except MlepError as exc:
        return None, None, None, f"Peaks unavailable: the metrics could not be read ({exc})."

    def values(name: str, aggregation: str) -> list[float]:
        return [
            p.values[aggregation]
            for s in metrics.series
            if s.name == name
            for p in s.points
            if aggregation in p.values
        ]

    cpu, memory = (
        values("CpuUtilizationPercentage", "maximum"),
        values("CpuMemoryUtilizationPercentage", "maximum"),
    )
    mean = values("CpuUtilizationPercentage", "average")
    return (
        max(cpu) if cpu else None,
        max(memory) if memory else None,
        sum(mean) / len(mean) if mean else None,
        "",
    )


def _result(
    client: RestClient,
    endpoint: str,
    deployment: str,
    spec: OnlineDeployment,
    levels: list[ProfileLevel],
    started: float,
    direct: bool,
    target_rps: float | None,
    target_p95_ms: float | None,
) -> ProfileResult:
    notes = []
    peak_cpu, peak_memory, monitor_mean, note = _peaks(
        client, endpoint, deployment, time.time() - started + 60
    )
    if note:
        notes.append(note)
    measured = [level for level in levels if level.cpu_seconds is not None]
    requests = sum(level.requests for level in measured)
    seconds = sum(level.seconds for level in measured)
    mean_cpu = cpu_per_request = None
    size = VM_SIZE_TABLE.get(str(spec.instance_type))
    if measured and requests:
        mean_cpu = sum((level.cpu_percent or 0.0) * level.seconds for level in measured) / max(seconds, 1e-9)
        cpu_per_request = sum(level.cpu_seconds or 0.0 for level in measured) / requests
    elif monitor_mean is not None and size is not None:
        notes.append(
            f"CPU from Azure Monitor's minutes (which may include idle time around the run), "
            f"on {spec.instance_count} × {spec.instance_type}."
        )
        mean_cpu = monitor_mean
        answered = sum(level.requests for level in levels)
        busy = monitor_mean / 100 * size.cores * spec.instance_count * sum(level.seconds for level in levels)
        cpu_per_request = busy / max(answered, 1)
    memory = [level.memory_bytes for level in levels if level.memory_bytes is not None]
    peak_bytes = max(memory) if memory else None
    if peak_bytes is None and peak_memory is not None and size is not None:
        peak_bytes = int(peak_memory / 100 * size.memory_gb * 1e9)
    if peak_cpu is not None and mean_cpu is not None:
        peak_cpu = max(peak_cpu, max(level.cpu_percent or 0.0 for level in levels))
    elif peak_cpu is None and measured:
        peak_cpu = max(level.cpu_percent or 0.0 for level in measured)
    workers = _workers(spec)
    total_workers = workers * max(spec.instance_count, 1)
    target = (
        target_rps if target_rps is not None else max((level.throughput for level in levels), default=0.0)
    )
    recommendation = recommend(
        [
            LoadLevel(level.label, level.throughput, level.latency_ms.get("p95", float("inf")))
            for level in levels
        ],
        workers=total_workers,
        target_rps=round(target, 1),
        target_p95_ms=target_p95_ms if target_p95_ms is not None else DEFAULT_TARGET_P95_MS,
        cpu_seconds_per_request=cpu_per_request,
        memory_per_worker=None if peak_bytes is None else peak_bytes / total_workers,
    )
    return ProfileResult(
        endpoint=endpoint,
        deployment=deployment,
        route="direct" if direct else "router",
        levels=tuple(levels),
        peak_cpu_percent=peak_cpu,
        mean_cpu_percent=mean_cpu,
        peak_memory_bytes=peak_bytes,
        peak_memory_percent=peak_memory,
        cpu_seconds_per_request=cpu_per_request,
        recommendation=recommendation,
        notes=tuple(notes),
    )


def _workers(spec: OnlineDeployment) -> int:
    """The inference server's workers per instance (``WORKER_COUNT``, default 1)."""
    try:
        return max(1, int((spec.environment_variables or {}).get("WORKER_COUNT", 1)))
    except (TypeError, ValueError):
        return 1
