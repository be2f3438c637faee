"""MLflow models in batch without code: each CSV file is read as a DataFrame and scored with one
``predict``, rows written as ``row,prediction,file_name``; a file that cannot be scored counts as a
failed item and is named in ``logs/user/error.txt``.

Real workspace over HTTP, a real MLflow (scikit-learn) model, workers in the environment built
from the model's own requirements.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import mlflow.sklearn
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from support.arm import Arm, upload_folder
from support.batch import (
    batch_deployment,
    batch_endpoint,
    error_of,
    input_folder,
    invoke,
    log,
    output_text,
    wait_job,
)
from support.waiting import unique

FEATURES = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})


@pytest.fixture(scope="module")
def endpoint(arm: Arm, tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("bmlflow")
    model = LogisticRegression().fit(FEATURES, [0, 0, 1, 1])
    mlflow.sklearn.save_model(
        model, base / "model", signature=infer_signature(FEATURES, model.predict(FEATURES))
    )
    uri = upload_folder(arm, base / "model", f"LocalUpload/{uuid.uuid4().hex}")
    name = unique("bmlf")
    response = arm.put(
        f"/models/{name}/versions/1", {"properties": {"modelUri": uri, "modelType": "MLFlowModel"}}
    )
    assert response.status_code in (200, 201), response.text
    endpoint = batch_endpoint(arm)
    props = {"model": {"referenceType": "Id", "assetId": response.json()["id"]}, "miniBatchSize": 2}
    batch_deployment(arm, endpoint, props)
    return endpoint


def test_csv_files_are_scored_without_code_with_row_prediction_and_file_name(
    arm: Arm, endpoint: str, tmp_path: Path
) -> None:
    good = FEATURES.to_csv(index=False)
    uri = input_folder(arm, tmp_path, {"one.csv": good, "two.csv": good, "bad.csv": "x,y\nfoo,bar\n"})
    name = invoke(arm, endpoint, uri).json()["name"]
    job = wait_job(arm, name, timeout=600)
    assert job["properties"]["status"] == "Completed", error_of(arm, name)
    rows = output_text(arm, job).text.splitlines()
    assert len(rows) == 8
    assert rows[:4] == ["0,0,one.csv", "1,0,one.csv", "2,1,one.csv", "3,1,one.csv"] or "one.csv" in rows[4]
    assert {row.split(",")[2] for row in rows} == {"one.csv", "two.csv"}
    overview = log(arm, name, "logs/job_progress_overview.txt")
    assert "Items succeeded: 2" in overview and "Items failed: 1" in overview, overview
    assert "bad.csv" in log(arm, name, "logs/user/error.txt")
