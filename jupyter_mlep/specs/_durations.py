"""ISO-8601 durations (``PT0.5S``, ``PT1M30S``, ``P1D``) to seconds and back.

The REST API writes every timeout and period as an ISO-8601 duration; the YAML files use
integer seconds (probes, job limits) or milliseconds (request settings).
"""

from __future__ import annotations

import re

from .._errors import SpecError

__all__ = ["format_duration", "parse_duration"]

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_UNIT_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def parse_duration(text: str) -> float:
    """Seconds in an ISO-8601 duration such as ``PT0.5S``, ``PT1M30S`` or ``P1D``.

    Years and months are refused: their length in seconds is not fixed.
    """
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise SpecError(
            f"{text!r} is not an ISO-8601 duration the service accepts.",
            hint='Write it like "PT5S" (5 seconds), "PT0.5S", "PT1M30S" or "P1D".',
        )
    return sum(float(value) * _UNIT_SECONDS[unit] for unit, value in match.groupdict().items() if value)


def format_duration(seconds: float) -> str:
    """The ISO-8601 duration of ``seconds``: 0.5 → ``PT0.5S``, 90 → ``PT1M30S``, 86400 → ``P1D``."""
    if seconds < 0:
        raise SpecError(f"A duration cannot be negative (got {seconds} seconds).")
    millis = round(seconds * 1000)
    days, millis = divmod(millis, 86_400_000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    text = "P" + (f"{days}D" if days else "")
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if millis or not (days or hours or minutes):
        whole, fraction = divmod(millis, 1000)
        clock += f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") + "S"
    return text + ("T" + clock if clock else "")
