"""An online endpoint with one deployment of a test-written scoring script on the fixture model-1's
environment, created through the operations and deleted afterwards.

    with script_endpoint(rest, model_1, folder, SCORE_WITH_SCHEMA, "snip") as name:
        ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import OnlineDeployment, spec_from_dict
from support.samples import AZURE_IMAGE
from support.waiting import unique

__all__ = ["SCORE_WITH_SCHEMA", "script_deployment", "script_endpoint"]

SCORE_WITH_SCHEMA = """\
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
"""A script decorated with inference-schema: its OpenAPI document has the example ``{"features": [[1, 2, 3]]}``."""


def script_deployment(model_1: Path, code: Path, endpoint: str, name: str = "blue") -> OnlineDeployment:
    """Deployment ``name`` of ``endpoint``: ``code/score.py`` on model-1's model and environment."""
    spec = spec_from_dict(
        {
            "name": name,
            "endpoint_name": endpoint,
            "model": {"path": str(model_1 / "model")},
            "code_configuration": {"code": str(code), "scoring_script": "score.py"},
            "environment": {"conda_file": str(model_1 / "environment" / "conda.yaml"), "image": AZURE_IMAGE},
            "instance_type": "Standard_DS3_v2",
            "instance_count": 1,
        },
        kind="managedOnlineDeployment",
    )
    assert isinstance(spec, OnlineDeployment)
    return spec


@contextlib.contextmanager
def script_endpoint(
    rest: RestClient, model_1: Path, folder: Path, script: str, prefix: str, *, traffic: bool = True
) -> Iterator[str]:
    """A new endpoint (named ``prefix-…``) whose deployment ``blue`` runs ``script`` (with all the
    traffic unless ``traffic`` is False); deleted at exit."""
    (folder / "score.py").write_text(script)
    name = unique(prefix)
    ops.create_endpoint(rest, name)
    try:
        assert (
            ops.deploy(
                rest, script_deployment(model_1, folder, name), timeout=600
            ).deployment.provisioning_state
            == "Succeeded"
        )
        if traffic:
            ops.update_traffic(rest, name, {"blue": 100})
        yield name
    finally:
        ops.delete_endpoint(rest, name, timeout=120)
