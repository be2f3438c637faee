"""Model and code assets (``model.schema.json``, ``code.schema.json``), a deployment's code
configuration, their REST bodies (ModelVersion, CodeVersion), and asset ids for REST bodies.

Local paths are uploaded by the operations layer, which passes the resulting URIs
(``model_uri``, ``code_uri``) to ``to_rest``; a local path without one is a :class:`SpecError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Discriminator, Tag

from .._errors import SpecError, SpecValidationError
from ._base import (
    CodeValue,
    PathOrUri,
    SpecModel,
    StrDict,
    TopLevelSpec,
    VersionStr,
    compact,
    parse_spec,
    ref_or_inline,
)
from ._references import AssetReference, name_and_version

__all__ = ["Code", "CodeConfiguration", "Model", "ModelOrReference", "resolve_asset_id"]

ModelType = Literal["custom_model", "mlflow_model", "triton_model"]
_REST_MODEL_TYPES: dict[str, str] = {
    "custom_model": "CustomModel",
    "mlflow_model": "MLFlowModel",
    "triton_model": "TritonModel",
}


def _model_type(value: Any) -> Any:
    if isinstance(value, str):
        squashed = value.replace("_", "").replace("-", "").lower()
        for name in _REST_MODEL_TYPES:
            if name.replace("_", "") == squashed:
                return name
    return value


def resolve_asset_id(
    value: AssetReference | SpecModel | Path | str | None,
    explicit: str | None,
    *,
    workspace: str | None,
    asset_type: str,
    what: str,
    argument: str,
) -> str | None:
    """The REST id of an asset field: ``explicit`` if given, the id of a reference, or an error
    for an inline or local asset that has not been registered yet."""
    if explicit is not None:
        return explicit
    if value is None:
        return None
    if isinstance(value, AssetReference):
        return value.rest_id(workspace, asset_type)
    shown = value if isinstance(value, (Path, str)) else "defined inline"
    raise SpecError(
        f"The {what} is {shown}, which has no id in the workspace yet.",
        hint=f"Register it first (upload and create the asset), then pass {argument}=<its ARM id> to to_rest().",
    )


class Model(TopLevelSpec):
    """A model asset: a local file or folder (or a URI) with a name, version and type."""

    kind: ClassVar[str] = "model"
    name: str | None = None
    version: VersionStr | None = None
    path: PathOrUri | None = None
    type: Annotated[ModelType, BeforeValidator(_model_type)] = "custom_model"
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None
    flavors: dict[str, dict[str, Any]] | None = None
    stage: str | None = None
    job_name: str | None = None
    datastore: str | None = None

    def check(self, *, complete: bool = False) -> None:
        if complete and self.path is None:
            raise SpecValidationError(
                f"The model {self.name!r} has no path." if self.name else "The model has no path.",
                hint="Set path: to the model file or folder (relative to the YAML file) or a datastore URI.",
            )

    def to_rest(self, *, model_uri: str | None = None) -> dict[str, Any]:
        """The ModelVersion body; ``model_uri`` is where a local ``path`` was uploaded."""
        self.check(complete=True)
        uri = model_uri or (self.path if isinstance(self.path, str) else None)
        if uri is None:
            raise SpecError(
                f"The model path {self.path} is local.",
                hint="Upload it first and pass model_uri=<its datastore URI> to to_rest().",
            )
        flavors = {name: {"data": data} for name, data in (self.flavors or {}).items()} or None
        properties = {
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
            "modelType": _REST_MODEL_TYPES[self.type],
            "modelUri": uri,
            "flavors": flavors,
            "stage": self.stage,
            "jobName": self.job_name,
        }
        return {"properties": compact(properties)}

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> Model:
        """A model from a ModelVersion body (name and version are taken from its ``id``)."""
        props = body.get("properties") or {}
        name, version = name_and_version(body)
        flavors = props.get("flavors")
        data = {
            "name": name,
            "version": version,
            "path": props.get("modelUri"),
            "type": props.get("modelType"),
            "description": props.get("description"),
            "tags": props.get("tags"),
            "properties": props.get("properties"),
            "flavors": {key: (value or {}).get("data") or {} for key, value in flavors.items()}
            if flavors
            else None,
            "stage": props.get("stage"),
            "job_name": props.get("jobName"),
        }
        return parse_spec(cls, compact(data), rest=True)


class Code(TopLevelSpec):
    """A code asset: a local folder (or URI) uploaded as a snapshot."""

    kind: ClassVar[str] = "code"
    name: str | None = None
    version: VersionStr | None = None
    path: PathOrUri | None = None
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None

    def to_rest(self, *, code_uri: str | None = None) -> dict[str, Any]:
        """The CodeVersion body; ``code_uri`` is where a local ``path`` was uploaded."""
        uri = code_uri or (self.path if isinstance(self.path, str) else None)
        if uri is None:
            raise SpecError(
                f"The code path {self.path} is local.",
                hint="Upload it first and pass code_uri=<its storage URI> to to_rest().",
            )
        properties = {
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
            "codeUri": uri,
        }
        return {"properties": compact(properties)}

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> Code:
        """A code asset from a CodeVersion body."""
        props = body.get("properties") or {}
        name, version = name_and_version(body)
        data = {
            "name": name,
            "version": version,
            "path": props.get("codeUri"),
            "description": props.get("description"),
            "tags": props.get("tags"),
            "properties": props.get("properties"),
        }
        return parse_spec(cls, compact(data), rest=True)


#: A deployment's or job's model: ``azureml:…`` reference or an inline model mapping.
ModelOrReference = Annotated[
    Annotated[AssetReference, Tag("ref")] | Annotated[Model, Tag("inline")], Discriminator(ref_or_inline)
]


class CodeConfiguration(SpecModel):
    """The code of a deployment: a local folder (or a registered code asset) and the scoring script."""

    code: CodeValue | None = None
    scoring_script: str

    def to_rest(self, *, workspace: str | None = None, code_id: str | None = None) -> dict[str, Any]:
        """The REST ``codeConfiguration``; ``code_id`` is the id of a registered local folder."""
        if not self.scoring_script.strip():
            raise SpecValidationError(
                "code_configuration.scoring_script is empty.", hint="Name the script, e.g. score.py."
            )
        code = resolve_asset_id(
            self.code,
            code_id,
            workspace=workspace,
            asset_type="codes",
            what="code folder",
            argument="code_id",
        )
        return compact({"codeId": code, "scoringScript": self.scoring_script})
