"""Parts shared by command and sweep jobs: inputs, outputs, resources, distribution, limits.

An input is either a literal (``C: 0.8``) or a mapping with ``type`` and ``path``. A mapping
such as ``hello-iris-literal.yml``'s ``{type: uri_file, iris_csv: <url>}`` therefore declares
two literal inputs named ``type`` and ``iris_csv``, as the official SDK reads it. An output
written as ``name:`` (null) is a default ``uri_folder`` output.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from .._errors import SpecError
from ._base import PathOrUri, SpecModel, compact, one_of
from ._durations import format_duration, parse_duration

__all__ = ["CommandJobLimits", "Distribution", "JobInput", "JobOutput", "JobResources"]

DataType = Literal["uri_file", "uri_folder", "mltable", "mlflow_model", "custom_model", "triton_model"]
InputType = Literal[
    "literal", "uri_file", "uri_folder", "mltable", "mlflow_model", "custom_model", "triton_model"
]
InputMode = Literal["ro_mount", "rw_mount", "download", "direct", "eval_mount", "eval_download"]
DATA_TYPES: tuple[str, ...] = get_args(DataType)
MODES_REST = {
    "ro_mount": "ReadOnlyMount",
    "rw_mount": "ReadWriteMount",
    "download": "Download",
    "direct": "Direct",
    "upload": "Upload",
    "eval_mount": "EvalMount",
    "eval_download": "EvalDownload",
}
_MODES_YAML = {rest.lower(): name for name, rest in MODES_REST.items()}
Literalish = str | int | float | bool


def _mode(value: Any) -> Any:
    if isinstance(value, str):
        return _MODES_YAML.get(value.lower(), value.strip().lower())
    return value


def _literal_back(text: Any) -> Any:
    """REST literals are strings; numbers are read back as numbers."""
    if not isinstance(text, str):
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


class JobInput(SpecModel):
    """A job input: a literal value, or data (``uri_file``, ``uri_folder``, a model, …) at ``path``."""

    type: Annotated[InputType, BeforeValidator(one_of("literal", *DATA_TYPES))] = "uri_folder"
    path: PathOrUri | None = None
    value: Literalish | None = None
    mode: Annotated[InputMode, BeforeValidator(_mode)] | None = None
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalar_is_literal(cls, data: Any) -> Any:
        if isinstance(data, (str, int, float, bool)):
            return {"type": "literal", "value": data}
        return data

    @model_serializer(mode="wrap")
    def _literal_as_scalar(self, handler: SerializerFunctionWrapHandler) -> Any:
        if self.type == "literal" and self.description is None:
            return self.value
        return handler(self)

    def to_rest(self, name: str, uri: str | None = None) -> dict[str, Any]:
        """The REST ``JobInput``; ``uri`` is where a local ``path`` was uploaded."""
        if self.type == "literal":
            value = self.value
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            return compact({"jobInputType": "literal", "value": text, "description": self.description})
        if uri is None:
            if isinstance(self.path, Path):
                raise SpecError(
                    f"Input {name!r} is the local path {self.path}.",
                    hint=f"Upload it first and pass input_uris={{{name!r}: <its URI>}} to to_rest().",
                )
            uri = self.path
        if uri is None:
            raise SpecError(
                f"Input {name!r} of type {self.type} has no path.", hint="Set its path: (a URI or a file)."
            )
        mode = MODES_REST[self.mode] if self.mode else None
        return compact({"jobInputType": self.type, "uri": uri, "mode": mode, "description": self.description})

    @staticmethod
    def from_rest(body: Mapping[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``JobInput``."""
        if body.get("jobInputType") == "literal":
            return compact(
                {
                    "type": "literal",
                    "value": _literal_back(body.get("value")),
                    "description": body.get("description"),
                }
            )
        return compact(
            {
                "type": body.get("jobInputType"),
                "path": body.get("uri"),
                "mode": body.get("mode"),
                "description": body.get("description"),
            }
        )


class JobOutput(SpecModel):
    """A job output (``uri_folder`` by default); ``name``/``version`` register it as an asset."""

    type: Annotated[DataType, BeforeValidator(one_of(*DATA_TYPES))] = "uri_folder"
    path: str | None = None
    mode: Annotated[Literal["rw_mount", "upload", "direct"], BeforeValidator(_mode)] | None = None
    name: str | None = None
    version: str | None = None
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        return {} if data is None else data

    def to_rest(self) -> dict[str, Any]:
        """The REST ``JobOutput``."""
        return compact(
            {
                "jobOutputType": self.type,
                "uri": self.path,
                "mode": MODES_REST[self.mode] if self.mode else None,
                "assetName": self.name,
                "assetVersion": self.version,
                "description": self.description,
            }
        )

    @staticmethod
    def from_rest(body: Mapping[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``JobOutput``."""
        return compact(
            {
                "type": body.get("jobOutputType"),
                "path": body.get("uri"),
                "mode": body.get("mode"),
                "name": body.get("assetName"),
                "version": body.get("assetVersion"),
                "description": body.get("description"),
            }
        )


class JobResources(SpecModel):
    """Where and on how many nodes a job runs."""

    instance_count: int | None = Field(default=None, ge=1)
    instance_type: str | None = None
    shm_size: str | None = None
    docker_args: str | None = None
    properties: dict[str, Any] | None = None

    def to_rest(self) -> dict[str, Any]:
        """The REST ``JobResourceConfiguration``."""
        return compact(
            {
                "instanceCount": self.instance_count,
                "instanceType": self.instance_type,
                "shmSize": self.shm_size,
                "dockerArgs": self.docker_args,
                "properties": self.properties,
            }
        )

    @staticmethod
    def from_rest(body: Mapping[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``JobResourceConfiguration``."""
        return compact(
            {
                "instance_count": body.get("instanceCount"),
                "instance_type": body.get("instanceType"),
                "shm_size": body.get("shmSize"),
                "docker_args": body.get("dockerArgs"),
                "properties": body.get("properties"),
            }
        )


_DISTRIBUTIONS_REST = {"pytorch": "PyTorch", "tensorflow": "TensorFlow", "mpi": "Mpi"}


class Distribution(SpecModel):
    """Distributed training: ``pytorch``, ``tensorflow`` or ``mpi``."""

    type: Annotated[
        Literal["pytorch", "tensorflow", "mpi"], BeforeValidator(one_of("pytorch", "tensorflow", "mpi"))
    ]
    process_count_per_instance: int | None = None
    worker_count: int | None = None
    parameter_server_count: int | None = None

    def to_rest(self) -> dict[str, Any]:
        """The REST ``DistributionConfiguration``."""
        return compact(
            {
                "distributionType": _DISTRIBUTIONS_REST[self.type],
                "processCountPerInstance": self.process_count_per_instance,
                "workerCount": self.worker_count,
                "parameterServerCount": self.parameter_server_count,
            }
        )

    @staticmethod
    def from_rest(body: Mapping[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``DistributionConfiguration``."""
        return compact(
            {
                "type": body.get("distributionType"),
                "process_count_per_instance": body.get("processCountPerInstance"),
                "worker_count": body.get("workerCount"),
                "parameter_server_count": body.get("parameterServerCount"),
            }
        )


class CommandJobLimits(SpecModel):
    """A command job's time limit in seconds."""

    timeout: int | None = Field(default=None, ge=1)

    def to_rest(self) -> dict[str, Any]:
        """The REST ``CommandJobLimits``."""
        return compact(
            {"jobLimitsType": "Command", "timeout": format_duration(self.timeout) if self.timeout else None}
        )

    @staticmethod
    def from_rest(body: Mapping[str, Any]) -> dict[str, Any]:
        """The YAML mapping of REST ``CommandJobLimits``."""
        timeout = body.get("timeout")
        return compact({"timeout": round(parse_duration(timeout)) if timeout else None})
