"""Kubernetes online endpoints: the Kubernetes compute that stands for this machine, its instance
types, and the rules for ``kind: kubernetes`` endpoints and deployments.

The compute is named ``inferencecompute`` (the name the azureml-examples ``kubernetes/`` YAML uses).
Its one instance type, ``defaultinstancetype`` (the type Azure's Kubernetes extension creates),
is bounded by this machine's cores and memory. Kubernetes deployments run on this machine like
managed ones; their ``containerResourceRequirements`` are checked as Kubernetes quantities and kept.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .arm import bad_request

__all__ = [
    "DEFAULT_INSTANCE_TYPE",
    "KUBERNETES_COMPUTE",
    "check_container_resources",
    "check_endpoint_compute",
    "check_instance_type",
    "instance_types",
    "is_compute_reference",
]

KUBERNETES_COMPUTE = "inferencecompute"
DEFAULT_INSTANCE_TYPE = "defaultinstancetype"
# The REST default of ``instanceType`` (clients fill it in for any deployment): on a Kubernetes
# compute it means "no instance type given", so the compute's default type is used.
REST_DEFAULT_INSTANCE_TYPE = "Standard_F4s_v2"
_SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(
    r"^(?P<number>\+?(?:\d+(?:\.\d*)?|\.\d+))(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE](?P<exp>[+-]?\d+))?$"
)
_RESOURCES = ("cpu", "memory", "gpu")


def _machine_memory_mi() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20)
    except (ValueError, OSError, AttributeError):
        return 2048


def instance_types() -> dict[str, dict[str, Any]]:
    """The compute's instance types, as Kubernetes compute properties list them."""
    return {
        DEFAULT_INSTANCE_TYPE: {
            "nodeSelector": None,
            "resources": {
                "requests": {"cpu": "100m", "memory": "500Mi"},
                "limits": {"cpu": str(os.cpu_count() or 1), "memory": f"{_machine_memory_mi()}Mi"},
            },
        }
    }


def compute_properties() -> dict[str, Any]:
    """The ``properties.properties`` of the Kubernetes compute (``KubernetesProperties``)."""
    return {
        "relayConnectionString": None,
        "serviceBusConnectionString": None,
        "extensionPrincipalId": None,
        "extensionInstanceReleaseTrain": "stable",
        "vcName": None,
        "namespace": "default",
        "defaultInstanceType": DEFAULT_INSTANCE_TYPE,
        "instanceTypes": instance_types(),
    }


def _compute_name(value: str) -> str:
    """The compute name in an ARM id, ``azureml:<name>`` or a plain name."""
    found = re.search(r"/computes/([^/]+)/?$", value, re.IGNORECASE)
    if found:
        return found.group(1)
    return value[len("azureml:") :] if value.lower().startswith("azureml:") else value


def is_compute_reference(value: object) -> bool:
    """Whether ``properties.compute`` refers to a compute: an ARM id ``…/computes/<name>``,
    ``azureml:<name>``, or the name of the workspace's compute."""
    if not isinstance(value, str):
        return True
    return (
        "/computes/" in value.lower()
        or value.lower().startswith("azureml:")
        or value.lower() == KUBERNETES_COMPUTE
    )


def check_endpoint_compute(value: object, compute_id: str) -> str:
    """``properties.compute`` of a Kubernetes endpoint: it must name the Kubernetes compute
    (``compute_id`` is its ARM id, which is returned)."""
    if not isinstance(value, str) or not value:
        raise bad_request(
            "'properties.compute' must be the id of a Kubernetes compute.", target="properties.compute"
        )
    if _compute_name(value).lower() != KUBERNETES_COMPUTE:
        raise bad_request(
            f"Compute '{_compute_name(value)}' of 'properties.compute' is not a Kubernetes compute of this "
            f"workspace. Kubernetes computes: {KUBERNETES_COMPUTE}.",
            target="properties.compute",
        )
    return compute_id


def check_instance_type(value: object) -> str:
    """The ``instanceType`` of a Kubernetes deployment in its canonical name (none, or the REST
    default ``Standard_F4s_v2``, means the compute's default type)."""
    if value is None or (isinstance(value, str) and value.lower() == REST_DEFAULT_INSTANCE_TYPE.lower()):
        return DEFAULT_INSTANCE_TYPE
    known = list(instance_types())
    for name in known:
        if isinstance(value, str) and name.lower() == value.lower():
            return name
    raise bad_request(
        f"Instance type '{value}' does not exist on Kubernetes compute '{KUBERNETES_COMPUTE}'. "
        f"Instance types: {', '.join(known)}.",
        target="properties.instanceType",
    )


def parse_quantity(value: str) -> Decimal | None:
    """A Kubernetes quantity (``0.1``, ``100m``, ``200Mi``, ``1e3``) as a number, or None."""
    found = _QUANTITY.match(value.strip()) if value.strip() == value else None
    if found is None:
        return None
    try:
        number = Decimal(found.group("number"))
    except InvalidOperation:
        return None
    if found.group("exp") is not None:
        return number * Decimal(10) ** int(found.group("exp"))
    return number * _SUFFIXES[found.group("suffix") or ""]


def _settings(requirements: dict[str, Any], key: str) -> dict[str, Decimal]:
    field = f"properties.containerResourceRequirements.{key}"
    settings = requirements.get(key)
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise bad_request(f"'{field}' must be an object.", target=field)
    values: dict[str, Decimal] = {}
    for name, raw in settings.items():
        if name not in _RESOURCES:
            raise bad_request(
                f"Unknown resource '{name}' in '{field}'. Allowed: {', '.join(_RESOURCES)}.", target=field
            )
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise bad_request(
                f'\'{field}.{name}\' must be a string (a Kubernetes quantity such as "500m" or "1Gi"), '
                f"not {raw!r}.",
                target=f"{field}.{name}",
            )
        quantity = parse_quantity(raw)
        if quantity is None or quantity <= 0:
            raise bad_request(
                f"'{field}.{name}' is {raw!r}, not a positive Kubernetes quantity "
                '(cpu such as "0.5" or "500m", memory such as "512Mi" or "2Gi").',
                target=f"{field}.{name}",
            )
        if name == "gpu" and quantity != quantity.to_integral_value():
            raise bad_request(f"'{field}.gpu' is {raw!r}; GPUs are whole numbers.", target=f"{field}.gpu")
        values[name] = quantity
    return values


def check_container_resources(value: object) -> None:
    """``containerResourceRequirements``: requests and limits of cpu, memory and gpu as Kubernetes
    quantities, no request above its limit."""
    if value is None:
        return
    field = "properties.containerResourceRequirements"
    if not isinstance(value, dict):
        raise bad_request(f"'{field}' must be an object.", target=field)
    requests = _settings(value, "containerResourceRequests")
    limits = _settings(value, "containerResourceLimits")
    for name, request in requests.items():
        if name in limits and request > limits[name]:
            raise bad_request(
                f"The {name} request {value['containerResourceRequests'][name]!r} is above its limit "
                f"{value['containerResourceLimits'][name]!r} in '{field}'.",
                target=f"{field}.containerResourceRequests.{name}",
            )
