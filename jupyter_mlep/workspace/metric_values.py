"""What the local workspace's metric series hold, and how they become Azure Monitor's answer.

The metrics as Azure Monitor names them (:data:`DEFINITIONS`), the :class:`Slot` of one minute
(or one second) of one deployment with its :class:`Stat` sums and latency histogram (buckets 2 %
wide: percentiles within about 1 %), the slots' JSON for the saved file, ``$filter`` parsing, and
:func:`metric_values`: the ``value`` list of an answer (see :mod:`.metrics` for its shape).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "DEFINITIONS",
    "MetricDefinition",
    "Slot",
    "Stat",
    "latency_bucket",
    "metric_values",
    "parse_filter",
    "slot_from",
    "slot_json",
]

_RATIO = 1.02
_LOG_RATIO = math.log(_RATIO)
_AGGREGATIONS = ("average", "count", "maximum", "minimum", "total")


@dataclass(frozen=True)
class MetricDefinition:
    """One metric as Azure Monitor names it: REST name, unit, the default aggregation, the
    dimensions the local workspace can split by, and the resource types that publish it."""

    name: str
    display: str
    unit: str
    aggregation: str
    dimensions: tuple[str, ...] = ()
    endpoint: bool = True
    deployment: bool = True


DEFINITIONS: dict[str, MetricDefinition] = {
    d.name.lower(): d
    for d in (
        MetricDefinition(
            "RequestsPerMinute",
            "Requests Per Minute",
            "Count",
            "Total",
            ("deployment", "statusCode", "statusCodeClass"),
        ),
        MetricDefinition("RequestLatency", "Request Latency", "Milliseconds", "Average", ("deployment",)),
        *(
            MetricDefinition(f"RequestLatency_P{p}", f"Request Latency P{p}", "Milliseconds", "Average")
            for p in (50, 90, 95, 99)
        ),
        MetricDefinition("ConnectionsActive", "Connections Active", "Count", "Average", deployment=False),
        MetricDefinition("NetworkBytes", "Network Bytes", "BytesPerSecond", "Average", deployment=False),
        MetricDefinition(
            "CpuUtilizationPercentage",
            "CPU Utilization Percentage",
            "Percent",
            "Average",
            ("instanceId",),
            endpoint=False,
        ),
        MetricDefinition(
            "CpuMemoryUtilizationPercentage",
            "CPU Memory Utilization Percentage",
            "Percent",
            "Average",
            ("instanceId",),
            endpoint=False,
        ),
    )
}


@dataclass
class Stat:
    """Sum, count, minimum and maximum of samples."""

    total: float = 0.0
    count: int = 0
    minimum: float = math.inf
    maximum: float = -math.inf

    def add(self, value: float) -> None:
        self.total += value
        self.count += 1
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)

    def merge(self, other: Stat) -> None:
        self.total += other.total
        self.count += other.count
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)


@dataclass
class Slot:
    """What one deployment saw during one minute (or, in the per-second ring, one second)."""

    minute: int
    status: dict[int, int] = field(default_factory=dict)
    latency: Stat = field(default_factory=Stat)
    histogram: dict[int, int] = field(default_factory=dict)
    bytes: int = 0
    connections: Stat = field(default_factory=Stat)
    cpu: dict[str, Stat] = field(default_factory=dict)
    memory: dict[str, Stat] = field(default_factory=dict)


def latency_bucket(latency_ms: float) -> int:
    """The histogram bucket of a latency (ms)."""
    return math.floor(math.log(max(latency_ms, 0.001)) / _LOG_RATIO)


def _bucket_value(index: int) -> float:
    return float(_RATIO ** (index + 0.5))


def _percentile(histogram: dict[int, int], q: float) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return round(_bucket_value(index), 3)
    return None  # pragma: no cover - the loop always reaches rank


def metric_values(
    names: Iterable[str],
    rings: dict[str, list[Slot]],
    filters: dict[str, str],
    aggregations: list[str] | None,
    minutes: tuple[int, int, int],
    full: float | None,
) -> list[dict[str, Any]]:
    """The ``value`` list of an Azure Monitor answer from the slots of each deployment: points
    every ``step`` minutes from minute ``first`` to ``last`` (``minutes``), or, with ``full`` (the
    window's start, seconds), one point for all the slots (``interval=FULL``)."""
    first, last, step = minutes
    out = []
    for name in names:
        definition = DEFINITIONS[name.lower()]
        chosen = aggregations or [definition.aggregation.lower()]
        out.append(
            {
                "type": "Microsoft.Insights/metrics",
                "name": {"value": definition.name, "localizedValue": definition.display},
                "displayDescription": definition.display,
                "unit": definition.unit,
                "errorCode": "Success",
                "timeseries": [
                    {
                        "metadatavalues": [
                            {"name": {"value": dim, "localizedValue": dim}, "value": value}
                            for dim, value in labels
                        ],
                        "data": [
                            {
                                "timeStamp": _stamp(bucket * 60 if full is None else full),
                                **_values(definition, parts, chosen),
                            }
                            for bucket, parts in _buckets(series, first, last, step, full is not None)
                        ],
                    }
                    for labels, series in _split(definition, rings, filters)
                ],
            }
        )
    return out


def _stat_json(stat: Stat) -> list[float]:
    return [stat.total, stat.count, stat.minimum, stat.maximum]


def _stat_from(raw: list[float]) -> Stat:
    return Stat(float(raw[0]), int(raw[1]), float(raw[2]), float(raw[3]))


def slot_json(slot: Slot) -> dict[str, Any]:
    """A slot as the saved file holds it."""
    return {
        "minute": slot.minute,
        "status": slot.status,
        "latency": _stat_json(slot.latency),
        "histogram": slot.histogram,
        "bytes": slot.bytes,
        "connections": _stat_json(slot.connections),
        "cpu": {k: _stat_json(v) for k, v in slot.cpu.items()},
        "memory": {k: _stat_json(v) for k, v in slot.memory.items()},
    }


def slot_from(raw: dict[str, Any]) -> Slot:
    """A slot read back from the saved file (KeyError, TypeError or ValueError when malformed)."""
    return Slot(
        minute=int(raw["minute"]),
        status={int(k): int(v) for k, v in raw["status"].items()},
        latency=_stat_from(raw["latency"]),
        histogram={int(k): int(v) for k, v in raw["histogram"].items()},
        bytes=int(raw["bytes"]),
        connections=_stat_from(raw["connections"]),
        cpu={k: _stat_from(v) for k, v in raw["cpu"].items()},
        memory={k: _stat_from(v) for k, v in raw["memory"].items()},
    )


Labels = tuple[tuple[str, str], ...]
_Part = tuple[Slot, str | None]  # a slot, and the status code or instance it is restricted to


def _split(
    definition: MetricDefinition, rings: dict[str, list[Slot]], filters: dict[str, str]
) -> list[tuple[Labels, list[_Part]]]:
    """The time series of one metric: one, or one per value of the dimensions filtered with ``*``."""
    groups: dict[Labels, list[_Part]] = {}
    for dep, slots in sorted(rings.items()):
        if not _keep(filters.get("deployment"), dep):
            continue
        for slot in slots:
            for key in _keys(definition, slot):
                labels: list[tuple[str, str]] = []
                values = {"deployment": dep, **key}
                if any(
                    not _keep(filters.get(dim), values.get(dim))
                    for dim in ("statuscode", "statuscodeclass", "instanceid")
                ):
                    continue
                for dim in definition.dimensions:
                    if filters.get(dim.lower()) == "*":
                        labels.append((dim, values.get(dim.lower()) or ""))
                restrict = key.get("statuscode") or key.get("instanceid")
                groups.setdefault(tuple(labels), []).append((slot, restrict))
    if not groups and not any(v == "*" for v in filters.values()):
        groups[()] = []
    return sorted(groups.items())


def _keys(definition: MetricDefinition, slot: Slot) -> list[dict[str, str]]:
    if definition.name == "RequestsPerMinute":
        return [{"statuscode": str(code), "statuscodeclass": _class(code)} for code in slot.status]
    if definition.name.startswith("Cpu"):
        return [{"instanceid": instance} for instance in slot.cpu]
    return [{}]


def _class(code: int) -> str:
    return f"{code // 100}xx" if code else "0xx"


def _keep(wanted: str | None, value: str | None) -> bool:
    return wanted is None or wanted == "*" or (value or "").lower() == wanted.lower()


def _buckets(
    parts: list[_Part], first: int, last: int, step: int, whole: bool = False
) -> list[tuple[int, list[_Part]]]:
    """The parts by time bucket (``whole``: all in one, the ``FULL`` interval)."""
    if whole:
        return [(first, parts)]
    out: dict[int, list[_Part]] = {minute: [] for minute in range(first, last, step)}
    for slot, restrict in parts:
        out[first + (slot.minute - first) // step * step].append((slot, restrict))
    return sorted(out.items())


def _values(definition: MetricDefinition, parts: list[_Part], aggregations: list[str]) -> dict[str, float]:
    stat = Stat()
    name = definition.name
    if name == "RequestsPerMinute":
        for slot, code in parts:
            stat.add(float(slot.status.get(int(code or 0), 0)))
        if stat.count:  # per minute: several deployments or codes in one minute add up
            minutes = len({slot.minute for slot, _ in parts})
            stat = Stat(stat.total, minutes, stat.minimum, stat.maximum)
    elif name == "RequestLatency":
        for slot, _ in parts:
            stat.merge(slot.latency)
    elif name.startswith("RequestLatency_P"):
        histogram: dict[int, int] = {}
        for slot, _ in parts:
            for index, count in slot.histogram.items():
                histogram[index] = histogram.get(index, 0) + count
        value = _percentile(histogram, int(name.rsplit("P", 1)[1]) / 100)
        if value is not None:
            stat.add(value)
    elif name == "ConnectionsActive":
        for slot, _ in parts:
            stat.merge(slot.connections)
    elif name == "NetworkBytes":
        for slot, _ in parts:
            stat.add(slot.bytes / 60.0)
    else:
        source = "cpu" if name == "CpuUtilizationPercentage" else "memory"
        for slot, instance in parts:
            samples = getattr(slot, source).get(instance or "")
            if samples is not None:
                stat.merge(samples)
    if not stat.count:
        return {"count": 0.0} if "count" in aggregations else {}
    values = {
        "average": stat.total / stat.count,
        "count": float(stat.count),
        "maximum": stat.maximum,
        "minimum": stat.minimum,
        "total": stat.total,
    }
    return {key: round(values[key], 4) for key in aggregations if key in values}


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_FILTER = re.compile(r"^\s*(\w+)\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)


def parse_filter(text: str | None) -> dict[str, str] | None:
    """``deployment eq 'blue' and statusCode eq '*'`` → ``{"deployment": "blue", "statuscode": "*"}``;
    None when it is not of that form."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _FILTER.match(clause)
        if match is None:
            return None
        out[match.group(1).lower()] = match.group(2)
    return out
