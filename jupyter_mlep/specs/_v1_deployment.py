"""The rules of ``deploymentconfig.json`` fields (ACI and AKS: resources, auth, App Insights,
request limits, replicas, autoscale, liveness probe, TLS, network…), v1 → v2: :data:`DEPLOYMENT_RULES`."""

from __future__ import annotations

import math
from typing import Any

from ._v1_state import Rule, State, carried_to, dropped

__all__ = ["DEPLOYMENT_RULES", "kubernetes_resources"]


def _resources(value: Any, where: str, state: State) -> None:
    for key, item in value.items():
        sub = f"{where}.{key}"
        if key in ("cpu", "memoryInGB", "cpuLimit", "memoryInGBLimit") and isinstance(item, int | float):
            state.resources[key] = float(item)
            if state.kind == "kubernetes":
                state.carry(sub, "deployment.resources")
            elif key in ("cpu", "memoryInGB"):
                state.carry(sub, "deployment.instance_type (the smallest size with as much)")
            else:
                state.drop(
                    sub, "managed instances have no per-container limit: the whole VM serves the deployment"
                )
        elif key in ("gpu", "gpuCores") and item:
            state.gpu = True
            state.carry(sub, "deployment.instance_type (a GPU size)")
        else:
            state.drop(sub, "no v2 equivalent (or empty)")


def _auth(value: Any, where: str, state: State) -> None:
    if value:
        state.carry(where, "endpoint.auth_mode: key")
    else:
        state.drop(where, "v2 endpoints always authenticate: auth_mode key (keys from %endpoint keys)")


def _token_auth(value: Any, where: str, state: State) -> None:
    if value:
        state.out.endpoint["auth_mode"] = "aml_token"
        state.carry(where, "endpoint.auth_mode: aml_token")
    else:
        state.carry(where, "endpoint.auth_mode: key")


def _app_insights(value: Any, where: str, state: State) -> None:
    state.out.deployment["app_insights_enabled"] = bool(value)
    state.carry(where, "deployment.app_insights_enabled")


def _request(v2_key: str) -> Rule:
    def rule(value: Any, where: str, state: State) -> None:
        state.out.deployment.setdefault("request_settings", {})[v2_key] = int(value)
        state.carry(where, f"deployment.request_settings.{v2_key}")

    return rule


def _replicas(value: Any, where: str, state: State) -> None:
    state.out.deployment["instance_count"] = int(value)
    state.carry(where, "deployment.instance_count")


_PROBE = {
    "initialDelaySeconds": "initial_delay",
    "periodSeconds": "period",
    "timeoutSeconds": "timeout",
    "successThreshold": "success_threshold",
    "failureThreshold": "failure_threshold",
}


def _liveness(value: Any, where: str, state: State) -> None:
    probe = state.out.deployment.setdefault("liveness_probe", {})
    for key, item in value.items():
        if key in _PROBE and item is not None:
            probe[_PROBE[key]] = int(item)
            state.carry(f"{where}.{key}", f"deployment.liveness_probe.{_PROBE[key]}")
        else:
            state.drop(f"{where}.{key}", "no v2 probe setting of that name (or empty)")


_AUTOSCALE = {
    "minReplicas": "min_instances",
    "maxReplicas": "max_instances",
    "refreshPeriodInSeconds": "polling_interval",
    "targetUtilization": "target_utilization_percentage",
}


def _autoscaler(value: Any, where: str, state: State) -> None:
    enabled = bool(value.get("autoscaleEnabled"))
    if state.kind == "kubernetes" and enabled:
        scale: dict[str, Any] = {"type": "target_utilization"}
        for key, item in value.items():
            if key in _AUTOSCALE and item is not None:
                scale[_AUTOSCALE[key]] = int(item)
                state.carry(f"{where}.{key}", f"deployment.scale_settings.{_AUTOSCALE[key]}")
        state.out.deployment["scale_settings"] = scale
        state.carry(f"{where}.autoscaleEnabled", "deployment.scale_settings.type: target_utilization")
        return
    why = (
        "managed deployments scale with Azure Monitor autoscale rules (az monitor autoscale), not a "
        "deployment setting"
        if enabled
        else "autoscale is off"
    )
    for key in value:
        if key == "minReplicas" and enabled and value[key]:
            state.out.deployment["instance_count"] = int(value[key])
            state.carry(f"{where}.minReplicas", "deployment.instance_count (autoscale starts from it)")
        else:
            state.drop(f"{where}.{key}", why)


def _compute_target(value: Any, where: str, state: State) -> None:
    if state.kind == "kubernetes":
        state.carry(where, "endpoint.compute (attach the AKS cluster as a Kubernetes compute first)")
    else:
        state.drop(where, "a managed endpoint needs no cluster (pass --to kubernetes to keep it)")


def _compute_type(value: Any, where: str, state: State) -> None:
    state.carry(where, f"endpoint $schema ({state.kind} online endpoint)")


def _tags(value: Any, where: str, state: State) -> None:
    state.out.endpoint["tags"] = {str(k): str(v) for k, v in value.items()}
    state.carry(where, "endpoint.tags")


def _properties(value: Any, where: str, state: State) -> None:
    state.out.endpoint["properties"] = {str(k): str(v) for k, v in value.items()}
    state.carry(where, "endpoint.properties")


_TLS = "managed endpoints always serve HTTPS with Azure's certificate; custom domains are not offered"
_NETWORK = (
    "v2 isolates with the workspace's managed network (public_network_access, egress_public_network_access)"
)
DEPLOYMENT_RULES: dict[str, Rule] = {
    "computeType": _compute_type,
    "containerResourceRequirements": _resources,
    "authEnabled": _auth,
    "tokenAuthEnabled": _token_auth,
    "appInsightsEnabled": _app_insights,
    "scoringTimeoutMs": _request("request_timeout_ms"),
    "maxConcurrentRequestsPerContainer": _request("max_concurrent_requests_per_instance"),
    "maxQueueWaitMs": _request("max_queue_wait_ms"),
    "numReplicas": _replicas,
    "autoScaler": _autoscaler,
    "livenessProbeRequirements": _liveness,
    "computeTargetName": _compute_target,
    "tags": _tags,
    "properties": _properties,
    "description": carried_to("endpoint", "description"),
    "sslEnabled": dropped(_TLS),
    "sslCertificate": dropped(_TLS),
    "sslKey": dropped(_TLS),
    "sslCname": dropped(_TLS),
    "cname": dropped(_TLS),
    "dnsNameLabel": dropped("the scoring URI is <endpoint>.<region>.inference.ml.azure.com"),
    "location": dropped("endpoints live in the workspace's region"),
    "primaryKey": dropped("v2 generates keys; set your own with the regenerateKeys action (keyValue)"),
    "secondaryKey": dropped("v2 generates keys; set your own with the regenerateKeys action (keyValue)"),
    "vnetName": dropped(_NETWORK),
    "subnetName": dropped(_NETWORK),
    "cmkVaultBaseUrl": dropped("encryption with your key is a workspace setting in v2"),
    "cmkKeyName": dropped("encryption with your key is a workspace setting in v2"),
    "cmkKeyVersion": dropped("encryption with your key is a workspace setting in v2"),
    "namespace": dropped("the Kubernetes namespace is a setting of the attached compute in v2"),
    "collectModelData": dropped("use the deployment's data_collector (model data collection v2)"),
    "port": dropped("local v1 services bound a port; here the router serves every endpoint"),
    "isDefault": dropped("v1 AKS endpoint versions: use the endpoint's traffic in v2"),
    "trafficPercentile": dropped("v1 AKS endpoint versions: use the endpoint's traffic in v2"),
    "version": dropped("v1 AKS endpoint versions: use the endpoint's traffic in v2"),
    "type": dropped("v1 AKS endpoint versions: use the endpoint's traffic in v2"),
    "periodSeconds": dropped("a v1 top-level probe alias: set livenessProbeRequirements"),
}


def kubernetes_resources(values: dict[str, float]) -> dict[str, Any]:
    """The ``resources`` of a Kubernetes deployment from v1 ``cpu``/``memoryInGB`` (requests) and
    ``cpuLimit``/``memoryInGBLimit`` (limits)."""
    resources: dict[str, Any] = {}
    for section, cpu, memory in (
        ("requests", "cpu", "memoryInGB"),
        ("limits", "cpuLimit", "memoryInGBLimit"),
    ):
        part = {}
        if cpu in values:
            part["cpu"] = f"{values[cpu]:g}"
        if memory in values:
            part["memory"] = f"{math.ceil(values[memory] * 1024)}Mi"
        if part:
            resources[section] = part
    return resources
