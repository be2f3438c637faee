"""Command jobs (``commandJob.schema.json``) and what all jobs share, with REST ``JobBase`` bodies.

A job's ``code`` folder is not checked when the file is read (the fixtures point at ``src``
folders that hold only Python upstream and were not copied); it is needed only when the
operations layer uploads it and passes ``code_id`` to ``to_rest``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from .._errors import SpecError, SpecValidationError
from ._assets import resolve_asset_id
from ._base import CodeValue, ComputeValue, StrDict, TopLevelSpec, compact, parse_spec, snake
from ._environment import Environment, EnvironmentOrReference
from ._job_io import CommandJobLimits, Distribution, JobInput, JobOutput, JobResources

__all__ = ["CommandJob", "Job"]

_EXPRESSION = re.compile(r"\$\{\{\s*(inputs|outputs|search_space)\.([A-Za-z0-9_]+)\s*\}\}")


def check_command(command: str, declared: Mapping[str, Mapping[str, Any]], where: str) -> None:
    """Every ``${{inputs.x}}``/``${{outputs.x}}``/``${{search_space.x}}`` in ``command`` is declared."""
    if not command.strip():
        raise SpecValidationError(f"The command of {where} is empty.", hint="Write the command line to run.")
    for group, name in _EXPRESSION.findall(command):
        if name not in declared.get(group, {}):
            raise SpecValidationError(
                f"The command of {where} uses ${{{{{group}.{name}}}}}, but {group} has no {name!r}.",
                hint=f"Declare {name} under {group}:, or fix the name in the command.",
            )


def command_to_rest(
    part: Any,
    *,
    workspace: str | None,
    code_id: str | None,
    environment_id: str | None,
    what: str = "",
) -> dict[str, Any]:
    """The REST fields of what runs (command, code, environment, variables, distribution,
    resources), shared by a command job and a sweep's trial; ``what`` prefixes error wording."""
    return {
        "command": part.command,
        "codeId": resolve_asset_id(
            part.code,
            code_id,
            workspace=workspace,
            asset_type="codes",
            what=f"{what}code folder",
            argument="code_id",
        ),
        "environmentId": resolve_asset_id(
            part.environment,
            environment_id,
            workspace=workspace,
            asset_type="environments",
            what=f"{what}environment",
            argument="environment_id",
        ),
        "environmentVariables": part.environment_variables,
        "distribution": part.distribution.to_rest() if part.distribution else None,
        "resources": part.resources.to_rest() if part.resources else None,
    }


def command_from_rest(props: Mapping[str, Any]) -> dict[str, Any]:
    """The spec fields of :func:`command_to_rest`'s REST fields."""
    distribution, resources = props.get("distribution"), props.get("resources")
    return {
        "command": props.get("command"),
        "code": props.get("codeId"),
        "environment": props.get("environmentId"),
        "environment_variables": props.get("environmentVariables"),
        "distribution": Distribution.from_rest(distribution) if distribution else None,
        "resources": JobResources.from_rest(resources) if resources else None,
    }


class Job(TopLevelSpec):
    """What command and sweep jobs share: names, inputs, outputs, compute."""

    job_type: ClassVar[str]
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None
    inputs: dict[str, JobInput] | None = None
    outputs: dict[str, JobOutput] | None = None
    compute: ComputeValue | None = None
    id: str | None = None
    status: str | None = None

    def _where(self) -> str:
        return f"job {self.name}" if self.name else "the job"

    def _common_rest(self, workspace: str | None, input_uris: Mapping[str, str] | None) -> dict[str, Any]:
        uris = input_uris or {}
        inputs = {name: item.to_rest(name, uris.get(name)) for name, item in (self.inputs or {}).items()}
        outputs = {name: item.to_rest() for name, item in (self.outputs or {}).items()}
        return {
            "jobType": self.job_type,
            "displayName": self.display_name,
            "experimentName": self.experiment_name,
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
            "computeId": self.compute.rest_id(workspace, "computes") if self.compute else None,
            "inputs": inputs or None,
            "outputs": outputs or None,
        }

    @staticmethod
    def _common_from_rest(body: Mapping[str, Any], name: str | None) -> dict[str, Any]:
        props = body.get("properties") or {}
        inputs = props.get("inputs") or {}
        outputs = props.get("outputs") or {}
        return {
            "name": name or body.get("name"),
            "display_name": props.get("displayName"),
            "experiment_name": props.get("experimentName"),
            "description": props.get("description"),
            "tags": props.get("tags"),
            "properties": props.get("properties"),
            "inputs": {key: JobInput.from_rest(value) for key, value in inputs.items()} or None,
            "outputs": {key: JobOutput.from_rest(value or {}) for key, value in outputs.items()} or None,
            "compute": props.get("computeId"),
            "id": body.get("id"),
            "status": props.get("status"),
        }

    @classmethod
    def from_rest(cls, body: dict[str, Any], *, name: str | None = None) -> Job:
        """A command or sweep job from a REST ``JobBase`` body (``jobType`` decides)."""
        from ._sweep import SweepJob

        job_type = str((body.get("properties") or {}).get("jobType", ""))
        targets: dict[str, type[Job]] = {"command": CommandJob, "sweep": SweepJob}
        if job_type.lower() not in targets:
            raise SpecError(
                f"Jobs of type {job_type or '(none)'} are not supported.", hint="Use a Command or Sweep job."
            )
        return targets[job_type.lower()]._from_rest(body, name)

    @classmethod
    def _from_rest(cls, body: dict[str, Any], name: str | None) -> Job:
        raise NotImplementedError


class CommandJob(Job):
    """A command run in an environment, with inputs, outputs and an optional code folder."""

    kind: ClassVar[str] = "commandJob"
    job_type: ClassVar[str] = "Command"
    type: Annotated[Literal["command"], BeforeValidator(snake)] = "command"
    command: str
    code: CodeValue | None = None
    environment: EnvironmentOrReference
    environment_variables: StrDict | None = None
    resources: JobResources | None = None
    limits: CommandJobLimits | None = None
    distribution: Distribution | None = None

    def check(self, *, complete: bool = False) -> None:
        """Check the command's ``${{inputs.x}}`` expressions and an inline environment."""
        if isinstance(self.environment, Environment):
            self.environment.check(complete=complete)
        declared: dict[str, Mapping[str, Any]] = {"inputs": self.inputs or {}, "outputs": self.outputs or {}}
        check_command(self.command, declared, self._where())

    def to_rest(
        self,
        *,
        workspace: str | None = None,
        code_id: str | None = None,
        environment_id: str | None = None,
        input_uris: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The REST ``CommandJob`` body of Jobs_CreateOrUpdate.

        ``code_id`` and ``environment_id`` are the ids of a registered local code folder and
        inline environment; ``input_uris`` maps inputs with local paths to their uploaded URIs.
        """
        self.check(complete=True)
        properties = {
            **self._common_rest(workspace, input_uris),
            **command_to_rest(self, workspace=workspace, code_id=code_id, environment_id=environment_id),
            "limits": self.limits.to_rest() if self.limits else None,
        }
        return {"properties": compact(properties)}

    @classmethod
    def _from_rest(cls, body: dict[str, Any], name: str | None) -> CommandJob:
        props = body.get("properties") or {}
        data = {
            **cls._common_from_rest(body, name),
            **command_from_rest(props),
            "limits": CommandJobLimits.from_rest(props["limits"]) if props.get("limits") else None,
        }
        return parse_spec(cls, compact(data), rest=True)
