"""The package surface: exports, cheap loading, the command line entry points, error rendering."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_mlep
from jupyter_mlep import MlepError, ScoreTestError, UsageError

VENV_BIN = Path(sys.executable).parent
HEAVY = ["pydantic", "yaml", "httpx", "azure", "starlette", "uvicorn", "docker", "papermill", "ipywidgets"]


PUBLIC_API = [
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
"""What users call (and catch): written out here so that a name added to or dropped from
``jupyter_mlep.__all__`` fails this test until the list is changed on purpose."""

INTERNAL = ["traffic_with", "split_with", "scoring_headers", "encode_payload", "same_split", "list_all"]
"""Helpers of the operations layer that are not part of the top-level API."""

SUBPACKAGE_API = {
    "operations": [
        "BatchEndpointDetails",
        "BatchEndpointList",
        "BatchJob",
        "BatchJobList",
        "BatchProgress",
        "CREATABLE_KINDS",
        "DEFAULT_CONCURRENCY",
        "DEFAULT_TARGET_P95_MS",
        "DEPLOY_PHASES",
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
        "LOG_CONTAINERS",
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
        "RESOURCE_KINDS",
        "Recommendation",
        "RegisteredModel",
        "ResourceList",
        "ResourceResult",
        "RolloutEvent",
        "RolloutResult",
        "RolloutStep",
        "SNIPPET_LANGUAGES",
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
    ],
    "rest": [
        "ARM_SCOPE",
        "AccessToken",
        "ArmPaths",
        "BlobContainer",
        "BlobUploadSummary",
        "DEPLOYMENT_HEADER",
        "DataPlaneAnswer",
        "FailureHook",
        "HASH_TAG",
        "HASH_VERSION",
        "LoadRun",
        "LoadTarget",
        "MANAGEMENT_URL",
        "Operation",
        "OperationProgress",
        "ProgressCallback",
        "RegisteredAsset",
        "RestClient",
        "RetryPolicy",
        "Shot",
        "StaticTokenCredential",
        "TokenCache",
        "TokenCredential",
        "content_hash",
        "datastore_container",
        "default_azure_credential",
        "default_datastore",
        "iter_files",
        "mask",
        "register_code",
        "register_model",
        "retry_after",
        "run_load",
    ],
    "specs": [
        "AmlCompute",
        "AssetReference",
        "AzureBlobDatastore",
        "BatchDeployment",
        "BatchEndpoint",
        "BatchEndpointDefaults",
        "BatchResources",
        "BatchRetrySettings",
        "BuildContext",
        "Code",
        "CodeConfiguration",
        "CommandJob",
        "CommandJobLimits",
        "Compute",
        "ComputeInstance",
        "Data",
        "DataCollector",
        "DatastoreCredentials",
        "DeploymentCollection",
        "Distribution",
        "EarlyTerminationPolicy",
        "Environment",
        "IdentityConfiguration",
        "InferenceConfig",
        "Job",
        "JobInput",
        "JobOutput",
        "JobResources",
        "KINDS",
        "KubernetesOnlineDeployment",
        "KubernetesOnlineEndpoint",
        "MANAGED_SIZES",
        "MAX_MIRROR_PERCENT",
        "ManagedOnlineDeployment",
        "ManagedOnlineEndpoint",
        "Model",
        "Objective",
        "OnlineDeployment",
        "OnlineEndpoint",
        "ProbeSettings",
        "RequestLogging",
        "RequestSettings",
        "ResourceRequirements",
        "ResourceSettings",
        "Route",
        "SPEC_CLASSES",
        "SamplingAlgorithm",
        "ScaleSettings",
        "SearchParameter",
        "Spec",
        "SweepJob",
        "SweepLimits",
        "TrialComponent",
        "UserAssignedIdentity",
        "V1Conversion",
        "VM_SIZES",
        "VM_SIZE_TABLE",
        "VmSize",
        "apply_overrides",
        "convert_v1",
        "detect_kind",
        "format_duration",
        "load_batch_deployment",
        "load_batch_endpoint",
        "load_code",
        "load_compute",
        "load_data",
        "load_deployment",
        "load_endpoint",
        "load_environment",
        "load_job",
        "load_model",
        "load_spec",
        "parse_duration",
        "parse_overrides",
        "price_tier",
        "read_yaml",
        "require_local_path",
        "spec_from_dict",
        "v1_instance_type",
        "validate_compute_name",
        "validate_instance_count",
        "validate_name",
        "validate_traffic",
        "workspace_path",
    ],
    "scoring": [
        "DEFAULT_TIMEOUT",
        "Finding",
        "ScoreScript",
        "ScoreTestResult",
        "check_score_script",
        "jsonable",
        "read_request",
        "resolve_model_dir",
        "smoke_test_score_script",
    ],
    "runtime": [
        "Backend",
        "BackendChoice",
        "DEFAULT_BASE_IMAGE",
        "DeploymentInfo",
        "DeploymentSpec",
        "EnvironmentSpec",
        "EnvironmentWarning",
        "InstanceInfo",
        "InstanceUsage",
        "JOB_RUNTIMES",
        "JobProcessSpec",
        "JobRun",
        "LOG_SOURCES",
        "ModelRequirements",
        "Mount",
        "OnReady",
        "Preflight",
        "PreparedEnvironment",
        "ProbeSettings",
        "RuntimeSettings",
        "available_backends",
        "describe_problems",
        "get_backend",
        "job_log_names",
        "map_conda",
        "model_requirements",
        "preflight",
        "prepare_job_environment",
        "recorded_deployments",
        "register_backend",
        "select_backend",
        "server_app_root",
        "start_job",
        "stop_recorded_job",
        "uds_request",
        "utilisation",
        "write_storage_log",
    ],
    "server": [],
    "workspace": [
        "LOCATION",
        "RESOURCE_GROUP",
        "SUBSCRIPTION_ID",
        "WORKSPACE_NAME",
        "WORKSPACE_PATH",
        "WorkspaceInfo",
        "change_marker",
        "ensure_running",
        "start",
        "status",
        "stop",
    ],
    "widgets": [
        "DeploymentState",
        "DisplayMode",
        "EndpointDashboard",
        "JobWidget",
        "LogsWidget",
        "MetricsWidget",
        "Poller",
        "ProfileWidget",
        "RolloutWidget",
        "StatusWidget",
        "SweepWidget",
        "TrafficWidget",
        "deploy_with_status",
        "display_mode",
        "follow_logs",
        "show_status",
        "watch_job",
        "watch_sweep",
    ],
    "recipes": [
        "CLEANUP_TAG",
        "DEFAULT_OUTPUT_DIR",
        "RecipeError",
        "RecipeFailure",
        "RecipeResult",
        "StatusOutput",
        "describe_status",
        "new_run_id",
        "read_outcome",
        "run_recipe",
        "step_of",
    ],
    "verbs": [
        "Context",
        "GROUPS",
        "Group",
        "MLEP",
        "SettingsStatus",
        "TOP_LEVEL",
        "Verb",
        "add_top_level_verbs",
        "add_verbs",
        "cheat_sheet",
        "cli_text",
        "docstring",
        "expand_words",
        "group",
        "is_json_text",
        "overview",
        "parse_split",
        "run_line",
        "split_line",
    ],
}
"""Each subpackage's public names, written out for the same reason as :data:`PUBLIC_API`."""


@pytest.mark.parametrize("name", sorted(SUBPACKAGE_API))
def test_subpackage_names_are_exactly_the_intended_ones(name: str) -> None:
    module = importlib.import_module(f"jupyter_mlep.{name}")
    assert sorted(module.__all__) == SUBPACKAGE_API[name]
    # in the order ruff keeps: CONSTANTS, then Classes, then functions, each alphabetical
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n[0].islower(), n))
    assert all(hasattr(module, exported) for exported in module.__all__)


def test_public_names_are_exactly_the_intended_ones() -> None:
    assert sorted(PUBLIC_API) == PUBLIC_API
    assert jupyter_mlep.__all__ == PUBLIC_API
    public_attributes = {name for name in dir(jupyter_mlep) if not name.startswith("_")}
    submodules = {name for name in public_attributes if inspect.ismodule(getattr(jupyter_mlep, name))}
    assert public_attributes - submodules - {"annotations", "TYPE_CHECKING", "Any"} <= set(PUBLIC_API)
    for name in PUBLIC_API:
        assert getattr(jupyter_mlep, name) is not None, name


@pytest.mark.parametrize("name", INTERNAL)
def test_internal_helpers_are_not_exported(name: str) -> None:
    assert name not in jupyter_mlep.__all__
    with pytest.raises(AttributeError):
        getattr(jupyter_mlep, name)


def test_every_error_is_an_mlep_error_and_renders_short() -> None:
    for name in jupyter_mlep.__all__:
        obj = getattr(jupyter_mlep, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, MlepError)
            assert obj.__doc__, f"{name} needs a docstring saying when it is raised"
    error = UsageError("bad flag", hint="use --good")
    assert error._render_traceback_() == ["UsageError: bad flag\nuse --good"]


def test_score_test_error_shows_output_and_user_traceback() -> None:
    error = ScoreTestError("init() failed", user_traceback="Traceback...\nValueError: x", output="hello")
    text = str(error)
    assert text.index("init() failed") < text.index("hello") < text.index("ValueError: x")


def test_load_ext_imports_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'jupyter_mlep')\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('jupyter_mlep'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    heavy, ours = (json.loads(line) for line in out.stdout.strip().splitlines()[-2:])
    assert heavy == []
    assert all(
        not m.startswith(("jupyter_mlep.specs", "jupyter_mlep.scoring", "jupyter_mlep.runtime")) for m in ours
    )


def test_cli_version_and_status() -> None:
    out = subprocess.run(
        [str(VENV_BIN / "jupyter-mlep"), "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"jupyter-mlep {jupyter_mlep.__version__}"
    status = subprocess.run(
        [str(VENV_BIN / "jupyter"), "mlep", "status"], capture_output=True, text=True, check=True
    )
    assert "target" in status.stdout and "local" in status.stdout


def test_cli_usage_error_exits_2_without_traceback() -> None:
    out = subprocess.run([sys.executable, "-m", "jupyter_mlep", "frobnicate"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "invalid choice: 'frobnicate'" in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_settings_error_exits_1_with_the_fix(tmp_path: Path) -> None:
    env = {
        "PATH": str(VENV_BIN),
        "HOME": str(tmp_path),
        "MLEP_TARGET": "azure",
        "MLEP_IGNORE_CONFIG_JSON": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_mlep", "status"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 1
    assert out.stderr.startswith("SettingsError: The target is 'azure' but subscription_id")
    assert "AZURE_SUBSCRIPTION_ID" in out.stderr


@pytest.mark.parametrize("argv", [["--help"], ["status", "--help"]])
def test_cli_help_exits_0(argv: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "jupyter_mlep", *argv], capture_output=True, text=True)
    assert out.returncode == 0
    assert "usage: jupyter-mlep" in out.stdout
