"""MLflow 3's logged models (``/api/2.0/mlflow/logged-models``), as ``mlflow.<flavor>.log_model`` uses them.

``log_model`` creates a logged model (status ``LOGGED_MODEL_PENDING``, its artifact URI
``mlflow-artifacts:/LoggedModels/<model id>``), uploads the model's files there, finalizes it
(``LOGGED_MODEL_READY``) and records it as an output of its run (``runs/outputs``).
``models:/<model id>`` then loads it back from those files.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ._artifacts import artifact_path, list_files, run_folder
from ._entities import LoggedModel, invalid, now_ms
from ._search import matches, page, page_body, parse_filter, parse_order, sort
from ._wire import Ctx, logged_model_json, ok

__all__ = ["ROUTES"]

_STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")
MODEL_ATTRIBUTES = frozenset(
    {"name", "model_id", "model_type", "status", "source_run_id", "creation_time", "last_update_time"}
)


def _answer(ctx: Ctx, model: LoggedModel) -> Response:
    return ok({"model": logged_model_json(model, ctx.store.model_metrics(model.model_id))})


async def create_logged_model(ctx: Ctx) -> Response:
    """``POST logged-models``."""
    model = ctx.store.create_logged_model(
        str(ctx.get("experiment_id") or "0"),
        ctx.get("name") or None,
        ctx.get("model_type") or None,
        ctx.get("source_run_id") or None,
        ctx.pairs("tags"),
        ctx.pairs("params"),
    )
    return _answer(ctx, model)


async def get_logged_model(ctx: Ctx) -> Response:
    """``GET logged-models/{model_id}``."""
    return _answer(ctx, ctx.store.logged_model(ctx.params["model_id"]))


async def finalize_logged_model(ctx: Ctx) -> Response:
    """``PATCH logged-models/{model_id}``: its final status."""
    model = ctx.store.logged_model(ctx.params["model_id"])
    status = str(ctx.get("status") or "")
    if status not in _STATUSES:
        raise invalid(f"Invalid logged model status '{status}'; use one of {', '.join(_STATUSES)}.")
    model.status = status
    model.last_update_time = now_ms()
    ctx.store.save_logged_model(model)
    return _answer(ctx, model)


async def delete_logged_model(ctx: Ctx) -> Response:
    """``DELETE logged-models/{model_id}``."""
    ctx.store.delete_logged_model(ctx.params["model_id"])
    return ok()


async def set_logged_model_tags(ctx: Ctx) -> Response:
    """``PATCH logged-models/{model_id}/tags``."""
    model = ctx.store.logged_model(ctx.params["model_id"])
    model.tags.update(ctx.pairs("tags"))
    model.last_update_time = now_ms()
    ctx.store.save_logged_model(model)
    return _answer(ctx, model)


async def delete_logged_model_tag(ctx: Ctx) -> Response:
    """``DELETE logged-models/{model_id}/tags/{tag_key}``."""
    model = ctx.store.logged_model(ctx.params["model_id"])
    model.tags.pop(ctx.params["tag_key"], None)
    ctx.store.save_logged_model(model)
    return ok()


async def log_logged_model_params(ctx: Ctx) -> Response:
    """``POST logged-models/{model_id}/params``."""
    model = ctx.store.logged_model(ctx.params["model_id"])
    model.params.update(ctx.pairs("params"))
    ctx.store.save_logged_model(model)
    return ok()


def _model_value(model: LoggedModel, entity: str, key: str) -> Any:
    if entity == "tag":
        return model.tags.get(key)
    if entity == "param":
        return model.params.get(key)
    if entity == "attribute":
        return getattr(model, key)
    raise invalid("Logged models are searched by attributes, params and tags.")


async def search_logged_models(ctx: Ctx) -> Response:
    """``POST logged-models/search``."""
    ids = [int(e) for e in ctx.items("experiment_ids") if str(e).isdigit()]
    models = ctx.store.logged_models(f"experiment_id IN ({','.join('?' * len(ids))})", ids) if ids else []
    clauses = parse_filter(ctx.get("filter"), MODEL_ATTRIBUTES)
    models = [m for m in models if matches(m, clauses, _model_value)]
    orders = []
    for item in ctx.items("order_by"):
        if isinstance(item, dict) and item.get("field_name"):
            direction = "ASC" if item.get("ascending", True) else "DESC"
            orders.append(f"{item['field_name']} {direction}")
    models = sort(models, parse_order(orders, MODEL_ATTRIBUTES), _model_value)
    chosen, following = page(models, int(ctx.get("max_results") or 100), ctx.get("page_token"))
    models_json = [logged_model_json(m, ctx.store.model_metrics(m.model_id)) for m in chosen]
    return ok(page_body("models", models_json, following))


async def list_logged_model_artifacts(ctx: Ctx) -> Response:
    """``GET logged-models/{model_id}/artifacts/directories``."""
    model = ctx.store.logged_model(ctx.params["model_id"])
    root = run_folder(model.artifact_uri) or ""
    below = artifact_path(str(ctx.get("artifact_directory_path") or ""), folder=True)
    files = list_files(ctx.blobs, f"{root}/{below}" if below else root)
    for info in files:
        info["path"] = f"{below}/{info['path']}" if below else info["path"]
    return ok({"root_uri": model.artifact_uri, "files": files})


_L = "/api/2.0/mlflow/logged-models"
ROUTES: list[tuple[str, str, Any]] = [
    ("POST", _L, create_logged_model),
    ("POST", _L + "/search", search_logged_models),
    ("GET", _L + "/{model_id}", get_logged_model),
    ("PATCH", _L + "/{model_id}", finalize_logged_model),
    ("DELETE", _L + "/{model_id}", delete_logged_model),
    ("PATCH", _L + "/{model_id}/tags", set_logged_model_tags),
    ("DELETE", _L + "/{model_id}/tags/{tag_key}", delete_logged_model_tag),
    ("POST", _L + "/{model_id}/params", log_logged_model_params),
    ("GET", _L + "/{model_id}/artifacts/directories", list_logged_model_artifacts),
]
"""(method, path template below the tracking URI, handler)."""
