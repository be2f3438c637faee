"""The fixture model-1 and the blue/green sample: paths, test-written scoring scripts, sample trees,
model-1 runtime specs, and how its predictions are compared."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import yaml

from jupyter_mlep.runtime import DeploymentSpec, EnvironmentSpec, ProbeSettings

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(
    os.environ.get("MLEP_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures" / "azureml-examples")
).resolve()
"""The root of the Azure/azureml-examples fixtures (read-only; never copied into the project)."""
ONLINE = FIXTURES / "cli" / "endpoints" / "online"
MODEL_1 = ONLINE / "model-1"
"""The Azure ML example model (a scikit-learn regression): model/, environment/conda.yaml, sample-request.json."""

AZURE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
"""The base image of the sample's environment (mapped to ``BASE_IMAGE`` by the tests)."""
BASE_IMAGE = os.environ.get("MLEP_BASE_IMAGE", "mlep-base:bookworm")
"""The locally built base image that stands in for Azure's."""

EXPECTED_MODEL_1 = [11055.977245525679, 4503.079536107787]
"""model-1's predictions for the fixture's two-row sample request."""

_LOAD_MODEL = """\
def init():
    global model
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "sklearn_regression_model.pkl")
    model = joblib.load(path)
    print("Init complete")
"""


def score_model_1(version: int | None = None) -> str:
    """The scoring script of model-1: its predictions, or with ``version``
    ``{"version": version, "predictions": [...]}`` (to tell which code answered)."""
    predictions = "model.predict(data).tolist()"
    answer = predictions if version is None else f'{{"version": {version}, "predictions": {predictions}}}'
    return (
        "import json\nimport os\n\nimport joblib\nimport numpy as np\n\n\n"
        + _LOAD_MODEL
        + "\n\ndef run(raw_data):\n"
        + '    data = np.array(json.loads(raw_data)["data"])\n'
        + f"    return {answer}\n"
    )


SCORE_MODEL_1 = score_model_1()
"""model-1's scoring script: real predictions (``EXPECTED_MODEL_1`` for the sample request)."""

SCORE_MODEL_1_SHORT = """\
import json, os
import joblib, numpy as np

def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl"))

def run(raw_data):
    return model.predict(np.array(json.loads(raw_data)["data"])).tolist()
"""
"""model-1's scoring script as users write it in a notebook cell (the ``%%score_script`` and
``check-score`` tests rely on its line numbers: ``joblib.load`` is line 6)."""

SCORE_MODEL_2 = (
    "import os\n\nimport joblib\n\n\n" + _LOAD_MODEL + "\n\ndef run(raw_data):\n    return [0.5, 0.5]\n"
)
"""model-2's scoring script: loads its model, always answers ``[0.5, 0.5]`` (tells green from blue)."""

SCORE_BROKEN = """\
def init():
    raise RuntimeError("init exploded on purpose")


def run(raw_data):
    return None
"""
"""A scoring script whose ``init()`` fails."""

PRINTING_SCRIPT = """\
import json


def init():
    print("Init complete")


def run(raw_data):
    print("scored:", json.loads(raw_data).get("line"))
    return {"ok": True}
"""
"""A scoring script whose every request writes one log line (``scored: <line>``)."""


def write_script(folder: Path, body: str = SCORE_MODEL_1, name: str = "score.py") -> Path:
    """Write a scoring script into ``folder`` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return folder


FAST_PROBE = ProbeSettings(initial_delay=0, period=1, timeout=2, failure_threshold=90, success_threshold=1)
"""A readiness probe that notices a started server within a second (and waits long for a cold build)."""


def model_1_spec(
    model_1: Path, code: Path, *, endpoint: str = "ep", name: str = "blue", **extra: Any
) -> DeploymentSpec:
    """The fixture model-1 deployment with its conda file on Azure's base image."""
    env = EnvironmentSpec(conda_file=model_1 / "environment" / "conda.yaml", image=AZURE_IMAGE)
    fields: dict[str, Any] = {
        "model": model_1 / "model",
        "environment": env,
        "readiness_probe": FAST_PROBE,
        **extra,
    }
    return DeploymentSpec(endpoint, name, code=code, scoring_script="score.py", **fields)


def sample_request(model_1: Path = MODEL_1) -> Any:
    """The fixture's two-row request."""
    return json.loads((model_1 / "sample-request.json").read_text())


def close_to(values: object, expected: list[float]) -> bool:
    """True when ``values`` is a list of numbers within 1e-3 of ``expected``."""
    return (
        isinstance(values, list)
        and len(values) == len(expected)
        and all(abs(float(a) - b) < 1e-3 for a, b in zip(values, expected, strict=True))
    )


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
            write_script(root / "cli" / "endpoints" / "online" / model / "onlinescoring", script)
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


def write_scoring_script(tree: SampleTree, script: str, model: str = "model-1") -> Path:
    """Replace the scoring script of one of the sample's code folders."""
    path = tree.sample.parents[1] / model / "onlinescoring" / "score.py"
    path.write_text(script)
    return path
