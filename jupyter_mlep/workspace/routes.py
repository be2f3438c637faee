"""The management-plane routing table: ARM paths (case-insensitive) → handlers by method."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.responses import Response

from . import (
    assets,
    batchdeployments,
    batchendpoints,
    batchinvoke,
    computes,
    datastores,
    deployments,
    endpoints,
    jobs,
    workspace_resource,
)
from .context import Call

__all__ = ["OPERATION_PATH", "ROUTES", "WORKSPACE_PREFIX", "Handler"]

Handler = Callable[[Call], Awaitable[Response]]

WORKSPACE_PREFIX = (
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)"
)
OPERATION_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.MachineLearningServices/locations/(?P<loc>[^/]+)"
    r"/(?P<kind>mfeOperationsStatus|mfeOperationResults)/(?P<op>[^/]+)$",
    re.IGNORECASE,
)

_EP = r"/onlineEndpoints/(?P<endpoint>[^/]+)"
_DEP = _EP + r"/deployments/(?P<deployment>[^/]+)"
_BEP = r"/batchEndpoints/(?P<endpoint>[^/]+)"
_BDEP = _BEP + r"/deployments/(?P<deployment>[^/]+)"
_ASSET = r"/(?P<family>models|codes|environments|data)"
_NAME = r"/(?P<name>[^/]+)"
_VERSION = _ASSET + _NAME + r"/versions/(?P<version>[^/]+)"

_TABLE: list[tuple[str, dict[str, Handler]]] = [
    ("", {"GET": workspace_resource.get_workspace}),
    ("/onlineEndpoints", {"GET": endpoints.list_endpoints}),
    (
        _EP,
        {
            "GET": endpoints.get_endpoint,
            "PUT": endpoints.put_endpoint,
            "PATCH": endpoints.patch_endpoint,
            "DELETE": endpoints.delete_endpoint,
        },
    ),
    (_EP + "/listKeys", {"POST": endpoints.list_keys}),
    (_EP + "/regenerateKeys", {"POST": endpoints.regenerate_keys}),
    (_EP + "/token", {"POST": endpoints.get_token}),
    (_EP + "/deployments", {"GET": deployments.list_deployments}),
    (
        _DEP,
        {
            "GET": deployments.get_deployment,
            "PUT": deployments.put_deployment,
            "PATCH": deployments.patch_deployment,
            "DELETE": deployments.delete_deployment,
        },
    ),
    (_DEP + "/getLogs", {"POST": deployments.get_logs}),
    (_DEP + "/skus", {"GET": deployments.list_skus}),
    ("/batchEndpoints", {"GET": batchendpoints.list_batch_endpoints}),
    (
        _BEP,
        {
            "GET": batchendpoints.get_batch_endpoint,
            "PUT": batchendpoints.put_batch_endpoint,
            "PATCH": batchendpoints.patch_batch_endpoint,
            "DELETE": batchendpoints.delete_batch_endpoint,
        },
    ),
    (_BEP + "/listkeys", {"POST": batchendpoints.list_batch_keys}),
    (_BEP + "/jobs", {"GET": batchinvoke.list_endpoint_jobs}),
    (_BEP + "/deployments", {"GET": batchdeployments.list_batch_deployments}),
    (
        _BDEP,
        {
            "GET": batchdeployments.get_batch_deployment,
            "PUT": batchdeployments.put_batch_deployment,
            "PATCH": batchdeployments.patch_batch_deployment,
            "DELETE": batchdeployments.delete_batch_deployment,
        },
    ),
    (_ASSET, {"GET": assets.list_containers}),
    (
        _ASSET + _NAME,
        {"GET": assets.get_container, "PUT": assets.put_container, "DELETE": assets.delete_container},
    ),
    (_ASSET + _NAME + "/versions", {"GET": assets.list_versions}),
    (_VERSION, {"GET": assets.get_version, "PUT": assets.put_version, "DELETE": assets.delete_version}),
    (_VERSION + "/startPendingUpload", {"POST": assets.start_pending_upload}),
    ("/datastores", {"GET": datastores.list_datastores}),
    (
        "/datastores" + _NAME,
        {
            "GET": datastores.get_datastore,
            "PUT": datastores.put_datastore,
            "DELETE": datastores.delete_datastore,
        },
    ),
    ("/datastores" + _NAME + "/listSecrets", {"POST": datastores.list_secrets}),
    ("/computes", {"GET": computes.list_computes}),
    (
        "/computes" + _NAME,
        {"GET": computes.get_compute, "PUT": computes.put_compute, "DELETE": computes.delete_compute},
    ),
    ("/jobs", {"GET": jobs.list_jobs}),
    ("/jobs" + _NAME, {"GET": jobs.get_job, "PUT": jobs.put_job, "DELETE": jobs.delete_job}),
    ("/jobs" + _NAME + "/cancel", {"POST": jobs.cancel_job}),
]

ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(WORKSPACE_PREFIX + suffix + "$", re.IGNORECASE), handlers) for suffix, handlers in _TABLE
]
