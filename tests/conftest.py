"""Shared test fixtures: the third-party Azure ML fixtures, an isolated MLEP_HOME, a real IPython
shell, and each test package's own running local workspace with its REST client.

The helpers these fixtures use live in ``tests/support`` (importable as ``support``); a package
that needs a workspace of another kind overrides ``workspace`` with ``support.workspace``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.clients import make_client
from support.samples import FIXTURES, MODEL_1
from support.workspace import process_workspace

from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="session")
def azureml_examples() -> Path:
    """The root of the Azure/azureml-examples fixtures (read-only; never copied into the project)."""
    if not (FIXTURES / "cli").is_dir():
        pytest.fail(f"Azure ML example fixtures not found at {FIXTURES} (set MLEP_SHARED_FIXTURES)")
    return FIXTURES


@pytest.fixture(scope="session")
def model_1(azureml_examples: Path) -> Path:
    """Folder of the fixture model-1 (model/, environment/, sample-request.json)."""
    return azureml_examples / MODEL_1.relative_to(FIXTURES)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own MLEP_HOME and no Azure settings from the machine."""
    home = tmp_path_factory.mktemp("mlep-home")
    monkeypatch.setenv("MLEP_HOME", str(home))
    monkeypatch.setenv("MLEP_IGNORE_CONFIG_JSON", "1")
    for name in (
        "MLEP_TARGET",
        "MLEP_API_VERSION",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_RESOURCE_GROUP",
        "AZUREML_WORKSPACE_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def ip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A real IPython InteractiveShell with jupyter_mlep loaded, working in tmp_path.

    Use ``ip.run_cell(...)`` and check ``result.error_in_exec``, or ``ip.run_cell_magic`` /
    ``ip.run_line_magic`` which raise the magic's own exception.
    """
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlep")
    try:
        yield shell
    finally:
        shell.user_ns.clear()
        InteractiveShell.clear_instance()


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Virtual environments of the deployments, shared by the session's workspaces and runtime
    tests (the runtime caches them by content hash behind a lock: each is built once)."""
    return tmp_path_factory.mktemp("mlep-envs")


@pytest.fixture(scope="package")
def workspace_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MLEP_HOME of the shared workspace (the root conftest's package is the whole test tree, so
    the test packages that take it share one; tests must not assume an empty workspace)."""
    return tmp_path_factory.mktemp("ws-home")


@pytest.fixture(scope="package")
def ops_home(workspace_home: Path) -> Path:
    """The MLEP_HOME of the package's workspace (the name the operations and widget tests use)."""
    return workspace_home


@pytest.fixture(scope="package")
def workspace(workspace_home: Path, env_cache: Path) -> Iterator[WorkspaceInfo]:
    """One running local workspace shared by the tests that take it: deployments run as local
    processes with the session's environment cache; stopped (with all it started) at the end."""
    with process_workspace(workspace_home, env_cache) as info:
        yield info


@pytest.fixture
def use_workspace(
    workspace: WorkspaceInfo, workspace_home: Path, monkeypatch: pytest.MonkeyPatch
) -> WorkspaceInfo:
    """Point this test's settings (MLEP_HOME, target local) at the package's workspace."""
    monkeypatch.setenv("MLEP_HOME", str(workspace_home))
    return workspace


@pytest.fixture
def client(workspace: WorkspaceInfo) -> Iterator[RestClient]:
    """A REST client of the package's workspace (fast retries)."""
    with make_client(workspace) as rest:
        yield rest
