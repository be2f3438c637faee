"""One real local workspace (process runtime) for the operations, magics, CLI and notebook tests,
and the fixture blue/green sample rewritten into a temporary tree with test-written scoring scripts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from rest.conftest import FAST_RETRY
from workspace.conftest import running_workspace
from workspace.deploy_helpers import EXPECTED_MODEL_1, SCORE_MODEL_1, SCORE_MODEL_2

from jupyter_mlep.rest import RestClient, StaticTokenCredential
from jupyter_mlep.workspace import WorkspaceInfo

__all__ = ["EXPECTED_MODEL_1", "SampleTree"]

API = "2026-07-01"


@pytest.fixture(scope="package")
def ops_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MLEP_HOME of the package's workspace."""
    return tmp_path_factory.mktemp("ops-home")


@pytest.fixture(scope="package")
def workspace(ops_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceInfo]:
    """A workspace whose deployments run as local processes, stopped after the package."""
    envs = tmp_path_factory.mktemp("ops-envs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLEP_RUNTIME", "process")
        patch.setenv("MLEP_ENVS_DIR", str(envs))
        patch.setenv("MLEP_HOME", str(ops_home))
        with running_workspace(ops_home) as info:
            yield info


@pytest.fixture
def use_workspace(workspace: WorkspaceInfo, ops_home: Path, monkeypatch: pytest.MonkeyPatch) -> WorkspaceInfo:
    """Point this test's settings (MLEP_HOME, target local) at the package's workspace."""
    monkeypatch.setenv("MLEP_HOME", str(ops_home))
    return workspace


def make_client(info: WorkspaceInfo) -> RestClient:
    """A local-target client of ``info`` with fast retries."""
    return RestClient(
        info.base_url,
        StaticTokenCredential(info.token),
        workspace_path=info.workspace_path,
        api_version=API,
        target="local",
        retry=FAST_RETRY,
    )


@pytest.fixture
def client(workspace: WorkspaceInfo) -> Iterator[RestClient]:
    """A REST client of the package's workspace."""
    with make_client(workspace) as rest:
        yield rest


class SampleTree:
    """The sample's YAML files in a temporary tree mirroring the fixture layout.

    ``model.path`` and ``conda_file`` point at the fixtures' real files; the code folders
    ``model-1/onlinescoring`` and ``model-2/onlinescoring`` hold test-written scoring scripts.
    """

    def __init__(self, root: Path, examples: Path, endpoint: str) -> None:
        online = examples / "cli" / "endpoints" / "online"
        self.sample = root / "cli" / "endpoints" / "online" / "managed" / "sample"
        self.sample.mkdir(parents=True)
        self.endpoint = endpoint
        self.request = online / "managed" / "sample" / "sample-request.json"
        for model, script in (("model-1", SCORE_MODEL_1), ("model-2", SCORE_MODEL_2)):
            code = root / "cli" / "endpoints" / "online" / model / "onlinescoring"
            code.mkdir(parents=True)
            (code / "score.py").write_text(script)
        data = yaml.safe_load((online / "managed" / "sample" / "endpoint.yml").read_text())
        data["name"] = endpoint
        self.endpoint_yml = self._write("endpoint.yml", data)
        self.blue = self._deployment(online, "blue-deployment.yml", "model-1")
        self.green = self._deployment(online, "green-deployment.yml", "model-2")

    def _deployment(self, online: Path, name: str, model: str) -> Path:
        data = yaml.safe_load((online / "managed" / "sample" / name).read_text())
        data["endpoint_name"] = self.endpoint
        data["model"]["path"] = str(online / model / "model")
        data["environment"]["conda_file"] = str(online / "model-1" / "environment" / "conda.yaml")
        return self._write(name, data)

    def _write(self, name: str, data: dict[str, object]) -> Path:
        path = self.sample / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def payload(self) -> dict[str, object]:
        return dict(json.loads(self.request.read_text()))


def close_to(values: object, expected: list[float]) -> bool:
    """True when ``values`` is a list of numbers within 1e-3 of ``expected``."""
    return (
        isinstance(values, list)
        and len(values) == len(expected)
        and all(abs(float(a) - b) < 1e-3 for a, b in zip(values, expected, strict=True))
    )
