"""Helpers of the deployment tests: upload assets like a client, the test-written scoring scripts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml

from .conftest import Arm

SCORE_MODEL_1 = """\
import json
import os

import joblib
import numpy as np


def init():
    global model
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "sklearn_regression_model.pkl")
    model = joblib.load(path)
    print("Init complete")


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
"""

SCORE_MODEL_2 = """\
import os

import joblib


def init():
    global model
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "sklearn_regression_model.pkl")
    model = joblib.load(path)
    print("Init complete")


def run(raw_data):
    return [0.5, 0.5]
"""

SCORE_BROKEN = """\
def init():
    raise RuntimeError("init exploded on purpose")


def run(raw_data):
    return None
"""

EXPECTED_MODEL_1 = [11055.977245525679, 4503.079536107787]


def container_sas(key: str, container: str = "azureml-blobstore") -> str:
    """A container SAS (racwl) signed with the account key, as any storage client makes one."""
    params = {
        "sv": "2024-11-04",
        "sr": "c",
        "sp": "racwl",
        "se": (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    lines = [
        params["sp"],
        "",
        params["se"],
        f"/blob/mlepstore/{container}",
        "",
        "",
        "",
        params["sv"],
        "c",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    params["sig"] = base64.b64encode(
        hmac.new(base64.b64decode(key), "\n".join(lines).encode(), hashlib.sha256).digest()
    ).decode()
    return urlencode(params)


def upload_folder(arm: Arm, folder: Path, prefix: str) -> str:
    """Upload ``folder`` (as ``<prefix>/<folder name>/…``) with a SAS; its azureml:// datastore URI."""
    key = arm.post("/datastores/workspaceblobstore/listSecrets").json()["key"]
    sas = container_sas(key)
    with httpx.Client(base_url=f"{arm.info.base_url}/mlepstore/azureml-blobstore") as blob:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = f"{prefix}/{folder.name}/{path.relative_to(folder).as_posix()}"
                response = blob.put(
                    f"/{name}?{sas}", content=path.read_bytes(), headers={"x-ms-blob-type": "BlockBlob"}
                )
                assert response.status_code == 201, response.text
    return f"azureml://datastores/workspaceblobstore/paths/{prefix}/{folder.name}"


def register_model(arm: Arm, name: str, folder: Path) -> str:
    """Upload a model folder and register it as ``name:1``; its ARM id."""
    uri = upload_folder(arm, folder, f"LocalUpload/{uuid.uuid4().hex}")
    response = arm.put(
        f"/models/{name}/versions/1", {"properties": {"modelUri": uri, "modelType": "CustomModel"}}
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def register_code(arm: Arm, name: str, script: str) -> str:
    """Upload a scoring script through startPendingUpload and register ``name:1``; its ARM id."""
    pending = arm.post(f"/codes/{name}/versions/1/startPendingUpload", {}).json()
    sas_uri = pending["blobReferenceForConsumption"]["credential"]["sasUri"]
    base, _, sas = sas_uri.partition("?")
    response = httpx.put(
        f"{base}/score.py?{sas}", content=script.encode(), headers={"x-ms-blob-type": "BlockBlob"}
    )
    assert response.status_code == 201, response.text
    code = arm.put(
        f"/codes/{name}/versions/1",
        {"properties": {"codeUri": pending["blobReferenceForConsumption"]["blobUri"]}},
    )
    assert code.status_code in (200, 201), code.text
    return str(code.json()["id"])


def register_environment(arm: Arm, name: str, conda_file: Path) -> str:
    """Register an environment (Azure's base image + the fixture's conda file); its ARM id."""
    body = {
        "properties": {
            "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest",
            "condaFile": conda_file.read_text(),
        }
    }
    response = arm.put(f"/environments/{name}/versions/1", body)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def deployment_body(
    model_id: str, code_id: str, env_id: str, *, capacity: int = 1, **props: Any
) -> dict[str, Any]:
    """An OnlineDeployment body as the CLI sends one for the sample's blue/green YAMLs."""
    return {
        "location": "local",
        "sku": {"name": "Default", "capacity": capacity},
        "properties": {
            "endpointComputeType": "Managed",
            "model": model_id,
            "codeConfiguration": {"codeId": code_id, "scoringScript": "score.py"},
            "environmentId": env_id,
            "instanceType": "Standard_DS3_v2",
            **props,
        },
    }


def endpoint_body(sample: Path, **props: Any) -> dict[str, Any]:
    """The sample's endpoint.yml as a REST body."""
    spec = yaml.safe_load((sample / "endpoint.yml").read_text())
    modes = {"key": "Key", "aml_token": "AMLToken", "aad_token": "AADToken"}
    return {"location": "local", "properties": {"authMode": modes[spec["auth_mode"]], **props}}


def sample_request(model_1: Path) -> Any:
    """The fixture's two-row request."""
    return json.loads((model_1 / "sample-request.json").read_text())
