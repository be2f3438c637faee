"""Azure ML v1 deployment configuration (``inferenceconfig.json`` + ``deploymentconfig.json``, as
``az ml model deploy --ic … --dc …`` read them) → v2 ``endpoint.yml`` + ``deployment.yml`` mappings.

Every v1 field is either carried (``carried``: v1 field → v2 field) or dropped with the reason
(``dropped``: v1 field → why); nothing is skipped silently. The rules are one table per file
(``INFERENCE_RULES`` in :mod:`._v1_inference`, ``DEPLOYMENT_RULES`` in :mod:`._v1_deployment`):
v1 key → rule. ACI becomes a managed deployment; AKS a Kubernetes deployment (``to="kubernetes"``) or a managed one. The instance type of a managed
deployment is the smallest size of :data:`VM_SIZES` with the cores and memory asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._errors import SpecError
from ._compute import VM_SIZES
from ._v1_deployment import DEPLOYMENT_RULES, kubernetes_resources
from ._v1_inference import INFERENCE_RULES
from ._v1_state import CPU_IMAGE, GPU_IMAGE, EndpointKind, Rule, State, V1Conversion

__all__ = ["V1Conversion", "convert_v1", "v1_instance_type"]

_GPU_PREFIX = ("Standard_NC", "Standard_ND")
#: The v1 `computeType`s a deploymentconfig.json can name.
V1_COMPUTE_TYPES = ("aci", "aks", "local")


def v1_instance_type(cpu: float, memory_gb: float, *, gpu: bool = False) -> str:
    """The smallest size of :data:`VM_SIZES` (fewest cores, then least memory, then the table's
    order) with at least ``cpu`` cores and ``memory_gb`` GB (a GPU size when ``gpu``)."""
    fitting = [
        (cores, memory, index, name)
        for index, (name, (cores, memory)) in enumerate(VM_SIZES.items())
        if cores >= cpu and memory >= memory_gb and name.startswith(_GPU_PREFIX) == gpu
    ]
    if not fitting:
        raise SpecError(
            f"No VM size offers {cpu:g} cores and {memory_gb:g} GB{' with a GPU' if gpu else ''}.",
            hint="Lower containerResourceRequirements, or pass --instance-type.",
        )
    return min(fitting)[3]


def convert_v1(
    inference: dict[str, Any],
    deployment: dict[str, Any],
    *,
    endpoint: str,
    source: Path,
    out: Path,
    model: str | None = None,
    name: str = "blue",
    to: EndpointKind | None = None,
    compute: str | None = None,
    instance_type: str | None = None,
) -> V1Conversion:
    """Convert; ``source`` is the folder of inferenceconfig.json (its paths are relative to it),
    ``out`` the folder the YAML files will be written to (their paths are made relative to it)."""
    compute_type = str(deployment.get("computeType") or "aci").lower()
    if compute_type not in V1_COMPUTE_TYPES:
        raise SpecError(
            f"deploymentconfig.json has computeType {compute_type!r}; migrate-v1 converts aci, aks and local.",
            hint="Set computeType to aci or aks.",
        )
    kind: EndpointKind = to or "managed"
    conversion = V1Conversion(
        endpoint={
            "$schema": f"https://azuremlschemas.azureedge.net/latest/{kind}OnlineEndpoint.schema.json",
            "name": endpoint,
            "auth_mode": "key",
        },
        deployment={
            "$schema": f"https://azuremlschemas.azureedge.net/latest/{kind}OnlineDeployment.schema.json",
            "name": name,
            "endpoint_name": endpoint,
        },
    )

    def relative(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()

    code = (source / str(inference.get("sourceDirectory") or ".")).resolve()
    state = State(conversion, source, code, kind, relative)
    if model:
        conversion.deployment["model"] = _model(model, relative)
    _apply(INFERENCE_RULES, inference, "inferenceconfig", state)
    _apply(DEPLOYMENT_RULES, deployment, "deploymentconfig", state)
    dep, ep = conversion.deployment, conversion.endpoint
    dep.setdefault("environment", {"image": GPU_IMAGE if state.gpu else CPU_IMAGE})
    if kind == "kubernetes":
        cluster = compute or deployment.get("computeTargetName")
        if not cluster:
            raise SpecError(
                "A Kubernetes endpoint needs its compute, and deploymentconfig.json names none (computeTargetName).",
                hint="Pass --compute NAME (the Kubernetes compute attached to the workspace).",
            )
        ep["compute"] = f"azureml:{cluster}"
        if state.resources:
            dep["resources"] = kubernetes_resources(state.resources)
    else:
        cpu = state.resources.get("cpu", 0.1)
        memory = state.resources.get("memoryInGB", 0.5)
        dep["instance_type"] = instance_type or v1_instance_type(cpu, memory, gpu=state.gpu)
    if instance_type and kind == "kubernetes":
        dep["instance_type"] = instance_type
    dep.setdefault("instance_count", 1)
    return conversion


def _apply(rules: dict[str, Rule], data: dict[str, Any], file: str, state: State) -> None:
    for key, value in data.items():
        where = f"{file}.{key}"
        if value is None or value == [] or value == {}:
            state.drop(where, "not set (null or empty) in the v1 file")
            continue
        rule = rules.get(key)
        if rule is None:
            state.drop(where, "not a field migrate-v1 knows; check it by hand")
        else:
            rule(value, where, state)


def _model(value: str, relative: Callable[[Path], str]) -> Any:
    if value.startswith("azureml:"):
        return value
    if ":" in value and not Path(value).exists():
        name, _, version = value.rpartition(":")
        return f"azureml:{name}:{version}"
    return {"path": relative(Path(value))}
