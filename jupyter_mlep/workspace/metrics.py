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
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .metric_values import (
    DEFINITIONS,
    MetricDefinition,
    Slot,
    Stat,
    latency_bucket,
    metric_values,
    parse_filter,
    slot_from,
    slot_json,
)

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


class MetricSeries:
    """The per-minute rings of every deployment, by endpoint (names lower-cased)."""

    def __init__(self, retention_minutes: int = RETENTION_MINUTES, clock: Any = time.time) -> None:
        self.retention = retention_minutes
        self._clock = clock
        self._rings: dict[tuple[str, str, bool], list[Slot | None]] = {}
        self._fine: dict[tuple[str, str, bool], list[Slot | None]] = {}
        self._in_flight: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self.publish_delay = 0.0
        """Seconds of the most recent data every answer leaves out (a simulated ingestion delay)."""

    def _slot(self, endpoint: str, deployment: str, mirror: bool = False) -> Slot:
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
        index = latency_bucket(latency_ms)
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
            slot.cpu.setdefault(instance, Stat()).add(cpu)
            slot.memory.setdefault(instance, Stat()).add(memory)

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
                {"key": list(key), "slots": [slot_json(slot) for slot in ring if slot is not None]}
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
                    slots = [slot_from(raw) for raw in item["slots"]]
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
            rings: dict[str, list[Slot]] = {}
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
        return metric_values(
            names,
            rings,
            filters,
            wanted,
            (first, last, step),
            start.timestamp() if interval is None else None,
        )

    def _window(
        self,
        ring: list[Slot | None],
        fine: list[Slot | None] | None,
        start: datetime,
        end: datetime,
        visible: float,
    ) -> list[Slot]:
        """The slots of exactly ``start``–``end``: whole minutes from the per-minute ring, the
        partial minutes at the edges second by second from the per-second ring while it holds them
        (else their whole minute); only slots that ended by ``visible`` (with a publish delay)."""
        begin, finish = start.timestamp(), end.timestamp()
        published = math.floor(visible) if self.publish_delay else math.inf
        oldest_fine = int(self._clock()) - FINE_SECONDS + 1
        out: list[Slot] = []
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
    rings: dict[tuple[str, str, bool], list[Slot | None]], key: tuple[str, str, bool], index: int, size: int
) -> Slot:
    """The slot of ``index`` (a minute or a second) in ``key``'s ring of ``size``, new if stale."""
    ring = rings.get(key)
    if ring is None:
        ring = rings[key] = [None] * size
    slot = ring[index % size]
    if slot is None or slot.minute != index:
        slot = ring[index % size] = Slot(index)
    return slot
