"""An MLflow model in batch with no code, from Python: deployed from a local folder (its type found
from the MLmodel file), a folder of CSV files scored with one corrupt file, the output read with
Azure's ``row, prediction, file_name`` columns, and the same first mini-batch dry-run here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.sklearn
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from support.waiting import unique

from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import spec_from_dict

pytestmark = pytest.mark.usefixtures("use_workspace")

FEATURES = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})


def test_an_mlflow_model_scores_csv_files_without_code(client: RestClient, tmp_path: Path) -> None:
    model = LogisticRegression().fit(FEATURES, [0, 0, 1, 1])
    mlflow.sklearn.save_model(
        model, tmp_path / "model", signature=infer_signature(FEATURES, model.predict(FEATURES))
    )
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a.csv", "b.csv"):
        FEATURES.to_csv(data / name, index=False)
    (data / "c-corrupt.csv").write_text("x,y\nfoo,bar\n")
    endpoint = unique("bml")
    spec: Any = spec_from_dict(
        {
            "name": "mlflow",
            "endpoint_name": endpoint,
            "model": {"path": str(tmp_path / "model")},
            "mini_batch_size": 2,
        },
        kind="batchDeployment",
    )
    dry = ops.dry_run(None, spec, data)
    assert list(dry.to_pandas().columns) == ["row", "prediction", "file_name"] and dry.rows == 8
    try:
        details = ops.deploy_batch(client, spec)
        assert details.endpoint.default_deployment == "mlflow"
        job = ops.invoke_batch(client, endpoint, data, wait_timeout=600)
        assert job.status == "Completed", job.text()
        frame = job.to_pandas()
        assert list(frame.columns) == ["row", "prediction", "file_name"]
        assert sorted(set(frame["file_name"])) == ["a.csv", "b.csv"] and len(frame) == 8
        assert list(frame[frame["file_name"] == "a.csv"]["prediction"]) == list(model.predict(FEATURES))
        assert (job.progress.items_succeeded, job.progress.items_failed) == (2, 1)
        assert [where for where, _error in job.progress.errors] == ["c-corrupt.csv"]
    finally:
        ops.delete_batch_endpoint(client, endpoint)
