"""Environments (``environment.schema.json``): a base image with a conda file, or a Docker
build context, plus the routes of a custom container, and the REST EnvironmentVersion body.

A local build context is uploaded by the operations layer, which passes its URI
(``context_uri``) to ``to_rest``; a local ``conda_file`` is read when the body is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BeforeValidator, Discriminator, Tag, model_validator

from .._errors import SpecError, SpecValidationError
from ._base import (
    PathOrUri,
    SpecModel,
    StrDict,
    TopLevelSpec,
    VersionStr,
    compact,
    parse_spec,
    path_or_uri,
    ref_or_inline,
    require_local_path,
    snake,
)
from ._references import AssetReference, name_and_version

__all__ = ["BuildContext", "Environment", "EnvironmentOrReference", "InferenceConfig", "Route"]


class Route(SpecModel):
    """A port and path of a custom container (liveness, readiness or scoring)."""

    port: int
    path: str


class InferenceConfig(SpecModel):
    """The routes of a custom container (bring your own container)."""

    liveness_route: Route
    readiness_route: Route
    scoring_route: Route

    def to_rest(self) -> dict[str, Any]:
        """The REST ``inferenceConfig``."""
        return {
            "livenessRoute": self.liveness_route.model_dump(),
            "readinessRoute": self.readiness_route.model_dump(),
            "scoringRoute": self.scoring_route.model_dump(),
        }


class BuildContext(SpecModel):
    """A Docker build context: a folder (or URI) and the Dockerfile inside it."""

    path: PathOrUri
    dockerfile_path: str | None = None


class Environment(TopLevelSpec):
    """An environment: a base image (+ conda file), or a Docker build context."""

    kind: ClassVar[str] = "environment"
    name: str | None = None
    version: VersionStr | None = None
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None
    image: str | None = None
    conda_file: Annotated[Path | dict[str, Any], BeforeValidator(path_or_uri)] | None = None
    build: BuildContext | None = None
    inference_config: InferenceConfig | None = None
    os_type: Annotated[Literal["linux", "windows"], BeforeValidator(snake)] | None = None
    datastore: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_inline_conda(cls, data: Any) -> Any:
        if isinstance(data, dict) and ({"channels", "dependencies"} & set(data)):
            raise ValueError(
                "channels and dependencies belong in a conda file, not in the environment: move them to "
                "a file such as conda.yaml and set conda_file: conda.yaml"
            )
        return data

    @property
    def is_custom_container(self) -> bool:
        """True for a bring-your-own-container image that declares its own routes."""
        return self.inference_config is not None

    def check(self, *, complete: bool = False) -> None:
        if self.image and self.build:
            raise SpecValidationError(
                "An environment takes either image or build, not both.",
                hint="Keep image (+ conda_file) for a base image, or build.path for a Docker build context.",
            )
        if not self.image and not self.build:
            raise SpecValidationError(
                "An environment needs an image or a build context.",
                hint="Set image: (e.g. mcr.microsoft.com/azureml/minimal-py312-inference:latest) or build.path.",
            )
        if self.build and self.conda_file is not None:
            raise SpecValidationError(
                "conda_file cannot be combined with build: the Dockerfile installs the packages.",
                hint="Install the conda environment in the Dockerfile, or use image + conda_file.",
            )

    def to_rest(self, *, context_uri: str | None = None) -> dict[str, Any]:
        """The EnvironmentVersion body; ``context_uri`` is where a local build context was uploaded.

        A local ``conda_file`` is read now (this is the moment it must exist).
        """
        self.check(complete=True)
        conda: str | None = None
        if isinstance(self.conda_file, Path):
            conda = require_local_path(self.conda_file, "conda file", self.source).read_text(encoding="utf-8")
        elif isinstance(self.conda_file, dict):
            conda = yaml.safe_dump(self.conda_file, sort_keys=False)
        build = None
        if self.build is not None:
            uri = context_uri or (self.build.path if isinstance(self.build.path, str) else None)
            if uri is None:
                raise SpecError(
                    f"The build context {self.build.path} is local.",
                    hint="Upload it first and pass context_uri=<its storage URI> to to_rest().",
                )
            build = {"contextUri": uri, "dockerfilePath": self.build.dockerfile_path or "Dockerfile"}
        properties = {
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
            "image": self.image,
            "condaFile": conda,
            "build": build,
            "inferenceConfig": self.inference_config.to_rest() if self.inference_config else None,
            "osType": self.os_type.capitalize() if self.os_type else None,
        }
        return {"properties": compact(properties)}

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> Environment:
        """An environment from an EnvironmentVersion body (``condaFile`` text becomes a mapping)."""
        props = body.get("properties") or {}
        name, version = name_and_version(body)
        conda = props.get("condaFile")
        if isinstance(conda, str):
            conda = yaml.safe_load(conda)
            if not isinstance(conda, dict):
                raise SpecError(
                    "The environment's condaFile is not a conda YAML mapping.",
                    hint="condaFile must hold the text of a conda file (name, channels, dependencies).",
                )
        build = props.get("build")
        routes = props.get("inferenceConfig")
        data = {
            "name": name,
            "version": version,
            "description": props.get("description"),
            "tags": props.get("tags"),
            "properties": props.get("properties"),
            "image": props.get("image"),
            "conda_file": conda,
            "build": {"path": build.get("contextUri"), "dockerfile_path": build.get("dockerfilePath")}
            if build
            else None,
            "inference_config": {
                "liveness_route": routes.get("livenessRoute"),
                "readiness_route": routes.get("readinessRoute"),
                "scoring_route": routes.get("scoringRoute"),
            }
            if routes
            else None,
            "os_type": props.get("osType"),
        }
        return parse_spec(cls, compact(data), rest=True)


#: A deployment's or job's environment: ``azureml:…`` reference or an inline environment mapping.
EnvironmentOrReference = Annotated[
    Annotated[AssetReference, Tag("ref")] | Annotated[Environment, Tag("inline")],
    Discriminator(ref_or_inline),
]
