"""Helpers shared by the benchmark scripts: run code in a fresh interpreter, medians, a table."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # this checkout, and the tests' support package

from support.samples import MODEL_1, SCORE_MODEL_1_SHORT  # noqa: E402

MODEL_1_SCRIPT = SCORE_MODEL_1_SHORT
"""A scoring script for MODEL_1 (the tests' own)."""

__all__ = ["MODEL_1", "MODEL_1_SCRIPT", "REPO", "fresh_ms", "median_of", "print_table"]


def fresh_ms(code: str, *, python: str = sys.executable, cwd: Path | None = None) -> float:
    """Run ``code`` in a new interpreter; it must print one number (milliseconds) as its last line."""
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=cwd, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


def median_of(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    """Call ``measure()`` ``runs`` times; return the median and all values."""
    values = [measure() for _ in range(runs)]
    return statistics.median(values), values


def print_table(title: str, rows: Sequence[tuple[str, str, str]]) -> None:
    """Print a small Markdown table of (figure, value, note)."""
    print(f"\n### {title}\n")
    print("| figure | value | note |")
    print("| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
