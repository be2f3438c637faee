"""Online deployments, managed and Kubernetes (``managedOnlineDeployment.schema.json``,
``kubernetesOnlineDeployment.schema.json``), and their REST ``OnlineDeployment`` bodies.

A deployment may leave ``endpoint_name`` (and even model, code and environment) to the
command line, so they are only required by :meth:`OnlineDeployment.to_rest` (or
``check(complete=True)``). Inline models, code folders and environments are registered by the
operations layer first; their ids are passed to ``to_rest`` as ``model_id``, ``code_id`` and
``environment_id``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from .._errors import SpecValidationError
from ._assets import CodeConfiguration, Model, ModelOrReference, resolve_asset_id
from ._base import StrDict, TopLevelSpec, compact, parse_spec, snake
from ._deployment_settings import (
    DataCollector,
    ProbeSettings,
    RequestSettings,
    ResourceRequirements,
    ScaleSettings,
)
from ._endpoint import NetworkAccess, require_location
from ._environment import Environment, EnvironmentOrReference
from ._references import AssetReference
from ._validation import validate_instance_count, validate_name

__all__ = ["KubernetesOnlineDeployment", "ManagedOnlineDeployment", "OnlineDeployment"]

DEFAULT_INSTANCE_TYPE = "Standard_F4s_v2"
MAX_REQUEST_TIMEOUT_MS = 180_000
_ENDPOINT_IN_ID = re.compile(r"/onlineEndpoints/([^/]+)/deployments/", re.IGNORECASE)


class OnlineDeployment(TopLevelSpec):
    """A deployment: a model, its scoring code and environment on some instances of an endpoint."""

    compute_type: ClassVar[str]
    name: str
    endpoint_name: str | None = None
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None
    model: ModelOrReference | None = None
    model_mount_path: str | None = None
    code_configuration: CodeConfiguration | None = None
    environment: EnvironmentOrReference | None = None
    environment_variables: StrDict | None = None
    instance_type: str | None = None
    instance_count: int = 1
    app_insights_enabled: bool | None = None
    scale_settings: ScaleSettings | None = None
    request_settings: RequestSettings | None = None
    liveness_probe: ProbeSettings | None = None
    readiness_probe: ProbeSettings | None = None
    startup_probe: ProbeSettings | None = None
    id: str | None = None
    provisioning_state: str | None = None
    failure_reason: str | None = None
    location: str | None = None

    @property
    def is_custom_container(self) -> bool:
        """True when the environment is an inline bring-your-own-container image with routes."""
        return isinstance(self.environment, Environment) and self.environment.is_custom_container

    def with_properties(self, values: Mapping[str, str]) -> OnlineDeployment:
        """This deployment with ``values`` added to its properties (e.g. the local workspace's
        ``mlep.*`` requests: a debugger, relaxed MLflow pins)."""
        return self.model_copy(update={"properties": {**(self.properties or {}), **values}})

    def check(self, *, complete: bool = False) -> None:
        """Check names, counts and settings; with ``complete``, also what a REST body needs."""
        validate_name(self.name, "deployment")
        validate_instance_count(self.instance_count)
        if isinstance(self.environment, Environment):
            self.environment.check(complete=complete)
        if isinstance(self.model, Model):
            self.model.check(complete=complete)
        if complete:
            self._check_complete()

    def _check_complete(self) -> None:
        where = f"Deployment {self.name!r}"
        if not self.endpoint_name:
            raise SpecValidationError(
                f"{where} has no endpoint_name.",
                hint="Add endpoint_name: to the YAML, or pass endpoint_name=... (the CLI's --endpoint-name).",
            )
        validate_name(self.endpoint_name, "endpoint")
        if (
            self.model is None
            and not self.is_custom_container
            and not isinstance(self.environment, AssetReference)
        ):
            raise SpecValidationError(
                f"{where} has no model.",
                hint="Set model: to a local path (model: {path: ...}) or azureml:<name>:<version>; only a "
                "custom container (an environment with inference_config) can run without one.",
            )
        if self.code_configuration is not None and self.environment is None:
            raise SpecValidationError(
                f"{where} has a code_configuration but no environment to run it in.",
                hint="Add environment: (an image + conda_file, or azureml:<name>:<version>).",
            )
        if (
            isinstance(self.environment, Environment)
            and not self.is_custom_container
            and not self.code_configuration
        ):
            raise SpecValidationError(
                f"{where} needs code_configuration with a scoring_script for its environment.",
                hint="Add code_configuration: {code: <folder>, scoring_script: score.py}; only custom "
                "containers (inference_config) serve without a scoring script.",
            )

    def _rest_extras(self) -> dict[str, Any]:
        return {}

    def to_rest(
        self,
        *,
        workspace: str | None = None,
        location: str | None = None,
        endpoint_name: str | None = None,
        model_id: str | None = None,
        code_id: str | None = None,
        environment_id: str | None = None,
    ) -> dict[str, Any]:
        """The REST ``OnlineDeployment`` body of a create-or-update (PUT), defaults applied.

        ``workspace`` is the workspace ARM path that ``azureml:name:version`` references
        resolve against; ``model_id``, ``code_id`` and ``environment_id`` are the ids of the
        inline assets once registered (they also override references). ``endpoint_name``
        supplies a missing ``endpoint_name`` like the CLI's ``--endpoint-name``.
        """
        updates: dict[str, Any] = {"endpoint_name": endpoint_name} if endpoint_name else {}
        if model_id and self.model is None:
            updates["model"] = AssetReference.parse(model_id, strict=False)
        if environment_id and self.environment is None:
            updates["environment"] = AssetReference.parse(environment_id, strict=False)
        spec = self.model_copy(update=updates) if updates else self
        spec.check(complete=True)
        model = resolve_asset_id(
            spec.model, model_id, workspace=workspace, asset_type="models", what="model", argument="model_id"
        )
        code = (
            spec.code_configuration.to_rest(workspace=workspace, code_id=code_id)
            if spec.code_configuration
            else None
        )
        environment = resolve_asset_id(
            spec.environment,
            environment_id,
            workspace=workspace,
            asset_type="environments",
            what="environment",
            argument="environment_id",
        )
        properties = {
            "endpointComputeType": self.compute_type,
            "description": spec.description,
            "properties": spec.properties,
            "model": model,
            "modelMountPath": spec.model_mount_path,
            "codeConfiguration": code,
            "environmentId": environment,
            "environmentVariables": spec.environment_variables,
            "instanceType": spec.instance_type or DEFAULT_INSTANCE_TYPE,
            "appInsightsEnabled": bool(spec.app_insights_enabled),
            "livenessProbe": (spec.liveness_probe or ProbeSettings()).to_rest(),
            "readinessProbe": (spec.readiness_probe or ProbeSettings()).to_rest(),
            "startupProbe": spec.startup_probe.to_rest() if spec.startup_probe else None,
            "requestSettings": (spec.request_settings or RequestSettings()).to_rest(),
            "scaleSettings": spec._scale_settings().to_rest(),
            **spec._rest_extras(),
        }
        return compact(
            {
                "location": require_location(location or spec.location, "online deployment"),
                "tags": spec.tags,
                "sku": {"name": "Default", "capacity": spec.instance_count},
                "properties": compact(properties),
            }
        )

    def _scale_settings(self) -> ScaleSettings:
        return self.scale_settings or ScaleSettings()

    @classmethod
    def from_rest(
        cls, body: dict[str, Any], *, name: str | None = None, endpoint_name: str | None = None
    ) -> OnlineDeployment:
        """A managed or Kubernetes deployment from a REST body (``endpointComputeType`` decides).

        ``name`` and ``endpoint_name`` come from the URL of a request; a response carries them
        in ``name`` and ``id``.
        """
        props = body.get("properties") or {}
        found = _ENDPOINT_IN_ID.search(body.get("id") or "")
        code = props.get("codeConfiguration")
        data: dict[str, Any] = {
            "name": name or body.get("name"),
            "endpoint_name": endpoint_name or (found.group(1) if found else None),
            "description": props.get("description"),
            "tags": body.get("tags"),
            "properties": props.get("properties"),
            "model": props.get("model"),
            "model_mount_path": props.get("modelMountPath"),
            "code_configuration": {"code": code.get("codeId"), "scoring_script": code.get("scoringScript")}
            if code
            else None,
            "environment": props.get("environmentId"),
            "environment_variables": props.get("environmentVariables"),
            "instance_type": props.get("instanceType"),
            "instance_count": (body.get("sku") or {}).get("capacity"),
            "app_insights_enabled": props.get("appInsightsEnabled"),
            "id": body.get("id"),
            "provisioning_state": props.get("provisioningState"),
            "failure_reason": _failure_reason(props),
            "location": body.get("location"),
        }
        for key, rest_key, part in (
            ("liveness_probe", "livenessProbe", ProbeSettings),
            ("readiness_probe", "readinessProbe", ProbeSettings),
            ("startup_probe", "startupProbe", ProbeSettings),
            ("request_settings", "requestSettings", RequestSettings),
            ("scale_settings", "scaleSettings", ScaleSettings),
        ):
            if props.get(rest_key):
                data[key] = part.from_rest(props[rest_key])
        target: type[OnlineDeployment] = ManagedOnlineDeployment
        if str(props.get("endpointComputeType", "")).lower() == "kubernetes":
            target = KubernetesOnlineDeployment
            if props.get("containerResourceRequirements"):
                data["resources"] = ResourceRequirements.from_rest(props["containerResourceRequirements"])
        else:
            data["egress_public_network_access"] = props.get("egressPublicNetworkAccess")
            if props.get("dataCollector"):
                data["data_collector"] = DataCollector.from_rest(props["dataCollector"])
        return parse_spec(target, compact(data), rest=True)


class ManagedOnlineDeployment(OnlineDeployment):
    """A deployment on Azure-managed instances (``instance_type`` such as ``Standard_DS3_v2``)."""

    kind: ClassVar[str] = "managedOnlineDeployment"
    compute_type: ClassVar[str] = "Managed"
    type: Annotated[Literal["managed"], BeforeValidator(snake)] = "managed"
    egress_public_network_access: NetworkAccess | None = None
    private_network_connection: bool | None = None
    data_collector: DataCollector | None = None

    def check(self, *, complete: bool = False) -> None:
        super().check(complete=complete)
        if self.scale_settings is not None and self.scale_settings.type != "default":
            raise SpecValidationError(
                f"Managed deployment {self.name!r} cannot use scale_settings of type {self.scale_settings.type}.",
                hint="Use scale_settings: {type: default} and scale managed deployments with Azure autoscale.",
            )
        timeout = self.request_settings.request_timeout_ms if self.request_settings else None
        if timeout is not None and timeout > MAX_REQUEST_TIMEOUT_MS:
            raise SpecValidationError(
                f"request_settings.request_timeout_ms of {self.name!r} is {timeout}, above the "
                f"{MAX_REQUEST_TIMEOUT_MS} ms managed endpoints allow.",
                hint="Use at most 180000 (3 minutes); move longer work to a batch endpoint or a job.",
            )

    def _rest_extras(self) -> dict[str, Any]:
        access = self.egress_public_network_access
        return {
            "egressPublicNetworkAccess": access.capitalize() if access else None,
            "dataCollector": self.data_collector.to_rest() if self.data_collector else None,
        }


class KubernetesOnlineDeployment(OnlineDeployment):
    """A deployment on an attached Kubernetes compute, with container requests and limits."""

    kind: ClassVar[str] = "kubernetesOnlineDeployment"
    compute_type: ClassVar[str] = "Kubernetes"
    type: Annotated[Literal["kubernetes"], BeforeValidator(snake)] = "kubernetes"
    resources: ResourceRequirements | None = None

    def _scale_settings(self) -> ScaleSettings:
        return self.scale_settings or ScaleSettings(type="target_utilization")

    def _rest_extras(self) -> dict[str, Any]:
        return {"containerResourceRequirements": self.resources.to_rest() if self.resources else None}


def _failure_reason(props: dict[str, Any]) -> str | None:
    """Why a Failed deployment failed (``provisioningErrors``, as the local workspace reports it)."""
    for item in props.get("provisioningErrors") or []:
        message = ((item or {}).get("error") or {}).get("message") if isinstance(item, dict) else None
        if message:
            return str(message)
    return None
