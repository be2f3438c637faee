"""``deploy`` checks everything it can before the endpoint is created or anything is uploaded, and a
curated environment deploys for real — through the magics and the operations, against the local
workspace (requests counted, assets and blobs listed before and after)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.samples import SCORE_BROKEN, SampleTree

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import load_deployment
from jupyter_mlep.workspace._paths import WorkspacePaths

pytestmark = pytest.mark.usefixtures("use_workspace")

ECHO = "import json\n\n\ndef init():\n    pass\n\n\ndef run(raw_data):\n    return {'echo': json.loads(raw_data)}\n"


def _snapshot(client: RestClient, home: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The blobs of the workspace and its asset containers (models, codes, environments)."""
    blobs = sorted(str(p) for p in WorkspacePaths.under(home).blobs.rglob("*") if p.is_file())
    assets = {
        family: sorted(str(item["name"]) for item in client.list(client.paths.assets(family)))
        for family in ("models", "codes", "environments")
    }
    return blobs, assets


def _flags(tree: SampleTree, model_1: Path, env: str) -> str:
    code = tree.sample.parents[1] / "model-1" / "onlinescoring"
    return f"--model {model_1 / 'model'} --code {code} --scoring-script score.py --env {env}"


def test_missing_conda_file_leaves_no_endpoint_and_no_upload(
    ip: Any, tmp_path: Path, azureml_examples: Path, client: RestClient, model_1: Path, workspace_home: Path
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"half-ep-{uuid.uuid4().hex[:6]}")
    before = _snapshot(client, workspace_home)
    with pytest.raises(errors.SpecValidationError, match=r"conda file .*nope\.yml does not exist"):
        ip.run_line_magic("endpoint", f"deploy {tree.endpoint} blue " + _flags(tree, model_1, "nope.yml"))
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "name: env\ndependencies:\n  - python=3.11\n  - pip:\n    - scikit-learn\n   - numpy: [\n"
    )
    with pytest.raises(errors.SpecValidationError) as caught:
        ip.run_line_magic("endpoint", f"deploy {tree.endpoint} blue " + _flags(tree, model_1, str(broken)))
    assert str(broken) in str(caught.value) and "line 6" in str(caught.value)
    assert "<unicode string>" not in str(caught.value)
    assert client.find(client.paths.endpoint(tree.endpoint)) is None
    assert _snapshot(client, workspace_home) == before


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        (
            "model",
            "azureml:my-model-{id}:1",
            r"(?s)model azureml:my-model-\w+:1 does not exist.*az ml model list",
        ),
        (
            "environment",
            "azureml:my-env-{id}@latest",
            r"environment azureml:my-env-\w+@latest does not exist",
        ),
        ("environment", "azureml:AzureML-sklearn-0.1@latest", r"(?s)Known: .*AzureML-sklearn-1\.5"),
        (
            "environment",
            "azureml://registries/azureml/environments/nope-{id}/labels/latest",
            r"(?s)Known: .*AzureML-minimal-py312-inference",
        ),
    ],
)
def test_missing_asset_reference_leaves_nothing_behind(
    tmp_path: Path,
    azureml_examples: Path,
    client: RestClient,
    workspace_home: Path,
    field: str,
    value: str,
    match: str,
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"ref-{uuid.uuid4().hex[:6]}")
    data = yaml.safe_load(tree.blue.read_text())
    data[field] = value.format(id=uuid.uuid4().hex[:6])
    tree.blue.write_text(yaml.safe_dump(data))
    before, requests = _snapshot(client, workspace_home), client.request_count
    with pytest.raises(errors.SpecValidationError, match=match) as caught:
        ops.deploy(client, load_deployment(tree.blue))
    assert client.request_count - requests == 1  # the one GET of the reference, nothing else
    assert "nothing was created or uploaded" in str(caught.value)
    assert client.find(client.paths.endpoint(tree.endpoint)) is None
    assert _snapshot(client, workspace_home) == before


def test_later_failure_keeps_the_endpoint_and_says_so(
    tmp_path: Path, azureml_examples: Path, client: RestClient
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"stays-{uuid.uuid4().hex[:6]}")
    (tree.sample.parents[1] / "model-1" / "onlinescoring" / "score.py").write_text(SCORE_BROKEN)
    try:
        with pytest.raises(errors.OperationFailedError) as caught:
            ops.deploy(client, load_deployment(tree.blue))
        text = str(caught.value)
        assert f"The endpoint {tree.endpoint} was created and stays" in text
        assert f"%endpoint delete {tree.endpoint}" in text
        assert client.find(client.paths.endpoint(tree.endpoint)) is not None
    finally:
        ops.delete_endpoint(client, tree.endpoint)


def test_curated_environment_deploys_and_answers(tmp_path: Path, client: RestClient) -> None:
    """The cheapest curated environment (minimal inference) through the client, for real."""
    endpoint = f"curated-{uuid.uuid4().hex[:6]}"
    code = tmp_path / "code"
    code.mkdir()
    (code / "score.py").write_text(ECHO)
    spec_file = tmp_path / "deployment.yml"
    spec_file.write_text(
        yaml.safe_dump(
            {
                "name": "blue",
                "endpoint_name": endpoint,
                "code_configuration": {"code": "code", "scoring_script": "score.py"},
                "environment": "azureml://registries/azureml/environments/minimal-py312-inference/labels/latest",
                "instance_type": "Standard_DS3_v2",
                "instance_count": 1,
            }
        )
    )
    try:
        result = ops.deploy(client, load_deployment(spec_file), traffic=100)
        assert result.deployment.provisioning_state == "Succeeded"
        answer = ops.invoke(client, endpoint, {"data": [1, 2]})
        assert answer.status == 200 and answer.body == {"echo": {"data": [1, 2]}}
        data = yaml.safe_load(spec_file.read_text())
        data["environment"] = "azureml:AzureML-minimal-py312-inference@latest"
        spec_file.write_text(yaml.safe_dump(data))
        again = ops.deploy(client, load_deployment(spec_file))
        assert again.deployment.provisioning_state == "Succeeded"
        assert ops.invoke(client, endpoint, {"data": [3]}).body == {"echo": {"data": [3]}}
    finally:
        ops.delete_endpoint(client, endpoint)


def test_deployment_refused_by_the_service_takes_back_the_new_endpoint(
    ip: Any, tmp_path: Path, azureml_examples: Path, client: RestClient, model_1: Path
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"too-big-{uuid.uuid4().hex[:6]}")
    env = model_1 / "environment" / "conda.yaml"
    with pytest.raises(errors.RestError) as caught:
        ip.run_line_magic(
            "endpoint",
            f"deploy {tree.endpoint} blue " + _flags(tree, model_1, str(env)) + " --instance-count 1000",
        )
    text = str(caught.value)
    assert (
        caught.value.status == 400 and "1000" in text and "limit of" in text and "MLEP_MAX_INSTANCES" in text
    )
    assert f"The endpoint {tree.endpoint} that deploy had created for it was deleted again" in text
    assert client.find(client.paths.endpoint(tree.endpoint)) is None
