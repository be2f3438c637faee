"""Online endpoints, managed and Kubernetes (``managedOnlineEndpoint.schema.json``,
``kubernetesOnlineEndpoint.schema.json``), and their REST ``OnlineEndpoint`` bodies."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from .._errors import SpecError
from ._base import ComputeValue, SpecModel, StrDict, TopLevelSpec, compact, parse_spec, snake
from ._validation import validate_name, validate_traffic

__all__ = [
    "IdentityConfiguration",
    "KubernetesOnlineEndpoint",
    "ManagedOnlineEndpoint",
    "OnlineEndpoint",
    "UserAssignedIdentity",
]

AuthMode = Literal["key", "aml_token", "aad_token"]
AUTH_MODES_REST: dict[str, str] = {"key": "Key", "aml_token": "AMLToken", "aad_token": "AADToken"}
IDENTITY_TYPES_REST: dict[str, str] = {
    "system_assigned": "SystemAssigned",
    "user_assigned": "UserAssigned",
    "system_assigned,user_assigned": "SystemAssigned,UserAssigned",
    "none": "None",
}
NetworkAccess = Annotated[Literal["enabled", "disabled"], BeforeValidator(snake)]


def require_location(location: str | None, what: str) -> str:
    """``location`` or a :class:`SpecError` saying that a tracked resource needs one."""
    if not location:
        raise SpecError(
            f"The {what} body needs a location (the Azure region of the workspace).",
            hint="Pass location=... to to_rest() (for example the workspace's region, or 'local').",
        )
    return location


class UserAssignedIdentity(SpecModel):
    """A user-assigned managed identity, by ARM resource id."""

    resource_id: str
    principal_id: str | None = None
    client_id: str | None = None


class IdentityConfiguration(SpecModel):
    """The managed identity of an endpoint."""

    type: Annotated[
        Literal["system_assigned", "user_assigned", "system_assigned,user_assigned", "none"],
        BeforeValidator(snake),
    ]
    user_assigned_identities: list[UserAssignedIdentity] | None = None
    principal_id: str | None = None
    tenant_id: str | None = None

    def to_rest(self) -> dict[str, Any]:
        """The REST ``ManagedServiceIdentity``."""
        identities = self.user_assigned_identities
        return compact(
            {
                "type": IDENTITY_TYPES_REST[self.type],
                "userAssignedIdentities": {item.resource_id: {} for item in identities}
                if identities
                else None,
            }
        )

    @staticmethod
    def from_rest(body: dict[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``ManagedServiceIdentity``."""
        identities = body.get("userAssignedIdentities") or {}
        return compact(
            {
                "type": body.get("type"),
                "user_assigned_identities": [
                    compact(
                        {
                            "resource_id": resource_id,
                            "principal_id": (item or {}).get("principalId"),
                            "client_id": (item or {}).get("clientId"),
                        }
                    )
                    for resource_id, item in identities.items()
                ]
                or None,
                "principal_id": body.get("principalId"),
                "tenant_id": body.get("tenantId"),
            }
        )


class OnlineEndpoint(TopLevelSpec):
    """An online endpoint: a name, an auth mode and how traffic is split between deployments.

    ``id``, ``provisioning_state``, ``scoring_uri``, ``openapi_uri`` and ``location`` are read-only:
    they are filled in from REST bodies the service returns.
    """

    name: str
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None
    auth_mode: Annotated[AuthMode, BeforeValidator(snake)] = "key"
    identity: IdentityConfiguration | None = None
    traffic: dict[str, int] | None = None
    mirror_traffic: dict[str, int] | None = None
    id: str | None = None
    provisioning_state: str | None = None
    scoring_uri: str | None = None
    openapi_uri: str | None = None
    location: str | None = None

    def check(self, *, complete: bool = False, deployments: list[str] | None = None) -> None:
        """Check the name and the traffic (against ``deployments`` when given)."""
        validate_name(self.name, "endpoint")
        validate_traffic(self.traffic, self.mirror_traffic, deployments)

    def _rest_extras(self, workspace: str | None) -> dict[str, Any]:
        return {}

    def to_rest(self, *, workspace: str | None = None, location: str | None = None) -> dict[str, Any]:
        """The REST ``OnlineEndpoint`` body of a create-or-update (PUT).

        ``workspace`` (its ARM path) resolves ``azureml:<compute>``; ``location`` defaults to the
        location read from the service.
        """
        self.check(complete=True)
        properties = {
            "authMode": AUTH_MODES_REST[self.auth_mode],
            "description": self.description,
            "properties": self.properties,
            "traffic": self.traffic,
            "mirrorTraffic": self.mirror_traffic,
            **self._rest_extras(workspace),
        }
        return compact(
            {
                "location": require_location(location or self.location, "online endpoint"),
                "tags": self.tags,
                "identity": self.identity.to_rest() if self.identity else None,
                "properties": compact(properties),
            }
        )

    @classmethod
    def from_rest(cls, body: dict[str, Any], *, name: str | None = None) -> OnlineEndpoint:
        """A managed or Kubernetes endpoint (Kubernetes when ``properties.compute`` is set)."""
        props = body.get("properties") or {}
        data = {
            "name": name or body.get("name"),
            "description": props.get("description"),
            "tags": body.get("tags"),
            "properties": props.get("properties"),
            "auth_mode": props.get("authMode"),
            "identity": IdentityConfiguration.from_rest(body["identity"]) if body.get("identity") else None,
            "traffic": props.get("traffic"),
            "mirror_traffic": props.get("mirrorTraffic"),
            "id": body.get("id"),
            "provisioning_state": props.get("provisioningState"),
            "scoring_uri": props.get("scoringUri"),
            "openapi_uri": props.get("swaggerUri"),
            "location": body.get("location"),
        }
        target: type[OnlineEndpoint] = ManagedOnlineEndpoint
        if props.get("compute"):
            target, data["compute"] = KubernetesOnlineEndpoint, props["compute"]
        elif props.get("publicNetworkAccess"):
            data["public_network_access"] = props["publicNetworkAccess"]
        return parse_spec(target, compact(data), rest=True)


class ManagedOnlineEndpoint(OnlineEndpoint):
    """An endpoint whose deployments run on Azure-managed compute."""

    kind: ClassVar[str] = "managedOnlineEndpoint"
    public_network_access: NetworkAccess | None = None

    def _rest_extras(self, workspace: str | None) -> dict[str, Any]:
        access = self.public_network_access
        return {"publicNetworkAccess": access.capitalize() if access else None}


class KubernetesOnlineEndpoint(OnlineEndpoint):
    """An endpoint whose deployments run on an attached Kubernetes compute."""

    kind: ClassVar[str] = "kubernetesOnlineEndpoint"
    compute: ComputeValue | None = None

    def _rest_extras(self, workspace: str | None) -> dict[str, Any]:
        return {"compute": self.compute.rest_id(workspace, "computes") if self.compute else None}
