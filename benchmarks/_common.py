"""Helpers shared by the benchmark scripts: run code in a fresh interpreter, medians, a table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("MLEP_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures" / "azureml-examples")
)
MODEL_1 = FIXTURES / "cli" / "endpoints" / "online" / "model-1"
"""The Azure ML example model (a scikit-learn regression), its conda file and sample request."""

MODEL_1_SCRIPT = """\
import json, os
import joblib, numpy as np

def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model/sklearn_regression_model.pkl"))

def run(raw_data):
    return model.predict(np.array(json.loads(raw_data)["data"])).tolist()
"""
"""A scoring script for MODEL_1."""


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
