"""Kubernetes online endpoints from the azureml-examples ``kubernetes/`` YAML: loaded, mapped to REST
bodies, created on the workspace's Kubernetes compute (this machine), scored and deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from support.clients import make_client
from support.samples import EXPECTED_MODEL_1, SCORE_MODEL_1, close_to, write_script
from support.waiting import unique

from jupyter_mlep import operations as ops
from jupyter_mlep._errors import MlepError
from jupyter_mlep.specs import (
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    load_deployment,
    load_endpoint,
)
from jupyter_mlep.workspace import WorkspaceInfo

KUBERNETES = Path("cli/endpoints/online/kubernetes")


def _tree(root: Path, examples: Path, endpoint: str) -> dict[str, Path]:
    """The kubernetes/ YAML in ``root`` (the endpoint renamed), models and conda files from the
    fixtures, test-written scoring scripts."""
    online = examples / "cli" / "endpoints" / "online"
    folder = root / KUBERNETES
    folder.mkdir(parents=True)
    files: dict[str, Path] = {}
    data = yaml.safe_load((examples / KUBERNETES / "kubernetes-endpoint.yml").read_text())
    data["name"] = endpoint
    files["endpoint"] = folder / "kubernetes-endpoint.yml"
    files["endpoint"].write_text(yaml.safe_dump(data))
    for colour, model in (("blue", "model-1"), ("green", "model-2")):
        data = yaml.safe_load((examples / KUBERNETES / f"kubernetes-{colour}-deployment.yml").read_text())
        data["endpoint_name"] = endpoint
        data["model"]["path"] = str(online / model / "model")
        data["environment"]["conda_file"] = str(online / "model-1" / "environment" / "conda.yaml")
        data["code_configuration"]["code"] = str(write_script(root / model / "onlinescoring", SCORE_MODEL_1))
        files[colour] = folder / f"kubernetes-{colour}-deployment.yml"
        files[colour].write_text(yaml.safe_dump(data))
    return files


def test_fixture_yaml_maps_to_kubernetes_bodies(azureml_examples: Path, workspace: WorkspaceInfo) -> None:
    endpoint = load_endpoint(azureml_examples / KUBERNETES / "kubernetes-endpoint.yml")
    assert isinstance(endpoint, KubernetesOnlineEndpoint)
    body = endpoint.to_rest(workspace=workspace.workspace_path, location="local")
    assert body["properties"]["compute"] == f"{workspace.workspace_path}/computes/inferencecompute"
    green = load_deployment(azureml_examples / KUBERNETES / "kubernetes-green-deployment.yml")
    assert isinstance(green, KubernetesOnlineDeployment)
    props = green.to_rest(location="local", model_id="m", code_id="c", environment_id="e")["properties"]
    assert props["endpointComputeType"] == "Kubernetes" and props["instanceType"] == "defaultinstancetype"
    assert props["containerResourceRequirements"] == {
        "containerResourceRequests": {"cpu": "0.1", "memory": "0.1Gi"}
    }
    assert props["scaleSettings"]["scaleType"] == "TargetUtilization"
    assert props["scaleSettings"]["maxInstances"] == 3


def test_kubernetes_endpoint_created_scored_and_deleted(
    workspace: WorkspaceInfo, tmp_path: Path, azureml_examples: Path
) -> None:
    name = unique("k8s")
    files = _tree(tmp_path, azureml_examples, name)
    with make_client(workspace) as client:
        created = ops.create_endpoint(client, load_endpoint(files["endpoint"]))
        try:
            assert isinstance(created, KubernetesOnlineEndpoint)
            assert created.compute is not None and created.compute.name == "inferencecompute"
            blue = ops.deploy(client, load_deployment(files["blue"]), traffic=100, timeout=600)
            assert blue.deployment.provisioning_state == "Succeeded" and blue.traffic == {"blue": 100}
            shown = ops.get_deployment(client, name, "blue")
            assert isinstance(shown, KubernetesOnlineDeployment)
            assert shown.instance_type == "defaultinstancetype"
            assert shown.resources is not None and shown.resources.limits is not None
            assert (shown.resources.limits.cpu, shown.resources.limits.memory) == ("0.2", "200Mi")
            request: Any = azureml_examples / "cli/endpoints/online/model-1/sample-request.json"
            result = ops.invoke(client, name, request)
            assert result.status == 200 and result.deployment == "blue"
            assert close_to(result.body, EXPECTED_MODEL_1)
            green = load_deployment(files["green"]).model_copy(update={"instance_type": "gpuinstancetype"})
            with pytest.raises(MlepError, match="Instance types: defaultinstancetype"):
                ops.deploy(client, green, timeout=300)
            assert [item.name for item in ops.list_deployments(client, name)] == ["blue"]
        finally:
            ops.delete_endpoint(client, name, timeout=120)
        assert name not in [item.name for item in ops.list_endpoints(client)]
