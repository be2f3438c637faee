"""Faults on purpose: make the workspace misbehave for the next N requests of a path.

Off by default. Tests of a client's retry and LRO handling arm them over HTTP with the
admin token::

    POST /mlep/v1/faults
    {"path": "/subscriptions/.../onlineEndpoints/ep1", "kind": "429", "count": 2,
     "method": "GET", "match": "exact", "retryAfter": 1, "delaySeconds": 0.5}

* ``kind``: ``"429"`` (with ``Retry-After``), ``"500"``, ``"503"``, ``"slow"`` (answer normally
  after ``delaySeconds``) or ``"drop"`` (close the connection without answering).
* ``path`` is compared case-insensitively with the request path (``match``: ``exact``, the
  default, or ``prefix``); ``method`` (optional) restricts it to one HTTP method.
* ``count`` requests are affected, then the fault disarms itself.

``GET /mlep/v1/faults`` lists the armed faults, ``DELETE /mlep/v1/faults`` clears them.
``POST /mlep/v1/faults/operations {"minimumSeconds": 2}`` makes every long-running
operation last at least that long (to observe ``InProgress`` and 409 conflicts).
Paths under ``/mlep/`` are never affected.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FAULT_KINDS", "Fault", "Faults"]

FAULT_KINDS = ("429", "500", "503", "slow", "drop")


@dataclass
class Fault:
    """One armed fault."""

    path: str
    kind: str
    count: int = 1
    method: str | None = None
    match: str = "exact"
    retryAfter: int = 1
    delaySeconds: float = 1.0

    def applies(self, method: str, path: str) -> bool:
        """True if this fault takes the request."""
        if self.method and self.method.upper() != method.upper():
            return False
        wanted, given = self.path.rstrip("/").lower(), path.rstrip("/").lower()
        return given.startswith(wanted) if self.match == "prefix" else given == wanted


class Faults:
    """The armed faults, consumed in the order they were armed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    @staticmethod
    def parse(data: dict[str, Any]) -> Fault:
        """A fault from its JSON description (ValueError when invalid)."""
        if not isinstance(data.get("path"), str) or not data["path"].startswith("/"):
            raise ValueError("'path' must be an absolute request path")
        if str(data.get("kind")) not in FAULT_KINDS:
            raise ValueError(f"'kind' must be one of {', '.join(FAULT_KINDS)}")
        count = data.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("'count' must be a positive integer")
        if data.get("match", "exact") not in ("exact", "prefix"):
            raise ValueError("'match' must be 'exact' or 'prefix'")
        return Fault(
            path=data["path"],
            kind=str(data["kind"]),
            count=count,
            method=data.get("method"),
            match=data.get("match", "exact"),
            retryAfter=int(data.get("retryAfter", 1)),
            delaySeconds=float(data.get("delaySeconds", 1.0)),
        )

    def arm(self, fault: Fault) -> None:
        """Add a fault."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def listing(self) -> list[dict[str, Any]]:
        """The armed faults as JSON."""
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    @property
    def armed(self) -> bool:
        """True while at least one fault is armed."""
        return bool(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request (consuming one of its count), or None."""
        if path.startswith("/mlep/"):
            return None
        with self._lock:
            for fault in self._faults:
                if fault.applies(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
