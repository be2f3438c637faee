"""Helpers of the runtime benchmarks: the fixture model-1 deployment, timing, scoring, tables."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from _common import MODEL_1, print_table
from support.samples import AZURE_IMAGE, BASE_IMAGE, model_1_spec, score_model_1, write_script

from jupyter_mlep.runtime import DeploymentSpec, EnvironmentWarning, ProbeSettings, uds_request

PROBE = ProbeSettings(initial_delay=0, period=1, timeout=2, failure_threshold=120)
REQUEST = (MODEL_1 / "sample-request.json").read_bytes()


def tempdir(prefix: str) -> Path:
    """A temporary folder that is removed when the benchmark exits."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


def setup_home() -> Path:
    """A private MLEP_HOME (and the local base image for Azure's image) for one benchmark run."""
    warnings.simplefilter("ignore", EnvironmentWarning)  # known: Python 3.12 asked, 3.11 here
    home = tempdir("mlep-bench-home-")
    os.environ["MLEP_HOME"] = str(home)
    os.environ.setdefault("MLEP_IMAGE_MAP", f"{AZURE_IMAGE}={BASE_IMAGE}")
    return home


def write_score(code: Path, version: int) -> None:
    """Write the model-1 scoring script that also returns ``version``."""
    write_script(code, score_model_1(version))


def spec_for(code: Path, name: str = "bench", **extra: object) -> DeploymentSpec:
    """The model-1 deployment of the benchmarks."""
    return model_1_spec(MODEL_1, code, endpoint="bench", name=name, readiness_probe=PROBE, **extra)


def score(socket: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """One POST of the sample request to the server on ``socket``, on a new connection."""
    status, _, body = uds_request(
        socket, "POST", "/score", REQUEST, {"Content-Type": "application/json"}, timeout=timeout
    )
    return status, body


def wait_for_version(socket: str, version: int, deadline: float = 120.0) -> None:
    """Poll /score until it answers with ``version`` (the first response reflecting a change)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            status, body = score(socket, timeout=5)
            if status == 200 and json.loads(body).get("version") == version:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    raise TimeoutError(f"no response with version {version} on {socket}")


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action()`` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def show(title: str, rows: list[tuple[str, str, str]]) -> None:
    """Print a Markdown table of (figure, value, note), flushed at once."""
    print_table(title, rows)
    sys.stdout.flush()


def fmt(values: list[float], unit: str = "s") -> str:
    """``median (min–max, n=N)``."""
    scale = 1000.0 if unit == "ms" else 1.0
    return (
        f"{median(values) * scale:.3g} {unit} (min {min(values) * scale:.3g}, max {max(values) * scale:.3g}, "
        f"n={len(values)})"
    )
