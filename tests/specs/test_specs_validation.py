"""Each rule the service enforces has a failing case, with its message checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlep._errors import SpecError, SpecValidationError
from jupyter_mlep.specs import (
    CommandJob,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    load_deployment,
    load_endpoint,
    load_environment,
    load_job,
    load_spec,
    validate_instance_count,
    validate_name,
    validate_traffic,
)


def write(folder: Path, text: str, name: str = "spec.yml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "must be 3 to 32 characters long"),
        ("a" * 33, "must be 3 to 32 characters long"),
        ("1endpoint", "must start with a letter"),
        ("-endpoint", "must start with a letter"),
        ("my_endpoint", "may hold only letters, digits and hyphens"),
        ("my.endpoint", "may hold only letters, digits and hyphens"),
        ("my-endpoint-", "must not end with a hyphen"),
    ],
)
def test_invalid_names(name: str, problem: str) -> None:
    with pytest.raises(SpecValidationError, match=f"The endpoint name '{name}' is invalid: it {problem}"):
        validate_name(name)
    with pytest.raises(SpecValidationError, match="Choose a deployment name like 'my-deployment-1'"):
        validate_name(name, "deployment")


@pytest.mark.parametrize("name", ["abc", "my-endpoint", "A1-b2", "a" * 32])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


def test_names_are_checked_at_load(tmp_path: Path) -> None:
    with pytest.raises(SpecValidationError, match="endpoint name 'my_endpoint' is invalid"):
        load_endpoint(write(tmp_path, "name: my_endpoint\n"))
    with pytest.raises(SpecValidationError, match="deployment name 'b' is invalid"):
        load_deployment(write(tmp_path, "name: b\n"))


@pytest.mark.parametrize(
    ("traffic", "mirror", "deployments", "message"),
    [
        ({"blue": 90}, None, None, "Traffic values must sum to 100, but blue=90 sum to 90"),
        ({"blue": 90, "green": 20}, None, None, "blue=90, green=20 sum to 110"),
        ({"blue": 101}, None, None, "traffic for deployment 'blue' must be a whole percentage from 0 to 100"),
        ({"blue": -5, "green": 105}, None, None, "must be a whole percentage from 0 to 100 \\(got -5\\)"),
        ({"blue": 50.5, "green": 49.5}, None, None, "got 50.5"),
        ({"blue": True}, None, None, "got True"),
        (
            {"blue": 100},
            {"green": 60},
            None,
            "mirror_traffic for deployment 'green' must be a whole percentage from 0 to 50",
        ),
        (
            {"blue": 100},
            {"green": 10, "red": 10},
            None,
            "Mirror traffic can go to only one deployment, but it names green, red",
        ),
        (
            {"blue": 100},
            {"blue": 10},
            None,
            "Deployment 'blue' cannot receive mirror traffic: it already takes 100%",
        ),
        (
            {"blue": 100, "green": 0},
            None,
            ["blue"],
            "traffic names deployment\\(s\\) green that do not exist on this endpoint",
        ),
        ({"blue": 100}, {"green": 10}, ["blue"], "mirror_traffic names deployment\\(s\\) green"),
    ],
)
def test_invalid_traffic(
    traffic: dict[str, Any], mirror: dict[str, Any] | None, deployments: list[str] | None, message: str
) -> None:
    with pytest.raises(SpecValidationError, match=message):
        validate_traffic(traffic, mirror, deployments)


@pytest.mark.parametrize(
    ("traffic", "mirror"),
    [
        ({}, None),
        (None, None),
        ({"blue": 100}, None),
        ({"blue": 0, "green": 0}, None),
        ({"blue": 90, "green": 10}, None),
        ({"blue": 100, "green": 0}, {"green": 50}),
        ({"blue": 100}, {"green": 0, "red": 10}),
    ],
)
def test_valid_traffic(traffic: dict[str, int] | None, mirror: dict[str, int] | None) -> None:
    validate_traffic(traffic, mirror, ["blue", "green", "red"])


def test_traffic_is_checked_at_load_and_against_deployments(tmp_path: Path) -> None:
    with pytest.raises(SpecValidationError, match="must sum to 100"):
        load_endpoint(write(tmp_path, "name: my-endpoint\ntraffic:\n  blue: 60\n  green: 30\n"))
    endpoint = load_endpoint(write(tmp_path, "name: my-endpoint\ntraffic:\n  blue: 100\n"))
    assert isinstance(endpoint, ManagedOnlineEndpoint)
    with pytest.raises(SpecValidationError, match=r"names deployment\(s\) blue .*its deployments: green"):
        endpoint.check(deployments=["green"])


def test_instance_count(tmp_path: Path) -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(SpecValidationError, match="instance_count must be a whole number of at least 1"):
            validate_instance_count(bad)  # type: ignore[arg-type]
    with pytest.raises(SpecValidationError, match="at least 1 \\(got 0\\)"):
        load_deployment(write(tmp_path, "name: blue\ninstance_count: 0\n"))


BYOC = (
    "environment:\n  image: my.azurecr.io/app:1\n  inference_config:\n"
    "    liveness_route: {port: 8080, path: /health}\n    readiness_route: {port: 8080, path: /health}\n"
    "    scoring_route: {port: 8080, path: /score}\n"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name: blue\nmodel: azureml:m:1\n", "Deployment 'blue' has no endpoint_name"),
        (
            "name: blue\nendpoint_name: <endpoint_name>\nmodel: azureml:m:1\n",
            "endpoint name '<endpoint_name>' is invalid",
        ),
        (
            "name: blue\nendpoint_name: ep1\nenvironment:\n  image: python\ncode_configuration:\n"
            "  code: src\n  scoring_script: score.py\n",
            "Deployment 'blue' has no model",
        ),
        ("name: blue\nendpoint_name: ep1\n", "Deployment 'blue' has no model"),
        (
            "name: blue\nendpoint_name: ep1\nmodel: azureml:m:1\ncode_configuration:\n  code: src\n  scoring_script: s.py\n",
            "has a code_configuration but no environment",
        ),
        (
            "name: blue\nendpoint_name: ep1\nmodel: azureml:m:1\nenvironment:\n  image: python\n",
            "needs code_configuration with a scoring_script",
        ),
    ],
)
def test_deployment_required_fields(tmp_path: Path, workspace: str, body: str, message: str) -> None:
    deployment = load_deployment(write(tmp_path, body))  # loads: the CLI could still supply these
    with pytest.raises(SpecValidationError, match=message):
        deployment.to_rest(workspace=workspace, location="westeurope", code_id="c")


def test_deployments_that_need_no_model_or_code(tmp_path: Path, workspace: str) -> None:
    byoc = load_deployment(write(tmp_path, "name: byoc\nendpoint_name: ep1\n" + BYOC))
    assert (
        byoc.to_rest(workspace=workspace, location="westeurope", environment_id="e")["properties"][
            "environmentId"
        ]
        == "e"
    )
    mlflow = load_deployment(
        write(tmp_path, "name: nocode\nendpoint_name: ep1\nmodel: azureml:mlflow-model:1\n")
    )
    assert "codeConfiguration" not in mlflow.to_rest(workspace=workspace, location="westeurope")["properties"]


def test_scoring_script_is_required(tmp_path: Path) -> None:
    with pytest.raises(
        SpecValidationError, match=r"code_configuration\.scoring_script: required key is missing"
    ):
        load_deployment(write(tmp_path, "name: blue\ncode_configuration:\n  code: src\n"))


def test_managed_deployment_rules(tmp_path: Path) -> None:
    with pytest.raises(SpecValidationError, match="cannot use scale_settings of type target_utilization"):
        load_deployment(write(tmp_path, "name: blue\nscale_settings:\n  type: target_utilization\n"))
    with pytest.raises(
        SpecValidationError, match="request_timeout_ms of 'blue' is 200000, above the 180000 ms"
    ):
        load_deployment(write(tmp_path, "name: blue\nrequest_settings:\n  request_timeout_ms: 200000\n"))
    with pytest.raises(SpecValidationError, match="only apply to scale_settings of type target_utilization"):
        load_deployment(write(tmp_path, "name: blue\nscale_settings:\n  type: default\n  max_instances: 3\n"))
    with pytest.raises(
        SpecValidationError, match=r"liveness_probe\.period: Input should be greater than or equal to 1"
    ):
        load_deployment(write(tmp_path, "name: blue\nliveness_probe:\n  period: 0\n"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("image: python\nbuild:\n  path: ctx\n", "either image or build, not both"),
        ("name: e\n", "needs an image or a build context"),
        ("build:\n  path: ctx\nconda_file: conda.yaml\n", "conda_file cannot be combined with build"),
        (
            "image: python\nchannels: [conda-forge]\ndependencies: [python=3.11]\n",
            "channels and dependencies belong in a conda file",
        ),
    ],
)
def test_environment_rules(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SpecValidationError, match=message):
        load_environment(write(tmp_path, body))


def test_inline_environment_with_dependencies_is_refused_in_a_deployment(tmp_path: Path) -> None:
    body = "name: blue\nenvironment:\n  image: python\n  dependencies: [numpy]\n"
    with pytest.raises(
        SpecValidationError, match="environment: channels and dependencies belong in a conda file"
    ):
        load_deployment(write(tmp_path, body))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("environment: azureml:e:1\n", "command: required key is missing"),
        ("command: echo hi\n", "environment: required key is missing"),
        ("command: '  '\nenvironment: azureml:e:1\n", "The command of the job is empty"),
        (
            "command: echo ${{inputs.x}}\nenvironment: azureml:e:1\n",
            "uses \\$\\{\\{inputs.x\\}\\}, but inputs has no 'x'",
        ),
        ("command: echo > ${{outputs.out}}\nenvironment: azureml:e:1\n", "but outputs has no 'out'"),
        ("command: echo\nenvironment: my-env\n", "'my-env' is not an asset reference"),
        (
            "command: echo\nenvironment: azureml:e:1\ninputs:\n  d:\n    type: url_file\n",
            "inputs.d.type: Input should be",
        ),
    ],
)
def test_command_job_rules(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SpecValidationError, match=message):
        load_job(
            write(
                tmp_path,
                "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n" + body,
            )
        )


SWEEP = (
    "type: sweep\ntrial:\n  command: python t.py --lr ${{search_space.lr}}\n  environment: azureml:e:1\n"
    "sampling_algorithm: random\nsearch_space:\n  lr: {type: uniform, min_value: 0.01, max_value: 0.1}\n"
    "objective: {goal: minimize, primary_metric: loss}\n"
)


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("objective: {goal: minimize, primary_metric: loss}\n", "", "objective: required key is missing"),
        ("sampling_algorithm: random\n", "", "sampling_algorithm: required key is missing"),
        (
            "objective: {goal: minimize,",
            "objective: {goal: lowest,",
            "objective.goal: Input should be 'minimize' or 'maximize'",
        ),
        (
            "lr: {type: uniform, min_value: 0.01, max_value: 0.1}",
            "lr: {type: uniform, min_value: 0.01}",
            "needs min_value, max_value \\(missing max_value\\)",
        ),
        (
            "lr: {type: uniform, min_value: 0.01, max_value: 0.1}",
            "lr: {type: choice, values: [1], upper: 3}",
            "takes values, not upper",
        ),
        (
            "search_space:\n  lr: {type: uniform, min_value: 0.01, max_value: 0.1}\n",
            "search_space: {}\n",
            "search_space of the sweep is empty",
        ),
        ("${{search_space.lr}}", "${{search_space.rate}}", "search_space has no 'rate'"),
        (
            "sampling_algorithm: random\n",
            "sampling_algorithm: random\nlimits: {max_total_trials: 2, max_concurrent_trials: 4}\n",
            "max_concurrent_trials \\(4\\) exceeds max_total_trials \\(2\\)",
        ),
    ],
)
def test_sweep_job_rules(tmp_path: Path, replace: str, by: str, message: str) -> None:
    assert replace in SWEEP
    with pytest.raises(SpecValidationError, match=message):
        load_job(write(tmp_path, SWEEP.replace(replace, by)))


def test_to_rest_needs_ids_for_inline_assets(azureml_examples: Path, workspace: str) -> None:
    blue = load_deployment(azureml_examples / "cli/endpoints/online/managed/sample/blue-deployment.yml")
    with pytest.raises(SpecError, match=r"The model is defined inline.*\n.*pass model_id=<its ARM id>"):
        blue.to_rest(workspace=workspace, location="westeurope")
    with pytest.raises(SpecError, match=r"The code folder is .*onlinescoring.*\n.*pass code_id="):
        blue.to_rest(workspace=workspace, location="westeurope", model_id="m")
    with pytest.raises(SpecError, match=r"The environment is defined inline.*\n.*environment_id="):
        blue.to_rest(workspace=workspace, location="westeurope", model_id="m", code_id="c")
    with pytest.raises(SpecError, match="needs a location"):
        blue.to_rest(workspace=workspace, model_id="m", code_id="c", environment_id="e")
    job = load_job(azureml_examples / "cli/jobs/basics/hello-model-as-input.yml")
    assert isinstance(job, CommandJob)
    with pytest.raises(
        SpecError, match=r"Input 'my_model' is the local path .*mlflow-model.*\n.*input_uris="
    ):
        job.to_rest(workspace=workspace)


def test_loaded_specs_are_not_yet_complete(azureml_examples: Path) -> None:
    demo = load_spec(
        azureml_examples / "cli/foundation-models/system/inference/image-classification/deploy-online.yaml"
    )
    assert isinstance(demo, ManagedOnlineDeployment)
    demo.check()
    with pytest.raises(SpecValidationError, match="has no endpoint_name"):
        demo.check(complete=True)
