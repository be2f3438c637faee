"""Azure ML curated environments, as the local workspace builds them: a table of their main packages.

A curated environment is referenced as ``azureml://registries/azureml/environments/<name>/versions/<v>``
(or ``/labels/latest``), ``azureml:AzureML-<name>@latest`` or ``azureml:AzureML-<name>:<version>``
(and the workspace ARM id of the latter). On Azure it is a prebuilt image; on the local workspace
it is built like any other environment, from the packages below plus the inference server, on this
machine's Python. Every version of a name maps to the same entry: the table pins loosely, to
releases that install on Python 3.11, not to the exact image of each version.

The names are those of the current generation in the ``azureml`` registry (Azure/azureml-assets).
There is no separate xgboost environment in this generation: ``lightgbm-3.3`` carries xgboost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._errors import SpecValidationError
from ._references import AssetReference

__all__ = [
    "CURATED_ENVIRONMENTS",
    "CURATED_PREFIX",
    "CuratedEnvironment",
    "curated_conda",
    "curated_environment",
    "curated_name",
    "known_curated_text",
    "unknown_curated",
]

CURATED_PREFIX = "AzureML-"
"""The prefix of curated environment names in a workspace (``azureml:AzureML-sklearn-1.5@latest``)."""
CURATED_REGISTRY = "azureml"


@dataclass(frozen=True)
class CuratedEnvironment:
    """One curated environment: its registry name, what it is for, and its main packages."""

    name: str
    """The name in the ``azureml`` registry (``sklearn-1.5``)."""
    description: str
    packages: tuple[str, ...]
    """pip requirements installed here (the inference server is added as for any environment)."""
    python: str
    """The Python of Azure's image (this machine's interpreter is used locally)."""


_DATA_STACK = ("numpy>=1.24", "pandas>=1.5", "scipy>=1.10", "joblib>=1.2")

_TABLE = (
    CuratedEnvironment(
        "minimal-py312-inference",
        "The inference server only (CPU); add packages with a conda file.",
        (),
        "3.12",
    ),
    CuratedEnvironment(
        "minimal-py311-inference",
        "The inference server only (CPU), Python 3.11.",
        (),
        "3.11",
    ),
    CuratedEnvironment(
        "sklearn-1.5",
        "scikit-learn 1.5 with the scientific Python stack.",
        ("scikit-learn~=1.5.0", *_DATA_STACK),
        "3.10",
    ),
    CuratedEnvironment(
        "lightgbm-3.3",
        "LightGBM and XGBoost with scikit-learn (the name is historical: it ships LightGBM 4).",
        ("lightgbm>=4.0", "xgboost>=1.7", "scikit-learn~=1.5.0", *_DATA_STACK),
        "3.10",
    ),
    CuratedEnvironment(
        "mlflow-py312-inference",
        "MLflow models (no-code deployments) with scikit-learn.",
        ("mlflow-skinny>=2.10", "scikit-learn>=1.3", "cloudpickle>=2.2", "psutil>=5.8", *_DATA_STACK),
        "3.12",
    ),
    CuratedEnvironment(
        "acpt-pytorch-2.8-cuda12.6",
        "PyTorch 2.8 (Azure Container for PyTorch); locally torch from the package index, run on CPU.",
        ("torch~=2.8.0", "numpy>=1.24"),
        "3.12",
    ),
    CuratedEnvironment(
        "acpt-pytorch-2.2-cuda12.1",
        "PyTorch 2.2 (Azure Container for PyTorch).",
        ("torch~=2.2.0", "numpy>=1.24,<2"),
        "3.10",
    ),
    CuratedEnvironment(
        "tensorflow-2.16-cuda12",
        "TensorFlow 2.16.",
        ("tensorflow~=2.16.1", "numpy>=1.24,<2"),
        "3.10",
    ),
)

CURATED_ENVIRONMENTS: dict[str, CuratedEnvironment] = {entry.name.lower(): entry for entry in _TABLE}
"""The curated environments the local workspace knows, by lower-case registry name."""

_PREFIXED = re.compile(rf"^{CURATED_PREFIX}(?P<name>.+)$", re.IGNORECASE)


def curated_name(reference: AssetReference | str) -> str | None:
    """The curated name (``sklearn-1.5``) a reference points at, or None for any other reference.

    Curated: a reference into the ``azureml`` registry's environments, or a workspace environment
    whose name starts with ``AzureML-`` (short form or ARM id).
    """
    ref = (
        reference if isinstance(reference, AssetReference) else AssetReference.parse(reference, strict=False)
    )
    if ref.kind == "registry":
        if (ref.registry or "").lower() == CURATED_REGISTRY and (
            ref.asset_type or ""
        ).lower() == "environments":
            return ref.name
        return None
    if ref.kind == "arm" and (ref.asset_type or "").lower() != "environments":
        return None
    if ref.kind in ("short", "arm") and ref.name:
        match = _PREFIXED.match(ref.name)
        return match["name"] if match else None
    return None


def curated_environment(name: str) -> CuratedEnvironment | None:
    """The table entry of a curated name (case-insensitive), or None."""
    return CURATED_ENVIRONMENTS.get(name.lower())


def curated_conda(entry: CuratedEnvironment) -> dict[str, object]:
    """The conda file a curated environment builds from (its packages as pip requirements)."""
    dependencies: list[object] = [{"pip": list(entry.packages)}] if entry.packages else []
    return {"name": entry.name, "channels": ["conda-forge"], "dependencies": dependencies}


def unknown_curated(name: str, reference: str) -> SpecValidationError:
    """The error for a curated name missing from the table: lists the known ones and the way out."""
    return SpecValidationError(
        f"The curated environment {name!r} ({reference}) is not known to the local workspace. "
        f"Known: {known_curated_text()}.",
        hint="Use one of those (azureml://registries/azureml/environments/<name>/labels/latest or "
        "azureml:AzureML-<name>@latest), or give the packages yourself: environment: {image: "
        "mcr.microsoft.com/azureml/minimal-py312-inference:latest, conda_file: conda.yaml}.",
    )


def known_curated_text() -> str:
    """``minimal-py312-inference, sklearn-1.5, …`` (for error messages)."""
    return ", ".join(entry.name for entry in _TABLE)
