"""Batch endpoint and deployment specs: both YAML forms, REST bodies checked against the saved
2026-07-01 schema and examples, and the rules checked before anything is created."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlep._errors import SpecError, SpecValidationError
from jupyter_mlep.specs import (
    BatchDeployment,
    BatchEndpoint,
    Model,
    load_batch_deployment,
    load_batch_endpoint,
    load_spec,
)

# The two forms the Azure ML docs show for a model batch deployment: settings nested under
# `settings:` (modelBatchDeployment.schema.json) and at the root (batchDeployment.schema.json).
NESTED = """\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
endpoint_name: mnist-batch
name: mnist-torch-dpl
description: A deployment scoring digits.
type: model
model:
  name: mnist-classifier
  path: model
code_configuration:
  code: code
  scoring_script: batch_driver.py
environment:
  name: batch-torch
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
  conda_file: environment/conda.yaml
compute: azureml:batch-cluster
resources:
  instance_count: 2
settings:
  max_concurrency_per_instance: 2
  mini_batch_size: 5
  output_action: append_row
  output_file_name: scores.csv
  retry_settings:
    max_retries: 2
    timeout: 300
  error_threshold: 4
  logging_level: debug
  environment_variables:
    LIMIT: 3
"""
ROOT = """\
$schema: https://azuremlschemas.azureedge.net/latest/batchDeployment.schema.json
name: at-root
endpoint_name: mnist-batch
model: azureml:mnist-classifier:1
compute: azureml:batch-cluster
mini_batch_size: 7
output_action: summary_only
error_threshold: -1
"""
WS = "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"
ENDPOINT = """\
$schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
name: mnist-batch
description: A batch endpoint for scoring images.
auth_mode: aad_token
"""


def write(folder: Path, text: str, name: str = "spec.yml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_nested_settings_are_read_and_sent_as_rest(
    tmp_path: Path,
    workspace: str,
    asset_ids: dict[str, str],
    request_validator: Callable[[str, dict[str, Any]], None],
) -> None:
    spec = load_spec(write(tmp_path, NESTED))
    assert isinstance(spec, BatchDeployment)
    assert (spec.mini_batch_size, spec.max_concurrency_per_instance, spec.workers) == (5, 2, 4)
    assert isinstance(spec.model, Model) and spec.model.path == tmp_path / "model"
    body = spec.to_rest(workspace=workspace, location="westus2", **asset_ids)
    request_validator("BatchDeployment", body)
    props = body["properties"]
    assert props["model"] == {"referenceType": "Id", "assetId": asset_ids["model_id"]}
    assert props["compute"] == f"{workspace}/computes/batch-cluster"
    assert props["retrySettings"] == {"maxRetries": 2, "timeout": "PT5M"}
    assert (props["outputAction"], props["outputFileName"], props["loggingLevel"]) == (
        "AppendRow",
        "scores.csv",
        "Debug",
    )
    assert (props["errorThreshold"], props["resources"]["instanceCount"]) == (4, 2)
    assert props["environmentVariables"] == {"LIMIT": "3"}
    assert props["codeConfiguration"] == {"codeId": asset_ids["code_id"], "scoringScript": "batch_driver.py"}


def test_settings_at_the_root_and_defaults(
    tmp_path: Path, workspace: str, request_validator: Callable[[str, dict[str, Any]], None]
) -> None:
    spec = load_batch_deployment(write(tmp_path, ROOT))
    body = spec.to_rest(workspace=workspace, location="local")
    request_validator("BatchDeployment", body)
    props = body["properties"]
    assert props["model"]["assetId"] == f"{workspace}/models/mnist-classifier/versions/1"
    assert (props["miniBatchSize"], props["outputAction"], props["maxConcurrencyPerInstance"]) == (
        7,
        "SummaryOnly",
        1,
    )
    assert props["retrySettings"] == {"maxRetries": 3, "timeout": "PT30S"}
    assert props["outputFileName"] == "predictions.csv" and props["errorThreshold"] == -1


def test_yaml_round_trip_writes_settings_nested(tmp_path: Path) -> None:
    spec = load_batch_deployment(write(tmp_path, ROOT))
    data = spec.to_yaml_dict()
    assert data["$schema"].endswith("/batchDeployment.schema.json") and data["type"] == "model"
    assert data["settings"]["mini_batch_size"] == 7 and "mini_batch_size" not in data
    again = load_batch_deployment(write(tmp_path, json.dumps(data), "again.yml"))
    assert again.to_rest(location="x", workspace=WS) == spec.to_rest(location="x", workspace=WS)


def test_rest_round_trip_and_saved_example(workspace: str, rest_examples: Path) -> None:
    example = json.loads(
        (rest_examples / "from-2024-10-01/Workspace/BatchDeployment/get.json").read_text(encoding="utf-8")
    )
    body = example["responses"]["200"]["body"]
    read = BatchDeployment.from_rest(body, name="dep", endpoint_name="ep-one")
    assert read.output_action in ("summary_only", "append_row")
    assert read.retry_settings is not None and read.retry_settings.timeout > 0
    built = BatchDeployment(name="blue", endpoint_name="ep-one", model="azureml:m:1", mini_batch_size=3)
    again = BatchDeployment.from_rest(
        {
            "id": f"{workspace}/batchEndpoints/ep-one/deployments/blue",
            **built.to_rest(workspace=workspace, location="l"),
        }
    )
    assert (again.name, again.endpoint_name, again.mini_batch_size) == ("blue", "ep-one", 3)
    assert again.to_rest(workspace=workspace, location="l") == built.to_rest(
        workspace=workspace, location="l"
    )


def test_endpoint_yaml_rest_and_example(
    tmp_path: Path, rest_examples: Path, request_validator: Callable[[str, dict[str, Any]], None]
) -> None:
    spec = load_batch_endpoint(write(tmp_path, ENDPOINT))
    body = spec.to_rest(location="local")
    request_validator("BatchEndpoint", body)
    assert body["properties"] == {
        "authMode": "AADToken",
        "description": "A batch endpoint for scoring images.",
    }
    with_default = BatchEndpoint(name="mnist-batch", defaults={"deployment_name": "blue"})
    assert with_default.to_rest(location="l")["properties"]["defaults"] == {"deploymentName": "blue"}
    example = json.loads((rest_examples / "Workspace/BatchEndpoint/get.json").read_text(encoding="utf-8"))
    read = BatchEndpoint.from_rest(example["responses"]["200"]["body"], name="ep")
    assert read.scoring_uri == "https://www.contoso.com/example" and read.description == "string"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("mini_batch_size: 0", "mini_batch_size of batch deployment 'at-root' is 0"),
        ("mini_batch_size: -3", "must be at least 1"),
        ("error_threshold: -2", "error_threshold"),
        ("max_concurrency_per_instance: 0", "max_concurrency_per_instance"),
        ("output_file_name: out/p.csv", "must be a file name"),
        ("output_action: overwrite", "output_action"),
        ("type: pipeline", "type"),
    ],
)
def test_bad_settings_are_refused_when_read(tmp_path: Path, change: str, message: str) -> None:
    key = change.split(":")[0]
    text = "\n".join(line for line in ROOT.splitlines() if not line.startswith(key + ":")) + f"\n{change}\n"
    with pytest.raises(SpecError, match=message):
        load_batch_deployment(write(tmp_path, text))


def test_same_setting_twice_must_agree(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="both under settings"):
        load_batch_deployment(write(tmp_path, ROOT + "settings:\n  mini_batch_size: 9\n"))


def test_missing_model_and_half_code_are_refused_before_creating(tmp_path: Path) -> None:
    no_model = "\n".join(line for line in ROOT.splitlines() if not line.startswith("model:"))
    spec = load_batch_deployment(write(tmp_path, no_model))
    with pytest.raises(SpecValidationError, match="has no model") as caught:
        spec.to_rest(workspace=WS, location="l")
    assert "azureml:<name>:<version>" in (caught.value.hint or "")
    half = ROOT + "code_configuration:\n  code: src\n  scoring_script: score.py\n"
    with pytest.raises(SpecValidationError, match="no environment"):
        load_batch_deployment(write(tmp_path, half)).to_rest(workspace=WS, location="l")


def test_endpoint_refuses_key_auth(tmp_path: Path) -> None:
    with pytest.raises(SpecValidationError, match="Microsoft Entra tokens only"):
        load_batch_endpoint(write(tmp_path, ENDPOINT.replace("aad_token", "key")))
