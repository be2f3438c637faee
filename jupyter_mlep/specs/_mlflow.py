"""MLflow models as Azure ML deploys them without a scoring script or an environment ("no-code").

An MLflow model is a folder with an ``MLmodel`` file at its root (or, as job outputs and Azure's
model folders are laid out, in its only sub-folder). Only its ``python_function`` flavour can be
served without a scoring script; the rules here are Azure's, shared by the client's validation and
the local workspace's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .._errors import SpecValidationError

__all__ = [
    "MLMODEL",
    "NO_CODE_PROPERTY_RELAX",
    "NO_CODE_PROPERTY_RELAXED",
    "MlflowModelInfo",
    "find_mlflow_root",
    "mlflow_rule_text",
    "read_mlflow_model",
    "require_pyfunc",
]

MLMODEL = "MLmodel"
PYFUNC = "python_function"
NO_CODE_PROPERTY_RELAX = "mlep.relaxModelPins"
"""The deployment property (``"true"``) that lets the local workspace relax the pins of an MLflow
model that this machine cannot honour (another Python, a package version without a wheel)."""
NO_CODE_PROPERTY_RELAXED = "mlep.relaxedModelPins"
"""The deployment property the local workspace sets to the pins it changed (``old → new; …``)."""

NO_SCRIPT_HINT = (
    "Give code_configuration (a scoring script) and an environment, or register the model as an MLflow "
    "model (type: mlflow_model, a folder with an MLmodel file)."
)


@dataclass(frozen=True)
class MlflowModelInfo:
    """What the ``MLmodel`` file of a model folder says."""

    root: Path
    """The folder holding ``MLmodel``."""
    flavors: dict[str, dict[str, Any]]
    signature: dict[str, Any] | None = None
    python_version: str | None = None

    @property
    def pyfunc(self) -> dict[str, Any] | None:
        """The ``python_function`` flavour, or None."""
        return self.flavors.get(PYFUNC)

    @property
    def loader_module(self) -> str:
        """The module that loads the model through ``python_function`` (``mlflow.sklearn``…)."""
        return str((self.pyfunc or {}).get("loader_module") or "")


def find_mlflow_root(path: Path) -> Path | None:
    """The folder holding ``MLmodel``: ``path`` itself, or its only sub-folder holding one."""
    path = Path(path)
    if not path.is_dir():
        return None
    if (path / MLMODEL).is_file():
        return path
    children = [child for child in path.iterdir() if child.is_dir() and (child / MLMODEL).is_file()]
    return children[0] if len(children) == 1 else None


def read_mlflow_model(path: Path) -> MlflowModelInfo | None:
    """The ``MLmodel`` of a model folder, or None when it is not an MLflow model."""
    root = find_mlflow_root(path)
    if root is None:
        return None
    try:
        data = yaml.safe_load((root / MLMODEL).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecValidationError(
            f"The MLmodel file of {root} cannot be read: {exc}.",
            hint="Save the model again with mlflow.<flavour>.save_model / log_model.",
        ) from None
    if not isinstance(data, dict):
        raise SpecValidationError(f"The MLmodel file of {root} does not hold a mapping.")
    found = data.get("flavors")
    flavors: dict[str, Any] = found if isinstance(found, dict) else {}
    pyfunc: dict[str, Any] = flavors[PYFUNC] if isinstance(flavors.get(PYFUNC), dict) else {}
    signature = data.get("signature") if isinstance(data.get("signature"), dict) else None
    version = pyfunc.get("python_version")
    return MlflowModelInfo(
        root=root,
        flavors={str(k): dict(v) if isinstance(v, dict) else {} for k, v in flavors.items()},
        signature=signature,
        python_version=str(version) if version else None,
    )


def mlflow_rule_text() -> str:
    """Azure's rule for deployments without a scoring script, in one sentence."""
    return (
        "Only MLflow models can be deployed without code_configuration and environment: Azure Machine "
        "Learning then builds the environment from the model's dependencies and generates the scoring "
        "script."
    )


def require_pyfunc(info: MlflowModelInfo, where: str) -> None:
    """Refuse (Azure's explanation) an MLflow model without the ``python_function`` flavour."""
    if info.pyfunc is not None:
        return
    flavours = ", ".join(sorted(info.flavors)) or "none"
    raise SpecValidationError(
        f"{where} is an MLflow model without the python_function flavour (its flavours: {flavours}). "
        "A deployment without a scoring script loads the model with mlflow.pyfunc, so only models with "
        "the python_function flavour can be deployed that way.",
        hint="Log the model with a flavour that includes python_function (mlflow.sklearn, mlflow.pyfunc…), "
        "or give a scoring script and an environment that load it.",
    )
