"""Validation of camelCase REST bodies, with the rules and messages the service applies.

Every check raises a 400 :class:`~.arm.ArmError` (code ``BadArgument``) naming the field.
Names and traffic follow the rules the specs apply on the client side
(:mod:`jupyter_mlep.specs._validation`), so both sides always agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, overload

from .._errors import SpecValidationError
from ..specs import validate_instance_count, validate_name, validate_traffic
from .arm import bad_request

__all__ = [
    "AUTH_MODES",
    "canonical",
    "check_asset_name",
    "check_capacity",
    "check_code_configuration",
    "check_deployment_body",
    "check_deployment_name",
    "check_endpoint_body",
    "check_endpoint_name",
    "check_job_body",
    "check_mirror_traffic",
    "check_traffic",
    "list_view",
    "normalise_auth_mode",
    "optional_dict",
]

AUTH_MODES = {"key": "Key", "amltoken": "AMLToken", "aadtoken": "AADToken"}
_COMPUTE_TYPES = {"managed": "Managed", "kubernetes": "Kubernetes", "azuremlcompute": "AzureMLCompute"}
_NETWORK_ACCESS = ("Enabled", "Disabled")
_SCALE_TYPES = ("Default", "TargetUtilization")
_GOALS = ("Minimize", "Maximize")
_SAMPLING_ALGORITHMS = ("Random", "Grid", "Bayesian")
_RANDOM_RULES = ("Random", "Sobol")
_TERMINATION_POLICIES = ("Bandit", "MedianStopping", "TruncationSelection")
_ASSET_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$")
_ASSET_VERSION = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,99}$")
_DURATION = re.compile(r"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_JOB_TYPES = ("AutoML", "Command", "Pipeline", "Spark", "Sweep")


def _spec_rule(target: str, check: Callable[[], object]) -> None:
    """Run one of the rules shared with the specs; its error becomes a 400 naming ``target``."""
    try:
        check()
    except SpecValidationError as exc:
        raise bad_request(exc.message, target=target) from None


@overload
def canonical(value: object, allowed: Iterable[str], field: str, *, required: Literal[True]) -> str: ...
@overload
def canonical(value: object, allowed: Iterable[str], field: str, *, required: bool = False) -> str | None: ...
def canonical(value: object, allowed: Iterable[str], field: str, *, required: bool = False) -> str | None:
    """An enum value in its canonical case: the service accepts any case (``maximize``, ``KEY``) and
    answers with the spelling of the spec. None stays None unless ``required``; anything else
    unknown is a 400 naming ``field`` and the allowed values."""
    if value is None and not required:
        return None
    choices = list(allowed)
    if isinstance(value, str):
        for choice in choices:
            if choice.lower() == value.lower():
                return choice
    if value is None:
        raise bad_request(
            f"The field '{field}' is required. Allowed values: {', '.join(choices)}.", target=field
        )
    raise bad_request(f"Unknown {field} {value!r}. Allowed values: {', '.join(choices)}.", target=field)


def list_view(value: str | None) -> str:
    """The ``listViewType`` query parameter in its canonical case (default ``ActiveOnly``)."""
    return canonical(
        value or "ActiveOnly", ("ActiveOnly", "ArchivedOnly", "All"), "listViewType", required=True
    )


def check_endpoint_name(name: str) -> None:
    """Endpoint names: 3–32 characters, a letter first, letters, digits and '-', no '-' last."""
    _spec_rule("endpointName", lambda: validate_name(name, "endpoint"))


def check_deployment_name(name: str) -> None:
    """Deployment names follow the endpoint name rule."""
    _spec_rule("deploymentName", lambda: validate_name(name, "deployment"))


def check_asset_name(name: str, version: str | None = None) -> None:
    """Asset (model, code, environment, datastore, job) names and versions."""
    if not _ASSET_NAME.match(name):
        raise bad_request(
            f"Invalid name '{name}': use letters, digits, '-', '_' and '.', starting with a letter or digit "
            "(at most 255 characters).",
            target="name",
        )
    if version is not None and not _ASSET_VERSION.match(version):
        raise bad_request(
            f"Invalid version '{version}': use letters, digits, '-', '_' and '.', starting with a letter "
            "or digit (at most 100 characters).",
            target="version",
        )


def optional_dict(body: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    """``body[key]`` as a dict ({} when missing or null); 400 when it is something else."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"'{where}{key}' must be an object.", target=f"{where}{key}")
    return value


def _properties(body: Mapping[str, Any]) -> dict[str, Any]:
    if "properties" not in body or body["properties"] is None:
        raise bad_request("The field 'properties' is required.", target="properties")
    if not isinstance(body["properties"], dict):
        raise bad_request("'properties' must be an object.", target="properties")
    return body["properties"]


def normalise_auth_mode(value: object) -> str:
    """The canonical ``authMode`` (case-insensitive, as the service accepts it)."""
    if value is None:
        raise bad_request("The field 'properties.authMode' is required.", target="properties.authMode")
    canonical = AUTH_MODES.get(str(value).lower())
    if canonical is None:
        raise bad_request(
            f"Unknown authMode '{value}'. Allowed values: Key, AMLToken, AADToken.",
            target="properties.authMode",
        )
    return canonical


def _percentages(value: object, field: str) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(
            f"'{field}' must be an object mapping deployment names to percentages.", target=field
        )
    result: dict[str, int] = {}
    for name, percent in value.items():
        if isinstance(percent, bool) or not isinstance(percent, int):
            raise bad_request(f"'{field}.{name}' must be an integer percentage.", target=field)
        if not 0 <= percent <= 100:
            raise bad_request(f"'{field}.{name}' must be between 0 and 100, not {percent}.", target=field)
        result[name] = percent
    return result


def _lower(values: Mapping[str, int]) -> dict[str, int]:
    return {name.lower(): value for name, value in values.items()}


def check_traffic(traffic: object, deployments: Iterable[str]) -> dict[str, int]:
    """``traffic`` must name existing deployments and sum to 100 (or be all zero / empty)."""
    values = _percentages(traffic, "properties.traffic")
    known = [name.lower() for name in deployments]
    _spec_rule("properties.traffic", lambda: validate_traffic(_lower(values), deployments=known))
    return values


def check_mirror_traffic(
    mirror: object, traffic: Mapping[str, int], deployments: Iterable[str]
) -> dict[str, int]:
    """Mirror traffic: one deployment at most, 50 % at most, never one that has live traffic."""
    values = _percentages(mirror, "properties.mirrorTraffic")
    known = [name.lower() for name in deployments]
    _spec_rule(
        "properties.mirrorTraffic",
        lambda: validate_traffic(_lower(traffic), _lower(values), deployments=known),
    )
    return values


def check_endpoint_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """An ``OnlineEndpoint`` PUT body; returns its ``properties``. Traffic is checked separately."""
    props = _properties(body)
    props["authMode"] = normalise_auth_mode(props.get("authMode"))
    access = canonical(props.get("publicNetworkAccess"), _NETWORK_ACCESS, "properties.publicNetworkAccess")
    if access is not None:
        props["publicNetworkAccess"] = access
    for key in ("properties",):
        optional_dict(props, key, "properties.")
    keys = props.get("keys")
    if keys is not None:
        if not isinstance(keys, dict):
            raise bad_request("'properties.keys' must be an object.", target="properties.keys")
        for field in ("primaryKey", "secondaryKey"):
            if keys.get(field) is not None and not isinstance(keys[field], str):
                raise bad_request(f"'properties.keys.{field}' must be a string.", target="properties.keys")
    optional_dict(body, "tags", "")
    return props


def _check_duration(value: object, field: str) -> None:
    if value is not None and (not isinstance(value, str) or not _DURATION.match(value)):
        raise bad_request(
            f"'{field}' must be an ISO 8601 duration such as PT10S, not {value!r}.", target=field
        )


def check_code_configuration(props: Mapping[str, Any]) -> None:
    """A deployment's ``codeConfiguration``: absent, or an object naming its ``scoringScript``."""
    code = props.get("codeConfiguration")
    if code is not None and (
        not isinstance(code, dict)
        or not isinstance(code.get("scoringScript"), str)
        or not code["scoringScript"]
    ):
        raise bad_request(
            "'properties.codeConfiguration.scoringScript' is required when codeConfiguration is given.",
            target="properties.codeConfiguration.scoringScript",
        )


def check_deployment_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """An ``OnlineDeployment`` PUT body; returns its ``properties`` (compute type normalised)."""
    props = _properties(body)
    compute = props.get("endpointComputeType")
    if compute is None:
        raise bad_request(
            "The field 'properties.endpointComputeType' is required (Managed or Kubernetes).",
            target="properties.endpointComputeType",
        )
    compute_type = _COMPUTE_TYPES.get(str(compute).lower())
    if compute_type is None:
        raise bad_request(
            f"Unknown endpointComputeType '{compute}'. Allowed values: Managed, Kubernetes, AzureMLCompute.",
            target="properties.endpointComputeType",
        )
    props["endpointComputeType"] = compute_type
    egress = canonical(
        props.get("egressPublicNetworkAccess"), _NETWORK_ACCESS, "properties.egressPublicNetworkAccess"
    )
    if egress is not None:
        props["egressPublicNetworkAccess"] = egress
    check_code_configuration(props)
    for key in ("environmentVariables", "properties"):
        for name, value in optional_dict(props, key, "properties.").items():
            if value is not None and not isinstance(value, str):
                raise bad_request(f"'properties.{key}.{name}' must be a string.", target=f"properties.{key}")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        settings = optional_dict(props, probe, "properties.")
        for field in ("initialDelay", "period", "timeout"):
            _check_duration(settings.get(field), f"properties.{probe}.{field}")
        for field in ("failureThreshold", "successThreshold"):
            value = settings.get(field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise bad_request(f"'properties.{probe}.{field}' must be a positive integer.", target=probe)
    request = optional_dict(props, "requestSettings", "properties.")
    for field in ("requestTimeout", "maxQueueWait"):
        _check_duration(request.get(field), f"properties.requestSettings.{field}")
    scale = optional_dict(props, "scaleSettings", "properties.")
    if scale:
        scale["scaleType"] = canonical(
            scale.get("scaleType"), _SCALE_TYPES, "properties.scaleSettings.scaleType", required=True
        )
    check_sku(body.get("sku"))
    return props


def check_sku(sku: object, *, partial: bool = False) -> None:
    """A ``sku`` object: ``name`` required (unless partial), ``capacity`` a positive integer."""
    if sku is None:
        return
    if not isinstance(sku, dict):
        raise bad_request("'sku' must be an object.", target="sku")
    if not partial and not sku.get("name"):
        raise bad_request("The field 'sku.name' is required.", target="sku.name")
    capacity = sku.get("capacity")
    if capacity is not None:
        _spec_rule("sku.capacity", lambda: validate_instance_count(capacity, "sku.capacity"))


def check_capacity(capacity: object, limit: int, reason: str) -> None:
    """``sku.capacity`` (the instance count) at most ``limit``, this machine's limit (``reason``
    says where it comes from: cores and memory, or the setting)."""
    if isinstance(capacity, int) and not isinstance(capacity, bool) and capacity > limit:
        raise bad_request(
            f"sku.capacity {capacity} is above this machine's limit of {limit} instance"
            f"{'s' if limit != 1 else ''} per deployment ({reason}). Use at most {limit}, or set "
            "MLEP_MAX_INSTANCES for the workspace server (then restart it) to change the limit.",
            target="sku.capacity",
        )


def check_job_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """A ``JobBase`` PUT body: ``jobType`` and the fields its type requires."""
    props = _properties(body)
    job_type = canonical(props.get("jobType"), _JOB_TYPES, "properties.jobType", required=True)
    props["jobType"] = job_type
    required = {
        "Command": ("command", "environmentId"),
        "Sweep": ("objective", "samplingAlgorithm", "searchSpace", "trial"),
    }.get(job_type, ())
    for field in required:
        if not props.get(field):
            raise bad_request(
                f"The field 'properties.{field}' is required for {job_type} jobs.",
                target=f"properties.{field}",
            )
    if job_type == "Sweep":
        objective = props["objective"]
        if not isinstance(objective, dict) or not objective.get("primaryMetric"):
            raise bad_request(
                "'properties.objective' needs goal (Minimize or Maximize) and primaryMetric.",
                target="properties.objective",
            )
        objective["goal"] = canonical(
            objective.get("goal"), _GOALS, "properties.objective.goal", required=True
        )
        algorithm = props["samplingAlgorithm"]
        if not isinstance(algorithm, dict):
            raise bad_request(
                "'properties.samplingAlgorithm' must be an object.", target="properties.samplingAlgorithm"
            )
        algorithm["samplingAlgorithmType"] = canonical(
            algorithm.get("samplingAlgorithmType"),
            _SAMPLING_ALGORITHMS,
            "properties.samplingAlgorithm.samplingAlgorithmType",
            required=True,
        )
        rule = canonical(algorithm.get("rule"), _RANDOM_RULES, "properties.samplingAlgorithm.rule")
        if rule is not None:
            algorithm["rule"] = rule
        policy = optional_dict(props, "earlyTermination", "properties.")
        if policy:
            policy["policyType"] = canonical(
                policy.get("policyType"),
                _TERMINATION_POLICIES,
                "properties.earlyTermination.policyType",
                required=True,
            )
        trial = props["trial"]
        if not isinstance(trial, dict) or not trial.get("command") or not trial.get("environmentId"):
            raise bad_request(
                "'properties.trial' needs command and environmentId.", target="properties.trial"
            )
    limits = optional_dict(props, "limits", "properties.")
    _check_duration(limits.get("timeout"), "properties.limits.timeout")
    return props
