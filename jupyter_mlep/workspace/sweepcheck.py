"""A sweep job checked when it is PUT, and the command job that runs one of its trials.

:func:`check_sweep_job` refuses (400) what cannot run: the search space, the sampling algorithm
(:mod:`.sweepspace`), the early-termination policy, the limits, and the trial as a command job
with placeholder values for the search space. :func:`trial_job` is the checked body of the
command job that runs one trial, which the runner (:mod:`.sweeprun`) stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .arm import bad_request
from .context import Workspace
from .jobplan import check_command_job
from .jobrun import compute_concurrency
from .resolve import default_output_uri, duration_seconds
from .sweepspace import Distribution, check_sampling, parse_space, substitute

__all__ = ["check_sweep_job", "trial_job"]

_PLACEHOLDER = "0"


def _trial_props(
    sweep: str, props: Mapping[str, Any], child: str, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """The REST properties of the command job that runs one trial."""
    trial = props.get("trial") or {}
    outputs: dict[str, Any] = {}
    for output, item in (props.get("outputs") or {}).items():
        item = dict(item or {})
        if item.get("uri") == default_output_uri(sweep, output):
            item.pop("uri")  # each trial writes its own default folder
        outputs[output] = item
    variables = dict(trial.get("environmentVariables") or {})
    variables.update({f"AZUREML_SWEEP_{name}": str(value) for name, value in parameters.items()})
    body: dict[str, Any] = {
        "jobType": "Command",
        "command": substitute(str(trial.get("command") or ""), parameters),
        "environmentId": trial.get("environmentId"),
        "codeId": trial.get("codeId"),
        "environmentVariables": variables,
        "distribution": trial.get("distribution"),
        "resources": trial.get("resources"),
        "inputs": {k: dict(v) for k, v in (props.get("inputs") or {}).items()},
        "outputs": outputs,
        "computeId": props.get("computeId"),
        "experimentName": props.get("experimentName") or "Default",
        "displayName": child,
        "parentJobName": sweep,
        "tags": {},
        "properties": {
            key: value
            for key, value in (props.get("properties") or {}).items()
            if key.startswith("mlep.runtime")
        },
        "isArchived": False,
    }
    return {key: value for key, value in body.items() if value is not None}


def trial_job(
    ws: Workspace, sweep: str, props: Mapping[str, Any], child: str, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """The checked REST properties of ``child``, the command job of one trial (400 if it cannot run)."""
    body = _trial_props(sweep, props, child, parameters)
    check_command_job(ws, child, body, lambda compute: compute_concurrency(ws, compute))
    return body


def check_sweep_job(ws: Workspace, name: str, props: dict[str, Any]) -> None:
    """Refuse (400) a sweep that cannot run here: its search space, sampling algorithm, policy,
    limits and the trial as a command job (with placeholder values for the search space)."""
    space = parse_space(props.get("searchSpace"))
    goal = str((props.get("objective") or {}).get("goal") or "Maximize")
    check_sampling(props["samplingAlgorithm"], space, goal)
    policy = props.get("earlyTermination")
    if policy:
        kind = str(policy.get("policyType"))
        if kind == "Bandit" and not (policy.get("slackFactor") or policy.get("slackAmount")):
            raise bad_request(
                "A Bandit policy needs slackFactor or slackAmount.", target="properties.earlyTermination"
            )
        if kind == "Bandit" and policy.get("slackFactor") and policy.get("slackAmount"):
            raise bad_request(
                "A Bandit policy takes slackFactor or slackAmount, not both.",
                target="properties.earlyTermination",
            )
        percentage = policy.get("truncationPercentage")
        if kind == "TruncationSelection" and not (isinstance(percentage, int) and 1 <= percentage <= 99):
            raise bad_request(
                f"truncationPercentage must be a whole number from 1 to 99, got {percentage!r}.",
                target="properties.earlyTermination.truncationPercentage",
            )
        for key in ("evaluationInterval", "delayEvaluation"):
            value = policy.get(key)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise bad_request(
                    f"earlyTermination.{key} must be a whole number of at least 0, got {value!r}.",
                    target=f"properties.earlyTermination.{key}",
                )
    limits = props.get("limits") or {}
    for key in ("maxTotalTrials", "maxConcurrentTrials"):
        value = limits.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise bad_request(
                f"limits.{key} must be a whole number of at least 1, got {value!r}.",
                target=f"properties.limits.{key}",
            )
    for key in ("timeout", "trialTimeout"):
        value = limits.get(key)
        if value is not None and duration_seconds(value, -1.0) <= 0:
            raise bad_request(
                f"limits.{key} must be an ISO 8601 duration such as PT30M, got {value!r}.",
                target=f"properties.limits.{key}",
            )
    placeholders = {key: _PLACEHOLDER for key in _names(space)}
    command = substitute(str((props.get("trial") or {}).get("command") or ""), placeholders)
    if "${{search_space." in command.replace(" ", ""):
        raise bad_request(
            "The trial's command uses a ${{search_space.<name>}} that the search space does not define. "
            "Add the parameter to searchSpace, or fix the name in the command.",
            target="properties.trial.command",
        )
    probe = trial_job(ws, name, props, name, placeholders)
    props["inputs"], props["outputs"] = probe.get("inputs") or {}, probe.get("outputs") or {}


def _names(space: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for name, dist in space.items():
        names.append(name)
        if isinstance(dist, Distribution) and dist.kind == "choice":
            for value in dist.values:
                if isinstance(value, dict):
                    names += _names(value)
    return names
