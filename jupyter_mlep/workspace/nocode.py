"""Deployments of MLflow models without a scoring script and an environment ("no-code"), as Azure runs them.

A deployment body without ``codeConfiguration`` and ``environmentId`` is valid when its model is an
MLflow model with the ``python_function`` flavour (an ``MLmodel`` file at the root of the model's
folder, as a model registered with ``modelType: MLFlowModel`` or a job output of type
``mlflow_model`` holds). It then runs the scoring script this package ships
(``jupyter_mlep/scoring/nocode/mlflow_score.py``) in an environment built from the model's own
requirements (see :mod:`jupyter_mlep.runtime._mlflow`).

:func:`check_no_code` runs when the deployment is submitted, before anything is stored or started:
the rules above, and the preflight of the model's pins against the runtime's Python. Pins this
machine cannot honour are refused (400, with the options) unless the deployment property
``mlep.relaxModelPins`` is ``"true"``; then they are relaxed and the property
``mlep.relaxedModelPins`` lists the changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import MlepError
from ..runtime import Preflight, describe_problems, model_requirements, preflight
from ..specs._mlflow import (
    NO_CODE_PROPERTY_RELAX,
    NO_CODE_PROPERTY_RELAXED,
    MlflowModelInfo,
    mlflow_rule_text,
    read_mlflow_model,
    require_pyfunc,
)
from .arm import ArmError, bad_request
from .context import Workspace

__all__ = ["NO_CODE_FOLDER", "NO_CODE_SCRIPT", "check_no_code", "is_no_code", "no_code_parts"]

NO_CODE_FOLDER = Path(__file__).resolve().parent.parent / "scoring" / "nocode"
NO_CODE_SCRIPT = "mlflow_score.py"


def is_no_code(props: dict[str, Any]) -> bool:
    """True for a deployment body without a code configuration (its model must then be MLflow)."""
    return not (props.get("codeConfiguration") or {}).get("codeId")


def _interpreter(ws: Workspace) -> str:
    if ws.supervisor is not None:
        return str(ws.supervisor.settings.python)
    from ..runtime import RuntimeSettings

    return RuntimeSettings.from_env().python


def _relax(props: dict[str, Any]) -> bool:
    value = (props.get("properties") or {}).get(NO_CODE_PROPERTY_RELAX)
    return str(value).strip().lower() in ("true", "1", "yes")


def _model_info(model_path: Path | None, model: str) -> MlflowModelInfo:
    info = read_mlflow_model(model_path) if model_path is not None and model_path.is_dir() else None
    if info is None:
        raise bad_request(
            f"{mlflow_rule_text()} The model {model} is not an MLflow model (no MLmodel file at the root of its "
            "folder): give codeConfiguration (a scoring script) and environmentId.",
            target="properties.codeConfiguration",
        )
    try:
        require_pyfunc(info, f"The model {model}")
    except MlepError as exc:
        raise bad_request(f"{exc.message} {exc.hint or ''}".strip(), target="properties.model") from None
    return info


def _preflight(ws: Workspace, info: MlflowModelInfo, props: dict[str, Any]) -> Preflight:

    wanted = model_requirements(
        info.root, loader_module=info.loader_module, python_version=info.python_version
    )
    return preflight(wanted, _interpreter(ws), relax=_relax(props))


def check_no_code(ws: Workspace, props: dict[str, Any], model_path: Path | None) -> None:
    """Refuse (400) a no-code deployment whose model cannot be served that way, or whose pins this
    machine cannot honour; record the pins relaxed on the body's properties. An MLflow model with a
    scoring script but no environment is refused too (Azure's rule). Blocking (it may ask the
    package index): call it off the event loop."""
    model = str(props.get("model") or "")
    if not is_no_code(props):
        if not props.get("environmentId") and model_path is not None and read_mlflow_model(model_path):
            raise bad_request(
                f"The deployment of the MLflow model {model} gives a scoring script (codeConfiguration) but no "
                "environment: a scoring script needs an environment to run in. Give environmentId too, or "
                "neither of them to have the scoring script and the environment generated.",
                target="properties.environmentId",
            )
        return
    if props.get("environmentId"):
        raise bad_request(
            "The deployment gives an environment but no codeConfiguration: give both (a scoring script and "
            "the environment to run it in), or neither for an MLflow model.",
            target="properties.codeConfiguration",
        )
    info = _model_info(model_path, model)
    result = _preflight(ws, info, props)
    if result.problems:
        error = describe_problems(result, model)
        raise ArmError(
            400, "UnsupportedModelDependencies", f"{error.message} {error.hint}", target="properties.model"
        )
    if result.changes:
        props["properties"] = {
            **(props.get("properties") or {}),
            NO_CODE_PROPERTY_RELAXED: "; ".join(result.changes),
        }


def no_code_parts(ws: Workspace, props: dict[str, Any], model_path: Path | None) -> tuple[Path, str, Any]:
    """The code folder, scoring script and runtime ``EnvironmentSpec`` of a no-code deployment."""
    model = str(props.get("model") or "")
    info = _model_info(model_path, model)
    result = _preflight(ws, info, props)
    if result.problems:
        error = describe_problems(result, model)
        raise bad_request(f"{error.message} {error.hint}", target="properties.model")
    return NO_CODE_FOLDER, NO_CODE_SCRIPT, result.environment(f"mlflow:{info.root.name}")
