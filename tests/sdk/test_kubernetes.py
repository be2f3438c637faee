"""Kubernetes online endpoints by the official SDK against a local workspace serving HTTPS (the
azureml-examples kubernetes notebook): the Kubernetes compute standing for this machine, an
endpoint on it, a deployment with its instance type and resource requests and limits, traffic,
invoke, scale, logs, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.samples import EXPECTED_MODEL_1, close_to
from support.sdk import record_calls, run_sdk_script

from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo

ENDPOINT = "sdk-kube"


def test_kubernetes_online_endpoint(
    workspace: WorkspaceInfo, sdk_interpreter: Path, sdk_arguments: dict[str, Any], client: RestClient
) -> None:
    run = run_sdk_script(workspace, "kubernetes.py", {**sdk_arguments, "endpoint": ENDPOINT})
    record_calls("kubernetes", run)
    assert run.status == 0 and run.done and not run.failed, run.explain()
    assert len(run.passed) == 14, run.explain()

    assert run.result("compute.get(Kubernetes compute)") == {"type": "kubernetes"}
    created = run.result("online_endpoints.begin_create_or_update(kubernetes)")
    assert created["compute"].endswith("/computes/inferencecompute") and created["state"] == "Succeeded"
    assert run.result("online_deployments.get(kubernetes blue)") == {
        "type": "Kubernetes",
        "instance_type": "defaultinstancetype",
        "requests_cpu": "0.1",
    }
    assert close_to(run.result("online_endpoints.invoke(kubernetes)"), EXPECTED_MODEL_1)
    assert run.result("online_deployments.begin_create_or_update(kubernetes scale to 2)") == {
        "instance_count": 2
    }
    assert client.find(client.paths.endpoint(ENDPOINT)) is None
