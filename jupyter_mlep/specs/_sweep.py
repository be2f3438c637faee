"""Sweep jobs (``sweepJob.schema.json``): a trial command run over a search space (see
``_search_space``), and the REST ``SweepJob`` body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from .._errors import SpecValidationError
from ._base import CodeValue, SpecModel, StrDict, compact, one_of, parse_spec
from ._environment import Environment, EnvironmentOrReference
from ._job_io import Distribution, JobResources
from ._jobs import Job, check_command, command_from_rest, command_to_rest
from ._search_space import EarlyTerminationPolicy, Objective, SamplingAlgorithm, SearchParameter, SweepLimits

__all__ = ["SweepJob", "TrialComponent"]


class TrialComponent(SpecModel):
    """What each trial runs: a command in an environment, with optional code."""

    command: str
    code: CodeValue | None = None
    environment: EnvironmentOrReference
    environment_variables: StrDict | None = None
    distribution: Distribution | None = None
    resources: JobResources | None = None


class SweepJob(Job):
    """A hyperparameter sweep: many trials of one command over a search space."""

    kind: ClassVar[str] = "sweepJob"
    job_type: ClassVar[str] = "Sweep"
    type: Annotated[Literal["sweep"], BeforeValidator(one_of("sweep"))] = "sweep"
    trial: TrialComponent
    sampling_algorithm: SamplingAlgorithm
    search_space: dict[str, SearchParameter]
    objective: Objective
    limits: SweepLimits | None = None
    early_termination: EarlyTerminationPolicy | None = None

    def check(self, *, complete: bool = False) -> None:
        """Check the search space, the trial command's expressions and an inline environment."""
        if not self.search_space:
            raise SpecValidationError(
                "The search_space of the sweep is empty.", hint="Add at least one parameter."
            )
        if isinstance(self.trial.environment, Environment):
            self.trial.environment.check(complete=complete)
        declared: dict[str, Mapping[str, Any]] = {
            "inputs": self.inputs or {},
            "outputs": self.outputs or {},
            "search_space": self.search_space,
        }
        check_command(self.trial.command, declared, f"the trial of {self._where()}")
        limits = self.limits
        if (
            limits
            and limits.max_total_trials
            and limits.max_concurrent_trials
            and limits.max_concurrent_trials > limits.max_total_trials
        ):
            raise SpecValidationError(
                f"limits.max_concurrent_trials ({limits.max_concurrent_trials}) exceeds "
                f"max_total_trials ({limits.max_total_trials}).",
                hint="Run at most max_total_trials trials at once.",
            )

    def to_rest(
        self,
        *,
        workspace: str | None = None,
        code_id: str | None = None,
        environment_id: str | None = None,
        input_uris: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The REST ``SweepJob`` body; ids and URIs as for :meth:`CommandJob.to_rest` (for the trial)."""
        self.check(complete=True)
        trial_body = command_to_rest(
            self.trial, workspace=workspace, code_id=code_id, environment_id=environment_id, what="trial "
        )
        properties = {
            **self._common_rest(workspace, input_uris),
            "trial": compact(trial_body),
            "samplingAlgorithm": self.sampling_algorithm.to_rest(),
            "searchSpace": {name: parameter.to_rest() for name, parameter in self.search_space.items()},
            "objective": {
                "goal": self.objective.goal.capitalize(),
                "primaryMetric": self.objective.primary_metric,
            },
            "limits": self.limits.to_rest() if self.limits else None,
            "earlyTermination": self.early_termination.to_rest() if self.early_termination else None,
        }
        return {"properties": compact(properties)}

    @classmethod
    def _from_rest(cls, body: dict[str, Any], name: str | None) -> SweepJob:
        props = body.get("properties") or {}
        trial = props.get("trial") or {}
        algorithm = props.get("samplingAlgorithm") or {}
        objective = props.get("objective") or {}
        limits = props.get("limits")
        policy = props.get("earlyTermination")
        data = {
            **cls._common_from_rest(body, name),
            "trial": compact(command_from_rest(trial)),
            "sampling_algorithm": compact(
                {
                    "type": algorithm.get("samplingAlgorithmType"),
                    "seed": algorithm.get("seed"),
                    "rule": algorithm.get("rule"),
                }
            ),
            "search_space": {
                key: SearchParameter.from_rest(key, value)
                for key, value in (props.get("searchSpace") or {}).items()
            },
            "objective": {"goal": objective.get("goal"), "primary_metric": objective.get("primaryMetric")},
            "limits": SweepLimits.from_rest(limits) if limits else None,
            "early_termination": EarlyTerminationPolicy.from_rest(policy) if policy else None,
        }
        return parse_spec(cls, compact(data), rest=True)
