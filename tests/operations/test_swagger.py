"""``get_swagger``: a real deployment whose scoring script is decorated with inference-schema,
its OpenAPI document read through the local workspace's router in each version."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.settings import Settings
from jupyter_mlep.specs import OnlineDeployment, spec_from_dict
from jupyter_mlep.workspace import WorkspaceInfo

SCHEMA_SCORE = """\
import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    print("Init complete")


@input_schema("features", NumpyParameterType(np.array([[1.0, 2.0, 3.0]])))
@output_schema(StandardPythonParameterType([6.0]))
def run(features):
    return [float(row.sum()) for row in features]
"""


@pytest.fixture(scope="module")
def rest(workspace: WorkspaceInfo) -> Iterator[RestClient]:
    """A client of the package's workspace, resolved from settings through the target registry."""
    with RestClient.from_settings(Settings(home=workspace.home, target="local")) as client:
        assert client.base_url == workspace.base_url
        yield client


@pytest.fixture(scope="module")
def schema_endpoint(
    rest: RestClient, model_1: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An endpoint with one deployment ``blue`` (schema-decorated script) that has no live traffic yet."""
    code = tmp_path_factory.mktemp("swagger-code")
    (code / "score.py").write_text(SCHEMA_SCORE)
    name = f"sw-{uuid.uuid4().hex[:6]}"
    spec = spec_from_dict(
        {
            "name": "blue",
            "endpoint_name": name,
            "model": {"path": str(model_1 / "model")},
            "code_configuration": {"code": str(code), "scoring_script": "score.py"},
            "environment": {
                "conda_file": str(model_1 / "environment" / "conda.yaml"),
                "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest",
            },
            "instance_type": "Standard_DS3_v2",
            "instance_count": 1,
        },
        kind="managedOnlineDeployment",
    )
    assert isinstance(spec, OnlineDeployment)
    ops.create_endpoint(rest, name)
    try:
        assert ops.deploy(rest, spec, timeout=600).deployment.provisioning_state == "Succeeded"
        yield name
    finally:
        ops.delete_endpoint(rest, name, timeout=120)


def test_version_is_checked_locally(rest: RestClient) -> None:
    before = rest.request_count
    with pytest.raises(errors.UsageError, match=r"offers 2, 3 or 3\.1") as caught:
        ops.get_swagger(rest, "any-endpoint", version="4")
    assert caught.value.hint and "--version 3" in caught.value.hint
    assert rest.request_count == before, "nothing is sent for an invalid version"


def test_the_deployment_header_chooses_who_answers(rest: RestClient, schema_endpoint: str) -> None:
    with pytest.raises(errors.ServiceError, match="no live traffic"):
        ops.get_swagger(rest, schema_endpoint)
    with pytest.raises(errors.NotFoundError, match="no deployment named 'nope'"):
        ops.get_swagger(rest, schema_endpoint, deployment="nope")
    result = ops.get_swagger(rest, schema_endpoint, deployment="blue")
    assert result.deployment == "blue" and result.version is None
    assert result.document["swagger"] == "2.0"


def test_each_version_carries_the_script_schema(rest: RestClient, schema_endpoint: str) -> None:
    ops.update_traffic(rest, schema_endpoint, {"blue": 100})
    found = {}
    for version in ("2", "3", "3.1"):
        result = ops.get_swagger(rest, schema_endpoint, version=version)
        assert result.deployment == "blue" and result.version == version
        found[version] = result.document
        assert "features" in json.dumps(result.document), f"the input schema is in version {version}"
        assert "/score" in result.document["paths"]
        assert "post" in result.document["paths"]["/score"]
    assert found["2"]["swagger"] == "2.0"
    assert found["3"]["openapi"].startswith("3.0")
    assert found["3.1"]["openapi"].startswith("3.1")
    assert ops.get_swagger(rest, schema_endpoint, version="2").document == found["2"]


def test_the_request_example_comes_from_the_script_schema(rest: RestClient, schema_endpoint: str) -> None:
    ops.update_traffic(rest, schema_endpoint, {"blue": 100})
    for version in ("2", "3", "3.1"):
        example = ops.get_swagger(rest, schema_endpoint, version=version).request_example()
        assert example == {"features": [[1.0, 2.0, 3.0]]}, (version, example)
        assert ops.invoke(rest, schema_endpoint, example).body == [6.0]
    assert ops.SwaggerResult(schema_endpoint, None, None, {"paths": {}}).request_example() is None


def test_the_result_renders_itself(rest: RestClient, schema_endpoint: str) -> None:
    result = ops.get_swagger(rest, schema_endpoint, deployment="blue", version="3")
    text = result.text()
    assert text.startswith(f"OpenAPI document of endpoint '{schema_endpoint}' (deployment blue)")
    assert "openapi 3.0" in text and "/score" in text and "POST" in text
    assert repr(result) == text
    assert "<table>" in result.html() and "/score" in result.html()
    data = result.to_dict()
    assert data["endpoint"] == schema_endpoint and data["deployment"] == "blue" and data["version"] == "3"
    assert "POST" in data["paths"]["/score"] and data["document"] == result.document
    json.dumps(data)
    status = result.status_payload()
    assert status["kind"] == "swagger" and status["document"] == result.document
    assert result._repr_mimebundle_()[STATUS_MIME] == status


def test_public_api_exports_get_swagger() -> None:
    import jupyter_mlep

    assert jupyter_mlep.get_swagger is ops.get_swagger
    assert "get_swagger" in jupyter_mlep.__all__ and "SwaggerResult" in ops.__all__
