"""Batch deployments (``modelBatchDeployment.schema.json``, ``batchDeployment.schema.json``) and
their REST ``BatchDeployment`` bodies.

The scoring settings may sit under ``settings:`` (the model batch deployment schema) or at the
root of the file (the older batch deployment schema), as the Azure ML docs show both; they are
read into the same fields and written back under ``settings:``. Inline models, code folders and
environments are registered by the operations layer first (as for online deployments) and their
ids passed to :meth:`BatchDeployment.to_rest`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, model_validator

from .._errors import SpecValidationError
from ._assets import CodeConfiguration, ModelOrReference, resolve_asset_id
from ._base import ComputeValue, SpecModel, StrDict, TopLevelSpec, compact, one_of, parse_spec
from ._deployment import check_inline_assets, require_endpoint_name
from ._durations import format_duration, parse_duration
from ._endpoint import require_location
from ._environment import EnvironmentOrReference
from ._references import AssetReference
from ._validation import validate_instance_count, validate_name

__all__ = ["BatchDeployment", "BatchResources", "BatchRetrySettings"]

SETTINGS = (
    "mini_batch_size",
    "max_concurrency_per_instance",
    "error_threshold",
    "logging_level",
    "retry_settings",
    "output_action",
    "output_file_name",
    "environment_variables",
)
"""The keys a file may write under ``settings:`` or at its root."""
_OUTPUT_ACTIONS = {"append_row": "AppendRow", "summary_only": "SummaryOnly"}
_LOGGING_LEVELS = {"info": "Info", "warning": "Warning", "debug": "Debug"}


class BatchRetrySettings(SpecModel):
    """How often a failed mini-batch is tried again, and how long one may run (seconds)."""

    max_retries: int = 3
    timeout: int = 30

    def to_rest(self) -> dict[str, Any]:
        """The REST ``retrySettings``."""
        return {"maxRetries": self.max_retries, "timeout": format_duration(self.timeout)}

    @staticmethod
    def from_rest(body: dict[str, Any]) -> dict[str, Any]:
        """The YAML mapping of a REST ``retrySettings``."""
        timeout = body.get("timeout")
        return compact(
            {
                "max_retries": body.get("maxRetries"),
                "timeout": round(parse_duration(timeout)) if isinstance(timeout, str) else timeout,
            }
        )


class BatchResources(SpecModel):
    """The instances a batch deployment runs on."""

    instance_count: int = 1
    instance_type: str | None = None
    properties: dict[str, Any] | None = None


class BatchDeployment(TopLevelSpec):
    """A model batch deployment: a model (and optionally its scoring code) scoring files in parallel.

    ``instance_count × max_concurrency_per_instance`` workers each call ``init()`` once, then
    ``run(mini_batch)`` with ``mini_batch_size`` files at a time.
    """

    kind: ClassVar[str] = "batchDeployment"
    name: str
    endpoint_name: str | None = None
    type: Annotated[Literal["model"], BeforeValidator(one_of("model"))] = "model"
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None
    model: ModelOrReference | None = None
    code_configuration: CodeConfiguration | None = None
    environment: EnvironmentOrReference | None = None
    compute: ComputeValue | None = None
    resources: BatchResources | None = None
    mini_batch_size: int = 10
    max_concurrency_per_instance: int = 1
    error_threshold: int = -1
    logging_level: Annotated[
        Literal["info", "warning", "debug"], BeforeValidator(one_of(*_LOGGING_LEVELS))
    ] = "info"
    retry_settings: BatchRetrySettings | None = None
    output_action: Annotated[
        Literal["append_row", "summary_only"], BeforeValidator(one_of(*_OUTPUT_ACTIONS))
    ] = "append_row"
    output_file_name: str = "predictions.csv"
    environment_variables: StrDict | None = None
    id: str | None = None
    provisioning_state: str | None = None
    location: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_settings(cls, data: Any) -> Any:
        """Read ``settings:`` into the root fields (a key set in both places must agree)."""
        if not isinstance(data, dict) or not isinstance(data.get("settings"), dict):
            return data
        data = dict(data)
        settings = data.pop("settings")
        for key, value in settings.items():
            if key in data and data[key] != value:
                raise ValueError(
                    f"{key} is set both under settings: ({value!r}) and at the root ({data[key]!r}); keep one"
                )
            data[key] = value
        return data

    @property
    def instance_count(self) -> int:
        """``resources.instance_count`` (1 by default)."""
        return self.resources.instance_count if self.resources else 1

    @property
    def workers(self) -> int:
        """How many processes score at once: instances × concurrency per instance."""
        return self.instance_count * self.max_concurrency_per_instance

    def check(self, *, complete: bool = False) -> None:
        """Check names, counts and settings; with ``complete``, also what a REST body needs."""
        validate_name(self.name, "deployment")
        validate_instance_count(self.instance_count, "resources.instance_count")
        for key, low in (
            ("mini_batch_size", 1),
            ("max_concurrency_per_instance", 1),
            ("error_threshold", -1),
        ):
            value = getattr(self, key)
            if value < low:
                raise SpecValidationError(
                    f"{key} of batch deployment {self.name!r} is {value}; it must be at least {low}.",
                    hint=_SETTING_HINTS[key],
                )
        retry = self.retry_settings
        if retry is not None and (retry.max_retries < 0 or retry.timeout <= 0):
            raise SpecValidationError(
                f"retry_settings of {self.name!r} need max_retries ≥ 0 and a timeout above 0 seconds "
                f"(got {retry.max_retries} and {retry.timeout}).",
                hint="For example retry_settings: {max_retries: 3, timeout: 30}.",
            )
        if not self.output_file_name.strip() or any(sep in self.output_file_name for sep in "/\\"):
            raise SpecValidationError(
                f"output_file_name of {self.name!r} must be a file name, not {self.output_file_name!r}.",
                hint="Write a plain file name such as predictions.csv.",
            )
        check_inline_assets(self.model, self.environment, complete=complete)
        if complete:
            self._check_complete()

    def _check_complete(self) -> None:
        where = f"Batch deployment {self.name!r}"
        require_endpoint_name(self.endpoint_name, where)
        if self.model is None:
            raise SpecValidationError(
                f"{where} has no model.",
                hint="Set model: to a local path (model: {path: ...}) or azureml:<name>:<version>.",
            )
        if (self.code_configuration is None) != (self.environment is None):
            missing = "environment" if self.environment is None else "code_configuration"
            raise SpecValidationError(
                f"{where} has {'a code_configuration' if missing == 'environment' else 'an environment'} "
                f"but no {missing}.",
                hint="Give both code_configuration (a scoring script with init() and run(mini_batch)) and "
                "environment, or neither for an MLflow model scored without code.",
            )

    def to_rest(
        self,
        *,
        workspace: str | None = None,
        location: str | None = None,
        endpoint_name: str | None = None,
        model_id: str | None = None,
        code_id: str | None = None,
        environment_id: str | None = None,
    ) -> dict[str, Any]:
        """The REST ``BatchDeployment`` body of a create-or-update (PUT), defaults applied.

        ``model_id``, ``code_id`` and ``environment_id`` are the ids of registered inline assets.
        """
        updates: dict[str, Any] = {"endpoint_name": endpoint_name} if endpoint_name else {}
        if model_id and self.model is None:
            updates["model"] = AssetReference.parse(model_id, strict=False)
        spec = self.model_copy(update=updates) if updates else self
        spec.check(complete=True)
        model = resolve_asset_id(
            spec.model, model_id, workspace=workspace, asset_type="models", what="model", argument="model_id"
        )
        environment = resolve_asset_id(
            spec.environment,
            environment_id,
            workspace=workspace,
            asset_type="environments",
            what="environment",
            argument="environment_id",
        )
        code = spec.code_configuration
        properties = {
            "description": spec.description,
            "properties": spec.properties,
            "model": {"referenceType": "Id", "assetId": model},
            "codeConfiguration": code.to_rest(workspace=workspace, code_id=code_id) if code else None,
            "environmentId": environment,
            "environmentVariables": spec.environment_variables,
            "compute": spec.compute.rest_id(workspace, "computes") if spec.compute else None,
            "resources": compact(
                {
                    "instanceCount": spec.instance_count,
                    "instanceType": spec.resources.instance_type if spec.resources else None,
                    "properties": spec.resources.properties if spec.resources else None,
                }
            ),
            "miniBatchSize": spec.mini_batch_size,
            "maxConcurrencyPerInstance": spec.max_concurrency_per_instance,
            "errorThreshold": spec.error_threshold,
            "loggingLevel": _LOGGING_LEVELS[spec.logging_level],
            "retrySettings": (spec.retry_settings or BatchRetrySettings()).to_rest(),
            "outputAction": _OUTPUT_ACTIONS[spec.output_action],
            "outputFileName": spec.output_file_name,
        }
        return compact(
            {
                "location": require_location(location or spec.location, "batch deployment"),
                "tags": spec.tags,
                "properties": compact(properties),
            }
        )

    def to_yaml_dict(self) -> dict[str, Any]:
        """The CLI-style YAML mapping, scoring settings under ``settings:``."""
        data = super().to_yaml_dict()
        settings = {key: data.pop(key) for key in SETTINGS if key in data}
        return {**data, "settings": settings}

    @classmethod
    def from_rest(
        cls, body: dict[str, Any], *, name: str | None = None, endpoint_name: str | None = None
    ) -> BatchDeployment:
        """A batch deployment from a REST body (``endpoint_name`` from the URL or the id)."""
        props = body.get("properties") or {}
        rid = str(body.get("id") or "")
        found = rid.split("/batchEndpoints/", 1)[1].split("/", 1)[0] if "/batchEndpoints/" in rid else None
        code = props.get("codeConfiguration")
        resources = props.get("resources") or {}
        data: dict[str, Any] = {
            "name": name or body.get("name") or (rid.rsplit("/", 1)[-1] if found else None),
            "endpoint_name": endpoint_name or found,
            "description": props.get("description"),
            "tags": body.get("tags"),
            "properties": props.get("properties"),
            "model": (props.get("model") or {}).get("assetId"),
            "code_configuration": {"code": code.get("codeId"), "scoring_script": code.get("scoringScript")}
            if code
            else None,
            "environment": props.get("environmentId"),
            "environment_variables": props.get("environmentVariables"),
            "compute": props.get("compute"),
            "resources": compact(
                {
                    "instance_count": resources.get("instanceCount"),
                    "instance_type": resources.get("instanceType"),
                    "properties": resources.get("properties"),
                }
            )
            or None,
            "mini_batch_size": props.get("miniBatchSize"),
            "max_concurrency_per_instance": props.get("maxConcurrencyPerInstance"),
            "error_threshold": props.get("errorThreshold"),
            "logging_level": props.get("loggingLevel"),
            "retry_settings": BatchRetrySettings.from_rest(props["retrySettings"])
            if props.get("retrySettings")
            else None,
            "output_action": props.get("outputAction"),
            "output_file_name": props.get("outputFileName"),
            "id": body.get("id"),
            "provisioning_state": props.get("provisioningState"),
            "location": body.get("location"),
        }
        return parse_spec(cls, compact(data), rest=True)


_SETTING_HINTS = {
    "mini_batch_size": "Set settings.mini_batch_size to the number of files each run() call gets, e.g. 10.",
    "max_concurrency_per_instance": "Set settings.max_concurrency_per_instance to 1 or more worker "
    "processes per instance.",
    "error_threshold": "Set settings.error_threshold to -1 (ignore every failure) or to the number of failed "
    "files the job tolerates.",
}
