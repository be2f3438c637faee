"""Data assets (``data.schema.json``): a file, a folder or an MLTable, and their REST body (DataVersion).

``path`` is a local file or folder (resolved against the YAML file's folder), a datastore URI
(``azureml://datastores/<name>/paths/…``, or its long form naming the workspace), or an ``https`` or
``wasbs`` URL. A local path is uploaded by the operations layer, which passes the resulting
datastore URI (``data_uri``) to ``to_rest``; a local path without one is a :class:`SpecError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from .._errors import SpecError, SpecValidationError
from ._base import PathOrUri, StrDict, TopLevelSpec, VersionStr, compact, parse_spec
from ._references import name_and_version

__all__ = ["DATA_TYPES", "DATA_URL_SCHEMES", "Data", "datastore_of"]

DataType = Literal["uri_file", "uri_folder", "mltable"]
DATA_TYPES: tuple[str, ...] = ("uri_file", "uri_folder", "mltable")
_DATASTORE_URI = re.compile(
    r"^azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/(?:providers/[^/]+/)?workspaces/[^/]+/)?"
    r"datastores/(?P<datastore>[^/]+)/paths/",
    re.IGNORECASE,
)
#: The URL schemes a data asset's path may have besides datastore URIs (kept as given).
DATA_URL_SCHEMES = ("https", "wasbs")


def datastore_of(uri: str) -> str | None:
    """The datastore named by ``azureml://datastores/<name>/paths/…`` (short or long form), else None."""
    match = _DATASTORE_URI.match(uri)
    return match.group("datastore") if match else None


def _is_url(uri: str) -> bool:
    return uri.partition("://")[0].lower() in DATA_URL_SCHEMES and "://" in uri


def _data_type(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class Data(TopLevelSpec):
    """A data asset: a local file or folder, a datastore URI or a URL, with a name, version and type."""

    kind: ClassVar[str] = "data"
    name: str | None = None
    version: VersionStr | None = None
    type: Annotated[DataType, BeforeValidator(_data_type)] = "uri_folder"
    path: PathOrUri | None = None
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None

    def check(self, *, complete: bool = False) -> None:
        if isinstance(self.path, str) and datastore_of(self.path) is None and not _is_url(self.path):
            raise SpecValidationError(
                f"The data path {self.path!r} is not a local path, a datastore URI or an https/wasbs URL.",
                hint="Use a local file or folder, azureml://datastores/<name>/paths/<path>, "
                "https://… or wasbs://….",
            )
        if complete and self.path is None:
            raise SpecValidationError(
                f"The data asset {self.name!r} has no path." if self.name else "The data asset has no path.",
                hint="Set path: to a local file or folder (relative to the YAML file), a datastore URI or a URL.",
            )

    def to_rest(self, *, data_uri: str | None = None) -> dict[str, Any]:
        """The DataVersion body; ``data_uri`` is where a local ``path`` was uploaded."""
        self.check(complete=True)
        uri = data_uri or (self.path if isinstance(self.path, str) else None)
        if uri is None:
            raise SpecError(
                f"The data path {self.path} is local.",
                hint="Upload it first and pass data_uri=<its datastore URI> to to_rest().",
            )
        properties = {
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
            "dataType": self.type,
            "dataUri": uri,
        }
        return {"properties": compact(properties)}

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> Data:
        """A data asset from a DataVersion body (name and version are taken from its ``id``)."""
        props = body.get("properties") or {}
        name, version = name_and_version(body)
        data = {
            "name": name,
            "version": version,
            "type": props.get("dataType"),
            "path": props.get("dataUri"),
            "description": props.get("description"),
            "tags": props.get("tags"),
            "properties": props.get("properties"),
        }
        return parse_spec(cls, compact(data), rest=True)

    @property
    def local_path(self) -> Path | None:
        """The local file or folder of ``path`` (not checked to exist), or None for a URI."""
        return self.path if isinstance(self.path, Path) else None
