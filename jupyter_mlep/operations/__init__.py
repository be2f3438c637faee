"""Operations on online endpoints and deployments: plain Python over :mod:`jupyter_mlep.rest`.

Every function takes a :class:`~jupyter_mlep.rest.RestClient` (either target) and returns plain
objects (specs, :class:`EndpointKeys`, strings). Changes to one endpoint made from this process
are serialized; the service's own "operation in progress" conflicts are waited out by the client.

:func:`deploy` (check, register, create or update, wait, route traffic) and :func:`invoke` (score
with the endpoint's key or token) are the high-level calls; each result renders itself (a
:class:`jupyter_mlep.rendering.Result`). Traffic has one owner (:mod:`._traffic`): the splitter
(:func:`split_traffic`), the wait until the endpoint reports a split, and :func:`format_split`.
Batch endpoints: :func:`deploy_batch`, :func:`invoke_batch` (a job that scores a folder of files),
:func:`list_batch_jobs`, :func:`dry_run` (the first mini-batch in this process).
:func:`rollout` moves traffic to a deployment step by step behind gates (see :mod:`._rollout`).
:func:`get_swagger` reads an endpoint's OpenAPI document. :func:`create_resource` creates what any
supported Azure ML CLI v2 YAML file describes; :func:`show_resource`, :func:`list_resources` and
:func:`delete_resource` take a kind (an az ml noun) and a name.
"""

from .._resource_kinds import RESOURCE_KINDS
from ._assets import (
    DeploymentAssets,
    register_data,
    register_deployment_assets,
    register_environment,
    upload_local,
)
from ._batch import (
    check_batch_deployment,
    create_batch_endpoint,
    delete_batch_endpoint,
    deploy_batch,
    describe_batch_endpoint,
    get_batch_deployment,
    get_batch_endpoint,
    list_batch_deployments,
    list_batch_endpoints,
    set_default_deployment,
)
from ._batch_dry_run import dry_run
from ._batch_invoke import follow_batch_job, get_batch_job, invoke_batch, list_batch_jobs, read_progress
from ._batch_results import (
    BatchEndpointDetails,
    BatchEndpointList,
    BatchJob,
    BatchJobList,
    BatchProgress,
    DryRunResult,
)
from ._connect import connect
from ._debug import DebugAttach, with_debugger
from ._deploy import DEPLOY_PHASES, DeployStep, PhaseCallback, check_deployment_script, deploy
from ._deployments import (
    LOG_CONTAINERS,
    LogFollower,
    check_container,
    create_or_update_deployment,
    delete_deployment,
    get_deployment,
    get_logs,
    list_deployments,
    scale_deployment,
)
from ._endpoints import (
    EndpointKeys,
    EndpointToken,
    create_endpoint,
    delete_endpoint,
    get_endpoint,
    get_keys,
    get_token,
    list_endpoints,
    regenerate_key,
)
from ._gates import Gate, GateCheck, Measurement, parse_gate, parse_gates, parse_interval, parse_steps
from ._invoke import invoke
from ._job_results import JobDetails, JobList, JobLogs, JobMetrics, JobOutputs, RegisteredModel
from ._job_runs import download_job_outputs, get_job_logs, get_job_metrics, register_job_model, stream_job
from ._jobs import cancel_job, create_job, get_job, list_jobs, wait_for_job
from ._metric_window import DeploymentRequests, WindowMetrics, recent_requests, window_metrics
from ._metrics import MetricPoint, MetricSeries, MetricsResult, get_metrics
from ._migrate_v1 import V1Migration, migrate_v1
from ._profile import DEFAULT_CONCURRENCY, DEFAULT_TARGET_P95_MS, LevelProgress, profile
from ._profile_result import ProfileLevel, ProfileResult
from ._recommend import Recommendation, recommend
from ._resource_create import CREATABLE_KINDS, create_resource, resource_kind
from ._resource_results import ResourceList, ResourceResult
from ._resources import delete_resource, list_resources, show_resource
from ._results import (
    DeployResult,
    EndpointDetails,
    EndpointList,
    InvokeResult,
    KeysResult,
    LogsResult,
    RolloutResult,
    RolloutStep,
    TrafficResult,
)
from ._rollout import RolloutEvent, rollout
from ._snippet import SNIPPET_LANGUAGES, SnippetResult, get_snippet, secret_variable, swagger_example
from ._swagger import SwaggerResult, get_swagger
from ._sweeps import SweepDetails, SweepTrial, best_trial, follow_sweep, get_sweep
from ._tracking import use_mlflow
from ._traffic import (
    describe_endpoint,
    format_split,
    get_traffic,
    list_all,
    same_split,
    set_traffic,
    split_traffic,
    traffic_problem,
    update_traffic,
    wait_for_traffic,
)

__all__ = [
    "CREATABLE_KINDS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TARGET_P95_MS",
    "DEPLOY_PHASES",
    "LOG_CONTAINERS",
    "RESOURCE_KINDS",
    "SNIPPET_LANGUAGES",
    "BatchEndpointDetails",
    "BatchEndpointList",
    "BatchJob",
    "BatchJobList",
    "BatchProgress",
    "DebugAttach",
    "DeployResult",
    "DeployStep",
    "DeploymentAssets",
    "DeploymentRequests",
    "DryRunResult",
    "EndpointDetails",
    "EndpointKeys",
    "EndpointList",
    "EndpointToken",
    "Gate",
    "GateCheck",
    "InvokeResult",
    "JobDetails",
    "JobList",
    "JobLogs",
    "JobMetrics",
    "JobOutputs",
    "KeysResult",
    "LevelProgress",
    "LogFollower",
    "LogsResult",
    "Measurement",
    "MetricPoint",
    "MetricSeries",
    "MetricsResult",
    "PhaseCallback",
    "ProfileLevel",
    "ProfileResult",
    "Recommendation",
    "RegisteredModel",
    "ResourceList",
    "ResourceResult",
    "RolloutEvent",
    "RolloutResult",
    "RolloutStep",
    "SnippetResult",
    "SwaggerResult",
    "SweepDetails",
    "SweepTrial",
    "TrafficResult",
    "V1Migration",
    "WindowMetrics",
    "best_trial",
    "cancel_job",
    "check_batch_deployment",
    "check_container",
    "check_deployment_script",
    "connect",
    "create_batch_endpoint",
    "create_endpoint",
    "create_job",
    "create_or_update_deployment",
    "create_resource",
    "delete_batch_endpoint",
    "delete_deployment",
    "delete_endpoint",
    "delete_resource",
    "deploy",
    "deploy_batch",
    "describe_batch_endpoint",
    "describe_endpoint",
    "download_job_outputs",
    "dry_run",
    "follow_batch_job",
    "follow_sweep",
    "format_split",
    "get_batch_deployment",
    "get_batch_endpoint",
    "get_batch_job",
    "get_deployment",
    "get_endpoint",
    "get_job",
    "get_job_logs",
    "get_job_metrics",
    "get_keys",
    "get_logs",
    "get_metrics",
    "get_snippet",
    "get_swagger",
    "get_sweep",
    "get_token",
    "get_traffic",
    "invoke",
    "invoke_batch",
    "list_all",
    "list_batch_deployments",
    "list_batch_endpoints",
    "list_batch_jobs",
    "list_deployments",
    "list_endpoints",
    "list_jobs",
    "list_resources",
    "migrate_v1",
    "parse_gate",
    "parse_gates",
    "parse_interval",
    "parse_steps",
    "profile",
    "read_progress",
    "recent_requests",
    "recommend",
    "regenerate_key",
    "register_data",
    "register_deployment_assets",
    "register_environment",
    "register_job_model",
    "resource_kind",
    "rollout",
    "same_split",
    "scale_deployment",
    "secret_variable",
    "set_default_deployment",
    "set_traffic",
    "show_resource",
    "split_traffic",
    "stream_job",
    "swagger_example",
    "traffic_problem",
    "update_traffic",
    "upload_local",
    "use_mlflow",
    "wait_for_job",
    "wait_for_traffic",
    "window_metrics",
    "with_debugger",
]
