"""The identity of the local workspace (its ARM path) and the api-versions it accepts."""

from __future__ import annotations

__all__ = [
    "ACCOUNT",
    "API_VERSIONS",
    "DEFAULT_CONTAINER",
    "LOCATION",
    "PROVIDER",
    "RESOURCE_GROUP",
    "STORAGE_VERSION",
    "SUBSCRIPTION_ID",
    "WORKSPACE_NAME",
    "WORKSPACE_PATH",
]

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "mlep-local"
WORKSPACE_NAME = "local"
LOCATION = "local"
PROVIDER = "Microsoft.MachineLearningServices"
WORKSPACE_PATH = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
    f"/providers/{PROVIDER}/workspaces/{WORKSPACE_NAME}"
)

# The versions whose shapes for these resources are compatible with 2026-07-01.
API_VERSIONS = frozenset(
    {
        "2020-09-01-dataplanepreview",
        "2022-02-01-preview",
        "2022-05-01",
        "2022-06-01-preview",
        "2022-10-01",
        "2022-10-01-preview",
        "2022-12-01-preview",
        "2023-02-01-preview",
        "2023-04-01",
        "2023-04-01-preview",
        "2023-06-01-preview",
        "2023-08-01-preview",
        "2023-10-01",
        "2024-01-01-preview",
        "2024-04-01",
        "2024-04-01-preview",
        "2024-07-01-preview",
        "2024-10-01",
        "2024-10-01-preview",
        "2025-01-01-preview",
        "2025-04-01",
        "2025-04-01-preview",
        "2025-06-01",
        "2025-07-01-preview",
        "2025-09-01",
        "2025-12-01",
        "2026-05-15-preview",
        "2026-07-01",
        "2026-07-15-preview",
    }
)

ACCOUNT = "mlepstore"
"""The storage account name of the workspace blob store (path-style: ``/<account>/<container>/<blob>``)."""
DEFAULT_CONTAINER = "azureml-blobstore"
"""The container behind the default datastore ``workspaceblobstore``."""
STORAGE_VERSION = "2024-11-04"
"""The ``x-ms-version`` the blob store answers with."""
