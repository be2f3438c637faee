"""ISO-8601 durations ⇄ seconds."""

from __future__ import annotations

import pytest

from jupyter_mlep._errors import SpecError
from jupyter_mlep.specs import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT0.5S", 0.5),
        ("PT5S", 5),
        ("PT1M30S", 90),
        ("PT5M", 300),
        ("PT1H", 3600),
        ("P1D", 86400),
        ("P1DT2H", 93600),
        ("P1W", 604800),
        ("PT0S", 0),
        ("pt2s", 2),
    ],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "PT0.5S"),
        (5, "PT5S"),
        (90, "PT1M30S"),
        (3600, "PT1H"),
        (7200, "PT2H"),
        (86400, "P1D"),
        (0, "PT0S"),
        (90.25, "PT1M30.25S"),
        (93600, "P1DT2H"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "5S", "P1Y", "P1M", "PT1.5M", "P1DT", "soon"])
def test_invalid_durations_are_refused(text: str) -> None:
    with pytest.raises(SpecError, match="not an ISO-8601 duration"):
        parse_duration(text)


def test_negative_durations_are_refused() -> None:
    with pytest.raises(SpecError, match="cannot be negative"):
        format_duration(-1)
