"""The scoring script of an MLflow model deployed without one (a "no-code" deployment).

Served by the Azure ML inference server in the environment built from the model's own
requirements; it imports only what that environment has (MLflow, pandas, numpy, the inference
server and inference-schema), never jupyter_mlep.

Input (a JSON object), as Azure ML's MLflow deployments take it:

* ``{"input_data": {"columns": [...], "index": [...], "data": [[...]]}}``: a pandas DataFrame in the
  *split* orientation (``index`` optional);
* ``{"input_data": [[...], ...]}``: a list (a tensor; rows of the signature's columns when the model
  has a column signature);
* ``{"input_data": {"name": [...], ...}}``: a dict of lists (named tensors, or columns);
* ``"params": {...}`` (optional): passed to ``predict(..., params=...)``.

MLflow's own serving formats are accepted too, so the same payload works against
``mlflow models serve``: ``dataframe_split``, ``dataframe_records``, ``inputs``, ``instances``.

Output: the predictions as records-oriented JSON (a DataFrame becomes a list of row objects, an
array a list). A payload that cannot be read, or that does not match the model's signature, gets
a 400 naming what was expected. The model's signature (or its input example) gives the
inference-schema decorators their sample, so ``/swagger.json`` describes the input.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from azureml_inference_server_http.api.aml_response import AMLResponse
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema
from mlflow.exceptions import MlflowException

logger = logging.getLogger(__name__)

_FORMATS = ("input_data", "dataframe_split", "dataframe_records", "inputs", "instances")
_EXPECTED = (
    'a JSON object with "input_data": a pandas DataFrame in split orientation '
    '({"columns": [...], "index": [...], "data": [[...]]}), a list, or a dict of lists; '
    'optionally "params". MLflow\'s dataframe_split, dataframe_records, inputs and instances are '
    "accepted too."
)
_SAMPLES = {
    "double": 0.0, "float": 0.0, "long": 0, "integer": 0, "boolean": False, "string": "",
    "binary": "", "datetime": "2024-01-01T00:00:00",
}  # fmt: skip
_DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32", "boolean": "bool"}

model: Any = None


def _model_root() -> Path:
    """The folder holding MLmodel: AZUREML_MODEL_DIR, or its only sub-folder holding one."""
    base = Path(os.environ.get("AZUREML_MODEL_DIR") or ".")
    if (base / "MLmodel").is_file():
        return base.resolve()
    found = (
        [child for child in sorted(base.iterdir()) if (child / "MLmodel").is_file()] if base.is_dir() else []
    )
    if not found:
        found = sorted(path.parent for path in base.glob("*/*/MLmodel"))
    if len(found) != 1:
        raise RuntimeError(f"No single MLflow model (a folder with an MLmodel file) under {base}.")
    return found[0].resolve()  # the model folder may be linked in: MLflow reads it where it is


def _read_signature(root: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The signature's inputs (a list of column or tensor specs) and the input example, if any."""
    meta = yaml.safe_load((root / "MLmodel").read_text(encoding="utf-8")) or {}
    signature = meta.get("signature") or {}
    inputs = json.loads(signature["inputs"]) if signature.get("inputs") else []
    example = None
    info = meta.get("saved_input_example_info") or {}
    path = root / str(info.get("artifact_path") or "input_example.json")
    if path.is_file():
        try:
            example = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            example = None
    return inputs, example


_ROOT = _model_root()
_SIGNATURE, _EXAMPLE = _read_signature(_ROOT)
_COLUMNS = [spec["name"] for spec in _SIGNATURE if spec.get("type") != "tensor" and spec.get("name")]
_TENSOR = bool(_SIGNATURE) and all(spec.get("type") == "tensor" for spec in _SIGNATURE)


def _example_frame() -> pd.DataFrame | None:
    example = _EXAMPLE
    if isinstance(example, dict) and "dataframe_split" in example:
        example = example["dataframe_split"]
    if isinstance(example, dict) and "data" in example:
        return pd.DataFrame(example["data"], columns=example.get("columns")).head(3)
    if isinstance(example, dict) and example and all(isinstance(v, list) for v in example.values()):
        return pd.DataFrame(example).head(3)
    return None


def _schema_type() -> Any:
    """The inference-schema type of ``input_data``, from the input example or the signature."""
    frame = None if _TENSOR else _example_frame()
    if frame is None and _COLUMNS:
        frame = pd.DataFrame(
            {s["name"]: [_SAMPLES.get(s.get("type"), "")] for s in _SIGNATURE if s.get("name")}
        )
    if frame is not None:
        return PandasParameterType(frame, enforce_column_type=False, enforce_shape=False, orient="split")
    if _TENSOR and len(_SIGNATURE) == 1:
        spec = _SIGNATURE[0].get("tensor-spec") or {}
        shape = [1 if dim in (-1, None) else dim for dim in spec.get("shape") or [1]]
        sample = np.zeros(shape, dtype=spec.get("dtype") or "float64")
        return NumpyParameterType(sample, enforce_shape=False)
    return StandardPythonParameterType({"columns": ["x"], "index": [0], "data": [[0.0]]})


class BadPayload(ValueError):
    """The payload cannot be read as the model's input."""


def _frame(value: Any, *, orient: str) -> pd.DataFrame:
    if orient == "records":
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise BadPayload("dataframe_records must be a list of objects (one per row).")
        return pd.DataFrame.from_records(value)
    if not isinstance(value, dict) or "data" not in value:
        raise BadPayload('a DataFrame in split orientation needs "data" (and "columns", optionally "index").')
    columns = value.get("columns") or (_COLUMNS or None)
    try:
        return pd.DataFrame(value["data"], columns=columns, index=value.get("index"))
    except (ValueError, TypeError) as exc:
        raise BadPayload(f"the split DataFrame does not hold together: {exc}.") from None


def _tensor(value: Any) -> Any:
    """A list (a tensor) or a dict of lists (named tensors, or columns), as the signature wants."""
    if isinstance(value, dict):
        if "data" in value and ("columns" in value or "index" in value):
            return _frame(value, orient="split")
        if _COLUMNS or not _TENSOR:
            try:
                return pd.DataFrame(value)
            except (ValueError, TypeError) as exc:
                raise BadPayload(f"the dict of lists does not make a table: {exc}.") from None
        return {name: np.asarray(item) for name, item in value.items()}
    if isinstance(value, list):
        if _COLUMNS and value and all(isinstance(row, dict) for row in value):
            return pd.DataFrame.from_records(value)
        if _COLUMNS:
            rows = value if value and isinstance(value[0], list) else [value]
            if any(len(row) != len(_COLUMNS) for row in rows):
                raise BadPayload(f"each row must hold {len(_COLUMNS)} values, for the columns {_COLUMNS}.")
            return pd.DataFrame(rows, columns=_COLUMNS)
        try:
            return np.asarray(value)
        except ValueError as exc:
            raise BadPayload(f"the list is not a regular tensor: {exc}.") from None
    raise BadPayload(f"expected an object or a list, got {type(value).__name__}.")


def _check_columns(data: Any) -> Any:
    if not _COLUMNS or not isinstance(data, pd.DataFrame):
        return data
    missing = [name for name in _COLUMNS if name not in data.columns]
    if missing:
        raise BadPayload(f"the model's signature expects the columns {_COLUMNS}; missing {missing}.")
    dtypes = data.dtypes
    for spec in _SIGNATURE:
        dtype = _DTYPES.get(spec.get("type", ""))
        name = spec.get("name")
        if dtype is None or name not in dtypes or dtypes[name] == dtype:
            continue
        try:
            data[name] = data[name].astype(dtype)
        except (ValueError, TypeError):
            raise BadPayload(
                f"column {name!r} must be of type {spec['type']}; got {data[name].tolist()[:3]}."
            ) from None
    return data


def _read(payload: dict[str, Any]) -> Any:
    given = [name for name in _FORMATS if payload.get(name) is not None]
    if len(given) != 1:
        what = "none of them" if not given else f"several: {', '.join(given)}"
        raise BadPayload(f"expected exactly one of {', '.join(_FORMATS)} ({what} given).")
    name, value = given[0], payload[given[0]]
    if name == "dataframe_split":
        data = _frame(value, orient="split")
    elif name == "dataframe_records":
        data = _frame(value, orient="records")
    elif name == "input_data" and isinstance(value, dict) and "data" in value and not _TENSOR:
        data = _frame(value, orient="split")
    else:
        data = _tensor(value)
    return _check_columns(data)


def _answer(predictions: Any) -> Any:
    """Records-oriented JSON: a DataFrame as a list of rows, arrays as lists."""
    if isinstance(predictions, pd.DataFrame):
        return json.loads(predictions.to_json(orient="records"))
    if isinstance(predictions, (pd.Series, np.ndarray)):
        return predictions.tolist()
    if isinstance(predictions, dict):
        return {key: _answer(value) for key, value in predictions.items()}
    if isinstance(predictions, np.generic):
        return predictions.item()
    return predictions


def _bad_request(message: str) -> AMLResponse:
    return AMLResponse({"message": f"Bad payload: {message}", "expected": _EXPECTED}, 400, json_str=True)


def init() -> None:
    """Load the model through its python_function flavour."""
    global model
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(str(_ROOT))
    logger.info("Loaded the MLflow model at %s (signature: %s)", _ROOT, "yes" if _SIGNATURE else "none")


@input_schema("params", StandardPythonParameterType({}), convert_to_provided_type=False, optional=True)
@input_schema("input_data", _schema_type(), convert_to_provided_type=False, optional=True)
def run(
    input_data: Any = None,
    params: Any = None,
    dataframe_split: Any = None,
    dataframe_records: Any = None,
    inputs: Any = None,
    instances: Any = None,
) -> Any:
    """Score one request (see the module docstring for the formats)."""
    payload = {
        "input_data": input_data,
        "dataframe_split": dataframe_split,
        "dataframe_records": dataframe_records,
        "inputs": inputs,
        "instances": instances,
    }
    if params is not None and not isinstance(params, dict):
        return _bad_request("params must be an object (name: value).")
    try:
        data = _read(payload)
    except BadPayload as exc:
        return _bad_request(str(exc))
    try:
        predictions = model.predict(data, params=params) if params else model.predict(data)
    except MlflowException as exc:
        return _bad_request(f"the input does not match the model's signature: {exc.message}")
    return _answer(predictions)
