"""Rules the service enforces on names, traffic and counts, shared by specs, the REST layer
and the local workspace. Each raises :class:`~jupyter_mlep._errors.SpecValidationError`
saying how to fix the value.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from .._errors import SpecValidationError

__all__ = ["MAX_MIRROR_PERCENT", "validate_instance_count", "validate_name", "validate_traffic"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
MAX_MIRROR_PERCENT = 50
"""The largest share of requests an endpoint mirrors (to one deployment)."""


def validate_name(name: str, what: str = "endpoint") -> str:
    """Check an endpoint or deployment name: 3–32 characters, a letter first, then letters,
    digits and hyphens, not ending with a hyphen."""
    problem = None
    if not isinstance(name, str) or not 3 <= len(name) <= 32:
        problem = "must be 3 to 32 characters long"
    elif not name[0].isascii() or not name[0].isalpha():
        problem = "must start with a letter"
    elif not _NAME.match(name):
        problem = "may hold only letters, digits and hyphens"
    elif name.endswith("-"):
        problem = "must not end with a hyphen"
    if problem:
        raise SpecValidationError(
            f"The {what} name {name!r} is invalid: it {problem}.",
            hint=f"Choose a {what} name like 'my-{what}-1': 3–32 letters, digits or hyphens, "
            "starting with a letter and not ending with a hyphen.",
        )
    return name


def validate_instance_count(count: int, what: str = "instance_count") -> int:
    """Check that a deployment runs on at least one instance (the one check of an instance count:
    specs, :func:`~jupyter_mlep.operations.scale_deployment` and ``%endpoint scale``)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SpecValidationError(
            f"{what} must be a whole number of at least 1 (got {count!r}).",
            hint="A deployment needs at least one instance; to stop serving, set its traffic to 0 or delete it.",
        )
    return count


def validate_traffic(
    traffic: Mapping[str, int] | None,
    mirror_traffic: Mapping[str, int] | None = None,
    deployments: Collection[str] | None = None,
) -> None:
    """Check an endpoint's ``traffic`` and ``mirror_traffic`` as the service does.

    Traffic values are whole percentages 0–100 that sum to 100 (or to 0, when no deployment
    takes live traffic yet); mirror traffic is at most 50 percent, on at most one deployment,
    and never on a deployment that takes live traffic. With ``deployments`` (the names of the
    endpoint's deployments), every name must be one of them.

    These are the only traffic rules: operations check a split with them before sending it, the
    traffic sliders before enabling Apply (they show the message and the hint), and the local
    workspace before accepting it.
    """
    traffic = dict(traffic or {})
    mirror = dict(mirror_traffic or {})
    for label, values, high in (("traffic", traffic, 100), ("mirror_traffic", mirror, MAX_MIRROR_PERCENT)):
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
                raise SpecValidationError(
                    f"{label} for deployment {name!r} must be a whole percentage from 0 to {high} (got {value!r}).",
                    hint=f"Write {label} as deployment: percent pairs, e.g. {{'blue': 90, 'green': 10}}"
                    + (f"; mirror traffic is at most {high}%." if label == "mirror_traffic" else "."),
                )
    total = sum(traffic.values())
    if traffic and total not in (0, 100):
        shown = ", ".join(f"{name}={value}" for name, value in traffic.items())
        raise SpecValidationError(
            f"Traffic values must sum to 100, but {shown} sum to {total}.",
            hint=f"The live traffic sums to {total}%: adjust the percentages so they add up to 100 "
            "(e.g. blue=90 green=10).",
        )
    mirrored = {name: value for name, value in mirror.items() if value > 0}
    if len(mirrored) > 1:
        raise SpecValidationError(
            f"Mirror traffic can go to only one deployment, but it names {', '.join(sorted(mirrored))}.",
            hint="Mirror traffic to one deployment only, e.g. {'green': 10}.",
        )
    if sum(mirror.values()) > MAX_MIRROR_PERCENT:
        raise SpecValidationError(
            f"Mirror traffic may be at most {MAX_MIRROR_PERCENT} percent (got {sum(mirror.values())}).",
            hint=f"Lower the mirror percentage: mirror traffic is at most {MAX_MIRROR_PERCENT}%.",
        )
    for name in mirrored:
        if traffic.get(name, 0) > 0:
            raise SpecValidationError(
                f"Deployment {name!r} cannot receive mirror traffic: it already takes {traffic[name]}% "
                "of the live traffic.",
                hint="Mirror traffic to a deployment whose live traffic is 0 (the one you are testing): "
                f"{name} takes {traffic[name]}%.",
            )
    if deployments is not None:
        known = set(deployments)
        for label, values in (("traffic", traffic), ("mirror_traffic", mirror)):
            unknown = sorted(set(values) - known)
            if unknown:
                have = ", ".join(sorted(known)) or "none"
                raise SpecValidationError(
                    f"{label} names deployment(s) {', '.join(unknown)} that do not exist on this endpoint "
                    f"(its deployments: {have}).",
                    hint=f"There is no deployment {' or '.join(unknown)} here: create it first, or remove it "
                    "from the traffic settings.",
                )
