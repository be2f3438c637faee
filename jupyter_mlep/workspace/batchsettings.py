"""A batch deployment's settings, checked as Azure checks them and completed with the spec's defaults.

:func:`check_batch_settings` validates the ``BatchDeploymentProperties`` of a PUT (enums in any
case, answered in the spec's spelling) and returns them with the defaults of the 2026-07-01 spec
filled in. :func:`model_reference` turns the deployment's ``model`` (an ``AssetReferenceBase``:
``Id``, ``DataPath`` or ``OutputPath``) into the reference string the workspace resolves.
"""

from __future__ import annotations

import copy
from typing import Any

from .arm import bad_request
from .resolve import duration_seconds
from .validation import canonical, check_code_configuration, optional_dict

__all__ = ["BATCH_DEFAULTS", "check_batch_settings", "model_reference", "retry_timeout"]

BATCH_DEFAULTS: dict[str, Any] = {
    "miniBatchSize": 10,
    "maxConcurrencyPerInstance": 1,
    "errorThreshold": -1,
    "outputAction": "AppendRow",
    "outputFileName": "predictions.csv",
    "loggingLevel": "Info",
}
_RETRY_DEFAULTS = {"maxRetries": 3, "timeout": "PT30S"}
_INT32 = 2**31 - 1


def _integer(value: object, field: str, minimum: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= _INT32:
        raise bad_request(
            f"'properties.{field}' must be {what}, not {value!r}.", target=f"properties.{field}"
        )
    return value


def _strings(props: dict[str, Any], key: str) -> dict[str, Any]:
    values = optional_dict(props, key, "properties.")
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise bad_request(f"'properties.{key}.{name}' must be a string.", target=f"properties.{key}")
    return values


def model_reference(model: object) -> str | None:
    """The model as a reference string (an asset id, a datastore URI, a job output URI), or None."""
    if model is None or isinstance(model, str):
        return model or None
    if not isinstance(model, dict):
        raise bad_request("'properties.model' must be an asset reference object.", target="properties.model")
    kind = canonical(
        model.get("referenceType"),
        ("Id", "DataPath", "OutputPath"),
        "properties.model.referenceType",
        required=True,
    )
    if kind == "Id":
        if not isinstance(model.get("assetId"), str) or not model["assetId"]:
            raise bad_request(
                "A model reference of type Id needs 'assetId'.", target="properties.model.assetId"
            )
        return str(model["assetId"])
    path = str(model.get("path") or "").strip("/")
    if kind == "DataPath":
        store = str(model.get("datastoreId") or "").rstrip("/").rsplit("/", 1)[-1]
        if not store or not path:
            raise bad_request("A DataPath model needs 'datastoreId' and 'path'.", target="properties.model")
        return f"azureml://datastores/{store}/paths/{path}"
    job = str(model.get("jobId") or "").rstrip("/").rsplit("/", 1)[-1]
    if not job:
        raise bad_request("An OutputPath model needs 'jobId'.", target="properties.model.jobId")
    return f"azureml://jobs/{job}/outputs/artifacts/paths/{path}"


def retry_timeout(props: dict[str, Any]) -> float:
    """The per-mini-batch timeout in seconds."""
    return duration_seconds((props.get("retrySettings") or {}).get("timeout"), 30.0)


def check_batch_settings(props: dict[str, Any]) -> dict[str, Any]:
    """The validated properties with the spec's defaults (a 400 names the first wrong field)."""
    props = copy.deepcopy(props)
    model_reference(props.get("model"))
    for key, value in BATCH_DEFAULTS.items():
        if props.get(key) is None:
            props[key] = value
    props["miniBatchSize"] = _integer(
        props["miniBatchSize"], "miniBatchSize", 1, "a whole number of at least 1"
    )
    props["maxConcurrencyPerInstance"] = _integer(
        props["maxConcurrencyPerInstance"], "maxConcurrencyPerInstance", 1, "a whole number of at least 1"
    )
    props["errorThreshold"] = _integer(
        props["errorThreshold"], "errorThreshold", -1, "-1 (no limit) or a whole number of at least 0"
    )
    props["outputAction"] = canonical(
        props["outputAction"], ("SummaryOnly", "AppendRow"), "properties.outputAction"
    )
    props["loggingLevel"] = canonical(
        props["loggingLevel"], ("Info", "Warning", "Debug"), "properties.loggingLevel"
    )
    name = props["outputFileName"]
    if not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name or name in (".", ".."):
        raise bad_request(
            f"'properties.outputFileName' must be a file name (no folders), not {name!r}.",
            target="properties.outputFileName",
        )
    retry = {
        **_RETRY_DEFAULTS,
        **{k: v for k, v in optional_dict(props, "retrySettings", "properties.").items() if v is not None},
    }
    retry["maxRetries"] = _integer(
        retry["maxRetries"], "retrySettings.maxRetries", 0, "a whole number (0 or more)"
    )
    if duration_seconds(retry["timeout"], -1.0) <= 0:
        raise bad_request(
            f"'properties.retrySettings.timeout' must be a positive ISO 8601 duration (PT30S), not "
            f"{retry['timeout']!r}.",
            target="properties.retrySettings.timeout",
        )
    props["retrySettings"] = retry
    resources = {"instanceCount": 1, **optional_dict(props, "resources", "properties.")}
    resources["instanceCount"] = _integer(
        resources["instanceCount"] if resources["instanceCount"] is not None else 1,
        "resources.instanceCount",
        1,
        "a whole number of at least 1",
    )
    props["resources"] = resources
    check_code_configuration(props)
    configuration = optional_dict(props, "deploymentConfiguration", "properties.")
    kind = configuration.get("deploymentConfigurationType")
    if (
        kind is not None
        and canonical(kind, ("Model", "PipelineComponent"), "deploymentConfigurationType") != "Model"
    ):
        raise bad_request(
            "Pipeline component batch deployments cannot run in the local workspace; deploy a model "
            "(type: model), or run this deployment on Azure.",
            target="properties.deploymentConfiguration",
        )
    props["environmentVariables"] = _strings(props, "environmentVariables")
    props["properties"] = _strings(props, "properties")
    return props
