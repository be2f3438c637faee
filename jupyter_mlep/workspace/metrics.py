"""Per-minute metric series of the local workspace's endpoints and deployments, named and served
as Azure Monitor names and serves those of Azure ML online endpoints.

The router records every request it forwards (:meth:`MetricSeries.request`: status code, latency,
bytes) and the requests in flight (:meth:`MetricSeries.connection`); the runtimes' samples of CPU
and memory per instance come through :meth:`MetricSeries.sample`. Each (endpoint, deployment)
keeps a ring of :data:`RETENTION_MINUTES` one-minute slots, so memory stays bounded whatever the
traffic: a slot holds counts by status code, a latency histogram (buckets 2 % wide, so
percentiles are within about 1 %) and the sums of the samples. Beside them, the requests of the
last :data:`FINE_SECONDS` are also kept per second (a ring of that many one-second slots), so
that a window that does not start or end on a whole minute (a rollout step: ``timespan`` of
instants, ``interval=FULL``) is counted exactly, to the second. The per-second ring is not saved:
the per-minute rings are what Azure publishes, and what a restart reads back.

``publish_delay`` holds back the last seconds of every answer, as Azure Monitor's ingestion delay
does (set through ``POST /mlep/v1/faults/metrics``): clients that wait for a window's data to be
complete are tested against the local workspace so.

``GET {endpoint or deployment id}/providers/Microsoft.Insights/metrics`` answers with
:meth:`MetricSeries.query` (see :func:`metrics_response`)::

    {"cost": 0, "timespan": "<start>/<end>", "interval": "PT1M",
     "namespace": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
     "resourceregion": "local",
     "value": [{"id": …, "type": "Microsoft.Insights/metrics",
                "name": {"value": "RequestsPerMinute", "localizedValue": "Requests Per Minute"},
                "unit": "Count", "errorCode": "Success",
                "timeseries": [{"metadatavalues": [{"name": {"value": "statusCode", …}, "value": "200"}],
                                "data": [{"timeStamp": "2026-12-02T12:00:00Z", "total": 120.0}, …]}]}]}
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "DEFINITIONS",
    "FINE_SECONDS",
    "RETENTION_MINUTES",
    "MetricDefinition",
    "MetricSeries",
    "parse_filter",
]

RETENTION_MINUTES = 24 * 60 + 60
"""How many one-minute slots each deployment keeps (25 hours: at least 24 hours are always there)."""

FINE_SECONDS = 15 * 60
"""How many one-second slots of requests each deployment keeps (the last 15 minutes)."""

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
class _Stat:
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

    def merge(self, other: _Stat) -> None:
        self.total += other.total
        self.count += other.count
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)


@dataclass
class _Slot:
    """What one deployment saw during one minute (or, in the per-second ring, one second)."""

    minute: int
    status: dict[int, int] = field(default_factory=dict)
    latency: _Stat = field(default_factory=_Stat)
    histogram: dict[int, int] = field(default_factory=dict)
    bytes: int = 0
    connections: _Stat = field(default_factory=_Stat)
    cpu: dict[str, _Stat] = field(default_factory=dict)
    memory: dict[str, _Stat] = field(default_factory=dict)


def _bucket(latency_ms: float) -> int:
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


class MetricSeries:
    """The per-minute rings of every deployment, by endpoint (names lower-cased)."""

    def __init__(self, retention_minutes: int = RETENTION_MINUTES, clock: Any = time.time) -> None:
        self.retention = retention_minutes
        self._clock = clock
        self._rings: dict[tuple[str, str, bool], list[_Slot | None]] = {}
        self._fine: dict[tuple[str, str, bool], list[_Slot | None]] = {}
        self._in_flight: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self.publish_delay = 0.0
        """Seconds of the most recent data every answer leaves out (a simulated ingestion delay)."""

    def _slot(self, endpoint: str, deployment: str, mirror: bool = False) -> _Slot:
        return _ring_slot(
            self._rings,
            (endpoint.lower(), deployment.lower(), mirror),
            int(self._clock() // 60),
            self.retention,
        )

    def request(
        self,
        endpoint: str,
        deployment: str,
        status: int,
        latency_ms: float,
        size: int = 0,
        *,
        mirror: bool = False,
    ) -> None:
        """Record one request answered (``status``; 0 when nothing answered) after ``latency_ms``.

        A ``mirror`` copy counts in the deployment's own series only, not in the endpoint's (its
        clients never sent it), as Azure shows mirrored traffic in the shadow deployment's metrics.
        """
        now = self._clock()
        key = (endpoint.lower(), deployment.lower(), mirror)
        index = _bucket(latency_ms)
        with self._lock:
            minute = _ring_slot(self._rings, key, int(now // 60), self.retention)
            minute.bytes += size
            for slot in (minute, _ring_slot(self._fine, key, int(now), FINE_SECONDS)):
                slot.status[status] = slot.status.get(status, 0) + 1
                slot.latency.add(latency_ms)
                slot.histogram[index] = slot.histogram.get(index, 0) + 1

    def connection(self, endpoint: str, deployment: str, delta: int) -> None:
        """A request to ``deployment`` started (``delta`` 1) or ended (-1): samples the active count."""
        with self._lock:
            key = (endpoint.lower(), deployment.lower())
            active = self._in_flight[key] = max(0, self._in_flight.get(key, 0) + delta)
            self._slot(endpoint, deployment).connections.add(float(active))

    def sample(self, endpoint: str, deployment: str, instance: str, cpu: float, memory: float) -> None:
        """One sample of an instance's CPU and memory utilisation (percent)."""
        with self._lock:
            slot = self._slot(endpoint, deployment)
            slot.cpu.setdefault(instance, _Stat()).add(cpu)
            slot.memory.setdefault(instance, _Stat()).add(memory)

    def forget(self, endpoint: str, deployment: str | None = None) -> None:
        """Drop the series of a deleted endpoint or deployment."""
        with self._lock:
            for key in [k for k in self._rings if k[0] == endpoint.lower()]:
                if deployment is None or key[1] == deployment.lower():
                    del self._rings[key]
                    self._fine.pop(key, None)
                    self._in_flight.pop(key[:2], None)

    def dump(self) -> str:
        """The series as JSON (what :meth:`load` reads back): a restarted workspace keeps its history."""
        with self._lock:
            rings = [
                {"key": list(key), "slots": [_slot_json(slot) for slot in ring if slot is not None]}
                for key, ring in self._rings.items()
            ]
        return json.dumps({"version": 1, "rings": rings}, separators=(",", ":"))

    def load(self, text: str) -> None:
        """Add the slots of a :meth:`dump` still within the retention (anything unreadable is skipped)."""
        try:
            data = json.loads(text)
        except ValueError:
            return
        oldest = int(self._clock() // 60) - self.retention + 1
        with self._lock:
            for item in data.get("rings") or []:
                try:
                    endpoint, deployment, mirror = item["key"]
                    slots = [_slot_from(raw) for raw in item["slots"]]
                except (KeyError, TypeError, ValueError):
                    continue
                ring = self._rings.setdefault(
                    (str(endpoint), str(deployment), bool(mirror)), [None] * self.retention
                )
                for slot in slots:
                    if slot.minute >= oldest:
                        ring[slot.minute % self.retention] = slot

    def slots(self) -> int:
        """How many one-minute slots are held (all deployments): the storage bound's measure."""
        with self._lock:
            return sum(1 for ring in self._rings.values() for slot in ring if slot is not None)

    def query(
        self,
        endpoint: str,
        deployment: str | None,
        names: Iterable[str],
        start: datetime,
        end: datetime,
        interval: timedelta | None,
        aggregations: Iterable[str] | None,
        filters: dict[str, str],
    ) -> list[dict[str, Any]]:
        """The ``value`` list of an Azure Monitor metrics answer (``filters``: dimension → value or ``*``).

        ``interval`` None is Azure Monitor's ``FULL``: one point for exactly ``start`` to ``end``
        (to the second while the per-second ring holds its edges); otherwise points per whole
        ``interval`` minutes, the window widened to whole minutes as Azure Monitor does.
        """
        visible = self._clock() - self.publish_delay
        wanted = [a.lower() for a in aggregations] if aggregations else None
        with self._lock:
            rings: dict[str, list[_Slot]] = {}
            for (ep, dep, mirror), ring in self._rings.items():
                if ep != endpoint.lower() or (deployment is not None and dep != deployment.lower()):
                    continue
                if mirror and deployment is None:  # the endpoint's clients did not send these
                    continue
                if interval is None:
                    found = self._window(ring, self._fine.get((ep, dep, mirror)), start, end, visible)
                else:
                    first, last = int(start.timestamp() // 60), math.ceil(end.timestamp() / 60)
                    hidden = 0 if not self.publish_delay else math.floor(visible / 60)
                    found = [
                        slot
                        for slot in ring
                        if slot is not None
                        and first <= slot.minute < last
                        and (not hidden or slot.minute < hidden)
                    ]
                rings.setdefault(dep, []).extend(found)
        if interval is None:
            first, last, step = 0, 1, 1
        else:
            step = max(1, int(interval.total_seconds() // 60))
            first = int(start.timestamp() // 60)
            last = max(first + 1, math.ceil(end.timestamp() / 60))
        out = []
        for name in names:
            definition = DEFINITIONS[name.lower()]
            chosen = wanted or [definition.aggregation.lower()]
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
                                    "timeStamp": _stamp(
                                        start.timestamp() if interval is None else bucket * 60
                                    ),
                                    **_values(definition, parts, chosen),
                                }
                                for bucket, parts in _buckets(series, first, last, step, interval is None)
                            ],
                        }
                        for labels, series in _split(definition, rings, filters)
                    ],
                }
            )
        return out

    def _window(
        self,
        ring: list[_Slot | None],
        fine: list[_Slot | None] | None,
        start: datetime,
        end: datetime,
        visible: float,
    ) -> list[_Slot]:
        """The slots of exactly ``start``–``end``: whole minutes from the per-minute ring, the
        partial minutes at the edges second by second from the per-second ring while it holds them
        (else their whole minute); only slots that ended by ``visible`` (with a publish delay)."""
        begin, finish = start.timestamp(), end.timestamp()
        published = math.floor(visible) if self.publish_delay else math.inf
        oldest_fine = int(self._clock()) - FINE_SECONDS + 1
        out: list[_Slot] = []
        for minute in range(int(begin // 60), math.ceil(finish / 60)):
            low, high = minute * 60, minute * 60 + 60
            whole = begin <= low and high <= finish and high <= published
            if not whole and fine is not None and low >= oldest_fine:
                last = int(min(high, math.ceil(finish), published))
                out += [
                    slot
                    for second in range(max(low, int(begin)), last)
                    if (slot := fine[second % FINE_SECONDS]) is not None and slot.minute == second
                ]
            elif high <= published:
                slot = ring[minute % len(ring)]
                if slot is not None and slot.minute == minute:
                    out.append(slot)
        return out


def _ring_slot(
    rings: dict[tuple[str, str, bool], list[_Slot | None]], key: tuple[str, str, bool], index: int, size: int
) -> _Slot:
    """The slot of ``index`` (a minute or a second) in ``key``'s ring of ``size``, new if stale."""
    ring = rings.get(key)
    if ring is None:
        ring = rings[key] = [None] * size
    slot = ring[index % size]
    if slot is None or slot.minute != index:
        slot = ring[index % size] = _Slot(index)
    return slot


def _stat_json(stat: _Stat) -> list[float]:
    return [stat.total, stat.count, stat.minimum, stat.maximum]


def _stat_from(raw: list[float]) -> _Stat:
    return _Stat(float(raw[0]), int(raw[1]), float(raw[2]), float(raw[3]))


def _slot_json(slot: _Slot) -> dict[str, Any]:
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


def _slot_from(raw: dict[str, Any]) -> _Slot:
    return _Slot(
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
_Part = tuple[_Slot, str | None]  # a slot, and the status code or instance it is restricted to


def _split(
    definition: MetricDefinition, rings: dict[str, list[_Slot]], filters: dict[str, str]
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


def _keys(definition: MetricDefinition, slot: _Slot) -> list[dict[str, str]]:
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
    stat = _Stat()
    name = definition.name
    if name == "RequestsPerMinute":
        for slot, code in parts:
            stat.add(float(slot.status.get(int(code or 0), 0)))
        if stat.count:  # per minute: several deployments or codes in one minute add up
            minutes = len({slot.minute for slot, _ in parts})
            stat = _Stat(stat.total, minutes, stat.minimum, stat.maximum)
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
