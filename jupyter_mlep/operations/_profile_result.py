"""What ``%endpoint profile`` measured: per load level the requests, successes, errors by status,
throughput and latency percentiles, the deployment's CPU and memory, and the recommendation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..rendering import Table, TableResult
from ..rest import Shot
from ._recommend import Recommendation

__all__ = ["PERCENTILES", "ProfileLevel", "ProfileResult", "latency_summary"]

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p99.9", 99.9))
"""The latency percentiles reported (name, percent)."""


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    """Mean, the :data:`PERCENTILES` (nearest rank) and max of ``latencies_ms`` (empty: {})."""
    if not latencies_ms:
        return {}
    ordered = sorted(latencies_ms)
    out = {"mean": sum(ordered) / len(ordered)}
    for name, percent in PERCENTILES:
        rank = max(1, -(-len(ordered) * percent // 100))  # ceil without floats drifting
        out[name] = ordered[int(rank) - 1]
    out["max"] = ordered[-1]
    return out


@dataclass(frozen=True)
class ProfileLevel:
    """One load level: ``rps`` (open model) or ``concurrency`` (closed model), and what it got."""

    label: str
    rps: float | None
    concurrency: int | None
    seconds: float
    requests: int
    successes: int
    errors: dict[str, int]
    """Failed requests by status code (``"500"``), or by transport error for no answer."""
    latency_ms: dict[str, float]
    cpu_percent: float | None = None
    """Mean CPU use of the deployment's instances over the level (% of the CPUs they may use)."""
    cpu_seconds: float | None = None
    memory_bytes: int | None = None
    """Resident memory of the deployment's instances at the end of the level."""
    client_cpu_seconds: float = 0.0

    @property
    def throughput(self) -> float:
        """Answered requests per second."""
        answered = self.requests - sum(v for k, v in self.errors.items() if not k.isdigit())
        return answered / self.seconds if self.seconds > 0 else 0.0

    @classmethod
    def from_shots(
        cls, label: str, rps: float | None, concurrency: int | None, seconds: float, shots: Sequence[Shot]
    ) -> ProfileLevel:
        """Count and summarise one run's requests."""
        errors = Counter(
            str(s.status) if s.status else (s.error or "no answer")
            for s in shots
            if not 200 <= s.status < 300
        )
        answered = [s.latency * 1000 for s in shots if s.status]
        return cls(
            label=label,
            rps=rps,
            concurrency=concurrency,
            seconds=seconds,
            requests=len(shots),
            successes=len(shots) - sum(errors.values()),
            errors=dict(sorted(errors.items())),
            latency_ms=latency_summary(answered),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "rps": self.rps,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "successes": self.successes,
            "errors": dict(self.errors),
            "throughput": round(self.throughput, 3),
            "latencyMs": {k: round(v, 3) for k, v in self.latency_ms.items()},
            "cpuPercent": self.cpu_percent,
            "memoryBytes": self.memory_bytes,
            "clientCpuMsPerRequest": round(1000 * self.client_cpu_seconds / max(self.requests, 1), 4),
        }


@dataclass(frozen=True, repr=False)
class ProfileResult(TableResult):
    """A profile of one deployment: its load levels, resources, and the sizing recommendation."""

    kind: ClassVar[str] = "profile"

    endpoint: str
    deployment: str
    route: str
    """``router`` (the endpoint's scoring URI) or ``direct`` (the deployment's servers)."""
    levels: tuple[ProfileLevel, ...]
    peak_cpu_percent: float | None = None
    mean_cpu_percent: float | None = None
    peak_memory_bytes: int | None = None
    peak_memory_percent: float | None = None
    cpu_seconds_per_request: float | None = None
    recommendation: Recommendation | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def level(self, label: str) -> ProfileLevel:
        """The level called ``label`` (``"concurrency 4"``, ``"50 req/s"``)."""
        return next(level for level in self.levels if level.label == label)

    @property
    def client_cpu_ms_per_request(self) -> float:
        """The load generator's own CPU time per request, in ms."""
        requests = sum(level.requests for level in self.levels)
        return 1000 * sum(level.client_cpu_seconds for level in self.levels) / max(requests, 1)

    def title(self) -> str:
        route = "through the router" if self.route == "router" else "directly on its servers"
        return f"Profile of {self.endpoint}/{self.deployment} {route}"

    def tables(self) -> list[Table]:
        names = ["mean", "p50", "p90", "p95", "p99", "p99.9"]
        head = [
            "load",
            "requests",
            "ok",
            "errors",
            "req/s",
            *(f"{n} ms" for n in names),
            "CPU %",
            "memory MiB",
        ]
        rows = []
        for level in self.levels:
            errors = ", ".join(f"{k}: {v}" for k, v in level.errors.items()) or "-"
            rows.append(
                [
                    level.label,
                    level.requests,
                    level.successes,
                    errors,
                    f"{level.throughput:.1f}",
                    *(f"{level.latency_ms[n]:.2f}" if n in level.latency_ms else "-" for n in names),
                    "-" if level.cpu_percent is None else f"{level.cpu_percent:.0f}",
                    "-" if level.memory_bytes is None else f"{level.memory_bytes / 2**20:.0f}",
                ]
            )
        return [(head, rows)]

    def footer(self) -> list[tuple[str, bool]]:
        lines: list[tuple[str, bool]] = []
        parts = []
        if self.mean_cpu_percent is not None or self.peak_cpu_percent is not None:
            parts.append(f"CPU mean {_pct(self.mean_cpu_percent)}, peak {_pct(self.peak_cpu_percent)}")
        if self.peak_memory_bytes is not None:
            share = "" if self.peak_memory_percent is None else f" ({self.peak_memory_percent:.0f} %)"
            parts.append(f"memory peak {self.peak_memory_bytes / 2**20:.0f} MiB{share}")
        if self.cpu_seconds_per_request is not None:
            parts.append(f"{self.cpu_seconds_per_request * 1000:.2f} ms of CPU per request")
        if parts:
            lines.append(("Deployment: " + "; ".join(parts) + ".", False))
        lines.append(
            (f"Load generator: {self.client_cpu_ms_per_request:.3f} ms of its own CPU per request.", False)
        )
        lines += [(note, False) for note in self.notes]
        if self.recommendation is not None:
            lines.append((self.recommendation.summary, True))
            lines += [(line, False) for line in self.recommendation.reasoning]
        return lines

    def chart_png(self) -> bytes | None:
        """Latency percentiles against throughput, one point per level (None for one level)."""
        from ..charts import latency_throughput_png

        points = [
            (level.throughput, {k: level.latency_ms[k] for k in ("p50", "p95", "p99")})
            for level in self.levels
            if level.latency_ms
        ]
        if not points:
            return None
        target = self.recommendation.target_p95_ms if self.recommendation else None
        return latency_throughput_png(points, target_ms=target)

    def html(self) -> str:
        from ..charts import chart_img

        png = self.chart_png()
        chart = chart_img("latency against throughput", png) if png else ""
        return super().html()[: -len("</div>")] + chart + "</div>"

    def to_dict(self) -> dict[str, Any]:
        rec = self.recommendation
        return {
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "route": self.route,
            "levels": [level.to_dict() for level in self.levels],
            "peakCpuPercent": self.peak_cpu_percent,
            "meanCpuPercent": self.mean_cpu_percent,
            "peakMemoryBytes": self.peak_memory_bytes,
            "peakMemoryPercent": self.peak_memory_percent,
            "cpuSecondsPerRequest": self.cpu_seconds_per_request,
            "clientCpuMsPerRequest": round(self.client_cpu_ms_per_request, 4),
            "recommendation": None
            if rec is None
            else {
                "instanceType": rec.instance_type,
                "instanceCount": rec.instance_count,
                "workersPerInstance": rec.workers_per_instance,
                "usdPerHour": round(rec.usd_per_hour, 3),
                "targetRps": rec.target_rps,
                "targetP95Ms": rec.target_p95_ms,
                "reasoning": list(rec.reasoning),
            },
            "notes": list(self.notes),
        }


def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f} %"
