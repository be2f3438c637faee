"""References to registered assets: ``azureml:name:version``, ``azureml:name@label``,
``azureml://registries/...`` and full ARM ids, plus the workspace ARM path they resolve against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, ValidationInfo
from pydantic_core import CoreSchema, core_schema

from .._errors import SpecError

__all__ = ["AssetReference", "check_workspace", "name_and_version", "workspace_path"]

_WS = (
    r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/workspaces/[^/]+"
)
_WORKSPACE = re.compile(rf"^{_WS}$", re.IGNORECASE)
_ARM = re.compile(
    rf"^(?:azureml:)?(?P<workspace>{_WS})/(?P<type>[A-Za-z]+)/(?P<name>[^/]+)"
    r"(?:/(?P<which>versions|labels)/(?P<value>[^/]+))?/?$",
    re.IGNORECASE,
)
_REGISTRY = re.compile(
    r"^azureml://registries/(?P<registry>[^/]+)/(?P<type>[A-Za-z]+)/(?P<name>[^/]+)"
    r"(?:/(?P<which>versions|labels)/(?P<value>[^/]+))?/?$"
)
_SHORT = re.compile(r"^azureml:(?P<name>[A-Za-z0-9_.\-]+)(?::(?P<version>[^:@/\s]+)|@(?P<label>[^:@/\s]+))?$")

Kind = Literal["short", "arm", "registry", "uri"]


def workspace_path(subscription_id: str, resource_group: str, workspace_name: str) -> str:
    """The ARM path of a workspace, the prefix of every asset id in it."""
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace_name}"
    )


def check_workspace(workspace: str) -> str:
    """``workspace`` without a trailing slash, after checking it is a workspace ARM path."""
    workspace = workspace.rstrip("/")
    if not _WORKSPACE.match(workspace):
        raise SpecError(
            f"{workspace!r} is not the ARM path of an Azure ML workspace.",
            hint="Give /subscriptions/{sub}/resourceGroups/{rg}/providers/"
            "Microsoft.MachineLearningServices/workspaces/{ws} (see workspace_path()).",
        )
    return workspace


@dataclass(frozen=True)
class AssetReference:
    """A reference to a registered asset (or a compute), kept as written.

    ``kind`` is ``short`` (``azureml:name:version``, ``azureml:name@label``, ``azureml:name``),
    ``arm`` (a full ARM id, with or without ``azureml:``), ``registry``
    (``azureml://registries/<registry>/<type>/<name>/versions/<v>`` or ``/labels/<l>``) or
    ``uri`` (any other string, as the REST API may return it).
    """

    raw: str
    kind: Kind
    name: str | None = None
    version: str | None = None
    label: str | None = None
    asset_type: str | None = None
    registry: str | None = None
    workspace: str | None = None

    @classmethod
    def parse(cls, text: str, *, strict: bool = True) -> AssetReference:
        """Read a reference; with ``strict=False`` any other string is kept as a ``uri``."""
        text = text.strip()
        if match := _SHORT.match(text):
            return cls(text, "short", match["name"], match["version"], match["label"])
        if match := _ARM.match(text):
            version, label = _which(match)
            return cls(
                text, "arm", match["name"], version, label, match["type"], workspace=match["workspace"]
            )
        if match := _REGISTRY.match(text):
            version, label = _which(match)
            return cls(text, "registry", match["name"], version, label, match["type"], match["registry"])
        if strict:
            raise ValueError(
                f"{text!r} is not an asset reference; write azureml:<name>:<version>, azureml:<name>@latest, "
                "azureml://registries/<registry>/<type>/<name>/versions/<version> or a full ARM id"
            )
        return cls(text, "uri")

    def rest_id(self, workspace: str | None, asset_type: str) -> str:
        """The id the REST API takes: an ARM id in ``workspace``, or the registry URI as written.

        ``azureml:name@label`` becomes ``{workspace}/{asset_type}/{name}/labels/{label}``, which
        the service resolves; resolve it to a version yourself to pin it.
        """
        if self.kind == "short":
            if workspace is None:
                raise SpecError(
                    f"Cannot turn {self.raw} into an ARM id without the workspace.",
                    hint="Pass workspace=<the workspace ARM path> (see workspace_path()) to to_rest().",
                )
            base = f"{check_workspace(workspace)}/{asset_type}/{self.name}"
            if self.version is not None:
                return f"{base}/versions/{self.version}"
            if self.label is not None:
                return f"{base}/labels/{self.label}"
            return base
        if self.kind == "arm":
            return self.raw.removeprefix("azureml:")
        return self.raw

    @property
    def short(self) -> str:
        """The workspace-independent form: ``azureml:name:version`` or ``azureml:name@label``
        for workspace assets, the URI itself for registry and other references."""
        if self.kind in ("short", "arm") and self.name:
            if self.version is not None:
                return f"azureml:{self.name}:{self.version}"
            if self.label is not None:
                return f"azureml:{self.name}@{self.label}"
            return f"azureml:{self.name}"
        return self.raw

    def __str__(self) -> str:
        if self.kind == "arm":
            return "azureml:" + self.raw.removeprefix("azureml:")
        return self.raw

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_plain_validator_function(
            _validate_reference,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


def name_and_version(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(name, version) of an asset version in a REST body: from its ARM ``id``, else ``name``."""
    if isinstance(body.get("id"), str):
        ref = AssetReference.parse(body["id"], strict=False)
        if ref.kind == "arm":
            return ref.name, ref.version
    return body.get("name"), None


def _which(match: re.Match[str]) -> tuple[str | None, str | None]:
    which = (match["which"] or "").lower()
    return (match["value"] if which == "versions" else None, match["value"] if which == "labels" else None)


def _validate_reference(value: Any, info: ValidationInfo) -> AssetReference:
    if isinstance(value, AssetReference):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a reference string such as azureml:<name>:<version>, got {value!r}")
    strict = not (info.context or {}).get("rest", False)
    return AssetReference.parse(value, strict=strict)
