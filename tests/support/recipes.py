"""Reading and scanning recipe runs: the example notebooks, secrets that must not leak, outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat

from jupyter_mlep.recipes import RecipeResult

from .samples import REPO

EXAMPLES = REPO / "examples"


def admin_token(home: Path) -> str:
    """The local workspace's admin token (a secret no output notebook may contain)."""
    return (home / "workspace" / "admin-token").read_text().strip()


def assert_no_secrets(result: RecipeResult, *secrets: str) -> None:
    """Neither the output notebook nor the summary contains any of ``secrets``."""
    text = result.output.read_text(encoding="utf-8") + result.summary()
    for secret in secrets:
        assert secret and len(secret) > 12
        assert secret not in text, f"a secret ({secret[:4]}…) is in {result.output}"


def outputs_json(path: Path) -> str:
    """All outputs of a notebook as one JSON text (for negative checks)."""
    notebook = nbformat.read(str(path), as_version=4)
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells])


def environ_with_path(folder: Path) -> dict[str, str]:
    """``PATH`` with ``folder`` first."""
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}
