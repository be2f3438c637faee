"""The REST client layer: the only code that speaks HTTP to the management plane and blob stores.

One :class:`RestClient` serves every target of :mod:`jupyter_mlep.targets`; only the base URL
and the credential differ (the local workspace and its admin token, or
``https://management.azure.com`` and ``DefaultAzureCredential``, imported only then). Requests to
an endpoint's own URIs (scoring, swagger) go through :meth:`RestClient.data_plane`, which parses
the answer (:class:`DataPlaneAnswer`) and maps its errors. It adds the api-version to every call,
retries transient failures (:class:`RetryPolicy`), follows long-running operations
(:class:`Operation`) and pages (``nextLink``), and maps ARM errors to the
:class:`~jupyter_mlep.RestError` tree. :class:`BlobContainer` uploads files and folders to Azure
Storage, Azurite or the local workspace's blob store; :func:`register_code` and
:func:`register_model` upload only what changed (content hashes).
"""

from ._blob import BlobContainer, BlobUploadSummary
from ._client import MANAGEMENT_URL, RestClient
from ._credentials import (
    ARM_SCOPE,
    AccessToken,
    StaticTokenCredential,
    TokenCache,
    TokenCredential,
    default_azure_credential,
    mask,
)
from ._dataplane import DEPLOYMENT_HEADER, DataPlaneAnswer
from ._hashing import HASH_VERSION, content_hash, iter_files
from ._load import LoadRun, LoadTarget, Shot, run_load
from ._lro import FailureHook, Operation, OperationProgress, ProgressCallback
from ._paths import ArmPaths
from ._retry import RetryPolicy, retry_after
from ._uploads import (
    HASH_TAG,
    RegisteredAsset,
    datastore_container,
    default_datastore,
    register_code,
    register_model,
)

__all__ = [
    "ARM_SCOPE",
    "DEPLOYMENT_HEADER",
    "HASH_TAG",
    "HASH_VERSION",
    "MANAGEMENT_URL",
    "AccessToken",
    "ArmPaths",
    "BlobContainer",
    "BlobUploadSummary",
    "DataPlaneAnswer",
    "FailureHook",
    "LoadRun",
    "LoadTarget",
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
]
