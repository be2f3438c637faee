"""The wheel of this checkout, built without build isolation (the test environment has the build
tools) and without rebuilding the JupyterLab extension (``scripts/build-labextension`` built it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "labextension" / "dist" / "jupyter-mlep" / "package.json"
"""The built extension's package.json (present once scripts/build-labextension ran)."""


def build_wheel(out: Path) -> Path:
    """Build the wheel into ``out``; its path."""
    assert BUILT.exists(), "Build the JupyterLab extension first: scripts/build-labextension"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        env={**os.environ, "SKIP_JUPYTER_BUILDER": "1"},
    )
    return next(out.glob("jupyter_mlep-*.whl"))
