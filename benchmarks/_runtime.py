"""Helpers of the runtime benchmarks: the fixture model-1 deployment, timing, scoring, tables."""

from __future__ import annotations

import atexit
import http.client
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import MODEL_1  # noqa: E402

from jupyter_mlep.runtime import DeploymentSpec, EnvironmentSpec, EnvironmentWarning, ProbeSettings  # noqa: E402

AZURE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
PROBE = ProbeSettings(initial_delay=0, period=1, timeout=2, failure_threshold=120)
REQUEST = (MODEL_1 / "sample-request.json").read_bytes()

SCORE = """\
import json
import os

import joblib
import numpy as np

VERSION = {version}


def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "sklearn_regression_model.pkl"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return {{"version": VERSION, "predictions": model.predict(data).tolist()}}
"""


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
    os.environ.setdefault(
        "MLEP_IMAGE_MAP", f"{AZURE_IMAGE}={os.environ.get('MLEP_BASE_IMAGE', 'mlep-base:bookworm')}"
    )
    return home


def write_score(code: Path, version: int) -> None:
    """Write the model-1 scoring script that also returns ``version``."""
    code.mkdir(parents=True, exist_ok=True)
    (code / "score.py").write_text(SCORE.format(version=version), encoding="utf-8")


def spec_for(code: Path, name: str = "bench", **extra: object) -> DeploymentSpec:
    """The model-1 deployment of the benchmarks."""
    env = EnvironmentSpec(conda_file=MODEL_1 / "environment" / "conda.yaml", image=AZURE_IMAGE)
    return DeploymentSpec(
        "bench", name, code=code, scoring_script="score.py", model=MODEL_1 / "model", environment=env,
        readiness_probe=PROBE, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def score(port: int, timeout: float = 10.0) -> tuple[int, bytes]:
    """One POST of the sample request on a new connection (the server has no keep-alive)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/score", body=REQUEST, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for_version(port: int, version: int, deadline: float = 120.0) -> None:
    """Poll /score until it answers with ``version`` (the first response reflecting a change)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            status, body = score(port, timeout=5)
            if status == 200 and json.loads(body).get("version") == version:
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.005)
    raise TimeoutError(f"no response with version {version} on port {port}")


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action()`` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def show(title: str, rows: list[tuple[str, str, str]]) -> None:
    """Print a Markdown table of (figure, value, note)."""
    print(f"\n### {title}\n")
    print("| figure | value | note |")
    print("| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    sys.stdout.flush()


def fmt(values: list[float], unit: str = "s") -> str:
    """``median (min–max, n=N)``."""
    scale = 1000.0 if unit == "ms" else 1.0
    return (
        f"{median(values) * scale:.3g} {unit} (min {min(values) * scale:.3g}, max {max(values) * scale:.3g}, "
        f"n={len(values)})"
    )
