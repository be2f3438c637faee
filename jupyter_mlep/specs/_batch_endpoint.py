"""Batch endpoints (``batchEndpoint.schema.json``) and their REST ``BatchEndpoint`` bodies.

A batch endpoint has no traffic: an invocation goes to ``defaults.deployment_name`` or to the
deployment named in the ``azureml-model-deployment`` header. Its only auth mode is ``aad_token``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from .._errors import SpecValidationError
from ._base import SpecModel, StrDict, TopLevelSpec, compact, parse_spec, snake
from ._endpoint import AUTH_MODES_REST, IdentityConfiguration, require_location
from ._validation import validate_name

__all__ = ["BatchEndpoint", "BatchEndpointDefaults"]


class BatchEndpointDefaults(SpecModel):
    """What an invocation without a deployment header uses."""

    deployment_name: str | None = None


class BatchEndpoint(TopLevelSpec):
    """A batch endpoint: a name and the deployment that scores invocations by default.

    ``id``, ``provisioning_state``, ``scoring_uri``, ``openapi_uri`` and ``location`` are read-only.
    """

    kind: ClassVar[str] = "batchEndpoint"
    name: str
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None
    auth_mode: Annotated[Literal["key", "aml_token", "aad_token"], BeforeValidator(snake)] = "aad_token"
    identity: IdentityConfiguration | None = None
    defaults: BatchEndpointDefaults | None = None
    id: str | None = None
    provisioning_state: str | None = None
    scoring_uri: str | None = None
    openapi_uri: str | None = None
    location: str | None = None

    @property
    def default_deployment(self) -> str | None:
        """``defaults.deployment_name``."""
        return self.defaults.deployment_name if self.defaults else None

    def check(self, *, complete: bool = False) -> None:
        """Check the name, the auth mode (batch endpoints take Microsoft Entra tokens only) and the
        default deployment's name."""
        validate_name(self.name, "endpoint")
        if self.auth_mode != "aad_token":
            raise SpecValidationError(
                f"Batch endpoint {self.name!r} has auth_mode {self.auth_mode}; batch endpoints accept "
                "Microsoft Entra tokens only.",
                hint="Write auth_mode: aad_token (or leave it out).",
            )
        if self.default_deployment:
            validate_name(self.default_deployment, "deployment")

    def to_rest(self, *, location: str | None = None) -> dict[str, Any]:
        """The REST ``BatchEndpoint`` body of a create-or-update (PUT)."""
        self.check(complete=True)
        properties = {
            "authMode": AUTH_MODES_REST[self.auth_mode],
            "description": self.description,
            "properties": self.properties,
            "defaults": {"deploymentName": self.default_deployment} if self.default_deployment else None,
        }
        return compact(
            {
                "location": require_location(location or self.location, "batch endpoint"),
                "tags": self.tags,
                "identity": self.identity.to_rest() if self.identity else None,
                "properties": compact(properties),
            }
        )

    @classmethod
    def from_rest(cls, body: dict[str, Any], *, name: str | None = None) -> BatchEndpoint:
        """A batch endpoint from a REST body."""
        props = body.get("properties") or {}
        deployment = (props.get("defaults") or {}).get("deploymentName")
        data = {
            "name": name or body.get("name"),
            "description": props.get("description"),
            "tags": body.get("tags"),
            "properties": props.get("properties"),
            "auth_mode": props.get("authMode"),
            "identity": IdentityConfiguration.from_rest(body["identity"]) if body.get("identity") else None,
            "defaults": {"deployment_name": deployment} if deployment else None,
            "id": body.get("id"),
            "provisioning_state": props.get("provisioningState"),
            "scoring_uri": props.get("scoringUri"),
            "openapi_uri": props.get("swaggerUri"),
            "location": body.get("location"),
        }
        return parse_spec(cls, compact(data), rest=True)
