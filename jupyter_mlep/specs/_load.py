"""Loading YAML files into typed specs: :func:`load_spec` and one ``load_*`` per kind.

Each loader reads the file (see ``_yaml``), applies ``overrides`` (the CLI's ``--set``),
validates the keys and types, resolves local paths against the file's folder without
requiring them to exist yet, and checks the service's rules with ``check()``. What the
command line may still supply (a deployment's ``endpoint_name``, model, code, environment)
is only required when a REST body is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from .._errors import SpecError
from ._assets import Code, Model
from ._base import TopLevelSpec, parse_spec
from ._batch_deployment import BatchDeployment
from ._batch_endpoint import BatchEndpoint
from ._compute import AmlCompute, Compute, ComputeInstance
from ._data import Data
from ._datastore import AzureBlobDatastore
from ._deployment import KubernetesOnlineDeployment, ManagedOnlineDeployment, OnlineDeployment
from ._endpoint import KubernetesOnlineEndpoint, ManagedOnlineEndpoint, OnlineEndpoint
from ._environment import Environment
from ._jobs import CommandJob, Job
from ._sweep import SweepJob
from ._yaml import detect_kind, read_yaml

__all__ = [
    "SPEC_CLASSES",
    "Spec",
    "load_batch_deployment",
    "load_batch_endpoint",
    "load_code",
    "load_compute",
    "load_data",
    "load_deployment",
    "load_endpoint",
    "load_environment",
    "load_job",
    "load_model",
    "load_spec",
    "spec_from_dict",
]

Spec = (
    OnlineEndpoint
    | OnlineDeployment
    | Model
    | Environment
    | Code
    | Data
    | Compute
    | AzureBlobDatastore
    | Job
    | BatchEndpoint
    | BatchDeployment
)
S = TypeVar("S", bound=TopLevelSpec)

#: The spec class of each kind (as named in ``$schema``).
SPEC_CLASSES: dict[str, type[TopLevelSpec]] = {
    cls.kind: cls
    for cls in (
        ManagedOnlineEndpoint,
        KubernetesOnlineEndpoint,
        ManagedOnlineDeployment,
        KubernetesOnlineDeployment,
        Model,
        Environment,
        Code,
        Data,
        AmlCompute,
        ComputeInstance,
        AzureBlobDatastore,
        CommandJob,
        SweepJob,
        BatchEndpoint,
        BatchDeployment,
    )
}
_GROUPS: dict[str, tuple[str, ...]] = {
    "endpoint": ("managedOnlineEndpoint", "kubernetesOnlineEndpoint"),
    "deployment": ("managedOnlineDeployment", "kubernetesOnlineDeployment"),
    "job": ("commandJob", "sweepJob"),
    "compute": ("amlCompute", "computeInstance"),
}


def load_spec(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Spec:
    """Load any supported Azure ML YAML spec, choosing its class by ``$schema`` (or ``type:``)."""
    path = Path(path)
    data = read_yaml(path, overrides=overrides)
    return _build(SPEC_CLASSES[detect_kind(data, path)], data, path)  # type: ignore[return-value]


def spec_from_dict(
    data: Mapping[str, Any], *, kind: str | None = None, base_dir: str | Path | None = None
) -> Spec:
    """Build a spec from a YAML-style mapping (e.g. gathered from command-line flags).

    ``kind`` (one of ``KINDS``) defaults to the one named by ``$schema`` or ``type:``; relative
    paths resolve against ``base_dir`` (default: kept relative to the working directory).
    """
    if kind is None:
        kind = detect_kind(data)
    if kind not in SPEC_CLASSES:
        raise SpecError(
            f"Unknown kind of spec {kind!r}.", hint="Use one of: " + ", ".join(SPEC_CLASSES) + "."
        )
    spec = parse_spec(SPEC_CLASSES[kind], data, base_dir=Path(base_dir) if base_dir is not None else None)
    spec.check()
    return spec  # type: ignore[return-value]


def load_endpoint(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> OnlineEndpoint:
    """Load a managed or Kubernetes online endpoint YAML file."""
    path = Path(path)
    data = read_yaml(path, overrides=overrides)
    kind = _kind_in_group(
        data,
        path,
        "endpoint",
        default="kubernetesOnlineEndpoint" if "compute" in data else "managedOnlineEndpoint",
    )
    return _build(SPEC_CLASSES[kind], data, path)  # type: ignore[return-value]


def load_deployment(
    path: str | Path, *, endpoint_name: str | None = None, overrides: Mapping[str, Any] | None = None
) -> OnlineDeployment:
    """Load a managed or Kubernetes online deployment YAML file.

    ``endpoint_name`` sets (or replaces) the endpoint, like the CLI's ``--endpoint-name``.
    """
    path = Path(path)
    merged = {**(overrides or {}), **({"endpoint_name": endpoint_name} if endpoint_name else {})}
    data = read_yaml(path, overrides=merged)
    kind = _kind_in_group(data, path, "deployment", default="managedOnlineDeployment")
    return _build(SPEC_CLASSES[kind], data, path)  # type: ignore[return-value]


def load_batch_endpoint(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> BatchEndpoint:
    """Load a batch endpoint YAML file."""
    return _load_as(BatchEndpoint, path, overrides)


def load_batch_deployment(
    path: str | Path, *, endpoint_name: str | None = None, overrides: Mapping[str, Any] | None = None
) -> BatchDeployment:
    """Load a (model) batch deployment YAML file, its settings under ``settings:`` or at its root.

    ``endpoint_name`` sets (or replaces) the endpoint, like the CLI's ``--endpoint-name``.
    """
    merged = {**(overrides or {}), **({"endpoint_name": endpoint_name} if endpoint_name else {})}
    return _load_as(BatchDeployment, path, merged)


def load_model(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Model:
    """Load a model asset YAML file."""
    return _load_as(Model, path, overrides)


def load_environment(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Environment:
    """Load an environment asset YAML file."""
    return _load_as(Environment, path, overrides)


def load_code(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Code:
    """Load a code asset YAML file."""
    return _load_as(Code, path, overrides)


def load_data(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Data:
    """Load a data asset YAML file (uri_file, uri_folder or mltable)."""
    return _load_as(Data, path, overrides)


def load_compute(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Compute:
    """Load a compute cluster (``type: amlcompute``) or compute instance (``type: computeinstance``)
    YAML file."""
    path = Path(path)
    data = read_yaml(path, overrides=overrides)
    kind = _kind_in_group(data, path, "compute", default=None)
    return _build(SPEC_CLASSES[kind], data, path)  # type: ignore[return-value]


def load_job(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Job:
    """Load a command or sweep job YAML file."""
    path = Path(path)
    data = read_yaml(path, overrides=overrides)
    kind = _kind_in_group(data, path, "job", default="commandJob")
    return _build(SPEC_CLASSES[kind], data, path)  # type: ignore[return-value]


def _load_as(cls: type[S], path: str | Path, overrides: Mapping[str, Any] | None) -> S:
    path = Path(path)
    data = read_yaml(path, overrides=overrides)
    if data.get("$schema") is not None:
        _check_kind(detect_kind(data, path), (cls.kind,), path)
    return _build(cls, data, path)


def _kind_in_group(data: Mapping[str, Any], path: Path, group: str, *, default: str | None) -> str:
    if data.get("$schema") is None and data.get("type") is None and default is not None:
        return default
    kind = detect_kind(data, path)
    _check_kind(kind, _GROUPS[group], path)
    return kind


def _check_kind(kind: str, expected: tuple[str, ...], path: Path) -> None:
    if kind not in expected:
        raise SpecError(
            f"{path} is a {kind} spec, not a {' or '.join(expected)} spec.",
            hint="Load it with load_spec(), which picks the class from $schema.",
        )


def _build(cls: type[S], data: Mapping[str, Any], path: Path) -> S:
    source = path.resolve()
    spec = parse_spec(cls, data, source=source, base_dir=source.parent)
    spec.check()
    return spec
