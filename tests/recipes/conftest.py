"""The recipe tests' workspace: the package's local workspace (process runtime, from the root
conftest), with MLEP_HOME pointed at it for each test.

The examples run in real kernels started by papermill; the kernels inherit this process's
environment (MLEP_HOME of the shared workspace, MLEP_RUNTIME=process).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture
def workspace(
    workspace: WorkspaceInfo, workspace_home: Path, monkeypatch: pytest.MonkeyPatch
) -> WorkspaceInfo:
    """Point this test (and the kernels it starts) at the package's workspace."""
    monkeypatch.setenv("MLEP_HOME", str(workspace_home))
    monkeypatch.setenv("MLEP_RUNTIME", "process")
    return workspace
