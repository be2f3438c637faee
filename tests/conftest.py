"""Shared test fixtures: the third-party Azure ML fixtures, an isolated MLEP_HOME, a real IPython shell."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = Path(
    os.environ.get("MLEP_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures" / "azureml-examples")
).resolve()


@pytest.fixture(scope="session")
def azureml_examples() -> Path:
    """The root of the Azure/azureml-examples fixtures (read-only; never copied into the project)."""
    if not (SHARED_FIXTURES / "cli").is_dir():
        pytest.fail(f"Azure ML example fixtures not found at {SHARED_FIXTURES} (set MLEP_SHARED_FIXTURES)")
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def model_1(azureml_examples: Path) -> Path:
    """Folder of the fixture model-1 (model/, environment/, sample-request.json)."""
    return azureml_examples / "cli" / "endpoints" / "online" / "model-1"


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
