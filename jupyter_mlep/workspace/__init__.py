"""The local workspace: an Azure ML–compatible ARM server on 127.0.0.1 that runs deployments here.

One server per ``MLEP_HOME``, detached, shared by every notebook and kernel::

    from jupyter_mlep.workspace import ensure_running

    info = ensure_running()          # starts it when none runs
    info.base_url                    # http://127.0.0.1:<port> (https with TLS)
    info.token                       # admin bearer token (also in $MLEP_HOME/workspace/admin-token, 0600)
    info.workspace_path              # /subscriptions/…/workspaces/local: prefix of every ARM path

What it serves (all on the same port):

* the ARM management plane of api-version 2026-07-01 (and compatible older versions) for the
  workspace, online endpoints and deployments, models, codes, environments, datastores,
  computes and jobs, with Azure's long-running-operation protocol and error bodies;
* a blob store (``/mlepstore/<container>/<blob>``, SAS-checked) behind ``workspaceblobstore``;
* the scoring router (``/endpoints/<name>/score`` and ``/swagger.json``);
* the discovery document the workspace resource's ``discoveryUrl`` names (``/discovery``), see
  :mod:`.discovery`;
* an MLflow tracking server at the workspace resource's ``mlFlowTrackingUri`` (``/mlflow/v1.0/…``:
  experiments, runs, metrics, search, logged models, artifacts in the blob store), see :mod:`.tracking`;
* the Azure Monitor metrics of endpoints and deployments (``{endpoint or deployment id}/providers/
  Microsoft.Insights/metrics``: requests, latency, connections from the router; CPU and memory
  per instance from the runtimes; 25 hours kept in per-minute rings), see :mod:`.monitor`;
* its own namespace ``/mlep/v1/`` (``info``, ``faults``), see :mod:`.admin`.

Where it differs from Azure, on purpose:

* the workspace is ``/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mlep-local/
  providers/Microsoft.MachineLearningServices/workspaces/local`` (location ``local``); other
  names answer 404;
* the default datastore's ``properties.properties["mlep.blobEndpoint"]`` gives the blob store's
  account URL (path-style), since ``{protocol}://{account}.blob.{endpoint}`` does not apply;
* asset URIs may also be ``file://`` URIs or absolute local paths (nothing to upload);
* the admin token is the bearer token of the management plane, of the blob store (like an
  Entra token) and of ``AADToken`` endpoints;
* the ``discoveryUrl`` carries a signature (clients fetch it without credentials, as from
  Azure's anonymous discovery service); every service it names is this server.

HTTPS on the same loopback address, opt-in (``jupyter-mlep workspace start --tls``, or
``MLEP_WORKSPACE_TLS=1`` for the workspace started on first use): a local certificate authority and
server certificate under ``$MLEP_HOME/tls`` (:mod:`.tls`); ``info.ca_file`` is what clients trust,
and every URL the workspace hands out is https. The official Azure ML SDK needs it (it sends tokens
only over HTTPS): ``jupyter-mlep workspace sdk-env`` prints its environment (:mod:`.sdk`).

Faults on purpose (off by default, a metrics ingestion delay among them): see :mod:`.faults`
and :mod:`.admin`. Start and stop from a terminal: ``jupyter-mlep workspace start|stop|status``.

Importing this package is cheap: the server's modules (Starlette, uvicorn) load only in the
server process.
"""

from __future__ import annotations

from ._identity import LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME, WORKSPACE_PATH
from .control import WorkspaceInfo, change_marker, ensure_running, start, status, stop

__all__ = [
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
]
