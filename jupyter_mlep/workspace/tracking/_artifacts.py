"""MLflow's artifact service (``/api/2.0/mlflow-artifacts/artifacts``) over the workspace's blob store.

An artifact path (``ExperimentRun/dcid.<run id>/model/MLmodel``, Azure's layout of a run's files)
is the name of a blob in the container of the default datastore ``workspaceblobstore``, where job
outputs land too, so artifacts are blobs like any other: listed, read and written through the blob
API, and named by datastore URIs (``azureml://datastores/workspaceblobstore/paths/<artifact path>``). Uploads are ``PUT <path>`` with the file as
the body, downloads ``GET <path>``, listings ``GET …/artifacts?path=<folder>`` (immediate
children, folders without a size), ``DELETE <path>`` removes a file or a folder.
"""

from __future__ import annotations

import posixpath
from typing import Any

from starlette.responses import FileResponse, Response

from ..blobstore import DEFAULT_CONTAINER, BlobStore
from ._entities import TrackingError, invalid, missing
from ._wire import Ctx, ok

__all__ = ["ARTIFACTS_PATH", "ARTIFACT_CONTAINER", "download", "list_artifacts", "list_files", "upload"]

ARTIFACT_CONTAINER = DEFAULT_CONTAINER
ARTIFACTS_PATH = "/api/2.0/mlflow-artifacts/artifacts"


def artifact_path(raw: str, *, folder: bool = False) -> str:
    """A checked artifact path (relative, no ``.``/``..`` parts); ``""`` for the root of a listing."""
    path = raw.strip("/")
    if not path:
        if folder:
            return ""
        raise invalid("An artifact path is required.")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in path or "\x00" in path:
        raise invalid(f"Invalid artifact path '{raw}': it must be relative, without '.' or '..' parts.")
    return path


def list_files(blobs: BlobStore, folder: str) -> list[dict[str, Any]]:
    """The immediate children of an artifact folder as MLflow ``FileInfo`` objects, by path."""
    prefix = f"{folder}/" if folder else ""
    children: dict[str, dict[str, Any]] = {}
    for meta in blobs.ws.store.list_blobs(ARTIFACT_CONTAINER, prefix):
        head, slash, _ = meta.name[len(prefix) :].partition("/")
        if not head:
            continue
        if slash:
            children.setdefault(head, {"path": head, "is_dir": True})
        else:
            children[head] = {"path": head, "is_dir": False, "file_size": meta.size}
    return [children[name] for name in sorted(children)]


async def upload(ctx: Ctx) -> Response:
    """``PUT …/artifacts/<path>``: store one file."""
    path = artifact_path(ctx.params["path"])
    data = await ctx.request.body()
    try:
        ctx.blobs.write(ARTIFACT_CONTAINER, path, data, ctx.request.headers.get("content-type"))
    except (IsADirectoryError, NotADirectoryError, FileExistsError):
        raise TrackingError(
            "RESOURCE_ALREADY_EXISTS", f"The artifact path '{path}' clashes with an artifact folder or file."
        ) from None
    return ok()


async def download(ctx: Ctx) -> Response:
    """``GET …/artifacts/<path>``: one file's bytes."""
    path = artifact_path(ctx.params["path"])
    meta = ctx.ws.store.blob(ARTIFACT_CONTAINER, path)
    file = ctx.blobs.blob_path(ARTIFACT_CONTAINER, path)
    if meta is None or not file.is_file():
        raise missing(f"Artifact '{path}' not found.")
    return FileResponse(file, media_type=meta.content_type or "application/octet-stream")


async def delete(ctx: Ctx) -> Response:
    """``DELETE …/artifacts/<path>``: a file, or a folder and everything below it."""
    path = artifact_path(ctx.params["path"])
    store = ctx.ws.store
    doomed = [m.name for m in store.list_blobs(ARTIFACT_CONTAINER, path + "/")]
    if store.blob(ARTIFACT_CONTAINER, path) is not None:
        doomed.append(path)
    for name in doomed:
        ctx.blobs.blob_path(ARTIFACT_CONTAINER, name).unlink(missing_ok=True)
        store.delete_blob(ARTIFACT_CONTAINER, name)
    return ok()


async def list_artifacts(ctx: Ctx) -> Response:
    """``GET …/artifacts?path=<folder>``: the folder's immediate children."""
    folder = artifact_path(str(ctx.get("path") or ""), folder=True)
    return ok({"files": list_files(ctx.blobs, folder)})


def run_folder(artifact_uri: str) -> str | None:
    """The artifact folder of an ``mlflow-artifacts:`` URI (None for other stores)."""
    if not artifact_uri.startswith("mlflow-artifacts:"):
        return None
    return posixpath.normpath("/" + artifact_uri.removeprefix("mlflow-artifacts:").lstrip("/")).strip("/")


async def list_run_artifacts(ctx: Ctx) -> Response:
    """``/api/2.0/mlflow/artifacts/list``: a run's artifacts below ``path``."""
    run = ctx.store.run(ctx.run_id())
    root = run_folder(run.artifact_uri)
    if root is None:
        raise invalid(
            f"Run '{run.run_id}' keeps its artifacts at {run.artifact_uri}, outside this workspace."
        )
    below = artifact_path(str(ctx.get("path") or ""), folder=True)
    files = list_files(ctx.blobs, posixpath.join(root, below) if below else root)
    for info in files:
        info["path"] = posixpath.join(below, info["path"]) if below else info["path"]
    return ok({"root_uri": run.artifact_uri, "files": files})
