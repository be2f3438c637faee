"""What ``create``, ``show`` and ``list`` of any kind return: :class:`ResourceResult` (one resource) and
:class:`ResourceList` (the resources of a kind), and the builders that read them from REST bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..rendering import Table, TableResult

__all__ = ["ResourceList", "ResourceResult", "asset_version_result", "compute_result", "datastore_result"]


@dataclass(repr=False)
class ResourceResult(TableResult):
    """One created or shown resource: its kind (an az ml noun), name, version, state and main fields."""

    kind: ClassVar[str] = "resource"

    resource_kind: str
    name: str
    version: str | None = None
    state: str | None = None
    id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    """How it came to be (``uploaded 12 KB``, ``unchanged: version 3 has this content``)."""

    def title(self) -> str:
        version = f":{self.version}" if self.version else ""
        state = f" ({self.state})" if self.state else ""
        return f"{self.resource_kind} {self.name}{version}{state}"

    def tables(self) -> list[Table]:
        rows = [[key, _cell(value)] for key, value in self.fields.items() if value not in (None, "", {}, [])]
        return [(["field", "value"], rows)]

    def footer(self) -> list[tuple[str, bool]]:
        return [(self.note, False)] if self.note else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_kind": self.resource_kind,
            "name": self.name,
            "version": self.version,
            "state": self.state,
            "id": self.id,
            "fields": self.fields,
            "note": self.note,
        }


@dataclass(repr=False)
class ResourceList(TableResult):
    """The resources of one kind (or the versions of one asset)."""

    kind: ClassVar[str] = "resources"

    resource_kind: str
    head: list[str]
    rows: list[list[str]]
    of: str = ""

    def title(self) -> str:
        of = f" of {self.of}" if self.of else ""
        return f"{len(self.rows)} {self.resource_kind}{'' if self.resource_kind.endswith('s') else '(s)'}{of}"

    def tables(self) -> list[Table]:
        return [(self.head, self.rows)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_kind": self.resource_kind,
            "of": self.of,
            "items": [dict(zip(self.head, row, strict=True)) for row in self.rows],
        }


def _cell(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def asset_version_result(noun: str, name: str, body: dict[str, Any], *, note: str = "") -> ResourceResult:
    props = body.get("properties") or {}
    fields: dict[str, Any] = {"description": props.get("description")}
    if noun == "model":
        fields.update(
            type=props.get("modelType"),
            path=props.get("modelUri"),
            flavors=sorted(props.get("flavors") or {}),
        )
    elif noun == "data":
        fields.update(type=props.get("dataType"), path=props.get("dataUri"))
    elif noun == "code":
        fields.update(path=props.get("codeUri"))
    elif noun == "environment":
        build = props.get("build") or {}
        fields.update(
            image=props.get("image"),
            build=build.get("contextUri"),
            conda_file="yes" if props.get("condaFile") else "",
        )
    fields["tags"] = {k: v for k, v in (props.get("tags") or {}).items() if not k.startswith("mlep.")}
    return ResourceResult(
        resource_kind=noun,
        name=name,
        version=str(body.get("name")),
        state=props.get("provisioningState"),
        id=body.get("id"),
        fields=fields,
        note=note,
    )


def compute_result(body: dict[str, Any]) -> ResourceResult:
    props = body.get("properties") or {}
    inner = props.get("properties") or {}
    scale = inner.get("scaleSettings") or {}
    fields: dict[str, Any] = {
        "type": props.get("computeType"),
        "size": inner.get("vmSize"),
        "tier": inner.get("vmPriority"),
        "min_instances": scale.get("minNodeCount"),
        "max_instances": scale.get("maxNodeCount"),
        "idle_time_before_scale_down": scale.get("nodeIdleTimeBeforeScaleDown"),
        "idle_time_before_shutdown": inner.get("idleTimeBeforeShutdown"),
        "state": inner.get("state") or inner.get("allocationState"),
        "description": props.get("description"),
    }
    return ResourceResult(
        resource_kind="compute",
        name=str(body.get("name")),
        state=props.get("provisioningState"),
        id=body.get("id"),
        fields=fields,
    )


def datastore_result(body: dict[str, Any]) -> ResourceResult:
    props = body.get("properties") or {}
    fields = {
        "type": props.get("datastoreType"),
        "account": props.get("accountName"),
        "container": props.get("containerName"),
        "default": props.get("isDefault"),
        "description": props.get("description"),
    }
    return ResourceResult(
        resource_kind="datastore", name=str(body.get("name")), id=body.get("id"), fields=fields
    )
