"""v1 scoring-script patterns: each v1-only API gets a hint naming its v2 replacement; what still
works in v2 (inference_schema decorators, @rawhttp from azureml.contrib.services) passes."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlep.scoring import ScoreScript

V1_SCORE = """\
import os

import joblib
import numpy as np
from azureml.core.model import Model
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    global model
    model = joblib.load(Model.get_model_path("sklearn_regression"))


@input_schema("data", NumpyParameterType(np.array([[1.0, 2.0]])))
@output_schema(NumpyParameterType(np.array([3.0])))
def run(data):
    return model.predict(data).tolist()
"""

V1_LAYOUT = """\
import json
import os

import joblib


def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "sklearn_regression/1/model.pkl"))


def run(raw_data):
    return model.predict(json.loads(raw_data)["data"]).tolist()
"""

V1_RAW = """\
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init():
    pass


@rawhttp
def run(request):
    return AMLResponse(request.get_data(), 200, {"Content-Type": "image/png"})
"""


def _warnings(script: ScoreScript) -> list[str]:
    return [f.message for f in script.findings if f.level == "warning"]


def test_v1_sdk_and_get_model_path_are_flagged_with_their_replacements(ip, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = ip.run_cell_magic("score_script", "", V1_SCORE)
    warnings = _warnings(script)
    assert len(warnings) == 2, warnings
    core, get_path = warnings
    assert "imports azureml.core, the v1 SDK" in core and "AZUREML_MODEL_DIR" in core
    assert "Model.get_model_path() is v1-only" in get_path
    assert 'os.path.join(os.environ["AZUREML_MODEL_DIR"]' in get_path
    lines = {f.message: f.line for f in script.findings}
    assert lines[core] == 5 and lines[get_path] == 12
    # the inference-schema decorators keep working: a check, not a finding
    assert script.input_mode == "input-schema"
    assert any("inference_schema decorators work unchanged in v2" in c for c in script.checks)


def test_v1_model_dir_layout_with_name_and_version_is_flagged(ip, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = ip.run_cell_magic("score_script", "", V1_LAYOUT)
    (warning,) = _warnings(script)
    assert "AZUREML_MODEL_DIR/sklearn_regression/1/model.pkl follows the v1 layout" in warning
    assert "AZUREML_MODEL_DIR/<folder of the registered model>/model.pkl" in warning
    assert "Drop 'sklearn_regression/1/'" in warning


def test_v1_rawhttp_imports_keep_working(ip, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = ip.run_cell_magic("score_script", "", V1_RAW)
    assert _warnings(script) == []
    assert script.input_mode == "rawhttp"
    assert any("azureml.contrib.services (rawhttp, AMLResponse) works in v2" in c for c in script.checks)


def test_v2_script_gets_no_v1_hint(ip, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v2 = V1_LAYOUT.replace("sklearn_regression/1/model.pkl", "model/model.pkl")
    script = ip.run_cell_magic("score_script", "", v2)
    assert _warnings(script) == []
