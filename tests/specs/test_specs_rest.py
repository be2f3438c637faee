"""REST bodies of api-version 2026-07-01: what to_rest builds, the saved schema, the saved examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlep._errors import SpecError
from jupyter_mlep.specs import (
    Code,
    CommandJob,
    Environment,
    Job,
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    ManagedOnlineDeployment,
    Model,
    OnlineDeployment,
    OnlineEndpoint,
    SweepJob,
    load_deployment,
    load_endpoint,
    load_environment,
    load_job,
    load_model,
    load_spec,
)

ONLINE = Path("cli/endpoints/online")
ENDPOINT_FILES = [
    "managed/sample/endpoint.yml",
    "kubernetes/kubernetes-endpoint.yml",
    "managed/vnet/sample/endpoint.yml",
    "managed/managed-identities/1-sai-create-endpoint.yml",
    "managed/managed-identities/1-uai-create-endpoint.yml",
    "custom-container/tfserving/half-plus-two/tfserving-endpoint.yml",
]
DEPLOYMENT_FILES = [
    "managed/sample/blue-deployment.yml",
    "managed/sample/green-deployment.yml",
    "managed/sample/blue-deployment-with-curated-env.yml",
    "managed/sample/green-deployment-with-registered-assets.yml",
    "kubernetes/kubernetes-blue-deployment.yml",
    "kubernetes/kubernetes-green-deployment.yml",
    "managed/vnet/sample/blue-deployment-vnet.yml",
    "managed/inference-schema/deployment-pandas.yml",
    "managed/keyvault/keyvault-deployment.yml",
    "managed/managed-identities/2-uai-deployment.yml",
]
EXTRA_DEPLOYMENTS = [
    "cli/generative-ai/promptflow/deploy-flow/deployment.yaml",
    "cli/monitoring/azureml-e2e-model-monitoring/endpoints/deployment.yaml",
]


def deployment_body(path: Path, workspace: str, asset_ids: dict[str, str]) -> dict[str, Any]:
    deployment = load_deployment(path)
    ids = {
        "model_id": asset_ids["model_id"] if isinstance(deployment.model, Model) else None,
        "code_id": asset_ids["code_id"],
        "environment_id": asset_ids["environment_id"]
        if isinstance(deployment.environment, Environment)
        else None,
    }
    return deployment.to_rest(workspace=workspace, location="westeurope", endpoint_name="my-endpoint", **ids)


def test_endpoint_body(azureml_examples: Path, workspace: str) -> None:
    endpoint = load_endpoint(azureml_examples / ONLINE / "kubernetes/kubernetes-endpoint.yml")
    assert endpoint.to_rest(workspace=workspace, location="westeurope") == {
        "location": "westeurope",
        "tags": {"tag1": "endpoint-tag1-value"},
        "properties": {"authMode": "Key", "compute": f"{workspace}/computes/inferencecompute"},
    }
    vnet = load_endpoint(azureml_examples / ONLINE / "managed/vnet/sample/endpoint.yml")
    assert vnet.to_rest(location="l")["properties"] == {"authMode": "Key", "publicNetworkAccess": "Disabled"}
    uai = load_endpoint(azureml_examples / ONLINE / "managed/managed-identities/1-uai-create-endpoint.yml")
    assert uai.to_rest(location="l")["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": {"user_identity_ARM_id_place_holder": {}},
    }
    token = load_endpoint(
        azureml_examples / ONLINE / "custom-container/tfserving/half-plus-two/tfserving-endpoint.yml"
    )
    assert token.to_rest(location="l")["properties"]["authMode"] == "AMLToken"


def test_traffic_in_the_body(tmp_path: Path) -> None:
    path = tmp_path / "endpoint.yml"
    path.write_text(
        "name: my-endpoint\nauth_mode: aad_token\ntraffic: {blue: 90, green: 10}\nmirror_traffic: {green: 0}\n"
    )
    properties = load_endpoint(path).to_rest(location="l")["properties"]
    assert properties == {
        "authMode": "AADToken",
        "traffic": {"blue": 90, "green": 10},
        "mirrorTraffic": {"green": 0},
    }


def test_deployment_body_with_defaults(
    azureml_examples: Path, workspace: str, asset_ids: dict[str, str]
) -> None:
    body = deployment_body(
        azureml_examples / ONLINE / "managed/sample/blue-deployment.yml", workspace, asset_ids
    )
    default_probe = {
        "initialDelay": "PT10S",
        "period": "PT10S",
        "timeout": "PT2S",
        "successThreshold": 1,
        "failureThreshold": 30,
    }
    assert body == {
        "location": "westeurope",
        "sku": {"name": "Default", "capacity": 1},
        "properties": {
            "endpointComputeType": "Managed",
            "model": asset_ids["model_id"],
            "codeConfiguration": {"codeId": asset_ids["code_id"], "scoringScript": "score.py"},
            "environmentId": asset_ids["environment_id"],
            "instanceType": "Standard_DS3_v2",
            "appInsightsEnabled": False,
            "livenessProbe": default_probe,
            "readinessProbe": default_probe,
            "requestSettings": {
                "requestTimeout": "PT5S",
                "maxConcurrentRequestsPerInstance": 1,
                "maxQueueWait": "PT0.5S",
            },
            "scaleSettings": {"scaleType": "Default"},
        },
    }


def test_deployment_body_from_yaml_values(azureml_examples: Path, workspace: str) -> None:
    demo = load_spec(
        azureml_examples / "cli/foundation-models/system/inference/image-classification/deploy-online.yaml"
    )
    assert isinstance(demo, ManagedOnlineDeployment)
    properties = demo.to_rest(
        workspace=workspace,
        location="l",
        endpoint_name="fm-endpoint",
        model_id="azureml://registries/azureml/models/resnet/versions/1",
    )["properties"]
    assert properties["livenessProbe"] == {
        "initialDelay": "PT3M",
        "period": "PT3M",
        "timeout": "PT4M59S",
        "successThreshold": 1,
        "failureThreshold": 49,
    }
    assert properties["requestSettings"]["requestTimeout"] == "PT1M30S"
    assert properties["model"] == "azureml://registries/azureml/models/resnet/versions/1"

    kube = load_deployment(azureml_examples / ONLINE / "kubernetes/kubernetes-blue-deployment.yml")
    properties = kube.to_rest(
        workspace=workspace, location="l", model_id="m", code_id="c", environment_id="e"
    )["properties"]
    assert properties["endpointComputeType"] == "Kubernetes"
    assert properties["instanceType"] == "Standard_F4s_v2"
    assert properties["requestSettings"] == {
        "requestTimeout": "PT3S",
        "maxConcurrentRequestsPerInstance": 1,
        "maxQueueWait": "PT3S",
    }
    assert properties["scaleSettings"] == {"scaleType": "Default"}
    assert properties["containerResourceRequirements"] == {
        "containerResourceRequests": {"cpu": "0.1", "memory": "0.1Gi"},
        "containerResourceLimits": {"cpu": "0.2", "memory": "200Mi"},
    }


def test_kubernetes_scale_settings_default_to_target_utilization(tmp_path: Path, workspace: str) -> None:
    path = tmp_path / "d.yml"
    path.write_text("name: blue\nendpoint_name: k8s-ep\ntype: kubernetes\nmodel: azureml:m:1\n")
    properties = load_deployment(path).to_rest(workspace=workspace, location="l")["properties"]
    assert properties["scaleSettings"] == {
        "scaleType": "TargetUtilization",
        "minInstances": 1,
        "maxInstances": 1,
        "pollingInterval": "PT1S",
        "targetUtilizationPercentage": 70,
    }


def test_references_become_ids(azureml_examples: Path, workspace: str) -> None:
    registered = load_deployment(
        azureml_examples / ONLINE / "managed/sample/blue-deployment-with-registered-assets.yml"
    )
    properties = registered.to_rest(workspace=workspace, location="l", code_id="c")["properties"]
    assert properties["model"] == f"{workspace}/models/my-model/versions/1"
    assert properties["environmentId"] == f"{workspace}/environments/my-env/versions/1"
    curated = load_deployment(
        azureml_examples / ONLINE / "managed/sample/green-deployment-with-curated-env.yml"
    )
    properties = curated.to_rest(workspace=workspace, location="l", model_id="m", code_id="c")["properties"]
    assert (
        properties["environmentId"] == "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
    )
    monitored = load_deployment(
        azureml_examples / "cli/monitoring/azureml-e2e-model-monitoring/endpoints/deployment.yaml"
    )
    properties = monitored.to_rest(workspace=workspace, location="l", code_id="c", environment_id="e")[
        "properties"
    ]
    assert properties["model"] == f"{workspace}/models/credit-default-model/labels/latest"
    assert properties["dataCollector"]["collections"]["model_inputs"] == {"dataCollectionMode": "Enabled"}


@pytest.mark.parametrize("relative", ENDPOINT_FILES, ids=str)
def test_endpoint_bodies_match_the_schema(
    azureml_examples: Path,
    workspace: str,
    request_validator: Callable[[str, dict[str, Any]], None],
    relative: str,
) -> None:
    endpoint = load_endpoint(azureml_examples / ONLINE / relative)
    request_validator("OnlineEndpoint", endpoint.to_rest(workspace=workspace, location="westeurope"))


@pytest.mark.parametrize(
    "relative", [str(ONLINE / name) for name in DEPLOYMENT_FILES] + EXTRA_DEPLOYMENTS, ids=str
)
def test_deployment_bodies_match_the_schema(
    azureml_examples: Path,
    workspace: str,
    asset_ids: dict[str, str],
    request_validator: Callable[[str, dict[str, Any]], None],
    relative: str,
) -> None:
    body = deployment_body(azureml_examples / relative, workspace, asset_ids)
    request_validator("OnlineDeployment", body)


def test_the_schema_check_catches_mistakes(request_validator: Callable[[str, dict[str, Any]], None]) -> None:
    import jsonschema

    good = {"location": "l", "properties": {"authMode": "Key"}}
    request_validator("OnlineEndpoint", good)
    for bad in (
        {"properties": {"authMode": "Key"}},
        {"location": "l", "properties": {"authMode": "key"}},
        {"location": "l", "properties": {"authMode": "Key", "scoringUri": "https://x"}},
        {"location": "l", "properties": {"authMode": "Key", "trafic": {}}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            request_validator("OnlineEndpoint", bad)
    deployment = {
        "location": "l",
        "properties": {"endpointComputeType": "Managed", "requestSettings": {"requestTimeout": "5s"}},
    }
    with pytest.raises(jsonschema.ValidationError):
        request_validator("OnlineDeployment", deployment)


def _example(rest_examples: Path, relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((rest_examples / relative).read_text(encoding="utf-8"))
    return data


def test_example_endpoint_request_parses(rest_examples: Path) -> None:
    example = _example(rest_examples, "from-2024-10-01/Workspace/OnlineEndpoint/createOrUpdate.json")
    endpoint = OnlineEndpoint.from_rest(
        example["parameters"]["body"], name=example["parameters"]["endpointName"]
    )
    assert isinstance(endpoint, KubernetesOnlineEndpoint)  # the example sets properties.compute
    assert (endpoint.name, endpoint.auth_mode, endpoint.traffic) == (
        "testEndpointName",
        "aml_token",
        {"string": 1},
    )
    assert endpoint.identity is not None and endpoint.identity.type == "system_assigned"
    response = OnlineEndpoint.from_rest(example["responses"]["200"]["body"], name="testEndpointName")
    assert response.scoring_uri == "https://www.contoso.com/example"
    assert response.provisioning_state == "Creating"


def test_example_deployment_requests_parse(rest_examples: Path) -> None:
    example = _example(
        rest_examples, "from-2024-10-01/OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json"
    )
    parameters = example["parameters"]
    deployment = OnlineDeployment.from_rest(
        parameters["body"], name=parameters["deploymentName"], endpoint_name=parameters["endpointName"]
    )
    assert isinstance(deployment, ManagedOnlineDeployment)
    assert deployment.liveness_probe is not None and deployment.liveness_probe.period == 300
    assert (
        deployment.request_settings is not None and deployment.request_settings.max_queue_wait_ms == 300_000
    )
    assert deployment.startup_probe is not None and deployment.startup_probe.initial_delay == 30
    assert (
        deployment.code_configuration is not None and deployment.code_configuration.scoring_script == "string"
    )
    assert deployment.instance_count == 1
    kube = _example(rest_examples, "OnlineDeployment/KubernetesOnlineDeployment/get.json")
    got = OnlineDeployment.from_rest(kube["responses"]["200"]["body"])
    assert isinstance(got, KubernetesOnlineDeployment)
    assert (
        got.resources is not None
        and got.resources.limits is not None
        and got.resources.limits.memory == '"2Gi"'
    )


def test_example_asset_and_job_requests_parse(rest_examples: Path) -> None:
    model = Model.from_rest(
        _example(rest_examples, "from-2024-10-01/Workspace/ModelVersion/createOrUpdate.json")["parameters"][
            "body"
        ]
    )
    assert (model.type, model.path, model.flavors) == (
        "custom_model",
        "string",
        {"string": {"string": "string"}},
    )
    code = Code.from_rest(
        _example(rest_examples, "from-2024-10-01/Workspace/CodeVersion/createOrUpdate.json")["parameters"][
            "body"
        ]
    )
    assert code.path == "https://blobStorage/folderName"
    command = Job.from_rest(
        _example(rest_examples, "from-2024-10-01/Job/CommandJob/createOrUpdate.json")["parameters"]["body"]
    )
    assert isinstance(command, CommandJob)
    assert command.distribution is not None and command.distribution.type == "tensorflow"
    assert command.limits is not None and command.limits.timeout == 300
    assert command.outputs is not None and command.outputs["string"].mode == "rw_mount"


def test_example_bodies_with_placeholder_values_are_reported(rest_examples: Path) -> None:
    environment_body = _example(
        rest_examples, "from-2024-10-01/Workspace/EnvironmentVersion/createOrUpdate.json"
    )["parameters"]["body"]
    with pytest.raises(SpecError, match="condaFile is not a conda YAML mapping"):
        Environment.from_rest(environment_body)  # its condaFile is the text "string"
    environment_body["properties"]["condaFile"] = "name: env\ndependencies:\n  - python=3.11\n"
    environment = Environment.from_rest(environment_body)
    assert environment.inference_config is not None and environment.inference_config.scoring_route.port == 1
    assert environment.build is not None and environment.build.dockerfile_path == "prod/Dockerfile"

    sweep_body = _example(rest_examples, "from-2024-10-01/Job/SweepJob/createOrUpdate.json")["parameters"][
        "body"
    ]
    with pytest.raises(SpecError, match=r"searchSpace\.string is not a distribution"):
        Job.from_rest(sweep_body)  # its searchSpace is {"string": {}}
    sweep_body["properties"]["searchSpace"] = {"lr": ["uniform", [0.01, 0.1]]}
    sweep = Job.from_rest(sweep_body)
    assert isinstance(sweep, SweepJob)
    assert sweep.sampling_algorithm.type == "grid"
    assert sweep.early_termination is not None and sweep.early_termination.type == "median_stopping"
    assert sweep.limits is not None and sweep.limits.trial_timeout == 1


def test_asset_bodies(azureml_examples: Path, tmp_path: Path) -> None:
    model = load_model(azureml_examples / "cli/assets/model/local-mlflow.yml")
    assert model.to_rest(model_uri="azureml://datastores/workspaceblobstore/paths/m") == {
        "properties": {
            "description": "Model created from local MLflow model directory.",
            "modelType": "MLFlowModel",
            "modelUri": "azureml://datastores/workspaceblobstore/paths/m",
        }
    }
    with pytest.raises(SpecError, match=r"model path .* is local"):
        model.to_rest()
    (tmp_path / "conda.yaml").write_text("name: e\ndependencies:\n  - python=3.11\n")
    path = tmp_path / "env.yml"
    path.write_text("name: e\nimage: python:3.11\nconda_file: conda.yaml\n")
    assert load_environment(path).to_rest() == {
        "properties": {"image": "python:3.11", "condaFile": "name: e\ndependencies:\n  - python=3.11\n"}
    }
    (tmp_path / "conda.yaml").unlink()
    with pytest.raises(SpecError, match=r"The conda file .*conda.yaml \(from .*env.yml\) does not exist"):
        load_environment(path).to_rest()
    job = load_job(azureml_examples / "cli/jobs/single-step/scikit-learn/iris/job-docker-context.yml")
    assert isinstance(job.environment, Environment)
    assert job.environment.to_rest(context_uri="https://store/ctx/") == {
        "properties": {"build": {"contextUri": "https://store/ctx/", "dockerfilePath": "Dockerfile"}}
    }
    code = Code.model_validate({"name": "c", "path": "https://store/code/"})
    assert code.to_rest() == {"properties": {"codeUri": "https://store/code/"}}


def test_job_bodies(azureml_examples: Path, workspace: str) -> None:
    job = load_job(azureml_examples / "cli/jobs/single-step/scikit-learn/iris/job.yml")
    properties = job.to_rest(workspace=workspace, code_id="c")["properties"]
    assert properties["jobType"] == "Command"
    assert properties["computeId"] == f"{workspace}/computes/cpu-cluster"
    assert (
        properties["environmentId"] == "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
    )
    assert properties["inputs"] == {
        "iris_csv": {
            "jobInputType": "uri_file",
            "uri": "wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv",
        },
        "C": {"jobInputType": "literal", "value": "0.8"},
        "kernel": {"jobInputType": "literal", "value": "rbf"},
        "coef0": {"jobInputType": "literal", "value": "0.1"},
    }
    sweep = load_job(azureml_examples / "cli/jobs/single-step/scikit-learn/iris/job-sweep.yml")
    properties = sweep.to_rest(workspace=workspace, code_id="c")["properties"]
    assert properties["searchSpace"] == {
        "C": ["uniform", [0.5, 0.9]],
        "kernel": ["choice", [["rbf", "linear", "poly"]]],
        "coef0": ["uniform", [0.1, 1.0]],
    }
    assert properties["objective"] == {"goal": "Minimize", "primaryMetric": "training_f1_score"}
    assert properties["samplingAlgorithm"] == {"samplingAlgorithmType": "Random"}
    assert properties["limits"] == {
        "jobLimitsType": "Sweep",
        "maxTotalTrials": 20,
        "maxConcurrentTrials": 10,
        "timeout": "PT2H",
    }
    assert (
        properties["trial"]["environmentId"] == f"{workspace}/environments/AzureML-sklearn-1.5/labels/latest"
    )
    outputs = load_job(azureml_examples / "cli/jobs/basics/hello-world-output-data.yml").to_rest(
        environment_id="e"
    )
    assert outputs["properties"]["outputs"] == {"hello_output": {"jobOutputType": "uri_folder"}}


def test_rest_bodies_with_wrong_values_are_reported() -> None:
    with pytest.raises(
        SpecError,
        match=r"in a REST body .*\n  - auth_mode: Input should be 'key', 'aml_token' or 'aad_token'",
    ):
        OnlineEndpoint.from_rest({"properties": {"authMode": "Password"}}, name="my-endpoint")
    with pytest.raises(SpecError, match="Jobs of type Pipeline are not supported"):
        Job.from_rest({"properties": {"jobType": "Pipeline"}})


def test_traffic_update_from_a_get_response(rest_examples: Path, workspace: str) -> None:
    response = _example(rest_examples, "from-2024-10-01/Workspace/OnlineEndpoint/get.json")["responses"][
        "200"
    ]["body"]
    endpoint = OnlineEndpoint.from_rest(response, name="my-endpoint")
    updated = endpoint.model_copy(update={"traffic": {"blue": 90, "green": 10}})
    updated.check(deployments=["blue", "green"])
    body = updated.to_rest(workspace=workspace)  # the location comes from the response
    assert body["location"] == response["location"]
    assert body["properties"]["traffic"] == {"blue": 90, "green": 10}
    assert "provisioningState" not in body["properties"] and "scoringUri" not in body["properties"]
