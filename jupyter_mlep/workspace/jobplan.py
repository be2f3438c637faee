"""A command job's plan: everything checked at PUT, then materialised when the job prepares.

:func:`check_command_job` refuses (400, before anything is stored) what cannot run: a command
that uses an input or output it does not declare, an input whose path does not exist here (a
datastore URI, registered data ``azureml:name:version``, a model, an uploaded local path), a
missing environment or code version, an unknown compute (as Azure refuses it), distributions
other than PyTorch, bad names and modes.

:func:`materialise` lays the job out in its folder ``$MLEP_HOME/workspace/jobs/<name>``: the code
copied to ``code/`` (the working folder), read-only inputs (``ro_mount``/``download``) copied
below ``inputs/<name>/`` and made read-only, outputs in the blob store at Azure's default path
``azureml/<job>/<output>/`` of ``workspaceblobstore`` (``rw_mount``, written in place) or below
``outputs/<name>/`` (``upload``, copied there when the job ends); then the command with its
``${{inputs.x}}``/``${{outputs.y}}`` expressions and optional ``$[[ … ]]`` blocks resolved.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .arm import ArmError, bad_request
from .blobstore import ACCOUNT, DEFAULT_CONTAINER
from .context import Workspace
from .datastores import resolve_datastore
from .resolve import default_output_uri, duration_seconds, local_path, resolve_environment
from .store import Record

__all__ = [
    "JobPlan",
    "check_command_job",
    "compute_of",
    "job_folder",
    "jobs_root",
    "materialise",
    "resolve_command",
]

_EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_.-]+)\s*\}\}")
_OPTIONAL = re.compile(r"\$\[\[(.*?)\]\]", re.DOTALL)
_IO_NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
_DATASTORE_URI = re.compile(
    r"^azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+/)?datastores/([^/]+)/paths/(.*)$",
    re.IGNORECASE,
)
_ASSET_VERSION_ID = re.compile(r"/(data|models)/[^/]+/versions/[^/?#]+$", re.IGNORECASE)
_DATA_ID = re.compile(r"/data/([^/]+)/versions/([^/?#]+)$", re.IGNORECASE)
_SHORT = re.compile(r"^azureml:(?!//)([^:@]+)(?::([^:@]+)|@([A-Za-z0-9_.-]+))?$")
_MODEL_TYPES = ("custom_model", "mlflow_model", "triton_model")
_INPUT_TYPES = ("literal", "uri_file", "uri_folder", "mltable", *_MODEL_TYPES)
_INPUT_MODES = {"readonlymount": "ReadOnlyMount", "download": "Download", "readwritemount": "ReadWriteMount",
                "direct": "Direct", "evalmount": "EvalMount", "evaldownload": "EvalDownload"}  # fmt: skip
_OUTPUT_MODES = {"readwritemount": "ReadWriteMount", "upload": "Upload", "direct": "Direct"}
_REFUSED_DISTRIBUTIONS = {
    "mpi": "MPI jobs need an MPI runtime across nodes",
    "tensorflow": "TensorFlow jobs need a TF_CONFIG cluster of parameter servers and workers",
}


def jobs_root(ws: Workspace) -> Path:
    """Where jobs keep their folders."""
    return ws.paths.root / "jobs"


def job_folder(ws: Workspace, name: str) -> Path:
    """The folder of job ``name`` (code, inputs, logs, process record)."""
    return jobs_root(ws) / name


def compute_of(props: Mapping[str, Any]) -> str | None:
    """The compute name of ``computeId`` (an ARM id, ``azureml:<name>`` or a name), None for serverless."""
    value = props.get("computeId")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if "/computes/" in text.lower():
        return text.rstrip("/").rsplit("/", 1)[-1]
    return text.removeprefix("azureml:")


def _unknown_expression(group: str, item: str, where: str) -> ArmError:
    return bad_request(
        f"The command uses ${{{{{group}.{item}}}}}, but the job declares no {group[:-1]} '{item}'"
        f"{where}. Declare it under {group}, or fix the name in the command.",
        target="properties.command",
    )


def _check_expressions(command: str, inputs: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
    required = _OPTIONAL.sub("", command)
    for group, item in _EXPRESSION.findall(required):
        if group not in ("inputs", "outputs"):
            raise bad_request(
                f"The command uses ${{{{{group}.{item}}}}}: a command job's command can use only "
                "${{inputs.<name>}} and ${{outputs.<name>}}.",
                target="properties.command",
            )
        declared = inputs if group == "inputs" else outputs
        if item not in declared:
            raise _unknown_expression(group, item, "")
    for block in _OPTIONAL.findall(command):
        for group, item in _EXPRESSION.findall(block):
            if group == "outputs" and item not in outputs:
                raise _unknown_expression(group, item, " (in an optional $[[ ]] block)")


def _data_version(ws: Workspace, reference: str) -> Record | None:
    match = _DATA_ID.search(reference)
    short = _SHORT.match(reference)
    name = version = None
    if match:
        name, version = match.group(1), match.group(2)
    elif short:
        name, version = short.group(1), short.group(2)
    if name is None:
        return None
    if version is None:
        versions = ws.store.children("dataVersion", f"data/{name}")
        return versions[-1] if versions else None
    return ws.store.get(f"data/{name}/versions/{version}")


def input_source(ws: Workspace, name: str, item: Mapping[str, Any]) -> Path:
    """The local file or folder a data or model input reads (400 when it is not here)."""
    uri = str(item.get("uri") or "")
    kind = str(item.get("jobInputType"))
    target = f"properties.inputs.{name}.uri"
    if not uri:
        raise bad_request(f"Input '{name}' ({kind}) has no uri.", target=target)
    if (uri.lower().startswith("azureml:") and not uri.lower().startswith("azureml://")) or _DATA_ID.search(
        uri
    ):
        if kind in _MODEL_TYPES:
            from .resolve import _asset

            try:
                model = _asset(ws, "models", uri, "model")
            except ArmError as exc:
                raise bad_request(f"Input '{name}': {exc.message}", target=target) from None
            return _local(ws, str(model.body["properties"].get("modelUri") or ""), name, target)
        record = _data_version(ws, uri)
        if record is None:
            raise bad_request(
                f"Input '{name}' names the data asset {uri}, which does not exist in this workspace. "
                "Register it first (az ml data create), or fix the name and version.",
                target=target,
            )
        return _local(ws, str(record.body["properties"].get("dataUri") or ""), name, target)
    return _local(ws, uri, name, target)


def _local(ws: Workspace, uri: str, name: str, target: str) -> Path:
    try:
        return local_path(ws, uri, f"input '{name}'")
    except ArmError as exc:
        raise bad_request(exc.message, target=target) from None


def output_path(ws: Workspace, uri: str) -> Path | None:
    """The blob-store folder of an output URI (a datastore URI of a blob datastore here), or None."""
    match = _DATASTORE_URI.match(uri)
    if not match:
        return None
    located = resolve_datastore(ws, match.group(1))
    if located is None or located[0] != ACCOUNT:
        return None
    return ws.paths.blobs / located[1] / unquote(match.group(2)).strip("/")


def _check_inputs(ws: Workspace, inputs: dict[str, Any]) -> None:
    for name, item in inputs.items():
        target = f"properties.inputs.{name}"
        if not _IO_NAME.match(name):
            raise bad_request(
                f"Invalid input name '{name}': use letters, digits and '_', not starting with a digit.",
                target=target,
            )
        if not isinstance(item, dict):
            raise bad_request(f"Input '{name}' must be an object with jobInputType.", target=target)
        kind = str(item.get("jobInputType") or "").lower()
        if kind not in _INPUT_TYPES:
            raise bad_request(
                f"Input '{name}' has jobInputType {item.get('jobInputType')!r}. Allowed values: "
                f"{', '.join(_INPUT_TYPES)}.",
                target=f"{target}.jobInputType",
            )
        item["jobInputType"] = kind
        if kind == "literal":
            if item.get("value") is None:
                raise bad_request(f"The literal input '{name}' has no value.", target=f"{target}.value")
            continue
        mode = str(item.get("mode") or "ReadOnlyMount")
        if mode.lower() not in _INPUT_MODES:
            raise bad_request(
                f"Input '{name}' has mode {mode!r}. Allowed values: {', '.join(_INPUT_MODES.values())}.",
                target=f"{target}.mode",
            )
        item["mode"] = _INPUT_MODES[mode.lower()]
        if item["mode"] != "Direct":
            input_source(ws, name, item)


def _check_outputs(ws: Workspace, name: str, outputs: dict[str, Any]) -> None:
    for output, item in outputs.items():
        target = f"properties.outputs.{output}"
        if not _IO_NAME.match(output):
            raise bad_request(
                f"Invalid output name '{output}': use letters, digits and '_', not starting with a digit.",
                target=target,
            )
        if item is None:
            item = outputs[output] = {"jobOutputType": "uri_folder"}
        if not isinstance(item, dict):
            raise bad_request(f"Output '{output}' must be an object with jobOutputType.", target=target)
        mode = str(item.get("mode") or "ReadWriteMount")
        if mode.lower() not in _OUTPUT_MODES:
            raise bad_request(
                f"Output '{output}' has mode {mode!r}. Allowed values: {', '.join(_OUTPUT_MODES.values())}.",
                target=f"{target}.mode",
            )
        item["mode"] = _OUTPUT_MODES[mode.lower()]
        uri = item.get("uri")
        if uri:
            uri = str(uri).replace("${{name}}", name).replace("${{output_name}}", output)
            uri = uri.replace("${{default_datastore}}", "workspaceblobstore")
            if item["mode"] != "Direct" and output_path(ws, uri) is None:
                raise bad_request(
                    f"Output '{output}' has the path {uri}, which is not a datastore URI of a blob datastore "
                    "of this workspace (azureml://datastores/<datastore>/paths/<path>).",
                    target=f"{target}.uri",
                )
            item["uri"] = uri
        else:
            item["uri"] = default_output_uri(name, output)


def check_command_job(ws: Workspace, name: str, props: dict[str, Any], compute_limit: Any) -> None:
    """Refuse (400) a command job that cannot run here; fills in the outputs' URIs as Azure does.

    ``compute_limit(name)`` is the concurrency of a compute, None when there is no such compute.
    """
    inputs = props.get("inputs") or {}
    outputs = props.get("outputs") or {}
    if not isinstance(inputs, dict) or not isinstance(outputs, dict):
        raise bad_request(
            "'properties.inputs' and 'properties.outputs' must be objects.", target="properties.inputs"
        )
    _check_expressions(str(props.get("command") or ""), inputs, outputs)
    distribution = props.get("distribution") or {}
    kind = str(distribution.get("distributionType") or "").lower() if isinstance(distribution, dict) else ""
    if kind in _REFUSED_DISTRIBUTIONS:
        raise bad_request(
            f"{distribution.get('distributionType')} distribution cannot run in the local workspace: "
            f"{_REFUSED_DISTRIBUTIONS[kind]}, which this machine does not provide. Use "
            "distribution: {type: pytorch} (torch.distributed on this machine), or run the job on Azure.",
            target="properties.distribution.distributionType",
        )
    if kind and kind != "pytorch":
        raise bad_request(
            f"Unknown distributionType {distribution.get('distributionType')!r}. Allowed values: PyTorch, Mpi, "
            "TensorFlow.",
            target="properties.distribution.distributionType",
        )
    if kind:
        distribution["distributionType"] = "PyTorch"
        count = distribution.get("processCountPerInstance")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise bad_request(
                "distribution.processCountPerInstance must be a whole number of at least 1.",
                target="properties.distribution.processCountPerInstance",
            )
    resources = props.get("resources") or {}
    instances = resources.get("instanceCount", 1) if isinstance(resources, dict) else 1
    if not isinstance(instances, int) or instances < 1:
        raise bad_request(
            "resources.instanceCount must be a whole number of at least 1.",
            target="properties.resources.instanceCount",
        )
    compute = compute_of(props)
    if compute is not None and compute_limit(compute) is None:
        raise bad_request(
            f"Compute '{compute}' is not found in workspace 'local'. Create it first (PUT …/computes/{compute}, "
            "az ml compute create), or leave compute out to run on serverless compute.",
            target="properties.computeId",
            code="UserError",
        )
    env_id = str(props.get("environmentId"))
    try:
        resolve_environment(ws, env_id)
    except ArmError as exc:
        raise bad_request(
            f"The environment of the job cannot be used: {exc.message}", target="properties.environmentId"
        ) from None
    code_id = props.get("codeId")
    if code_id:
        code_path(ws, str(code_id))
    _check_inputs(ws, inputs)
    _check_outputs(ws, name, outputs)


def code_path(ws: Workspace, code_id: str) -> Path:
    """The uploaded folder of a code version (400 when it is missing)."""
    from .resolve import _asset

    try:
        record = _asset(ws, "codes", code_id, "code")
        return local_path(ws, str(record.body["properties"].get("codeUri") or ""), "code")
    except ArmError as exc:
        raise bad_request(
            f"The code of the job cannot be used: {exc.message}", target="properties.codeId"
        ) from None


def timeout_seconds(props: Mapping[str, Any]) -> float | None:
    """``limits.timeout`` in seconds, or None."""
    limits = props.get("limits") or {}
    value = limits.get("timeout") if isinstance(limits, dict) else None
    seconds = duration_seconds(value, 0.0)
    return seconds if seconds > 0 else None


@dataclass
class JobPlan:
    """A job laid out in its folder: where it runs, what its expressions and variables become."""

    folder: Path
    workdir: Path
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, tuple[Path, Path]] = field(default_factory=dict)  # output -> (local, blob folder)
    blob_folders: list[Path] = field(default_factory=list)
    mounts: list[Path] = field(default_factory=list)


def _read_only(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        for item in files:
            target = Path(root) / item
            target.chmod(target.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        for item in dirs:
            target = Path(root) / item
            target.chmod(target.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _writable(path: Path) -> None:
    if not path.exists():
        return
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    for root, dirs, files in os.walk(path):
        for item in [*dirs, *files]:
            target = Path(root) / item
            if not target.is_symlink():
                target.chmod(target.stat().st_mode | stat.S_IWUSR)


def clear_folder(folder: Path) -> None:
    """Remove a job folder (read-only inputs included)."""
    _writable(folder)
    shutil.rmtree(folder, ignore_errors=True)


def materialise(ws: Workspace, name: str, props: Mapping[str, Any]) -> JobPlan:
    """Lay the job out in its folder (see the module docstring)."""
    folder = job_folder(ws, name)
    clear_folder(folder)
    (folder / "user_logs").mkdir(parents=True, exist_ok=True)
    workdir = folder / "code"
    code_id = props.get("codeId")
    if code_id:
        shutil.copytree(code_path(ws, str(code_id)), workdir, symlinks=True)
    else:
        workdir.mkdir()
    plan = JobPlan(folder, workdir)
    for key, item in (props.get("inputs") or {}).items():
        if item["jobInputType"] == "literal":
            plan.inputs[key] = str(item["value"])
            continue
        if item.get("mode") == "Direct":
            plan.inputs[key] = str(item["uri"])
            continue
        source = input_source(ws, key, item)
        if item.get("mode") == "ReadWriteMount":
            plan.inputs[key] = str(source)
            plan.mounts.append(source)
            continue
        target = folder / "inputs" / key
        target.mkdir(parents=True)
        if source.is_dir():
            target = target / source.name
            shutil.copytree(source, target, symlinks=False)
        else:
            target = target / source.name
            shutil.copy2(source, target)
        _read_only(target)
        plan.inputs[key] = str(target)
    for key, item in (props.get("outputs") or {}).items():
        uri = str(item.get("uri"))
        if item.get("mode") == "Direct":
            plan.outputs[key] = uri
            continue
        blob = output_path(ws, uri)
        assert blob is not None  # checked at PUT
        file_output = item.get("jobOutputType") == "uri_file"
        blob_folder = blob.parent if file_output else blob
        blob_folder.mkdir(parents=True, exist_ok=True)
        plan.blob_folders.append(blob_folder)
        if item.get("mode") == "Upload":
            local = folder / "outputs" / key
            local.mkdir(parents=True)
            plan.uploads[key] = (local, blob_folder)
            plan.outputs[key] = str(local / blob.name) if file_output else str(local)
        else:
            plan.outputs[key] = str(blob)
            plan.mounts.append(blob_folder)
    return plan


def resolve_command(command: str, inputs: Mapping[str, str], outputs: Mapping[str, str]) -> str:
    """The command with its expressions replaced; an optional block stays (without its brackets) only
    when every input it uses was given."""

    def value(match: re.Match[str]) -> str:
        group, item = match.group(1), match.group(2)
        found = (inputs if group == "inputs" else outputs).get(item)
        return match.group(0) if found is None else found

    def optional(match: re.Match[str]) -> str:
        block = match.group(1)
        used = _EXPRESSION.findall(block)
        if any(item not in (inputs if group == "inputs" else outputs) for group, item in used):
            return ""
        return _EXPRESSION.sub(value, block)

    return _EXPRESSION.sub(value, _OPTIONAL.sub(optional, command))


def register_outputs(ws: Workspace, plan: JobPlan) -> None:
    """Copy ``upload`` outputs into the blob store and record every output file as a blob."""
    import base64
    import hashlib
    import mimetypes
    import uuid

    from .arm import now_iso
    from .store import BlobMeta

    for local, blob_folder in plan.uploads.values():
        shutil.copytree(local, blob_folder, dirs_exist_ok=True)
    for blob_folder in plan.blob_folders:
        container_root = _container_root(ws, blob_folder)
        if container_root is None:
            continue
        for path in sorted(p for p in blob_folder.rglob("*") if p.is_file() and not p.is_symlink()):
            data = path.read_bytes()
            ws.store.save_blob(
                BlobMeta(
                    container_root[0],
                    str(path.relative_to(container_root[1])),
                    len(data),
                    mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                    base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii"),
                    f'"0x{uuid.uuid4().hex[:15].upper()}"',
                    now_iso(),
                )
            )


def _container_root(ws: Workspace, path: Path) -> tuple[str, Path] | None:
    try:
        relative = path.relative_to(ws.paths.blobs)
    except ValueError:
        return None
    container = relative.parts[0] if relative.parts else DEFAULT_CONTAINER
    return container, ws.paths.blobs / container
