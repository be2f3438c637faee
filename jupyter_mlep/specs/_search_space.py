"""The parts of a sweep: search space, sampling algorithm, objective, limits and early
termination, each with its REST form.

The REST ``searchSpace`` is untyped; the form written here is the one the official SDK
sends: ``["choice", [[v1, v2]]]``, ``["uniform", [min, max]]``, ``["randint", [upper]]``,
``["normal", [mu, sigma]]`` and their ``q``/``log`` variants with ``q`` last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .._errors import SpecError
from ._base import SpecModel, compact, one_of
from ._durations import format_duration, parse_duration

__all__ = ["EarlyTerminationPolicy", "Objective", "SamplingAlgorithm", "SearchParameter", "SweepLimits"]

_PARAMETERS: dict[str, tuple[str, ...]] = {
    "choice": ("values",),
    "randint": ("upper",),
    "uniform": ("min_value", "max_value"),
    "loguniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"),
    "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"),
    "lognormal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "qlognormal": ("mu", "sigma", "q"),
}
Distributions = Literal[
    "choice",
    "randint",
    "uniform",
    "loguniform",
    "quniform",
    "qloguniform",
    "normal",
    "lognormal",
    "qnormal",
    "qlognormal",
]
_POLICIES_REST = {
    "bandit": "Bandit",
    "median_stopping": "MedianStopping",
    "truncation_selection": "TruncationSelection",
}


class SearchParameter(SpecModel):
    """One dimension of the search space, e.g. ``{type: uniform, min_value: 0.1, max_value: 1}``."""

    type: Annotated[Distributions, BeforeValidator(one_of(*_PARAMETERS))]
    values: list[Any] | None = None
    upper: int | None = None
    min_value: int | float | None = None
    max_value: int | float | None = None
    mu: int | float | None = None
    sigma: int | float | None = None
    q: int | float | None = None

    @model_validator(mode="after")
    def _parameters(self) -> SearchParameter:
        needed = _PARAMETERS[self.type]
        missing = [key for key in needed if getattr(self, key) is None]
        if missing:
            raise ValueError(
                f"a {self.type} parameter needs {', '.join(needed)} (missing {', '.join(missing)})"
            )
        extra = [
            key
            for key in ("values", "upper", "min_value", "max_value", "mu", "sigma", "q")
            if key not in needed and getattr(self, key) is not None
        ]
        if extra:
            raise ValueError(f"a {self.type} parameter takes {', '.join(needed)}, not {', '.join(extra)}")
        return self

    def to_rest(self) -> list[Any]:
        """The SDK's REST form, e.g. ``["uniform", [0.1, 1.0]]`` or ``["choice", [["a", "b"]]]``; a
        choice value that is a mapping (a conditional space) has its expressions in that form too."""
        if self.type == "choice":
            return ["choice", [[_nested_to_rest(value) for value in self.values or []]]]
        return [self.type, [getattr(self, key) for key in _PARAMETERS[self.type]]]

    @staticmethod
    def from_arguments(kind: str, arguments: list[Any]) -> dict[str, Any]:
        """The YAML mapping of an expression written as ``kind(arguments…)``, e.g.
        ``loguniform(-6, -1)`` or ``choice(16, 32, 64)``."""
        kind = kind.lower()
        if kind not in _PARAMETERS:
            raise SpecError(
                f"{kind} is not an expression.", hint="Use one of: " + ", ".join(_PARAMETERS) + "."
            )
        if kind == "choice":
            return {"type": "choice", "values": list(arguments)}
        wanted = _PARAMETERS[kind]
        if len(arguments) != len(wanted):
            raise SpecError(
                f"{kind} takes {len(wanted)} argument(s) ({', '.join(wanted)}), got {len(arguments)}.",
                hint=f"Write it as {kind}({', '.join(wanted)}).",
            )
        return {"type": kind, **dict(zip(wanted, arguments, strict=True))}

    @staticmethod
    def from_rest(name: str, value: Any) -> dict[str, Any]:
        """The YAML mapping of one REST search-space entry."""
        if not (
            isinstance(value, list)
            and len(value) == 2
            and value[0] in _PARAMETERS
            and isinstance(value[1], list)
        ):
            raise SpecError(
                f"searchSpace.{name} is not a distribution the service understands: {value!r}.",
                hint='Write it as ["uniform", [min, max]], ["choice", [[v1, v2]]], ["randint", [upper]], ….',
            )
        kind, arguments = value
        if kind == "choice":
            values = arguments[0] if arguments and isinstance(arguments[0], list) else arguments
            return {"type": "choice", "values": [_nested_from_rest(name, item) for item in values]}
        if len(arguments) != len(_PARAMETERS[kind]):
            raise SpecError(
                f"searchSpace.{name} ({kind}) needs {len(_PARAMETERS[kind])} arguments, got {arguments!r}.",
                hint=f"Give {', '.join(_PARAMETERS[kind])} in that order.",
            )
        return {"type": kind, **dict(zip(_PARAMETERS[kind], arguments, strict=True))}


def _nested_to_rest(value: Any) -> Any:
    """A choice value in the REST form: in a mapping, each ``{type: …}`` expression as a list."""
    if not isinstance(value, dict):
        return value
    return {
        key: SearchParameter.model_validate(item).to_rest()
        if isinstance(item, dict) and str(item.get("type", "")).lower() in _PARAMETERS
        else item
        for key, item in value.items()
    }


def _nested_from_rest(name: str, value: Any) -> Any:
    """A REST choice value in the YAML form: in a mapping, each ``[kind, [args]]`` as ``{type: …}``."""
    if not isinstance(value, dict):
        return value
    return {
        key: SearchParameter.from_rest(f"{name}.{key}", item)
        if isinstance(item, list) and len(item) == 2 and item[0] in _PARAMETERS
        else item
        for key, item in value.items()
    }


class SamplingAlgorithm(SpecModel):
    """``random`` (optionally ``seed`` and ``rule: sobol``), ``grid`` or ``bayesian``."""

    type: Annotated[
        Literal["random", "grid", "bayesian"], BeforeValidator(one_of("random", "grid", "bayesian"))
    ]
    seed: int | None = None
    rule: Annotated[Literal["random", "sobol"], BeforeValidator(one_of("random", "sobol"))] | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_only(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data

    def to_rest(self) -> dict[str, Any]:
        """The REST ``SamplingAlgorithm``."""
        return compact(
            {
                "samplingAlgorithmType": self.type.capitalize(),
                "seed": self.seed,
                "rule": self.rule.capitalize() if self.rule else None,
            }
        )


class Objective(SpecModel):
    """The metric to optimise and in which direction."""

    goal: Annotated[Literal["minimize", "maximize"], BeforeValidator(one_of("minimize", "maximize"))]
    primary_metric: str


class SweepLimits(SpecModel):
    """How many trials, how many at once, and how long (seconds)."""

    max_total_trials: int | None = Field(default=None, ge=1)
    max_concurrent_trials: int | None = Field(default=None, ge=1)
    timeout: int | None = Field(default=None, ge=1)
    trial_timeout: int | None = Field(default=None, ge=1)

    def to_rest(self) -> dict[str, Any]:
        """The REST ``SweepJobLimits``."""
        return compact(
            {
                "jobLimitsType": "Sweep",
                "maxTotalTrials": self.max_total_trials,
                "maxConcurrentTrials": self.max_concurrent_trials,
                "timeout": format_duration(self.timeout) if self.timeout else None,
                "trialTimeout": format_duration(self.trial_timeout) if self.trial_timeout else None,
            }
        )

    @staticmethod
    def from_rest(body: Mapping[str, Any]) -> dict[str, Any]:
        """The YAML mapping of REST ``SweepJobLimits``."""

        def seconds(value: Any) -> int | None:
            return round(parse_duration(value)) if value else None

        return compact(
            {
                "max_total_trials": body.get("maxTotalTrials"),
                "max_concurrent_trials": body.get("maxConcurrentTrials"),
                "timeout": seconds(body.get("timeout")),
                "trial_timeout": seconds(body.get("trialTimeout")),
            }
        )


class EarlyTerminationPolicy(SpecModel):
    """``bandit``, ``median_stopping`` or ``truncation_selection``."""

    type: Annotated[
        Literal["bandit", "median_stopping", "truncation_selection"], BeforeValidator(one_of(*_POLICIES_REST))
    ]
    evaluation_interval: int | None = None
    delay_evaluation: int | None = None
    slack_factor: float | None = None
    slack_amount: float | None = None
    truncation_percentage: int | None = None

    def to_rest(self) -> dict[str, Any]:
        """The REST ``EarlyTerminationPolicy``."""
        return compact(
            {
                "policyType": _POLICIES_REST[self.type],
                "evaluationInterval": self.evaluation_interval,
                "delayEvaluation": self.delay_evaluation,
                "slackFactor": self.slack_factor,
                "slackAmount": self.slack_amount,
                "truncationPercentage": self.truncation_percentage,
            }
        )

    @staticmethod
    def from_rest(body: Mapping[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``EarlyTerminationPolicy``."""
        return compact(
            {
                "type": body.get("policyType"),
                "evaluation_interval": body.get("evaluationInterval"),
                "delay_evaluation": body.get("delayEvaluation"),
                "slack_factor": body.get("slackFactor"),
                "slack_amount": body.get("slackAmount"),
                "truncation_percentage": body.get("truncationPercentage"),
            }
        )
