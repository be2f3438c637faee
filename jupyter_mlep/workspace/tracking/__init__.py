"""The workspace as an MLflow tracking server, as an Azure ML workspace is one.

The workspace resource's ``mlFlowTrackingUri`` (``{base_url}/mlflow/v1.0{WORKSPACE_PATH}``) serves
the REST API that MLflow's own client calls below it:

* ``/api/2.0/mlflow/…``: experiments, runs, params, tags, metrics (``log-batch``, history, the bulk
  interval history), ``search`` with MLflow's filter and ``order_by`` grammar, run inputs and
  outputs, and MLflow 3's logged models (``logged-models``);
* ``/api/2.0/mlflow/registered-models/…`` and ``model-versions/…``: MLflow's model registry, which is
  the workspace's model registry (:mod:`._registry`): what MLflow registers is ``azureml:<name>:<n>``;
* ``/api/2.0/mlflow-artifacts/artifacts/…``: upload, download, list and delete artifacts, stored
  in the workspace's blob store (the container of ``workspaceblobstore``, run files under
  ``ExperimentRun/dcid.<run id>/`` as Azure lays them out), so they are blobs like job outputs;
* ``/api/3.0/mlflow/server-info`` (no multipart or presigned transfers: artifacts go through the server).

Errors are MLflow's (``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": …}`` with its HTTP
statuses). Every route needs ``Authorization: Bearer``: the admin token, or a job token from
:func:`tracking_env`, which is good for these routes only and is revoked by :func:`end_job_run`.

For the jobs of the workspace (as in Azure ML, a job's MLflow run id is the job's name and its
experiment is the job's experiment): :func:`start_job_run` creates the run before the job starts,
:func:`tracking_env` gives the variables the job's process needs, :func:`end_job_run` ends it.
The state lives in the workspace's SQLite database, in tables of its own (:mod:`._store`).
"""

from __future__ import annotations

from .._identity import RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME
from ..context import Workspace
from ..workspace_resource import mlflow_tracking_uri
from ._entities import now_ms
from ._serve import TRACKING_ROOT, handle_tracking
from ._store import TrackingStore

__all__ = [
    "RUN_END_STATUSES",
    "TRACKING_ROOT",
    "end_job_run",
    "handle_tracking",
    "start_job_run",
    "tracking_env",
]

RUN_END_STATUSES = ("FINISHED", "FAILED", "KILLED")
"""The statuses :func:`end_job_run` accepts."""

_USER = "local-user"


async def start_job_run(
    ws: Workspace, *, run_id: str, experiment: str, run_name: str, tags: dict[str, str]
) -> None:
    """Create the MLflow run of a job: id ``run_id`` (the job's name), in experiment ``experiment``
    (created when missing, restored when deleted), status ``RUNNING``. Calling it again for the same
    run (a job started again) sets it running again and merges the tags."""
    store = TrackingStore.of(ws)
    found = store.experiment_by_name(experiment)
    if found is None:
        experiment_id = store.create_experiment(experiment, None, {})
    else:
        experiment_id = found.experiment_id
        if found.lifecycle_stage != "active":
            store.update_experiment(experiment_id, lifecycle_stage="active")
    all_tags = {"mlflow.user": _USER, "mlflow.source.type": "JOB", "mlflow.source.name": run_id, **tags}
    all_tags["mlflow.runName"] = run_name
    if store.run_exists(run_id):
        store.update_run(run_id, status="RUNNING", end_time=None, run_name=run_name, lifecycle_stage="active")
        store.log_batch(run_id, [], {}, all_tags)
        return
    store.create_run(
        experiment_id, run_id=run_id, run_name=run_name, user_id=_USER, start_time=now_ms(), tags=all_tags
    )


async def end_job_run(ws: Workspace, run_id: str, status: str) -> None:
    """End a job's run with ``status`` (``FINISHED``, ``FAILED`` or ``KILLED``) and the end time now,
    and revoke the job tokens issued for it. A run that does not exist only loses its tokens."""
    if status not in RUN_END_STATUSES:
        raise ValueError(f"A job's run ends FINISHED, FAILED or KILLED, not {status!r}.")
    store = TrackingStore.of(ws)
    store.revoke_tokens(run_id)
    if store.run_exists(run_id):
        store.update_run(run_id, status=status, end_time=now_ms())


def tracking_env(ws: Workspace, run_id: str, experiment: str) -> dict[str, str]:
    """The environment of a job's process for MLflow, as Azure sets it: the tracking URI, a new job
    token (valid for the MLflow routes only, until :func:`end_job_run`), the run and experiment,
    and the ``AZUREML_*`` identity variables."""
    store = TrackingStore.of(ws)
    found = store.experiment_by_name(experiment)
    env = {
        "MLFLOW_TRACKING_URI": mlflow_tracking_uri(ws),
        "MLFLOW_TRACKING_TOKEN": store.issue_token(run_id),
        "MLFLOW_RUN_ID": run_id,
        "MLFLOW_EXPERIMENT_NAME": experiment,
        "AZUREML_RUN_ID": run_id,
        "AZUREML_ARM_SUBSCRIPTION": SUBSCRIPTION_ID,
        "AZUREML_ARM_RESOURCEGROUP": RESOURCE_GROUP,
        "AZUREML_ARM_WORKSPACE_NAME": WORKSPACE_NAME,
        "AZUREML_ARM_PROJECT_NAME": experiment,
        "AZUREML_SERVICE_ENDPOINT": ws.base_url,
    }
    if found is not None:
        env["MLFLOW_EXPERIMENT_ID"] = found.experiment_id
    return env
