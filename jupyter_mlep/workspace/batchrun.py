"""What a batch deployment runs, and how a batch job is laid out before its driver starts.

:func:`check_batch_deployment` refuses (400) a deployment that cannot run here: wrong settings
(:mod:`.batchsettings`), a model, code or environment that does not exist, a scoring script
missing from its code, an unknown compute, or no scoring script for a model that is not MLflow.
:func:`batch_parts` gives the code folder, scoring script, environment and model of a stored
deployment; an MLflow model without code runs the built-in MLflow scorer of the worker.

A batch job is a command job whose command is the batch driver
(``jupyter_mlep/runtime/_batch_driver.py``, copied into the job's folder with its worker so that
they run in the deployment's environment, process or container): :func:`lay_out_batch` writes
``batch/config.json`` (the files, settings, output file and log folder) and links the model as
``AZUREML_MODEL_DIR`` expects it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .arm import ArmError, bad_request
from .batchsettings import check_batch_settings, model_reference, retry_timeout
from .context import Workspace
from .jobplan import JobPlan, code_path, compute_of
from .resolve import resolve_environment, resolve_model_path

__all__ = [
    "BATCH_LOGS",
    "BatchParts",
    "batch_log_names",
    "batch_parts",
    "check_batch_deployment",
    "job_settings",
    "lay_out_batch",
    "prepare_batch_environment",
]

_RUNTIME = Path(__file__).resolve().parent.parent / "runtime"
_SCRIPTS = ("_batch_driver.py", "_batch_worker.py")
#: The logs of a batch job, as Azure lays them out (below the job's folder).
BATCH_LOGS = (
    "logs/job_progress_overview.txt",
    "logs/job_result.txt",
    "logs/user/error.txt",
    "logs/sys/job_report/processed_mini-batches.csv",
)


@dataclass(frozen=True)
class BatchParts:
    """What a batch deployment runs: code (None for an MLflow model without code), script, environment, model."""

    code: Path | None
    script: str | None
    environment: Any
    model: Path | None


def _model_path(ws: Workspace, props: dict[str, Any]) -> Path | None:
    reference = model_reference(props.get("model"))
    if reference is None:
        return None
    try:
        return resolve_model_path(ws, {"model": reference})
    except ArmError as exc:
        raise bad_request(
            f"The model of the deployment cannot be used: {exc.message} Register the model first "
            "(az ml model create), or fix the reference.",
            target="properties.model",
        ) from None


def batch_parts(ws: Workspace, props: dict[str, Any]) -> BatchParts:
    """The parts of a deployment's (validated) properties; 400 when one is missing."""
    from ..runtime import EnvironmentSpec

    model = _model_path(ws, props)
    code = props.get("codeConfiguration") or {}
    env_id = props.get("environmentId")
    if not code.get("codeId"):
        from .nocode import no_code_parts

        online = {"model": model_reference(props.get("model")), "properties": props.get("properties") or {}}
        if model is None:
            raise bad_request(
                "The deployment has neither a scoring script (codeConfiguration) nor a model. Give a scoring "
                "script with init() and run(mini_batch), or an MLflow model to score without code.",
                target="properties.codeConfiguration",
            )
        if env_id:
            raise bad_request(
                "The deployment gives an environment but no codeConfiguration: give both (a scoring script "
                "and the environment to run it in), or neither for an MLflow model.",
                target="properties.codeConfiguration",
            )
        _, _, environment = no_code_parts(ws, online, model)
        return BatchParts(None, None, environment, model)
    folder = code_path(ws, str(code["codeId"]))
    script = str(code["scoringScript"])
    if not (folder / script).is_file():
        raise bad_request(
            f"The scoring script '{script}' is not in the deployment's code ({code['codeId']}).",
            target="properties.codeConfiguration.scoringScript",
        )
    try:
        environment = resolve_environment(ws, str(env_id)) if env_id else EnvironmentSpec()
    except ArmError as exc:
        raise bad_request(
            f"The environment of the deployment cannot be used: {exc.message}",
            target="properties.environmentId",
        ) from None
    return BatchParts(folder, script, environment, model)


def check_batch_deployment(ws: Workspace, props: dict[str, Any]) -> dict[str, Any]:
    """The validated properties with defaults (blocking: MLflow models are inspected)."""
    from .computes import compute_concurrency

    props = check_batch_settings(props)
    compute = compute_of({"computeId": props.get("compute")})
    if compute is not None and compute_concurrency(ws, compute) is None:
        raise bad_request(
            f"Compute '{compute}' is not found in workspace 'local'. Create it first (az ml compute create), "
            "or leave compute out.",
            target="properties.compute",
        )
    batch_parts(ws, props)
    return props


def prepare_batch_environment(ws: Workspace, props: dict[str, Any], resource: str) -> Any:
    """Build (or take from the cache) the deployment's environment; its log goes with the deployment."""
    from ..runtime import prepare_job_environment
    from .jobrun import _job_runtime, _settings

    settings = _settings(ws)
    parts = batch_parts(ws, props)
    log = ws.paths.root / "batch" / (resource.replace("/", "_") + ".environment.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    return prepare_job_environment(settings, _job_runtime(props, settings), parts.environment, log)


def lay_out_batch(ws: Workspace, folder: Path, plan: JobPlan, batch: dict[str, Any]) -> Any:
    """Write the driver, its worker and ``batch/config.json`` into the job's folder; the environment to run in."""
    props = batch["deployment"]
    parts = batch_parts(ws, props)
    target = folder / "batch"
    target.mkdir(parents=True, exist_ok=True)
    for script in _SCRIPTS:
        shutil.copy2(_RUNTIME / script, target / script.removeprefix("_batch_"))
    model_dir = folder / "azureml-models"
    if parts.model is not None:
        model_dir.mkdir(exist_ok=True)
        (model_dir / parts.model.name).symlink_to(parts.model)
        plan.mounts.append(parts.model)  # a container sees the link's target at the same path
    source = Path(plan.inputs["input_data"])
    files = [source] if source.is_file() else sorted(p for p in source.iterdir() if p.is_file())
    settings = batch["settings"]
    config = {
        "files": [str(path) for path in files],
        "script": str(plan.workdir / parts.script) if parts.script else None,
        "code": str(plan.workdir),
        "model_dir": str(model_dir),
        "output": str(Path(plan.outputs["score"]) / settings["outputFileName"]),
        "logs": str(folder / "logs"),
        "mini_batch_size": settings["miniBatchSize"],
        "workers": settings["instanceCount"] * settings["maxConcurrencyPerInstance"],
        "error_threshold": settings["errorThreshold"],
        "max_retries": settings["maxRetries"],
        "timeout": settings["timeout"],
        "append_row": settings["outputAction"] == "AppendRow",
        "logging_level": settings["loggingLevel"],
    }
    (target / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    return parts.environment


def job_settings(props: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The settings a job runs with: the deployment's, then the invocation's overrides."""
    settings = {
        "miniBatchSize": props["miniBatchSize"],
        "maxConcurrencyPerInstance": props["maxConcurrencyPerInstance"],
        "instanceCount": props["resources"]["instanceCount"],
        "errorThreshold": props["errorThreshold"],
        "maxRetries": props["retrySettings"]["maxRetries"],
        "timeout": retry_timeout(props),
        "outputAction": props["outputAction"],
        "outputFileName": props["outputFileName"],
        "loggingLevel": props["loggingLevel"],
    }
    settings.update({key: value for key, value in overrides.items() if value is not None})
    return settings


def batch_log_names(batch: dict[str, Any]) -> list[str]:
    """The log files of a batch job (relative to its folder), the workers' included."""
    settings = batch["settings"]
    workers = settings["instanceCount"] * settings["maxConcurrencyPerInstance"]
    return [*BATCH_LOGS, *(f"logs/user/stdout/process{index:03d}.stdout.txt" for index in range(workers))]
