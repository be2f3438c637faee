"""Reading YAML: normalisation, paths, references, overrides, kinds, and readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlep._errors import PlaceholderError, SpecError, SpecValidationError
from jupyter_mlep.specs import (
    AssetReference,
    CommandJob,
    Environment,
    JobInput,
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    Model,
    SweepJob,
    apply_overrides,
    detect_kind,
    load_deployment,
    load_endpoint,
    load_environment,
    load_job,
    load_model,
    load_spec,
    parse_overrides,
    require_local_path,
    spec_from_dict,
)

ONLINE = Path("cli/endpoints/online")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_auth_mode_spellings_are_normalised(tmp_path: Path) -> None:
    for spelling, expected in [
        ("Key", "key"),
        ("key", "key"),
        ("AMLToken", "aml_token"),
        ("aml_token", "aml_token"),
        ("amlToken", "aml_token"),
        ("AADToken", "aad_token"),
        ("aad_token", "aad_token"),
    ]:
        path = write(tmp_path, "endpoint.yml", f"name: my-endpoint\nauth_mode: {spelling}\n")
        assert load_endpoint(path).auth_mode == expected


def test_kubernetes_endpoint(azureml_examples: Path) -> None:
    endpoint = load_endpoint(azureml_examples / ONLINE / "kubernetes/kubernetes-endpoint.yml")
    assert isinstance(endpoint, KubernetesOnlineEndpoint)
    assert endpoint.auth_mode == "key"
    assert endpoint.compute == AssetReference.parse("azureml:inferencecompute")
    assert endpoint.tags == {"tag1": "endpoint-tag1-value"}


def test_endpoint_kinds_without_schema(tmp_path: Path) -> None:
    assert isinstance(load_endpoint(write(tmp_path, "a.yml", "name: abc\n")), ManagedOnlineEndpoint)
    kube = load_endpoint(write(tmp_path, "b.yml", "name: abc\ncompute: k8s-compute\n"))
    assert isinstance(kube, KubernetesOnlineEndpoint)
    assert str(kube.compute) == "azureml:k8s-compute"


def test_user_assigned_identity(azureml_examples: Path) -> None:
    endpoint = load_endpoint(
        azureml_examples / ONLINE / "managed/managed-identities/1-uai-create-endpoint.yml"
    )
    assert endpoint.identity is not None
    assert endpoint.identity.type == "user_assigned"
    assert [item.resource_id for item in endpoint.identity.user_assigned_identities or []] == [
        "user_identity_ARM_id_place_holder"
    ]


def test_paths_resolve_against_the_yaml_folder(azureml_examples: Path) -> None:
    folder = azureml_examples / ONLINE / "managed/sample"
    deployment = load_deployment(folder / "blue-deployment.yml")
    assert isinstance(deployment.model, Model)
    assert deployment.model.path == (azureml_examples / ONLINE / "model-1/model").resolve()
    assert deployment.code_configuration is not None
    # the scoring code folder holds only Python upstream: it is missing, and that is fine at load
    code = deployment.code_configuration.code
    assert code == (azureml_examples / ONLINE / "model-1/onlinescoring").resolve()
    assert isinstance(code, Path) and not code.exists()
    assert isinstance(deployment.environment, Environment)
    assert (
        deployment.environment.conda_file
        == (azureml_examples / ONLINE / "model-1/environment/conda.yaml").resolve()
    )


def test_single_file_model_path(azureml_examples: Path) -> None:
    deployment = load_deployment(azureml_examples / ONLINE / "managed/vnet/sample/blue-deployment-vnet.yml")
    assert isinstance(deployment.model, Model)
    assert isinstance(deployment.model.path, Path) and deployment.model.path.is_file()
    assert deployment.is_custom_container
    assert deployment.egress_public_network_access == "disabled"  # type: ignore[union-attr]


def test_missing_local_paths_fail_only_when_required(azureml_examples: Path) -> None:
    job = load_job(azureml_examples / "cli/jobs/basics/hello-code.yml")
    assert isinstance(job, CommandJob) and isinstance(job.code, Path)
    with pytest.raises(SpecError, match=r"code folder .*src \(from .*hello-code.yml\) does not exist"):
        require_local_path(job.code, "code folder", job.source)


def test_remote_paths_stay_uris(azureml_examples: Path) -> None:
    job = load_job(azureml_examples / "cli/jobs/single-step/scikit-learn/iris/job.yml")
    assert job.inputs is not None
    assert job.inputs["iris_csv"].path == "wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv"
    assert job.inputs["C"] == JobInput(type="literal", value=0.8)
    assert str(job.compute) == "azureml:cpu-cluster"


@pytest.mark.parametrize(
    ("text", "kind", "name", "version", "label", "registry"),
    [
        ("azureml:my-model:1", "short", "my-model", "1", None, None),
        ("azureml:credit-default-model@latest", "short", "credit-default-model", None, "latest", None),
        ("azureml:cpu-cluster", "short", "cpu-cluster", None, None, None),
        (
            "azureml://registries/azureml/environments/sklearn-1.5/labels/latest",
            "registry",
            "sklearn-1.5",
            None,
            "latest",
            "azureml",
        ),
        ("azureml://registries/reg/models/m/versions/3", "registry", "m", "3", None, "reg"),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/models/m/versions/2",
            "arm",
            "m",
            "2",
            None,
            None,
        ),
        (
            "azureml:/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/environments/e/versions/7",
            "arm",
            "e",
            "7",
            None,
            None,
        ),
    ],
)
def test_asset_references(
    text: str, kind: str, name: str, version: str | None, label: str | None, registry: str | None
) -> None:
    ref = AssetReference.parse(text)
    assert (ref.kind, ref.name, ref.version, ref.label, ref.registry) == (
        kind,
        name,
        version,
        label,
        registry,
    )


def test_reference_ids(workspace: str) -> None:
    assert (
        AssetReference.parse("azureml:my-model:1").rest_id(workspace, "models")
        == f"{workspace}/models/my-model/versions/1"
    )
    assert AssetReference.parse("azureml:env@latest").rest_id(workspace, "environments") == (
        f"{workspace}/environments/env/labels/latest"
    )
    registry = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
    assert AssetReference.parse(registry).rest_id(workspace, "environments") == registry
    arm = f"{workspace}/models/m/versions/2"
    assert AssetReference.parse("azureml:" + arm).rest_id("/ignored", "models") == arm
    assert AssetReference.parse(arm).short == "azureml:m:2"
    with pytest.raises(ValueError, match="not an asset reference"):
        AssetReference.parse("my-model")
    assert AssetReference.parse("my-model", strict=False).kind == "uri"
    with pytest.raises(SpecError, match="without the workspace"):
        AssetReference.parse("azureml:m:1").rest_id(None, "models")
    with pytest.raises(SpecError, match="not the ARM path of an Azure ML workspace"):
        AssetReference.parse("azureml:m:1").rest_id("/subscriptions/x", "models")


def test_label_reference_and_string_booleans(azureml_examples: Path) -> None:
    deployment = load_deployment(
        azureml_examples / "cli/monitoring/azureml-e2e-model-monitoring/endpoints/deployment.yaml"
    )
    assert isinstance(deployment, ManagedOnlineDeployment)
    assert deployment.model == AssetReference.parse("azureml:credit-default-model@latest")
    assert deployment.data_collector is not None
    assert {name: item.enabled for name, item in deployment.data_collector.collections.items()} == {
        "model_inputs": True,
        "model_outputs": True,
        "model_inputs_outputs": True,
    }


def test_kubernetes_deployment_parts(azureml_examples: Path) -> None:
    blue = load_deployment(azureml_examples / ONLINE / "kubernetes/kubernetes-blue-deployment.yml")
    assert isinstance(blue, KubernetesOnlineDeployment)
    assert blue.request_settings is not None and blue.request_settings.request_timeout_ms == 3000
    assert blue.resources is not None and blue.resources.limits is not None
    assert blue.resources.limits.memory == "200Mi"
    assert blue.scale_settings is not None and blue.scale_settings.type == "default"
    green = load_deployment(azureml_examples / ONLINE / "kubernetes/kubernetes-green-deployment.yml")
    assert green.scale_settings is not None and green.scale_settings.type == "target_utilization"
    assert green.app_insights_enabled is True


def test_gpu_alias_and_numbers_as_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "k8s.yml",
        "name: gpu-dep\ntype: kubernetes\nresources:\n  requests:\n    cpu: 1\n    nvidia.com/gpu: 1\n"
        "environment_variables:\n  WORKERS: 4\n  DEBUG: true\n",
    )
    deployment = load_deployment(path)
    assert isinstance(deployment, KubernetesOnlineDeployment)
    assert deployment.resources is not None and deployment.resources.requests is not None
    assert (deployment.resources.requests.cpu, deployment.resources.requests.gpu) == ("1", "1")
    assert deployment.environment_variables == {"WORKERS": "4", "DEBUG": "true"}


def test_deployments_without_endpoint_name_load(azureml_examples: Path) -> None:
    path = azureml_examples / ONLINE / "managed/managed-identities/2-sai-deployment.yml"
    assert load_deployment(path).endpoint_name is None
    assert load_deployment(path, endpoint_name="my-sai-endpoint").endpoint_name == "my-sai-endpoint"


def test_overrides_like_the_cli_set(azureml_examples: Path) -> None:
    path = azureml_examples / ONLINE / "managed/inference-schema/deployment-numpy.yml"
    deployment = load_deployment(
        path,
        overrides={
            "model": "azureml:azureml-infschema:7",
            "endpoint_name": "infsrv",
            "request_settings.request_timeout_ms": 9000,
        },
    )
    assert deployment.model == AssetReference.parse("azureml:azureml-infschema:7")
    assert deployment.endpoint_name == "infsrv"
    assert deployment.request_settings is not None and deployment.request_settings.request_timeout_ms == 9000
    assert apply_overrides({"a": [{"b": 1}]}, {"a.0.b": 2, "c.d": 3}) == {"a": [{"b": 2}], "c": {"d": 3}}
    with pytest.raises(SpecError, match="not an index"):
        apply_overrides({"a": [1]}, {"a.x": 2})


def test_kinds_from_type_when_schema_is_absent() -> None:
    assert detect_kind({"type": "sweep"}) == "sweepJob"
    assert detect_kind({"type": "command"}) == "commandJob"
    assert detect_kind({"type": "kubernetes"}) == "kubernetesOnlineDeployment"
    assert detect_kind(
        {"$schema": "https://azuremlsdk2.blob.core.windows.net/latest/managedOnlineEndpoint.schema.json"}
    ) == ("managedOnlineEndpoint")
    with pytest.raises(SpecError, match="no \\$schema and no type"):
        detect_kind({"name": "x"})
    with pytest.raises(SpecError, match=r"pipelineJob\.schema\.json.* is not a kind"):
        detect_kind({"$schema": "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json"})
    assert detect_kind({"type": "model"}) == "batchDeployment"
    assert (
        detect_kind(
            {"$schema": "https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json"}
        )
        == "batchDeployment"
    )


def test_job_without_schema(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, "job.yml", "command: echo hi\nenvironment:\n  image: python\n"))
    assert isinstance(job, CommandJob)
    sweep = load_spec(
        write(
            tmp_path,
            "sweep.yml",
            "type: sweep\ntrial:\n  command: echo ${{search_space.x}}\n  environment: azureml:e:1\n"
            "sampling_algorithm: grid\nsearch_space:\n  x: {type: choice, values: [1, 2]}\n"
            "objective: {goal: Maximize, primary_metric: acc}\n",
        )
    )
    assert isinstance(sweep, SweepJob) and sweep.objective.goal == "maximize"


def test_odd_literal_inputs(azureml_examples: Path) -> None:
    job = load_job(azureml_examples / "cli/jobs/basics/hello-iris-literal.yml")
    assert job.inputs == {
        "type": JobInput(type="literal", value="uri_file"),
        "iris_csv": JobInput(
            type="literal", value="https://azuremlexamples.blob.core.windows.net/datasets/iris.csv"
        ),
    }


def test_null_output_is_a_default_output(azureml_examples: Path) -> None:
    job = load_job(azureml_examples / "cli/jobs/basics/hello-world-output-data.yml")
    assert job.outputs is not None
    assert job.outputs["hello_output"].type == "uri_folder"


def test_model_asset(azureml_examples: Path) -> None:
    model = load_model(azureml_examples / "cli/assets/model/local-mlflow.yml")
    assert model.type == "mlflow_model"
    assert model.path == (azureml_examples / "cli/assets/model/mlflow-model").resolve()
    registered = load_model(azureml_examples / ONLINE / "managed/inference-schema/model.yml")
    assert registered.version == "1"


def test_environment_asset(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "env.yml",
        "name: my-env\nversion: 2\nimage: python:3.11\nconda_file: conda.yaml\nos_type: Linux\n",
    )
    environment = load_environment(path)
    assert environment.conda_file == (tmp_path / "conda.yaml").resolve()
    assert environment.os_type == "linux"


def test_loading_the_wrong_kind_says_so(azureml_examples: Path) -> None:
    with pytest.raises(SpecError, match="is a managedOnlineDeployment spec, not a model spec"):
        load_model(azureml_examples / ONLINE / "managed/sample/blue-deployment.yml")
    with pytest.raises(SpecError, match="not a managedOnlineEndpoint or kubernetesOnlineEndpoint spec"):
        load_endpoint(azureml_examples / ONLINE / "managed/sample/blue-deployment.yml")


def test_unknown_key_names_key_file_and_suggestion(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deployment.yml",
        "name: blue\nendpoint_name: my-endpoint\ninstance_typ: Standard_DS3_v2\n"
        "environment:\n  image: python\n  conda_fil: conda.yaml\n"
        "liveness_probe:\n  initial_dealy: 5\n",
    )
    with pytest.raises(SpecError) as caught:
        load_deployment(path)
    assert not isinstance(caught.value, SpecValidationError)
    message = str(caught.value)
    assert str(path) in message
    assert "instance_typ: unknown key 'instance_typ'; did you mean 'instance_type'?" in message
    assert "environment.conda_fil: unknown key 'conda_fil'; did you mean 'conda_file'?" in message
    assert (
        "liveness_probe.initial_dealy: unknown key 'initial_dealy'; did you mean 'initial_delay'?" in message
    )
    assert "Traceback" not in message and "pydantic" not in message


def test_keys_of_the_other_compute_type_are_unknown(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yml", "name: blue\nresources:\n  requests:\n    cpu: '1'\n")
    with pytest.raises(SpecError, match="resources: unknown key 'resources'"):
        load_deployment(path)


def test_wrong_values_are_listed_with_their_location(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "d.yml",
        "name: blue\ninstance_count: many\nauth: 1\nrequest_settings:\n  request_timeout_ms: soon\n",
    )
    with pytest.raises(SpecValidationError) as caught:
        load_deployment(path)
    message = str(caught.value)
    assert "(3 problems)" in message
    assert "instance_count: Input should be a valid integer" in message
    assert "request_settings.request_timeout_ms: Input should be a valid integer" in message
    assert "auth: unknown key 'auth'" in message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "endpoint.yml", "name: my-endpoint\nauth_mode: key\ntags:\n  a: [1, 2\n")
    with pytest.raises(SpecError, match=r"endpoint.yml is not valid YAML at line 5") as caught:
        load_endpoint(path)
    assert not isinstance(caught.value, PlaceholderError)


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="Cannot read the spec file"):
        load_spec(tmp_path / "missing.yml")
    with pytest.raises(SpecError, match="is empty"):
        load_spec(write(tmp_path, "empty.yml", "# nothing\n"))
    with pytest.raises(SpecError, match="must hold a YAML mapping"):
        load_spec(write(tmp_path, "list.yml", "- a\n- b\n"))


def test_job_expressions_are_not_placeholders(tmp_path: Path) -> None:
    path = write(
        tmp_path, "job.yml", "command: echo ${{inputs.x}}\ninputs:\n  x: 1\nenvironment: azureml:e:1\n"
    )
    assert isinstance(load_job(path), CommandJob)
    templated = write(tmp_path, "t.yml", "command: echo {{GREETING}}\nenvironment: azureml:e:1\n")
    with pytest.raises(PlaceholderError, match=r"\{\{GREETING\}\} \(key command\)"):
        load_job(templated)


def test_spec_from_dict_for_specs_built_from_flags(tmp_path: Path) -> None:
    spec = spec_from_dict(
        {"name": "blue", "endpoint_name": "my-endpoint", "model": {"path": "model"}, "instance_count": 2},
        kind="managedOnlineDeployment",
        base_dir=tmp_path,
    )
    assert isinstance(spec, ManagedOnlineDeployment)
    assert isinstance(spec.model, Model) and spec.model.path == (tmp_path / "model").resolve()
    assert isinstance(
        spec_from_dict({"type": "command", "command": "ls", "environment": "azureml:e:1"}), CommandJob
    )
    with pytest.raises(SpecError, match="Unknown kind of spec 'pipelineJob'"):
        spec_from_dict({"name": "x"}, kind="pipelineJob")
    with pytest.raises(
        SpecError, match=r"Invalid managed online endpoint \(1 problem\):\n  - nmae: unknown key"
    ):
        spec_from_dict({"nmae": "x", "name": "abc"}, kind="managedOnlineEndpoint")


def test_inline_specs_remember_their_file(azureml_examples: Path) -> None:
    path = azureml_examples / ONLINE / "managed/keyvault/keyvault-deployment.yml"
    deployment = load_deployment(path)
    assert isinstance(deployment.environment, Environment) and isinstance(deployment.model, Model)
    assert deployment.environment.source == deployment.model.source == path.resolve()
    # env.yml was not copied with the fixtures: reading it is the moment it must exist
    with pytest.raises(
        SpecError,
        match=r"The conda file .*keyvault/env.yml \(from .*keyvault-deployment.yml\) does not exist",
    ):
        deployment.environment.to_rest()


def test_code_must_be_a_folder_or_a_reference(tmp_path: Path) -> None:
    path = write(
        tmp_path, "job.yml", "command: ls\ncode: https://example.com/src.zip\nenvironment: azureml:e:1\n"
    )
    with pytest.raises(
        SpecValidationError, match="code: expected a local folder or azureml:<name>:<version>"
    ):
        load_job(path)
    registered = write(
        tmp_path, "job2.yml", "command: ls\ncode: azureml:my-code:2\nenvironment: azureml:e:1\n"
    )
    assert load_job(registered).code == AssetReference.parse("azureml:my-code:2")  # type: ignore[attr-defined]


def test_parse_overrides_like_the_cli() -> None:
    assert parse_overrides(
        ["instance_count=2", "traffic.blue=100", "description=a b=c", "app_insights_enabled=true"]
    ) == {
        "instance_count": 2,
        "traffic.blue": 100,
        "description": "a b=c",
        "app_insights_enabled": True,
    }
    assert parse_overrides(["tags.x=", "name=[unclosed"]) == {"tags.x": "", "name": "[unclosed"}
    with pytest.raises(SpecError, match="Write it as key=value"):
        parse_overrides(["instance_count"])
