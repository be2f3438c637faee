"""The generated scoring script of MLflow models in a Docker container: the environment from the
model's requirements (built into an image, cached), the model and the script mounted read-only."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from support.servers import get, post_json

from jupyter_mlep.runtime import Backend, DeploymentSpec, ProbeSettings, model_requirements, preflight
from jupyter_mlep.specs._mlflow import read_mlflow_model
from jupyter_mlep.workspace.nocode import NO_CODE_FOLDER, NO_CODE_SCRIPT


def test_the_generated_script_serves_an_mlflow_model_in_docker(
    docker_backend: Backend, tmp_path: Path
) -> None:
    features = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(features, [0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(
            model, tmp_path / "model", signature=infer_signature(features, model.predict(features)),
            serialization_format="cloudpickle",
        )  # fmt: skip
    info = read_mlflow_model(tmp_path / "model")
    assert info is not None and info.loader_module == "mlflow.sklearn"
    wanted = model_requirements(
        info.root, loader_module=info.loader_module, python_version=info.python_version
    )
    assert any(req.startswith("mlflow-skinny") for req in wanted.requirements)
    assert not any(req.split("=")[0] == "mlflow" for req in wanted.requirements)
    checked = preflight(wanted, sys.executable)
    assert checked.problems == ()
    spec = DeploymentSpec(
        "nc", "blue", code=NO_CODE_FOLDER, scoring_script=NO_CODE_SCRIPT, model=tmp_path / "model",
        environment=checked.environment("mlflow:model"),
        readiness_probe=ProbeSettings(initial_delay=0, period=1, timeout=2, failure_threshold=300),
    )  # fmt: skip
    started = docker_backend.start(spec)
    try:
        split = features.to_dict(orient="split")
        status, body = post_json(started.socket, {"input_data": split})
        assert (status, body) == (200, [0, 0, 1, 1])
        status, body = post_json(started.socket, {"dataframe_records": features.to_dict(orient="records")})
        assert (status, body) == (200, [0, 0, 1, 1])
        status, body = post_json(started.socket, {"input_data": {"columns": ["a"], "data": [[1.0]]}})
        assert status == 400 and "missing ['b']" in json.dumps(body)
        swagger_status, swagger = get(started.socket, "/swagger.json")
        assert swagger_status == 200 and "pandas.DataFrame:split" in swagger
    finally:
        docker_backend.stop("nc", "blue")
