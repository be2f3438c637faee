"""Computes (``amlCompute.schema.json``, ``computeInstance.schema.json``) and their REST body
(``ComputeResource``).

A compute cluster (``type: amlcompute``) scales between ``min_instances`` and ``max_instances`` nodes
of one VM ``size``, ``dedicated`` or ``low_priority``, and gives idle nodes back after
``idle_time_before_scale_down`` seconds. A compute instance (``type: computeinstance``) is one VM,
shut down after ``idle_time_before_shutdown_minutes`` (or the ISO ``idle_time_before_shutdown``).
Sizes are kept as written: the service says which ones it has (the local workspace: a table of
VM sizes, see :mod:`jupyter_mlep.workspace.computes`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from .._errors import SpecError, SpecValidationError
from ._base import SpecModel, StrDict, TopLevelSpec, compact, parse_spec, snake
from ._durations import format_duration, parse_duration
from ._vm_sizes import VM_SIZE_TABLE

__all__ = [
    "COMPUTE_NAME",
    "VM_SIZES",
    "AmlCompute",
    "Compute",
    "ComputeInstance",
    "NetworkSettings",
    "SshSettings",
    "validate_compute_name",
]

#: Compute names as the service checks them: 3–24 letters, digits and hyphens, a letter first,
#: not ending in a hyphen followed by digits only.
COMPUTE_NAME = re.compile(r"^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$")
DEFAULT_SIZE = "Standard_DS3_v2"

VM_SIZES: dict[str, tuple[int, float]] = {s.name: (s.cores, s.memory_gb) for s in VM_SIZE_TABLE.values()}
"""The VM sizes (of computes, and of managed deployments' instances) known here: name → (vCPUs,
memory in GB), as Azure documents them: a view of the one table, :data:`~._vm_sizes.VM_SIZE_TABLE`
(which also says which sizes managed online endpoints offer, and their approximate prices)."""
DEFAULT_IDLE_SECONDS = 120


def validate_compute_name(name: str) -> str:
    """Check a compute name (3–24 characters, a letter first, letters, digits and hyphens, not
    ending in ``-<digits>``)."""
    if not isinstance(name, str) or not COMPUTE_NAME.match(name):
        raise SpecValidationError(
            f"The compute name {name!r} is invalid.",
            hint="Use 3 to 24 letters, digits and hyphens, starting with a letter and not ending "
            "with a hyphen followed by digits (e.g. cpu-cluster).",
        )
    return name


def _tier(value: Any) -> Any:
    return snake(value) if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class SshSettings(SpecModel):
    """``ssh_settings``: the administrator account of the nodes."""

    admin_username: str | None = None
    admin_password: str | None = None
    ssh_key_value: str | None = None


class NetworkSettings(SpecModel):
    """``network_settings``: the virtual network and subnet of the nodes."""

    vnet_name: str | None = None
    subnet: str | None = None


class Compute(TopLevelSpec):
    """What every compute has: a name, a type, a description, tags and a location."""

    name: str
    description: str | None = None
    location: str | None = None
    tags: StrDict | None = None
    resource_id: str | None = None
    identity: dict[str, Any] | None = None
    network_settings: NetworkSettings | None = None
    ssh_public_access_enabled: bool | None = None
    ssh_settings: SshSettings | None = None
    enable_node_public_ip: bool | None = None
    provisioning_state: str | None = None
    """Read-only: the service's provisioning state (from a REST body)."""

    compute_type: ClassVar[str] = ""
    """The REST ``computeType``."""

    def check(self, *, complete: bool = False) -> None:
        validate_compute_name(self.name)

    def to_rest(self, *, location: str | None = None) -> dict[str, Any]:
        """The ``ComputeResource`` body (for the compute types this package creates)."""
        raise SpecError(
            f"Compute {self.name!r} is a {self.type_name} compute; it cannot be created from a spec.",
            hint="Create compute clusters (type: amlcompute) or compute instances (type: computeinstance).",
        )

    def _envelope(self, properties: dict[str, Any], *, location: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "location": self.location or location,
            "tags": self.tags,
            "properties": compact(
                {
                    "computeType": self.compute_type,
                    "description": self.description,
                    "computeLocation": self.location or location,
                    "properties": compact(properties),
                }
            ),
        }
        return compact(body)

    def _subnet(self) -> dict[str, Any] | None:
        subnet = self.network_settings.subnet if self.network_settings else None
        return {"id": subnet} if subnet else None

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> Compute:
        """An AmlCompute or ComputeInstance spec from a ``ComputeResource`` body; other compute
        types (Kubernetes…) become a plain :class:`Compute` with their name and description."""
        props = body.get("properties") or {}
        kind = str(props.get("computeType") or "")
        for sub in (AmlCompute, ComputeInstance):
            if sub.compute_type.lower() == kind.lower():
                return sub._from_rest_properties(body, props.get("properties") or {})
        common = cls._common(body)
        return OtherCompute._with_type(kind, parse_spec(OtherCompute, compact(common), rest=True))

    @classmethod
    def _common(cls, body: dict[str, Any]) -> dict[str, Any]:
        props = body.get("properties") or {}
        return {
            "name": body.get("name"),
            "description": props.get("description"),
            "location": body.get("location"),
            "tags": body.get("tags") or None,
            "provisioning_state": props.get("provisioningState"),
        }

    @classmethod
    def _from_rest_properties(cls, body: dict[str, Any], props: dict[str, Any]) -> Compute:
        raise NotImplementedError

    @property
    def type_name(self) -> str:
        """The YAML ``type`` (``amlcompute``, ``computeinstance``, ``kubernetes``…)."""
        return str(getattr(self, "type", self.compute_type.lower()))


class OtherCompute(Compute):
    """A compute of a type this package does not create (read from a REST body only)."""

    kind: ClassVar[str] = "compute"
    _rest_type: str = ""

    @classmethod
    def _with_type(cls, kind: str, spec: OtherCompute) -> OtherCompute:
        spec._rest_type = kind
        return spec

    @property
    def type_name(self) -> str:
        return self._rest_type.lower()

    def check(self, *, complete: bool = False) -> None:
        """Nothing to check: it was read from the service."""


class AmlCompute(Compute):
    """A compute cluster: ``min_instances``–``max_instances`` nodes of one ``size``."""

    kind: ClassVar[str] = "amlCompute"
    compute_type: ClassVar[str] = "AmlCompute"
    type: Annotated[Literal["amlcompute"], BeforeValidator(_lower)] = "amlcompute"
    size: str = DEFAULT_SIZE
    tier: Annotated[Literal["dedicated", "low_priority"], BeforeValidator(_tier)] = "dedicated"
    min_instances: int = Field(default=0)
    max_instances: int = Field(default=1)
    idle_time_before_scale_down: int = DEFAULT_IDLE_SECONDS
    """Seconds an idle node is kept before the cluster scales down."""
    os_type: Annotated[Literal["linux", "windows"], BeforeValidator(_tier)] | None = None

    def check(self, *, complete: bool = False) -> None:
        super().check(complete=complete)
        for field in ("min_instances", "max_instances", "idle_time_before_scale_down"):
            value = getattr(self, field)
            if value < 0:
                raise SpecValidationError(
                    f"{field} of compute {self.name!r} must not be negative (got {value}).",
                    hint=f"Set {field} to 0 or more.",
                )
        if self.max_instances < 1:
            raise SpecValidationError(
                f"max_instances of compute {self.name!r} must be at least 1 (got {self.max_instances}).",
                hint="A cluster needs at least one node to run anything: set max_instances to 1 or more.",
            )
        if self.min_instances > self.max_instances:
            raise SpecValidationError(
                f"min_instances ({self.min_instances}) of compute {self.name!r} is more than "
                f"max_instances ({self.max_instances}).",
                hint="Set min_instances at most max_instances.",
            )

    def to_rest(self, *, location: str | None = None) -> dict[str, Any]:
        """The ``ComputeResource`` body of the cluster."""
        self.check(complete=True)
        ssh = self.ssh_settings
        credentials = (
            compact(
                {
                    "adminUserName": ssh.admin_username,
                    "adminUserPassword": ssh.admin_password,
                    "adminUserSshPublicKey": ssh.ssh_key_value,
                }
            )
            if ssh
            else None
        )
        access = None
        if self.ssh_public_access_enabled is not None:
            access = "Enabled" if self.ssh_public_access_enabled else "Disabled"
        properties = {
            "vmSize": self.size,
            "vmPriority": "LowPriority" if self.tier == "low_priority" else "Dedicated",
            "osType": self.os_type.capitalize() if self.os_type else None,
            "scaleSettings": {
                "minNodeCount": self.min_instances,
                "maxNodeCount": self.max_instances,
                "nodeIdleTimeBeforeScaleDown": format_duration(self.idle_time_before_scale_down),
            },
            "userAccountCredentials": credentials or None,
            "remoteLoginPortPublicAccess": access,
            "subnet": self._subnet(),
            "enableNodePublicIp": self.enable_node_public_ip,
        }
        return self._envelope(properties, location=location)

    @classmethod
    def _from_rest_properties(cls, body: dict[str, Any], props: dict[str, Any]) -> AmlCompute:
        scale = props.get("scaleSettings") or {}
        idle = scale.get("nodeIdleTimeBeforeScaleDown")
        data = {
            **cls._common(body),
            "size": props.get("vmSize"),
            "tier": "low_priority" if str(props.get("vmPriority")).lower() == "lowpriority" else "dedicated",
            "min_instances": scale.get("minNodeCount"),
            "max_instances": scale.get("maxNodeCount"),
            "idle_time_before_scale_down": int(parse_duration(idle)) if isinstance(idle, str) else None,
            "os_type": props.get("osType"),
            "enable_node_public_ip": props.get("enableNodePublicIp"),
        }
        return parse_spec(cls, compact(data), rest=True)


class ComputeInstance(Compute):
    """A compute instance: one VM of ``size``, shut down when idle."""

    kind: ClassVar[str] = "computeInstance"
    compute_type: ClassVar[str] = "ComputeInstance"
    type: Annotated[Literal["computeinstance"], BeforeValidator(_lower)] = "computeinstance"
    size: str = DEFAULT_SIZE
    idle_time_before_shutdown: str | None = None
    """An ISO 8601 duration (``PT30M``)."""
    idle_time_before_shutdown_minutes: int | None = None
    create_on_behalf_of: dict[str, str] | None = None
    enable_sso: bool | None = None
    enable_root_access: bool | None = None
    schedules: dict[str, Any] | None = None
    setup_scripts: dict[str, Any] | None = None
    state: str | None = None
    """Read-only: ``Running``, ``Stopped``… (from a REST body)."""

    def check(self, *, complete: bool = False) -> None:
        super().check(complete=complete)
        if self.idle_time_before_shutdown is not None and self.idle_time_before_shutdown_minutes is not None:
            raise SpecValidationError(
                f"Compute instance {self.name!r} sets both idle_time_before_shutdown and "
                "idle_time_before_shutdown_minutes.",
                hint="Keep one of them.",
            )
        if self.idle_time_before_shutdown is not None:
            try:
                parse_duration(self.idle_time_before_shutdown)
            except SpecError:
                raise SpecValidationError(
                    f"idle_time_before_shutdown {self.idle_time_before_shutdown!r} of compute instance "
                    f"{self.name!r} is not an ISO 8601 duration.",
                    hint="Write it like PT30M, or use idle_time_before_shutdown_minutes: 30.",
                ) from None
        minutes = self.idle_time_before_shutdown_minutes
        if minutes is not None and minutes < 15:
            raise SpecValidationError(
                f"idle_time_before_shutdown_minutes of compute instance {self.name!r} is {minutes}.",
                hint="Azure shuts idle compute instances down after 15 minutes at the least.",
            )

    def to_rest(self, *, location: str | None = None) -> dict[str, Any]:
        """The ``ComputeResource`` body of the instance."""
        self.check(complete=True)
        idle = self.idle_time_before_shutdown
        if self.idle_time_before_shutdown_minutes is not None:
            idle = f"PT{self.idle_time_before_shutdown_minutes}M"
        ssh = None
        if self.ssh_public_access_enabled is not None or self.ssh_settings is not None:
            ssh = compact(
                {
                    "sshPublicAccess": "Enabled" if self.ssh_public_access_enabled else "Disabled",
                    "adminPublicKey": self.ssh_settings.ssh_key_value if self.ssh_settings else None,
                }
            )
        owner = self.create_on_behalf_of or {}
        personal = (
            {
                "assignedUser": {
                    "objectId": owner.get("user_object_id"),
                    "tenantId": owner.get("user_tenant_id"),
                }
            }
            if owner
            else None
        )
        properties = {
            "vmSize": self.size,
            "subnet": self._subnet(),
            "applicationSharingPolicy": "Personal" if owner else "Shared",
            "sshSettings": ssh,
            "idleTimeBeforeShutdown": idle,
            "personalComputeInstanceSettings": personal,
            "enableNodePublicIp": self.enable_node_public_ip,
            "enableSSO": self.enable_sso,
            "enableRootAccess": self.enable_root_access,
            "schedules": self.schedules,
            "setupScripts": self.setup_scripts,
        }
        return self._envelope(properties, location=location)

    @classmethod
    def _from_rest_properties(cls, body: dict[str, Any], props: dict[str, Any]) -> ComputeInstance:
        data = {
            **cls._common(body),
            "size": props.get("vmSize"),
            "idle_time_before_shutdown": props.get("idleTimeBeforeShutdown"),
            "enable_node_public_ip": props.get("enableNodePublicIp"),
            "state": props.get("state"),
        }
        return parse_spec(cls, compact(data), rest=True)
