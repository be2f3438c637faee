"""Round trip YAML → REST body → typed object → YAML dict keeps the meaning.

Meaning is compared on normalised values: the REST body built again from the object read
back is the same body, the YAML dict loads again to the same body, and the fields written in
the original YAML keep their values (references compared in their workspace-independent form).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_mlep.specs import (
    AssetReference,
    Code,
    Environment,
    Job,
    Model,
    OnlineDeployment,
    OnlineEndpoint,
    load_spec,
)

ONLINE = "cli/endpoints/online/"
ENDPOINTS = [
    ONLINE + "managed/sample/endpoint.yml",
    ONLINE + "kubernetes/kubernetes-endpoint.yml",
    ONLINE + "managed/vnet/sample/endpoint.yml",
    ONLINE + "managed/managed-identities/1-uai-create-endpoint.yml",
    ONLINE + "custom-container/tfserving/half-plus-two/tfserving-endpoint.yml",
    "cli/monitoring/azureml-e2e-model-monitoring/endpoints/endpoint.yaml",
]
DEPLOYMENTS = [
    ONLINE + "managed/sample/blue-deployment.yml",
    ONLINE + "managed/sample/green-deployment.yml",
    ONLINE + "managed/sample/blue-deployment-with-registered-assets.yml",
    ONLINE + "managed/sample/green-deployment-with-curated-env.yml",
    ONLINE + "kubernetes/kubernetes-blue-deployment.yml",
    ONLINE + "kubernetes/kubernetes-green-deployment.yml",
    ONLINE + "managed/vnet/sample/blue-deployment-vnet.yml",
    "cli/generative-ai/promptflow/deploy-flow/deployment.yaml",
    "cli/monitoring/azureml-e2e-model-monitoring/endpoints/deployment.yaml",
]
JOBS = [
    "cli/jobs/basics/hello-world.yml",
    "cli/jobs/basics/hello-world-input.yml",
    "cli/jobs/basics/hello-world-env-var.yml",
    "cli/jobs/basics/hello-world-org.yml",
    "cli/jobs/basics/hello-world-output-data.yml",
    "cli/jobs/basics/hello-iris-literal.yml",
    "cli/jobs/basics/hello-model-as-input.yml",
    "cli/jobs/basics/hello-model-as-output.yml",
    "cli/jobs/basics/hello-sweep.yml",
    "cli/jobs/single-step/lightgbm/iris/job.yml",
    "cli/jobs/single-step/lightgbm/iris/job-sweep.yml",
    "cli/jobs/single-step/scikit-learn/iris/job-sweep.yml",
]
MODELS = [
    "cli/assets/model/local-file.yml",
    "cli/assets/model/local-mlflow.yml",
    ONLINE + "managed/inference-schema/model.yml",
]


def normalise(value: Any) -> Any:
    """Comparable form: references by their short form, numbers and paths as text."""
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, str) and (value.startswith(("azureml:", "/subscriptions/"))):
        return AssetReference.parse(value, strict=False).short
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"{float(value):g}"
    if isinstance(value, Path):
        return str(value)
    return value


def assert_keeps(got: Any, expected: Any, where: str) -> None:
    """Everything written in the original is in the round-tripped YAML (defaults may be added)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), where
        for key, value in expected.items():
            assert_keeps(got.get(key), value, f"{where}.{key}")
    else:
        assert normalise(got) == normalise(expected), where


def reload(data: dict[str, Any], folder: Path) -> Any:
    path = folder / "roundtrip.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_spec(path)


def original_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.pop("$schema")
    return data


@pytest.mark.parametrize("relative", ENDPOINTS, ids=str)
def test_endpoints(azureml_examples: Path, workspace: str, tmp_path: Path, relative: str) -> None:
    endpoint = load_spec(azureml_examples / relative)
    assert isinstance(endpoint, OnlineEndpoint)
    body = endpoint.to_rest(workspace=workspace, location="westeurope")
    back = OnlineEndpoint.from_rest(body, name=endpoint.name)
    assert type(back) is type(endpoint)
    assert back.to_rest(workspace=workspace) == body
    yaml_dict = back.to_yaml_dict()
    assert reload(yaml_dict, tmp_path).to_rest(workspace=workspace) == body
    original = original_yaml(azureml_examples / relative)
    original["auth_mode"] = endpoint.auth_mode  # "Key" is read as "key"
    assert_keeps(yaml_dict, original, "endpoint")


@pytest.mark.parametrize("relative", DEPLOYMENTS, ids=str)
def test_deployments(
    azureml_examples: Path, workspace: str, asset_ids: dict[str, str], tmp_path: Path, relative: str
) -> None:
    deployment = load_spec(azureml_examples / relative)
    assert isinstance(deployment, OnlineDeployment)
    ids = {
        "model_id": asset_ids["model_id"] if isinstance(deployment.model, Model) else None,
        "code_id": asset_ids["code_id"] if deployment.code_configuration else None,
        "environment_id": asset_ids["environment_id"]
        if isinstance(deployment.environment, Environment)
        else None,
    }
    body = deployment.to_rest(workspace=workspace, location="westeurope", **ids)
    back = OnlineDeployment.from_rest(body, name=deployment.name, endpoint_name=deployment.endpoint_name)
    assert type(back) is type(deployment)
    assert back.to_rest(workspace=workspace) == body
    yaml_dict = back.to_yaml_dict()
    assert reload(yaml_dict, tmp_path).to_rest(workspace=workspace) == body

    original = original_yaml(azureml_examples / relative)
    inline = {"model": "model_id", "environment": "environment_id"}
    for key, value in original.items():
        if key in inline and isinstance(value, dict):  # registered first: now the id given to to_rest
            assert normalise(yaml_dict[key]) == normalise(asset_ids[inline[key]])
        elif key == "code_configuration":
            assert yaml_dict[key]["scoring_script"] == value["scoring_script"]
            assert normalise(yaml_dict[key]["code"]) == normalise(asset_ids["code_id"])
        else:
            assert_keeps(yaml_dict[key], value, key)


@pytest.mark.parametrize("relative", JOBS, ids=str)
def test_jobs(
    azureml_examples: Path, workspace: str, asset_ids: dict[str, str], tmp_path: Path, relative: str
) -> None:
    job = load_spec(azureml_examples / relative)
    assert isinstance(job, Job)
    uploaded = {
        name: f"azureml://datastores/workspaceblobstore/paths/{name}"
        for name, item in (job.inputs or {}).items()
        if isinstance(item.path, Path)
    }
    environment = getattr(job, "environment", None) or job.trial.environment  # type: ignore[attr-defined]
    ids = {
        "code_id": asset_ids["code_id"],
        "environment_id": asset_ids["environment_id"] if isinstance(environment, Environment) else None,
        "input_uris": uploaded,
    }
    body = job.to_rest(workspace=workspace, **ids)  # type: ignore[attr-defined]
    back = Job.from_rest(body)
    assert type(back) is type(job)
    assert back.to_rest(workspace=workspace) == body  # type: ignore[attr-defined]
    yaml_dict = back.to_yaml_dict()
    assert reload(yaml_dict, tmp_path).to_rest(workspace=workspace) == body

    original = original_yaml(azureml_examples / relative)
    for key in (
        "command",
        "display_name",
        "experiment_name",
        "description",
        "tags",
        "environment_variables",
        "compute",
    ):
        if key in original:
            expected = " ".join(original[key].split()) if key == "command" else original[key]
            got = " ".join(yaml_dict[key].split()) if key == "command" else yaml_dict[key]
            assert normalise(got) == normalise(expected), key
    for name, value in (original.get("inputs") or {}).items():
        got = yaml_dict["inputs"][name]
        if isinstance(value, dict):
            assert got["type"] == value["type"]
            assert got["path"] == uploaded.get(name, value["path"])
        else:
            assert normalise(got) == normalise(value)
    if "search_space" in original:
        assert normalise(yaml_dict["search_space"]) == normalise(original["search_space"])
        assert yaml_dict["objective"] == original["objective"]
        assert yaml_dict["limits"] == original["limits"]
        assert yaml_dict["sampling_algorithm"] == {"type": original["sampling_algorithm"]}


@pytest.mark.parametrize("relative", MODELS, ids=str)
def test_models(azureml_examples: Path, workspace: str, tmp_path: Path, relative: str) -> None:
    model = load_spec(azureml_examples / relative)
    assert isinstance(model, Model)
    uri = "azureml://datastores/workspaceblobstore/paths/models/m"
    body = model.to_rest(model_uri=uri)
    arm = {"id": f"{workspace}/models/{model.name}/versions/{model.version or 1}", **body}
    back = Model.from_rest(arm)
    assert (back.name, back.version) == (model.name, model.version or "1")
    assert back.to_rest() == body
    yaml_dict = back.to_yaml_dict()
    assert yaml_dict["path"] == uri
    assert reload(yaml_dict, tmp_path).to_rest() == body
    for key, value in original_yaml(azureml_examples / relative).items():
        if key != "path":
            assert normalise(yaml_dict[key]) == normalise(value), key


def test_environment_and_code(tmp_path: Path, workspace: str) -> None:
    environment = Environment.model_validate(
        {
            "name": "byoc",
            "version": "3",
            "image": "docker.io/tensorflow/serving:latest",
            "conda_file": {"name": "e", "dependencies": ["python=3.11"]},
            "os_type": "linux",
            "inference_config": {
                "liveness_route": {"port": 8501, "path": "/v1/models/m"},
                "readiness_route": {"port": 8501, "path": "/v1/models/m"},
                "scoring_route": {"port": 8501, "path": "/v1/models/m:predict"},
            },
        }
    )
    body = environment.to_rest()
    assert body["properties"]["osType"] == "Linux"
    back = Environment.from_rest({"id": f"{workspace}/environments/byoc/versions/3", **body})
    assert back == environment
    assert reload(back.to_yaml_dict(), tmp_path).to_rest() == body
    code = Code.model_validate(
        {"name": "c", "version": "1", "path": "https://store/code/", "tags": {"a": "b"}}
    )
    back_code = Code.from_rest({"id": f"{workspace}/codes/c/versions/1", **code.to_rest()})
    assert back_code == code
