"""Rollout gates (``error_rate<1%``, ``p95_ms<200``, ``requests>=20``), what they are checked on,
and the small parsers of the rollout's options (steps, intervals).

A gate is ``METRIC OPERATOR VALUE``:

* ``error_rate``: percent of the deployment's requests during the step that failed (status 5xx,
  408 for a request the deployment did not answer in time, or no answer), e.g. ``error_rate<1%``
  (the ``%`` is optional);
* ``p50_ms``, ``p90_ms``, ``p95_ms``, ``p99_ms``: latency percentiles, in milliseconds, over the
  deployment's requests during the step, e.g. ``p95_ms<200`` or ``p95_ms<200ms``;
* ``requests``: how many requests of the deployment were seen during the step, e.g. ``requests>=20``.

Operators are ``<``, ``<=``, ``>`` and ``>=``. Every gate is judged on a :class:`Measurement`
of one step only (the deployment's Azure Monitor metrics during the step, or sampled
invocations), never on totals, so earlier traffic cannot hide a bad step.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import UsageError
from ._metric_window import WindowMetrics, failed_status

__all__ = [
    "METRICS",
    "Gate",
    "GateCheck",
    "Measurement",
    "parse_gate",
    "parse_gates",
    "parse_interval",
    "parse_steps",
]

METRICS = {
    "error_rate": "%",
    "p50_ms": "ms",
    "p90_ms": "ms",
    "p95_ms": "ms",
    "p99_ms": "ms",
    "requests": "",
}
"""The metrics a gate can name, with the unit they are written in."""

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_GATE = re.compile(r"^\s*([A-Za-z_0-9]+)\s*(<=|>=|<|>|==|=|!=)\s*([-+0-9.eE]+)\s*(%|ms|s)?\s*$")
_EXAMPLES = 'e.g. --gate "error_rate<1%" --gate "p95_ms<200" --gate "requests>=20"'


@dataclass(frozen=True)
class Measurement:
    """What one deployment did during one step: requests, failures, status codes, latencies.

    ``source`` says where the figures come from: ``metrics`` (the deployment's live requests in
    its Azure Monitor metrics), ``metrics (mirrored)`` (the mirrored copies it received) or
    ``sampled`` (requests this rollout sent to the deployment itself). ``complete`` is False when
    the target was still publishing the step's metrics when the wait for them ended.
    """

    requests: int = 0
    errors: int = 0
    source: str = "metrics"
    status: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    complete: bool = True

    @property
    def error_rate(self) -> float | None:
        """Percent of the requests that failed (None without requests)."""
        return 100.0 * self.errors / self.requests if self.requests else None

    def value(self, metric: str) -> float | None:
        """The measured value of a gate's metric (None when nothing was measured)."""
        if metric == "requests":
            return float(self.requests)
        if not self.requests:
            return None
        result: float | None = getattr(self, metric)
        return result

    @classmethod
    def from_samples(cls, outcomes: Iterable[tuple[int, float]]) -> Measurement:
        """From sampled invocations: ``(status, latency in ms)`` pairs (status 0: no answer)."""
        pairs = list(outcomes)
        status: dict[str, int] = {}
        for code, _ in pairs:
            status[str(code)] = status.get(str(code), 0) + 1
        ordered = sorted(latency for _, latency in pairs)

        def pct(q: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 3)

        return cls(
            requests=len(pairs),
            errors=sum(1 for code, _ in pairs if failed_status(code)),
            source="sampled",
            status=status,
            p50_ms=pct(0.50),
            p90_ms=pct(0.90),
            p95_ms=pct(0.95),
            p99_ms=pct(0.99),
        )

    @classmethod
    def from_window(cls, window: WindowMetrics, *, mirror: bool = False) -> Measurement:
        """From the deployment's metrics during the step (``mirror``: the copies it received)."""
        latency = window.latency_ms
        return cls(
            requests=window.requests,
            errors=sum(count for code, count in window.status.items() if failed_status(code)),
            source="metrics (mirrored)" if mirror else "metrics",
            status=dict(window.status),
            p50_ms=latency.get(50),
            p90_ms=latency.get(90),
            p95_ms=latency.get(95),
            p99_ms=latency.get(99),
            complete=window.complete,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (with ``error_rate`` in percent)."""
        return {
            "source": self.source,
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": None if self.error_rate is None else round(self.error_rate, 3),
            "status": dict(self.status),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "complete": self.complete,
        }


def format_value(metric: str, value: float | None) -> str:
    """``12.5%``, ``180 ms``, ``20``; ``n/a`` for None."""
    if value is None:
        return "n/a"
    unit = METRICS[metric]
    if unit == "%":
        return f"{value:.3g}%" if value < 100 else f"{value:.0f}%"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.3g} ms"
    return f"{value:g}"


@dataclass(frozen=True)
class GateCheck:
    """One gate judged on one step: the measured value, whether it passed, and why not."""

    gate: Gate
    value: float | None
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {"gate": str(self.gate), "value": self.value, "passed": self.passed, "message": self.message}


@dataclass(frozen=True)
class Gate:
    """A condition a step must meet: ``metric`` ``op`` ``threshold`` (``error_rate`` in percent,
    latencies in milliseconds, ``requests`` a count)."""

    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{format_value(self.metric, self.threshold).replace(' ', '')}"

    def check(
        self, measured: Measurement, *, who: str = "the deployment", when: str = "the step"
    ) -> GateCheck:
        """Judge this gate on ``measured``; the message says what was measured and against what."""
        value = measured.value(self.metric)
        limit = format_value(self.metric, self.threshold)
        if value is None:
            return GateCheck(
                self,
                None,
                False,
                f"{self.metric} could not be measured: no requests reached {who} during {when}",
            )
        passed = _OPERATORS[self.op](value, self.threshold)
        shown = format_value(self.metric, value)
        verdict = "is" if passed else "is not"
        return GateCheck(self, value, passed, f"{self.metric} {shown} {verdict} {self.op} {limit}")


def parse_gate(text: str | Gate) -> Gate:
    """A :class:`Gate` from ``"error_rate<1%"``, ``"p95_ms<200"``, ``"requests>=20"``…"""
    if isinstance(text, Gate):
        return text
    match = _GATE.match(str(text))
    if match is None:
        raise UsageError(
            f"--gate {text!r} is not of the form METRIC<VALUE.",
            hint=f"Metrics: {', '.join(METRICS)}; operators <, <=, >, >=; {_EXAMPLES}.",
        )
    metric, op, number, unit = match.groups()
    metric = metric.lower()
    if metric not in METRICS:
        raise UsageError(
            f"--gate {text!r}: unknown metric {metric!r}.",
            hint=f"Use one of {', '.join(METRICS)}; {_EXAMPLES}.",
        )
    if op not in _OPERATORS:
        raise UsageError(
            f"--gate {text!r}: the operator {op!r} is not supported.",
            hint=f"Use <, <=, > or >=; {_EXAMPLES}.",
        )
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"--gate {text!r}: {number!r} is not a non-negative number.", hint=_EXAMPLES)
    expected = METRICS[metric]
    if unit == "s" and expected == "ms":
        value, unit = value * 1000.0, "ms"
    if unit and unit != expected:
        wanted = f"in {expected}" if expected else "a plain count"
        raise UsageError(f"--gate {text!r}: {metric} is {wanted}, not in {unit}.", hint=_EXAMPLES)
    if metric == "error_rate" and value > 100:
        raise UsageError(f"--gate {text!r}: an error rate is a percentage from 0 to 100.", hint=_EXAMPLES)
    return Gate(metric, op, value)


def parse_gates(gates: Iterable[str | Gate] | str | None) -> list[Gate]:
    """Every gate of a list (a single string is one gate)."""
    if gates is None:
        return []
    if isinstance(gates, (str, Gate)):
        gates = [gates]
    return [parse_gate(gate) for gate in gates]


_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|min|h)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_interval(value: float | int | str, option: str = "--interval") -> float:
    """Seconds in ``30s``, ``2m``, ``500ms``, ``1h``, a plain number of seconds, or ISO-8601 ``PT30S``."""
    if isinstance(value, bool):
        raise UsageError(f"{option} must be a duration, not {value!r}.")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _INTERVAL.match(value)
        if match is not None:
            seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
        elif value.strip().upper().startswith("P"):
            from ..specs import parse_duration

            try:
                seconds = parse_duration(value)
            except Exception:
                seconds = math.nan
        else:
            seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(
            f"{option} {value!r} is not a positive duration.", hint=f"E.g. {option} 30s, 2m, 500ms or 45."
        )
    return seconds


def parse_steps(value: str | Sequence[int], option: str = "--steps") -> list[int]:
    """Live percentages of the deployment, one per step: whole numbers 1–100, increasing
    (``"10,50,100"`` or ``[10, 50, 100]``)."""
    hint = f"E.g. {option} 10,50,100 (or {option} 10,50 for a canary that stops at 50%)."
    if isinstance(value, str):
        parts = [part.strip().rstrip("%") for part in value.split(",")]
        try:
            steps = [int(part) for part in parts]
        except ValueError:
            raise UsageError(f"{option} {value!r} is not a list of whole percentages.", hint=hint) from None
    else:
        steps = list(value)
        if any(isinstance(step, bool) or not isinstance(step, int) for step in steps):
            raise UsageError(f"{option} {value!r} is not a list of whole percentages.", hint=hint)
    if not steps:
        raise UsageError(f"{option} names no step.", hint=hint)
    if any(not 1 <= step <= 100 for step in steps):
        raise UsageError(f"{option} {value!r}: every step is a percentage from 1 to 100.", hint=hint)
    if any(b <= a for a, b in itertools.pairwise(steps)):
        raise UsageError(f"{option} {value!r}: the steps must increase.", hint=hint)
    return steps
