"""No-code deployments of MLflow models: no scoring script, no environment, as on Azure.

Two flavours served through python_function (scikit-learn, and a custom ``pyfunc.PythonModel``) on
one endpoint of the package's workspace, through the generated scoring script under the real
inference server: every input format, the signature enforced with 400s, the swagger; the REST
body sent; the rules refused before anything changes; the preflight of the fixture model (Python
3.7, scikit-learn 0.24.1) and its relaxation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import mlflow.sklearn
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from support.clients import make_client

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.rest._uploads import register_model
from jupyter_mlep.specs import OnlineDeployment, spec_from_dict

FIXTURE = "cli/assets/model/mlflow-model"
FEATURES = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})


ADD_N = """\
import mlflow.pyfunc
from mlflow.models import set_model


class AddN(mlflow.pyfunc.PythonModel):
    \"\"\"Adds n (a param, default 1) to every value.\"\"\"

    def predict(self, context, model_input, params=None):
        return model_input + (params or {}).get("n", 1)


set_model(AddN())
"""


def _spec(endpoint: str, name: str, model: str, **extra: Any) -> OnlineDeployment:
    data = {
        "name": name,
        "endpoint_name": endpoint,
        "model": {"path": model, "type": "mlflow_model"},
        **extra,
    }
    spec = spec_from_dict(data, kind="managedOnlineDeployment")
    assert isinstance(spec, OnlineDeployment)
    return spec


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("mlflow-models")
    model = LogisticRegression().fit(FEATURES, [0, 0, 1, 1])
    signature = infer_signature(FEATURES, model.predict(FEATURES))
    mlflow.sklearn.save_model(model, base / "skl", signature=signature, input_example=FEATURES.head(2))
    add_signature = infer_signature(FEATURES, FEATURES, params={"n": 1})
    (base / "add_n.py").write_text(ADD_N)  # a model from code: nothing of this module is pickled
    mlflow.pyfunc.save_model(base / "add", python_model=str(base / "add_n.py"), signature=add_signature)
    return {"skl": base / "skl", "add": base / "add"}


@pytest.fixture(scope="module")
def endpoint(client_module: RestClient, models: dict[str, Path]) -> Iterator[str]:
    name = f"nc-{uuid.uuid4().hex[:6]}"
    try:
        result = ops.deploy(client_module, _spec(name, "skl", str(models["skl"])), traffic=100, timeout=900)
        assert result.deployment.provisioning_state == "Succeeded"
        added = ops.deploy(client_module, _spec(name, "adder", str(models["add"])), timeout=900)
        assert added.deployment.provisioning_state == "Succeeded"
        yield name
    finally:
        ops.delete_endpoint(client_module, name, timeout=120)


@pytest.fixture(scope="module")
def client_module(workspace: Any) -> Iterator[RestClient]:
    with make_client(workspace) as rest:
        yield rest


def test_the_body_sent_has_no_code_and_no_environment(models: dict[str, Path]) -> None:
    spec = _spec("nc-ep", "blue", str(models["skl"]))
    body = spec.to_rest(workspace="/subscriptions/s/resourceGroups/r/providers/x/workspaces/w", location="l",
                        model_id="/subscriptions/s/m/versions/1")  # fmt: skip
    assert "codeConfiguration" not in body["properties"] and "environmentId" not in body["properties"]
    assert body["properties"]["model"] == "/subscriptions/s/m/versions/1"


def test_every_input_format_scores_the_same(client_module: RestClient, endpoint: str) -> None:
    expected = [0, 0, 1, 1]
    split = FEATURES.to_dict(orient="split")
    records = FEATURES.to_dict(orient="records")
    columns = FEATURES.to_dict(orient="list")
    for payload in (
        FEATURES,  # a DataFrame is sent as {"input_data": split}
        {"input_data": split},
        {"input_data": FEATURES.values.tolist()},
        {"input_data": columns},
        {"dataframe_split": split},
        {"dataframe_records": records},
        {"inputs": columns},
        {"instances": records},
    ):
        answer = ops.invoke(client_module, endpoint, payload).body
        assert answer == expected, payload


def test_params_reach_a_custom_python_model(client_module: RestClient, endpoint: str) -> None:
    split = FEATURES.to_dict(orient="split")
    plain = ops.invoke(client_module, endpoint, {"input_data": split}, deployment="adder").body
    assert plain == [{"a": 1.0, "b": 2.0}, {"a": 2.0, "b": 1.0}, {"a": 3.0, "b": 2.0}, {"a": 4.0, "b": 1.0}]
    ten = ops.invoke(
        client_module, endpoint, {"input_data": split, "params": {"n": 10}}, deployment="adder"
    ).body
    assert [row["a"] for row in ten] == [10.0, 11.0, 12.0, 13.0]


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        ({"data": [[1, 2]]}, "expected exactly one of input_data"),
        ({"input_data": {"columns": ["a", "z"], "data": [[1.0, 2.0]]}}, "missing ['b']"),
        ({"input_data": {"columns": ["a", "b"], "data": [["x", 1.0]]}}, "column 'a' must be of type double"),
        ({"input_data": [[1.0, 2.0, 3.0]]}, "each row must hold 2 values"),
        (
            {"input_data": {"columns": ["a", "b"], "data": [[1.0, 2.0]]}, "params": [1]},
            "params must be an object",
        ),
    ],
)
def test_bad_payloads_get_400_naming_what_was_expected(
    client_module: RestClient, endpoint: str, payload: dict[str, Any], said: str
) -> None:
    with pytest.raises(errors.RestError) as caught:
        ops.invoke(client_module, endpoint, payload)
    assert caught.value.status == 400
    assert said in str(caught.value)


def test_the_swagger_describes_the_signature(client_module: RestClient, endpoint: str) -> None:
    document = ops.get_swagger(client_module, endpoint, deployment="skl").document
    text = json.dumps(document)
    assert "pandas.DataFrame:split" in text and '"input_data"' in text
    assert '"a"' in text and '"b"' in text  # the example's columns


def test_non_mlflow_and_non_pyfunc_models_are_refused_first(client: RestClient, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "model.pkl").write_bytes(b"x")
    before = client.request_count
    with pytest.raises(errors.SpecValidationError, match="Only MLflow models can be deployed without"):
        ops.deploy(client, _spec("nc-none", "blue", str(plain)))
    other = tmp_path / "other"
    other.mkdir()
    (other / "MLmodel").write_text("flavors:\n  onnx: {onnx_version: '1.0'}\n")
    with pytest.raises(errors.SpecValidationError, match="without the python_function flavour"):
        ops.deploy(client, _spec("nc-none", "blue", str(other)))
    assert client.find(client.paths.endpoint("nc-none")) is None
    assert client.request_count - before <= 1


def test_the_fixture_model_is_refused_by_the_preflight_then_relaxed(
    ip: Any, use_workspace: Any, client: RestClient, azureml_examples: Path
) -> None:
    model = str(azureml_examples / FIXTURE)
    name = f"nc-{uuid.uuid4().hex[:6]}"
    with pytest.raises(errors.RestError) as caught:
        ops.deploy(client, _spec(name, "fixture", model), timeout=600)
    said = str(caught.value)
    assert "Python 3.7.11" in said and "scikit-learn==0.24.1" in said and "--relax-pins" in said
    assert client.find(client.paths.endpoint(name)) is None  # nothing deployed, not even the endpoint
    try:  # the magic's flag sets the deployment property mlep.relaxModelPins
        result = ip.run_line_magic(
            "endpoint", f"deploy {name} fixture --model {model} --relax-pins --all-traffic"
        )
        assert result.deployment.provisioning_state == "Succeeded"
        changed = (result.deployment.properties or {})["mlep.relaxedModelPins"]
        assert "scikit-learn==0.24.1 → scikit-learn>=0.24.1" in changed and "python==3.7.11" in changed
        assert any("scikit-learn==0.24.1" in warning for warning in result.warnings)
        example = json.loads((azureml_examples / FIXTURE / "input_example.json").read_text())
        answer = ops.invoke(client, name, {"input_data": example}).body
        assert answer[:3] == ["Iris-setosa", "Iris-setosa", "Iris-versicolor"]
    finally:
        ops.delete_endpoint(client, name, timeout=120)


def test_an_mlflow_model_with_a_script_needs_an_environment(
    client: RestClient, models: dict[str, Path], tmp_path: Path
) -> None:
    name = f"nc-{uuid.uuid4().hex[:6]}"
    model = register_model(client, models["skl"], name=f"{name}-model", model_type="MLFlowModel")
    ops.create_endpoint(client, name)
    try:
        body = {
            "location": "local",
            "sku": {"name": "Default", "capacity": 1},
            "properties": {
                "endpointComputeType": "Managed",
                "model": model.id,
                "codeConfiguration": {"codeId": f"azureml:{name}-code:1", "scoringScript": "score.py"},
            },
        }
        with pytest.raises(errors.BadRequestError, match="a scoring script needs an environment"):
            client.put(client.paths.deployment(name, "script"), body)
        assert client.find(client.paths.deployment(name, "script")) is None
        # The workspace applies the no-code rules itself too (a client that skips them, e.g. the SDK).
        plain = tmp_path / "plain"
        plain.mkdir()
        (plain / "model.pkl").write_bytes(b"x")
        custom = register_model(client, plain, name=f"{name}-plain")
        del body["properties"]["codeConfiguration"]
        body["properties"]["model"] = custom.id
        with pytest.raises(errors.BadRequestError, match="Only MLflow models can be deployed without"):
            client.put(client.paths.deployment(name, "plain"), body)
        assert client.find(client.paths.deployment(name, "plain")) is None
    finally:
        ops.delete_endpoint(client, name, timeout=120)
