"""The MLflow REST handlers for experiments, runs, params, tags, metrics and search."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from starlette.responses import Response

from ._entities import Experiment, MetricRow, Run, invalid, missing, now_ms
from ._search import matches, page, page_body, parse_filter, parse_order, sort
from ._wire import Ctx, experiment_json, metric_json, ok, parse_number, run_info_json, run_json

__all__ = ["ROUTES"]

RUN_ATTRIBUTES = frozenset(
    {"run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time", "lifecycle_stage"}
)
EXPERIMENT_ATTRIBUTES = frozenset(
    {"name", "experiment_id", "creation_time", "last_update_time", "lifecycle_stage"}
)
_RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
_VIEWS = {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}
_MAX_RESULTS = 50000
_INLINE_METRICS = 100
_MODEL_HISTORY = "mlflow.log-model.history"
_ADJECTIVES = ("bright", "calm", "eager", "gentle", "keen", "lively", "quiet", "swift", "bold", "clever")
_NOUNS = ("otter", "heron", "maple", "comet", "river", "falcon", "cedar", "lynx", "harbor", "meadow")


def _view(ctx: Ctx, name: str) -> tuple[str, ...]:
    view = str(ctx.get(name) or "ACTIVE_ONLY").upper()
    if view.isdigit():
        view = {"1": "ACTIVE_ONLY", "2": "DELETED_ONLY", "3": "ALL"}.get(view, view)
    if view not in _VIEWS:
        raise invalid(f"Invalid view type '{view}'; use ACTIVE_ONLY, DELETED_ONLY or ALL.")
    return _VIEWS[view]


def _max_results(ctx: Ctx, default: int) -> int:
    wanted = ctx.integer("max_results", default) or default
    if wanted < 1 or wanted > _MAX_RESULTS:
        raise invalid(f"Invalid value {wanted} for parameter 'max_results': it must be 1 to {_MAX_RESULTS}.")
    return wanted


# experiments -----------------------------------------------------------------------------------


async def create_experiment(ctx: Ctx) -> Response:
    """``experiments/create``."""
    experiment_id = ctx.store.create_experiment(
        ctx.text("name"), ctx.get("artifact_location") or None, ctx.pairs("tags")
    )
    return ok({"experiment_id": experiment_id})


async def get_experiment(ctx: Ctx) -> Response:
    """``experiments/get``."""
    return ok({"experiment": experiment_json(ctx.store.experiment(ctx.text("experiment_id")))})


async def get_experiment_by_name(ctx: Ctx) -> Response:
    """``experiments/get-by-name``."""
    name = ctx.text("experiment_name")
    found = ctx.store.experiment_by_name(name)
    if found is None:
        raise missing(f"Could not find experiment with name '{name}'")
    return ok({"experiment": experiment_json(found)})


def _experiment_value(experiment: Experiment, entity: str, key: str) -> Any:
    if entity == "tag":
        return experiment.tags.get(key)
    if entity == "attribute":
        return getattr(experiment, key)
    raise invalid(f"Experiments are searched by name, attributes and tags, not by {entity}s.")


async def search_experiments(ctx: Ctx) -> Response:
    """``experiments/search``: filter, order_by (default: newest first, then by id), view type, pages."""
    stages = _view(ctx, "view_type")
    marks = ",".join("?" * len(stages))
    found = ctx.store.experiments(f"lifecycle_stage IN ({marks})", stages)
    clauses = parse_filter(ctx.get("filter"), EXPERIMENT_ATTRIBUTES)
    found = [e for e in found if matches(e, clauses, _experiment_value)]
    found.sort(key=lambda e: (-e.creation_time, int(e.experiment_id)))
    found = sort(found, parse_order(ctx.items("order_by"), EXPERIMENT_ATTRIBUTES), _experiment_value)
    chosen, following = page(found, _max_results(ctx, 1000), ctx.get("page_token"))
    return ok(page_body("experiments", [experiment_json(e) for e in chosen], following))


async def update_experiment(ctx: Ctx) -> Response:
    """``experiments/update`` (rename)."""
    new_name = ctx.text("new_name")
    if not new_name.strip():
        raise invalid("An experiment's new name must not be empty.")
    ctx.store.update_experiment(ctx.text("experiment_id"), name=new_name)
    return ok()


async def delete_experiment(ctx: Ctx) -> Response:
    """``experiments/delete``: the experiment and its runs become deleted (restorable)."""
    experiment_id = ctx.text("experiment_id")
    if experiment_id == "0":
        raise invalid("The default experiment (id 0) cannot be deleted.")
    ctx.store.update_experiment(experiment_id, lifecycle_stage="deleted")
    return ok()


async def restore_experiment(ctx: Ctx) -> Response:
    """``experiments/restore``."""
    ctx.store.update_experiment(ctx.text("experiment_id"), lifecycle_stage="active")
    return ok()


async def set_experiment_tag(ctx: Ctx) -> Response:
    """``experiments/set-experiment-tag``."""
    ctx.store.set_experiment_tag(ctx.text("experiment_id"), ctx.text("key"), str(ctx.get("value", "")))
    return ok()


async def delete_experiment_tag(ctx: Ctx) -> Response:
    """``experiments/delete-experiment-tag``."""
    ctx.store.set_experiment_tag(ctx.text("experiment_id"), ctx.text("key"), None)
    return ok()


# runs ------------------------------------------------------------------------------------------


def _run_name(tags: dict[str, str]) -> str:
    return tags.get("mlflow.runName") or (
        f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(100, 999)}"
    )


async def create_run(ctx: Ctx) -> Response:
    """``runs/create``: a new run (a random name unless one is given), RUNNING."""
    tags = ctx.pairs("tags")
    run_name = str(ctx.get("run_name") or _run_name(tags))
    tags["mlflow.runName"] = run_name
    user = str(ctx.get("user_id") or tags.get("mlflow.user") or "local-user")
    run_id = ctx.store.create_run(
        str(ctx.get("experiment_id") or "0"),
        run_name=run_name,
        user_id=user,
        start_time=ctx.integer("start_time") or now_ms(),
        tags=tags,
    )
    return ok({"run": run_json(ctx.store.run(run_id))})


async def get_run(ctx: Ctx) -> Response:
    """``runs/get``."""
    return ok({"run": run_json(ctx.store.run(ctx.run_id()))})


async def update_run(ctx: Ctx) -> Response:
    """``runs/update``: status, end time, name."""
    run_id = ctx.run_id()
    changes: dict[str, Any] = {}
    status = ctx.get("status")
    if status is not None:
        status = str(status).upper()
        if status not in _RUN_STATUSES:
            raise invalid(f"Invalid run status '{status}'; use one of {', '.join(_RUN_STATUSES)}.")
        changes["status"] = status
    end_time = ctx.integer("end_time")
    if end_time is not None:
        changes["end_time"] = end_time
    if ctx.get("run_name"):
        changes["run_name"] = str(ctx.get("run_name"))
    ctx.store.update_run(run_id, **changes)
    return ok({"run_info": run_info_json(ctx.store.run(run_id))})


async def delete_run(ctx: Ctx) -> Response:
    """``runs/delete`` (restorable)."""
    ctx.store.update_run(ctx.run_id(), lifecycle_stage="deleted")
    return ok()


async def restore_run(ctx: Ctx) -> Response:
    """``runs/restore``."""
    ctx.store.update_run(ctx.run_id(), lifecycle_stage="active")
    return ok()


def _metric(item: dict[str, Any]) -> MetricRow:
    key = str(item.get("key") or "")
    if not key:
        raise invalid("Missing value for required parameter 'key' of a metric.")
    if item.get("value") is None:
        raise invalid(f"Missing value for required parameter 'value' of metric '{key}'.")
    try:
        timestamp = int(item.get("timestamp") or now_ms())
        step = int(item.get("step") or 0)
    except (TypeError, ValueError):
        raise invalid(f"Metric '{key}' needs an integer timestamp and step.") from None
    return MetricRow(
        key,
        parse_number(item["value"], key),
        timestamp,
        step,
        model_id=item.get("model_id") or None,
        dataset_name=item.get("dataset_name") or None,
        dataset_digest=item.get("dataset_digest") or None,
    )


async def log_metric(ctx: Ctx) -> Response:
    """``runs/log-metric``."""
    ctx.store.log_batch(ctx.run_id(), [_metric(ctx.body)], {}, {})
    return ok()


async def log_param(ctx: Ctx) -> Response:
    """``runs/log-parameter`` (a param keeps its first value)."""
    ctx.store.log_batch(ctx.run_id(), [], {ctx.text("key"): str(ctx.get("value", ""))}, {})
    return ok()


async def set_tag(ctx: Ctx) -> Response:
    """``runs/set-tag``."""
    ctx.store.log_batch(ctx.run_id(), [], {}, {ctx.text("key"): str(ctx.get("value", ""))})
    return ok()


async def delete_tag(ctx: Ctx) -> Response:
    """``runs/delete-tag``."""
    ctx.store.delete_tag(ctx.run_id(), ctx.text("key"))
    return ok()


async def log_batch(ctx: Ctx) -> Response:
    """``runs/log-batch``: metrics, params and tags in one transaction."""
    metrics = [_metric(item) for item in ctx.items("metrics") if isinstance(item, dict)]
    args = (ctx.run_id(), metrics, ctx.pairs("params"), ctx.pairs("tags"))
    if len(metrics) > _INLINE_METRICS:  # a large batch is written off the event loop
        await asyncio.to_thread(ctx.store.log_batch, *args)
    else:
        ctx.store.log_batch(*args)
    return ok()


async def log_model(ctx: Ctx) -> Response:
    """``runs/log-model`` (MLflow 2's ``log_model``): the model's ``MLmodel`` as JSON, appended to the
    run's ``mlflow.log-model.history`` tag as MLflow's server keeps it."""
    run_id = ctx.run_id()
    try:
        model = json.loads(ctx.text("model_json"))
    except ValueError:
        raise invalid("'model_json' must be the model's MLmodel as JSON.") from None
    history = ctx.store.run(run_id).tags.get(_MODEL_HISTORY)
    try:
        logged = json.loads(history) if history else []
    except ValueError:
        logged = []
    logged.append(model)
    ctx.store.log_batch(run_id, [], {}, {_MODEL_HISTORY: json.dumps(logged)})
    return ok()


async def log_inputs(ctx: Ctx) -> Response:
    """``runs/log-inputs``: dataset inputs and model inputs."""
    inputs: list[tuple[str, str, dict[str, Any]]] = []
    for item in ctx.items("datasets"):
        dataset = item.get("dataset") or {} if isinstance(item, dict) else {}
        ident = f"{dataset.get('name', '')}/{dataset.get('digest', '')}"
        inputs.append(("dataset", ident, {"tags": item.get("tags") or [], "dataset": dataset}))
    for item in ctx.items("models"):
        if isinstance(item, dict) and item.get("model_id"):
            inputs.append(("model_input", str(item["model_id"]), {"model_id": str(item["model_id"])}))
    ctx.store.log_inputs(ctx.run_id(), inputs)
    return ok()


async def log_outputs(ctx: Ctx) -> Response:
    """``runs/outputs``: the logged models a run produced."""
    outputs = [
        (
            "model_output",
            str(item["model_id"]),
            {"model_id": str(item["model_id"]), "step": int(item.get("step") or 0)},
        )
        for item in ctx.items("models")
        if isinstance(item, dict) and item.get("model_id")
    ]
    ctx.store.log_inputs(ctx.run_id(), outputs)
    return ok()


def _run_value(run: Run, entity: str, key: str) -> Any:
    if entity == "metric":
        metric = run.metrics.get(key)
        return None if metric is None else metric.value
    if entity == "param":
        return run.params.get(key)
    if entity == "tag":
        return run.tags.get(key)
    return getattr(run, key)


async def search_runs(ctx: Ctx) -> Response:
    """``runs/search``: the runs of some experiments that match a filter, ordered, in pages."""
    experiment_ids = [str(e) for e in ctx.items("experiment_ids")]
    stages = _view(ctx, "run_view_type")
    clauses = parse_filter(ctx.get("filter"), RUN_ATTRIBUTES)
    orders = parse_order(ctx.items("order_by"), RUN_ATTRIBUTES)
    max_results = _max_results(ctx, 1000)
    runs: list[Run] = []
    ids = [int(e) for e in experiment_ids if e.isdigit()]
    if ids:
        where = f"experiment_id IN ({','.join('?' * len(ids))}) AND lifecycle_stage IN ({','.join('?' * len(stages))})"
        runs = ctx.store.runs(where, [*ids, *stages])
    runs = [run for run in runs if matches(run, clauses, _run_value)]
    runs.sort(key=lambda r: r.run_id)
    runs.sort(key=lambda r: r.start_time, reverse=True)
    runs = sort(runs, orders, _run_value)
    chosen, following = page(runs, max_results, ctx.get("page_token"))
    return ok(page_body("runs", [run_json(run) for run in chosen], following))


# metrics ---------------------------------------------------------------------------------------


async def get_metric_history(ctx: Ctx) -> Response:
    """``metrics/get-history``: every value of one metric of a run, by step."""
    run_id = ctx.run_id()
    if not ctx.store.run_exists(run_id):
        raise missing(f"Run with id={run_id} not found")
    history = ctx.store.metric_history([run_id], ctx.text("metric_key"))
    max_results = ctx.integer("max_results")
    body: dict[str, Any] = {}
    if max_results:
        history, following = page(history, max_results, ctx.get("page_token"))
        if following:
            body["next_page_token"] = following
    body["metrics"] = [metric_json(m) for m in history]
    return ok(body)


async def get_metric_history_bulk_interval(ctx: Ctx) -> Response:
    """``metrics/get-history-bulk-interval``: a metric of several runs between two steps, at most
    ``max_results`` steps per run (evenly spread, the first and last kept)."""
    run_ids = [str(r) for r in ctx.items("run_ids")]
    if not run_ids:
        raise invalid("Missing value for required parameter 'run_ids'.")
    if len(run_ids) > 100:
        raise invalid("At most 100 runs can be asked for at once.")
    max_results = _max_results(ctx, 320)
    history = ctx.store.metric_history(
        run_ids,
        ctx.text("metric_key"),
        start_step=ctx.integer("start_step"),
        end_step=ctx.integer("end_step"),
    )
    chosen: list[MetricRow] = []
    for run_id in run_ids:
        rows = [m for m in history if m.run_id == run_id]
        steps = sorted({m.step for m in rows})
        if len(steps) > max_results:
            picks = {steps[round(i * (len(steps) - 1) / (max_results - 1))] for i in range(max_results)}
            rows = [m for m in rows if m.step in picks]
        chosen.extend(rows)
    return ok({"metrics": [metric_json(m, run_id=True) for m in chosen]})


async def server_info(ctx: Ctx) -> Response:
    """``/api/3.0/mlflow/server-info``: what the artifact client may use (no multipart, no presigned URLs)."""
    return ok(
        {
            "store_type": "SqlStore",
            "artifact_serving_enabled": True,
            "workspaces_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "artifacts_presigned_only": False,
        }
    )


_M = "/api/2.0/mlflow/"
ROUTES: list[tuple[str, str, Any]] = [
    ("POST", _M + "experiments/create", create_experiment),
    ("GET", _M + "experiments/get", get_experiment),
    ("GET", _M + "experiments/get-by-name", get_experiment_by_name),
    ("POST", _M + "experiments/search", search_experiments),
    ("GET", _M + "experiments/search", search_experiments),
    ("POST", _M + "experiments/update", update_experiment),
    ("POST", _M + "experiments/delete", delete_experiment),
    ("POST", _M + "experiments/restore", restore_experiment),
    ("POST", _M + "experiments/set-experiment-tag", set_experiment_tag),
    ("POST", _M + "experiments/delete-experiment-tag", delete_experiment_tag),
    ("POST", _M + "runs/create", create_run),
    ("GET", _M + "runs/get", get_run),
    ("POST", _M + "runs/update", update_run),
    ("POST", _M + "runs/delete", delete_run),
    ("POST", _M + "runs/restore", restore_run),
    ("POST", _M + "runs/log-metric", log_metric),
    ("POST", _M + "runs/log-parameter", log_param),
    ("POST", _M + "runs/set-tag", set_tag),
    ("POST", _M + "runs/delete-tag", delete_tag),
    ("POST", _M + "runs/log-batch", log_batch),
    ("POST", _M + "runs/log-inputs", log_inputs),
    ("POST", _M + "runs/log-model", log_model),
    ("POST", _M + "runs/outputs", log_outputs),
    ("POST", _M + "runs/search", search_runs),
    ("GET", _M + "metrics/get-history", get_metric_history),
    ("GET", _M + "metrics/get-history-bulk-interval", get_metric_history_bulk_interval),
    ("GET", "/api/3.0/mlflow/server-info", server_info),
]
"""(method, path below the tracking URI, handler)."""
