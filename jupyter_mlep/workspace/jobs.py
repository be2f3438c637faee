"""Jobs: PUT (synchronous, validated), GET, list, DELETE, cancel.

Command jobs run (:mod:`.jobrun`) and sweeps run their trials as child command jobs
(:mod:`.sweeprun`): a PUT checks everything that can be checked before anything is stored
(:mod:`.jobplan`), answers 201 with the job ``NotStarted``, and the job then moves on by itself.
Other job types are stored, not run.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ._render import envelope, page
from .arm import bad_request, json_response, not_found, now_iso
from .context import Call, Workspace
from .jobplan import check_command_job, clear_folder, job_folder
from .jobrun import JOB_STATE_KEY, compute_concurrency, scheduler, update_job
from .lro import OperationRunner
from .runhistory import run_url
from .store import Record
from .sweepcheck import check_sweep_job
from .sweeprun import sweeper
from .validation import check_asset_name, check_job_body, list_view, optional_dict

__all__ = ["TERMINAL_STATUSES"]

KIND = "job"
TYPE = "Microsoft.MachineLearningServices/workspaces/jobs"
TERMINAL_STATUSES = ("Completed", "Failed", "Canceled", "NotResponding")


def _find(ws: Workspace, name: str) -> Record:
    record = ws.store.get(f"jobs/{name}")
    if record is None:
        raise not_found("job", name)
    return record


def _render(ws: Workspace, record: Record) -> dict[str, Any]:
    body = envelope(ws, record, TYPE)
    body.pop(JOB_STATE_KEY, None)
    if body["properties"].get("jobType") in ("Command", "Sweep"):
        # Azure names the job's Studio page here (the SDK prints it); locally its run-history record.
        services = body["properties"].get("services") or {}
        services.setdefault("Studio", {"jobServiceType": "Studio", "endpoint": run_url(ws, record.name)})
        body["properties"]["services"] = services
    return body


async def list_jobs(call: Call) -> Response:
    """``Jobs_List`` (``jobType``, ``tag``, ``listViewType``)."""
    records = call.ws.store.children(KIND)
    job_type = call.query("jobType")
    if job_type:
        records = [r for r in records if r.body["properties"].get("jobType", "").lower() == job_type.lower()]
    tag = call.query("tag")
    if tag:
        records = [r for r in records if tag in (r.body["properties"].get("tags") or {})]
    view = list_view(call.query("listViewType"))
    if view != "All":
        archived = view == "ArchivedOnly"
        records = [r for r in records if bool(r.body["properties"].get("isArchived")) == archived]
    return json_response(page(call, records, lambda r: _render(call.ws, r)))


async def get_job(call: Call) -> Response:
    """``Jobs_Get``."""
    return json_response(_render(call.ws, _find(call.ws, call.params["name"])))


async def put_job(call: Call) -> Response:
    """``Jobs_CreateOrUpdate``: 201 with the job (status NotStarted); an update replaces the tags."""
    ws, name = call.ws, call.params["name"]
    check_asset_name(name)
    body = await call.body()
    existing = ws.store.get(f"jobs/{name}")
    if existing is not None:
        props = optional_dict(body, "properties", "")
        stored = existing.body
        stored["properties"]["tags"] = optional_dict(props, "tags", "properties.")
        record = ws.store.put(existing.path, KIND, "", existing.name, stored)
        return json_response(_render(ws, record), 200)
    props = check_job_body(body)
    props = dict(props)
    if props["jobType"] == "Command":
        check_command_job(ws, name, props, lambda compute: compute_concurrency(ws, compute))
    elif props["jobType"] == "Sweep":
        check_sweep_job(ws, name, props)
    props.setdefault("experimentName", "Default")
    props.setdefault("displayName", name)
    props["tags"] = optional_dict(props, "tags", "properties.")
    props["properties"] = optional_dict(props, "properties", "properties.")
    props.setdefault("isArchived", False)
    props["status"] = "NotStarted"
    history = [{"status": "NotStarted", "timeUtc": now_iso()}]
    record = ws.store.put(
        f"jobs/{name}", KIND, "", name, {"properties": props, JOB_STATE_KEY: {"statusHistory": history}}
    )
    if props["jobType"] == "Command":
        scheduler(ws).submit(name)
    elif props["jobType"] == "Sweep":
        sweeper(ws).submit(name)
    return json_response(_render(ws, record), 201)


def _set_status(ws: Workspace, name: str, status: str) -> None:
    update_job(ws, name, status)


async def cancel_job(call: Call) -> Response:
    """``Jobs_Cancel``: 202, then the job is Canceled."""
    ws = call.ws
    record = _find(ws, call.params["name"])
    status = record.body["properties"].get("status")
    if status in TERMINAL_STATUSES:
        raise bad_request(f"Job '{record.name}' has already finished ({status}); it cannot be canceled.")
    _set_status(ws, record.name, "CancelRequested")
    name = record.name

    async def work() -> None:
        jobs = scheduler(ws)
        if sweeper(ws).active(name):
            await sweeper(ws).cancel(name)  # its trials stop, then it ends Canceled
        elif jobs.active(name):
            await jobs.cancel(name)  # the job ends Canceled (or had just ended otherwise)
        else:
            _set_status(ws, name, "Canceled")

    op = ws.operations.start(record.id, "cancel", work, prefix="job")
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))


async def delete_job(call: Call) -> Response:
    """``Jobs_Delete``: 202, then the job is gone (204 when it did not exist)."""
    ws = call.ws
    record = ws.store.get(f"jobs/{call.params['name']}")
    if record is None:
        return Response(status_code=204)
    ws.operations.refuse_if_busy(f"job '{record.name}'", record.id)

    async def work() -> None:
        jobs = scheduler(ws)
        if sweeper(ws).active(record.name):
            await sweeper(ws).cancel(record.name)
        if jobs.active(record.name):
            await jobs.cancel(record.name)
        ws.store.delete(record.id)
        clear_folder(job_folder(ws, record.name))

    op = ws.operations.start(record.id, "delete", work, prefix="job")
    return Response(status_code=202, headers=OperationRunner.headers(op, ws.base_url, call.api_version))
