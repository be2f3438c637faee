"""Azure ML CLI v2 YAML specs, both ways: YAML files ⇄ typed objects ⇄ REST bodies (api-version 2026-07-01).

Read a file with :func:`load_spec` (or ``load_endpoint``, ``load_deployment``, ``load_model``,
``load_environment``, ``load_code``, ``load_data``, ``load_compute``, ``load_job``, ``load_batch_endpoint``, ``load_batch_deployment``; ``overrides`` are the CLI's ``--set``, see
:func:`parse_overrides`), or build a spec from a mapping with :func:`spec_from_dict`. Build a
request body with ``spec.to_rest(...)``, read one back with ``Class.from_rest(body)``, and write
CLI-style YAML with ``spec.to_yaml_dict()``. ``spec.check(complete=...)`` applies the rules the
service enforces; :func:`validate_traffic` and :func:`validate_name` are the shared rules.

Decisions:

* Local paths resolve against the YAML file's folder and are **not** required to exist when a
  file is read (the CLI checks them when it uploads); :func:`require_local_path` is that check.
* References (``azureml:name:version``, ``azureml:name@label``, ``azureml://registries/...``,
  ARM ids) are kept as :class:`AssetReference` and turned into ids against the workspace ARM
  path given to ``to_rest(workspace=...)`` (see :func:`workspace_path`); a label becomes
  ``{workspace}/{type}/{name}/labels/{label}``, a registry URI is sent as written. Inline assets
  (a model folder, a code folder, an inline environment) are registered first by the operations
  layer, which passes their ids (``model_id``, ``code_id``, ``environment_id``) or upload URIs
  (``model_uri``, ``code_uri``, ``context_uri``, ``input_uris``); without one, ``to_rest``
  raises :class:`~jupyter_mlep.SpecError`.
* ``from_rest`` reads the fields modelled here (read-only ones such as ``provisioningState``
  included), ignores the others, and does not apply the rules: call ``check()`` to validate a
  body the way the service would.
"""

from ._assets import Code, CodeConfiguration, Model
from ._base import require_local_path
from ._batch_deployment import BatchDeployment, BatchResources, BatchRetrySettings
from ._batch_endpoint import BatchEndpoint, BatchEndpointDefaults
from ._compute import VM_SIZES, AmlCompute, Compute, ComputeInstance, validate_compute_name
from ._data import Data
from ._datastore import AzureBlobDatastore, DatastoreCredentials
from ._deployment import KubernetesOnlineDeployment, ManagedOnlineDeployment, OnlineDeployment
from ._deployment_settings import (
    DataCollector,
    DeploymentCollection,
    ProbeSettings,
    RequestLogging,
    RequestSettings,
    ResourceRequirements,
    ResourceSettings,
    ScaleSettings,
)
from ._durations import format_duration, parse_duration
from ._endpoint import (
    IdentityConfiguration,
    KubernetesOnlineEndpoint,
    ManagedOnlineEndpoint,
    OnlineEndpoint,
    UserAssignedIdentity,
)
from ._environment import BuildContext, Environment, InferenceConfig, Route
from ._job_io import CommandJobLimits, Distribution, JobInput, JobOutput, JobResources
from ._jobs import CommandJob, Job
from ._load import (
    SPEC_CLASSES,
    Spec,
    load_batch_deployment,
    load_batch_endpoint,
    load_code,
    load_compute,
    load_data,
    load_deployment,
    load_endpoint,
    load_environment,
    load_job,
    load_model,
    load_spec,
    spec_from_dict,
)
from ._references import AssetReference, workspace_path
from ._search_space import EarlyTerminationPolicy, Objective, SamplingAlgorithm, SearchParameter, SweepLimits
from ._sweep import SweepJob, TrialComponent
from ._v1 import V1Conversion, convert_v1, v1_instance_type
from ._validation import MAX_MIRROR_PERCENT, validate_instance_count, validate_name, validate_traffic
from ._vm_sizes import MANAGED_SIZES, VM_SIZE_TABLE, VmSize, price_tier
from ._yaml import KINDS, apply_overrides, detect_kind, parse_overrides, read_yaml

__all__ = [
    "KINDS",
    "MANAGED_SIZES",
    "MAX_MIRROR_PERCENT",
    "SPEC_CLASSES",
    "VM_SIZES",
    "VM_SIZE_TABLE",
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
    "KubernetesOnlineDeployment",
    "KubernetesOnlineEndpoint",
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
    "SamplingAlgorithm",
    "ScaleSettings",
    "SearchParameter",
    "Spec",
    "SweepJob",
    "SweepLimits",
    "TrialComponent",
    "UserAssignedIdentity",
    "V1Conversion",
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
]
