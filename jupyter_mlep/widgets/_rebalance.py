"""The rules of the traffic sliders, as pure functions (no ipywidgets): tested on their own.

Moving one deployment's slider keeps the live split at 100 percent: the deployments that are
neither moved nor locked take up the difference, in proportion to their current shares (an equal
share when they all hold 0), rounded to whole percentages by the largest-remainder method so the
total is exactly 100. Locked deployments never change; when every other deployment is locked,
the move is clamped to the one value that keeps the total. Mirror traffic goes to one deployment,
at most 50 percent, never to one that takes live traffic (Azure refuses such a split).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .._errors import SpecValidationError
from ..operations._traffic import distribute
from ..specs import validate_traffic
from ..specs._validation import MAX_MIRROR_PERCENT

__all__ = [
    "MAX_MIRROR_PERCENT",
    "TOTAL",
    "apply_problem",
    "distribute",
    "format_split",
    "mirror_problem",
    "mirror_split",
    "move",
    "normalized",
]

TOTAL = 100
"""The sum the live split keeps."""


def move(split: Mapping[str, int], name: str, value: int, locked: Collection[str] = ()) -> dict[str, int]:
    """The split after moving ``name`` to ``value`` percent, the others rebalanced.

    ``value`` is clamped to 0…(100 − the locked deployments' total). Unlocked other deployments
    share the rest proportionally; locked ones keep their values. A locked ``name`` (or an unknown
    one) does not move. When every other deployment is locked, ``name`` takes exactly what keeps
    the sum at 100.
    """
    current = {key: max(0, int(val)) for key, val in split.items()}
    if name not in current or name in locked:
        return current
    fixed = {key: val for key, val in current.items() if key != name and key in locked}
    free = {key: val for key, val in current.items() if key != name and key not in locked}
    room = max(0, TOTAL - sum(fixed.values()))
    value = room if not free else min(max(0, int(value)), room)
    return {**current, **fixed, **distribute(room - value, free), name: value}


def normalized(split: Mapping[str, int], deployments: Collection[str]) -> dict[str, int]:
    """Every deployment of ``deployments`` with its share of ``split`` (0 when absent), by name."""
    return {name: max(0, int(split.get(name, 0))) for name in sorted(deployments)}


def mirror_split(deployment: str | None, percent: int) -> dict[str, int]:
    """Mirror traffic as the endpoint takes it: ``{deployment: percent}``, or ``{}`` for none."""
    if not deployment or percent <= 0:
        return {}
    return {deployment: int(percent)}


def mirror_problem(traffic: Mapping[str, int], deployment: str | None, percent: int) -> str | None:
    """Why mirroring ``percent`` to ``deployment`` cannot be applied (None when it can)."""
    if not deployment or percent <= 0:
        return None
    if percent > MAX_MIRROR_PERCENT:
        return f"Mirror traffic may be at most {MAX_MIRROR_PERCENT}% (it is {percent}%)."
    if deployment not in traffic:
        return f"The endpoint has no deployment {deployment!r} to mirror traffic to."
    live = int(traffic.get(deployment, 0))
    if live > 0:
        return (
            f"{deployment} takes {live}% of the live traffic: mirror only to a deployment with 0% live "
            "traffic (Azure refuses it)."
        )
    return None


def apply_problem(
    traffic: Mapping[str, int], mirror: Mapping[str, int], deployments: Collection[str]
) -> str | None:
    """Why this split cannot be applied (None when the service would accept it)."""
    total = sum(traffic.values())
    if traffic and total not in (0, TOTAL):
        return f"The live traffic sums to {total}%, not 100%."
    shadow = [name for name, value in mirror.items() if value > 0]
    if len(shadow) > 1:
        return f"Mirror traffic can go to one deployment only (not {', '.join(sorted(shadow))})."
    for name in shadow:
        problem = mirror_problem(traffic, name, mirror[name])
        if problem:
            return problem
    try:
        validate_traffic(traffic, mirror, deployments)
    except SpecValidationError as exc:
        return exc.message
    return None


def format_split(split: Mapping[str, int]) -> str:
    """``blue=70%, green=30%`` (by name; ``none`` when empty)."""
    return ", ".join(f"{name}={int(split[name])}%" for name in sorted(split)) or "none"
