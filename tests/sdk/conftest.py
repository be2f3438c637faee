"""Fixtures of the SDK conformance suite: the SDK's interpreter, a fresh local workspace serving
HTTPS (deployments as local processes), and the files the SDK scripts deploy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.samples import AZURE_IMAGE, EXPECTED_MODEL_1, SCORE_MODEL_1, SCORE_MODEL_2, write_script
from support.sdk import sdk_python
from support.workspace import process_workspace

from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="session")
def sdk_interpreter() -> Path:
    """The interpreter of the SDK's own environment (never the project's)."""
    python = sdk_python()
    if not python.exists():
        pytest.fail(
            f"The Azure ML SDK's environment is missing ({python}): run scripts/install, "
            "or set MLEP_SDK_PYTHON to an interpreter with azure-ai-ml 1.35."
        )
    return python


@pytest.fixture(scope="package")
def workspace(tmp_path_factory: pytest.TempPathFactory, env_cache: Path) -> Iterator[WorkspaceInfo]:
    """A fresh local workspace serving HTTPS with its own certificate authority (the SDK sends
    tokens only over HTTPS); stopped with all it started at the end."""
    home = tmp_path_factory.mktemp("sdk-home")
    with process_workspace(home, env_cache, tls=True) as info:
        yield info


@pytest.fixture(scope="package")
def sdk_arguments(tmp_path_factory: pytest.TempPathFactory, model_1: Path) -> dict[str, Any]:
    """The scripts' parameters: blue's code (model-1's predictions), green's (``[0.5, 0.5]``), a
    code folder, a data folder, the sample request, model-1's model folder and conda file."""
    work = tmp_path_factory.mktemp("sdk-work")
    write_script(work / "blue", SCORE_MODEL_1)
    write_script(work / "green", SCORE_MODEL_2)
    write_script(work / "code", SCORE_MODEL_1)
    (work / "data").mkdir()
    (work / "data" / "diabetes.csv").write_text("age,bmi,target\n0.04,0.06,151\n-0.002,-0.05,75\n")
    shutil.copy(model_1 / "sample-request.json", work / "sample-request.json")
    return {
        "work": str(work),
        "model_dir": str(model_1 / "model"),
        "conda_file": str(model_1 / "environment" / "conda.yaml"),
        "image": AZURE_IMAGE,
        "expected": EXPECTED_MODEL_1,
    }
