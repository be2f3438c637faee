"""jupyter_mlep: from a trained model in a notebook to a live, scored, safely rolled-out endpoint.

``%load_ext jupyter_mlep`` registers the magics. The public API is flat (``jupyter_mlep.X``) and
is exactly ``__all__``: the verbs as functions over a client from :func:`connect`, the results they
return, the YAML loaders, the scoring-script check and the exception tree. Everything heavy is
imported on first use, so importing the package and loading the extension stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CredentialError,
    DeploymentNotFoundError,
    DeploymentStartError,
    DockerUnavailableError,
    EnvironmentBuildError,
    JobFailedError,
    MlepError,
    NotFoundError,
    OperationFailedError,
    OperationInterruptedError,
    OperationTimeoutError,
    PlaceholderError,
    RecipeError,
    RestError,
    RolloutError,
    RolloutInterruptedError,
    RuntimeBackendError,
    ScoreScriptError,
    ScoreTestError,
    ServiceError,
    ServiceUnreachableError,
    SettingsError,
    SpecError,
    SpecValidationError,
    ThrottledError,
    UsageError,
    WorkspaceError,
    WorkspaceStartError,
    WorkspaceUnavailableError,
)
from ._version import __version__

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .operations import (
        BatchJob,
        DeployResult,
        InvokeResult,
        JobDetails,
        JobList,
        RolloutResult,
        cancel_job,
        create_batch_endpoint,
        create_endpoint,
        create_job,
        create_resource,
        delete_batch_endpoint,
        delete_deployment,
        delete_endpoint,
        delete_resource,
        deploy,
        deploy_batch,
        describe_batch_endpoint,
        download_job_outputs,
        dry_run,
        get_batch_job,
        get_deployment,
        get_endpoint,
        get_job,
        get_job_logs,
        get_job_metrics,
        get_keys,
        get_logs,
        get_snippet,
        get_swagger,
        get_token,
        get_traffic,
        invoke,
        invoke_batch,
        list_batch_jobs,
        list_deployments,
        list_endpoints,
        list_jobs,
        list_resources,
        profile,
        regenerate_key,
        register_job_model,
        rollout,
        scale_deployment,
        show_resource,
        stream_job,
        update_traffic,
        use_mlflow,
        wait_for_job,
    )
    from .rest import RestClient
    from .scoring import ScoreScript, ScoreTestResult, check_score_script, smoke_test_score_script
    from .settings import Settings
    from .settings import resolve as resolve_settings
    from .specs import (
        load_batch_deployment,
        load_batch_endpoint,
        load_deployment,
        load_endpoint,
        load_environment,
        load_job,
        load_model,
        load_spec,
    )

# Public names imported on first access (module, attribute).
_LAZY = {
    "BatchJob": ("operations", "BatchJob"),
    "create_batch_endpoint": ("operations", "create_batch_endpoint"),
    "delete_batch_endpoint": ("operations", "delete_batch_endpoint"),
    "deploy_batch": ("operations", "deploy_batch"),
    "describe_batch_endpoint": ("operations", "describe_batch_endpoint"),
    "dry_run": ("operations", "dry_run"),
    "get_batch_job": ("operations", "get_batch_job"),
    "invoke_batch": ("operations", "invoke_batch"),
    "list_batch_jobs": ("operations", "list_batch_jobs"),
    "load_batch_deployment": ("specs", "load_batch_deployment"),
    "load_batch_endpoint": ("specs", "load_batch_endpoint"),
    "use_mlflow": ("operations", "use_mlflow"),
    "download_job_outputs": ("operations", "download_job_outputs"),
    "get_job_logs": ("operations", "get_job_logs"),
    "get_job_metrics": ("operations", "get_job_metrics"),
    "register_job_model": ("operations", "register_job_model"),
    "stream_job": ("operations", "stream_job"),
    "JobDetails": ("operations", "JobDetails"),
    "JobList": ("operations", "JobList"),
    "cancel_job": ("operations", "cancel_job"),
    "create_job": ("operations", "create_job"),
    "get_job": ("operations", "get_job"),
    "list_jobs": ("operations", "list_jobs"),
    "wait_for_job": ("operations", "wait_for_job"),
    "DeployResult": ("operations", "DeployResult"),
    "InvokeResult": ("operations", "InvokeResult"),
    "RolloutResult": ("operations", "RolloutResult"),
    "create_endpoint": ("operations", "create_endpoint"),
    "create_resource": ("operations", "create_resource"),
    "delete_resource": ("operations", "delete_resource"),
    "list_resources": ("operations", "list_resources"),
    "show_resource": ("operations", "show_resource"),
    "delete_deployment": ("operations", "delete_deployment"),
    "delete_endpoint": ("operations", "delete_endpoint"),
    "deploy": ("operations", "deploy"),
    "get_deployment": ("operations", "get_deployment"),
    "get_endpoint": ("operations", "get_endpoint"),
    "get_keys": ("operations", "get_keys"),
    "get_logs": ("operations", "get_logs"),
    "get_snippet": ("operations", "get_snippet"),
    "get_swagger": ("operations", "get_swagger"),
    "profile": ("operations", "profile"),
    "get_token": ("operations", "get_token"),
    "get_traffic": ("operations", "get_traffic"),
    "invoke": ("operations", "invoke"),
    "list_deployments": ("operations", "list_deployments"),
    "list_endpoints": ("operations", "list_endpoints"),
    "regenerate_key": ("operations", "regenerate_key"),
    "rollout": ("operations", "rollout"),
    "scale_deployment": ("operations", "scale_deployment"),
    "update_traffic": ("operations", "update_traffic"),
    "RestClient": ("rest", "RestClient"),
    "connect": ("operations", "connect"),
    "ScoreScript": ("scoring", "ScoreScript"),
    "ScoreTestResult": ("scoring", "ScoreTestResult"),
    "Settings": ("settings", "Settings"),
    "check_score_script": ("scoring", "check_score_script"),
    "load_deployment": ("specs", "load_deployment"),
    "load_endpoint": ("specs", "load_endpoint"),
    "load_environment": ("specs", "load_environment"),
    "load_job": ("specs", "load_job"),
    "load_model": ("specs", "load_model"),
    "load_spec": ("specs", "load_spec"),
    "resolve_settings": ("settings", "resolve"),
    "smoke_test_score_script": ("scoring", "smoke_test_score_script"),
}

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BatchJob",
    "ConflictError",
    "CredentialError",
    "DeployResult",
    "DeploymentNotFoundError",
    "DeploymentStartError",
    "DockerUnavailableError",
    "EnvironmentBuildError",
    "InvokeResult",
    "JobDetails",
    "JobFailedError",
    "JobList",
    "MlepError",
    "NotFoundError",
    "OperationFailedError",
    "OperationInterruptedError",
    "OperationTimeoutError",
    "PlaceholderError",
    "RecipeError",
    "RestClient",
    "RestError",
    "RolloutError",
    "RolloutInterruptedError",
    "RolloutResult",
    "RuntimeBackendError",
    "ScoreScript",
    "ScoreScriptError",
    "ScoreTestError",
    "ScoreTestResult",
    "ServiceError",
    "ServiceUnreachableError",
    "Settings",
    "SettingsError",
    "SpecError",
    "SpecValidationError",
    "ThrottledError",
    "UsageError",
    "WorkspaceError",
    "WorkspaceStartError",
    "WorkspaceUnavailableError",
    "__version__",
    "cancel_job",
    "check_score_script",
    "connect",
    "create_batch_endpoint",
    "create_endpoint",
    "create_job",
    "create_resource",
    "delete_batch_endpoint",
    "delete_deployment",
    "delete_endpoint",
    "delete_resource",
    "deploy",
    "deploy_batch",
    "describe_batch_endpoint",
    "download_job_outputs",
    "dry_run",
    "get_batch_job",
    "get_deployment",
    "get_endpoint",
    "get_job",
    "get_job_logs",
    "get_job_metrics",
    "get_keys",
    "get_logs",
    "get_snippet",
    "get_swagger",
    "get_token",
    "get_traffic",
    "invoke",
    "invoke_batch",
    "list_batch_jobs",
    "list_deployments",
    "list_endpoints",
    "list_jobs",
    "list_resources",
    "load_batch_deployment",
    "load_batch_endpoint",
    "load_deployment",
    "load_endpoint",
    "load_environment",
    "load_ipython_extension",
    "load_job",
    "load_model",
    "load_spec",
    "profile",
    "regenerate_key",
    "register_job_model",
    "resolve_settings",
    "rollout",
    "scale_deployment",
    "show_resource",
    "smoke_test_score_script",
    "stream_job",
    "unload_ipython_extension",
    "update_traffic",
    "use_mlflow",
    "wait_for_job",
]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the jupyter_mlep magics (``%load_ext jupyter_mlep``)."""
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Nothing to undo: IPython keeps registered magics until the kernel restarts."""


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where ``jupyter labextension develop`` finds the built JupyterLab extension (a source
    checkout; the wheel installs it under ``share/jupyter/labextensions/jupyter-mlep``)."""
    return [{"src": "../labextension/dist/jupyter-mlep", "dest": "jupyter-mlep"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The Jupyter server extension of the JupyterLab panel (:mod:`jupyter_mlep.server`)."""
    return [{"module": "jupyter_mlep.server"}]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'jupyter_mlep' has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
