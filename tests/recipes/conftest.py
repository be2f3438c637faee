"""One local workspace (process runtime) for the recipe tests, and helpers to read and scan runs.

The examples run in real kernels started by papermill; the kernels inherit this process's
environment (MLEP_HOME of the shared workspace, MLEP_RUNTIME=process).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from workspace.conftest import running_workspace

from jupyter_mlep.recipes import RecipeResult
from jupyter_mlep.workspace import WorkspaceInfo

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="package")
def recipes_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MLEP_HOME of the package's workspace."""
    return tmp_path_factory.mktemp("recipes-home")


@pytest.fixture(scope="package")
def recipes_workspace(
    recipes_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkspaceInfo]:
    """A workspace whose deployments run as local processes (one environment cache for all examples)."""
    envs = tmp_path_factory.mktemp("recipes-envs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLEP_RUNTIME", "process")
        patch.setenv("MLEP_ENVS_DIR", str(envs))
        patch.setenv("MLEP_HOME", str(recipes_home))
        with running_workspace(recipes_home) as info:
            yield info


@pytest.fixture
def workspace(
    recipes_workspace: WorkspaceInfo, recipes_home: Path, monkeypatch: pytest.MonkeyPatch
) -> WorkspaceInfo:
    """Point this test (and the kernels it starts) at the package's workspace."""
    monkeypatch.setenv("MLEP_HOME", str(recipes_home))
    monkeypatch.setenv("MLEP_RUNTIME", "process")
    return recipes_workspace


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


def close_to(values: object, expected: list[float]) -> bool:
    """True when ``values`` is a list of numbers within 1e-3 of ``expected``."""
    return (
        isinstance(values, list)
        and len(values) == len(expected)
        and all(abs(float(a) - b) < 1e-3 for a, b in zip(values, expected, strict=True))
    )


def environ_with_path(folder: Path) -> dict[str, str]:
    """``PATH`` with ``folder`` first."""
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}
