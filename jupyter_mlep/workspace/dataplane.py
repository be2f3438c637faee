"""The data plane of data assets, as the Azure ML SDK calls it below ``/data/v1.0`` (the ``api``
service of the discovery document), for what the local workspace hands out there:

* ``POST …/dataversion/batchGetResolvedUris`` (``{"values": [assetId, …]}``): each asset id →
  ``{"uri", "type"}``. The ids are those of a job's data outputs as run history's ``rundata``
  names them; ``ml_client.jobs.download`` resolves them to the outputs' datastore URIs.

The admin token is checked by the caller (the app), as for every management route.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from .arm import ArmError, bad_request, json_response
from .context import Workspace
from .runhistory import resolve_output_asset

__all__ = ["DATA_PREFIX", "handle_data"]

DATA_PREFIX = "/data/v1.0"
_BATCH_URIS = re.compile(
    r"^/data/v1\.0/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.MachineLearningServices/workspaces/[^/]+/dataversion/batchGetResolvedUris$",
    re.IGNORECASE,
)


async def handle_data(request: Request, ws: Workspace, path: str) -> Response:
    """A data-plane request (see the module docstring)."""
    if _BATCH_URIS.match(path) is None:
        raise ArmError(404, "NotFound", f"No data-plane route matches the path '{path}'.")
    if request.method != "POST":
        raise ArmError(405, "MethodNotAllowed", f"batchGetResolvedUris does not support {request.method}.")
    try:
        body = await request.json()
    except ValueError as exc:
        raise bad_request(f"The body is not JSON: {exc}.") from None
    ids = body.get("values") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
        raise bad_request('The body must list asset ids: {"values": ["<asset id>", …]}.', target="values")
    resolved = {asset_id: resolve_output_asset(ws, asset_id) for asset_id in ids}
    unknown = [asset_id for asset_id, found in resolved.items() if found is None]
    if unknown:
        raise ArmError(404, "UserError", f"No data asset has the id {', '.join(unknown)}.")
    return json_response({"values": resolved})
