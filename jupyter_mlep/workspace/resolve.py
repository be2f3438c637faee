"""From a stored REST deployment and the registered assets to the runtime's input objects.

Asset URIs are resolved to local paths: the workspace's own blob store (``azureml://…/datastores/
<ds>/paths/<p>``, or ``http://127.0.0.1:<port>/mlepstore/<container>/<p>``), and, as a local
extension, ``file://`` URIs and absolute paths.

Environments resolve to a stored environment version (``…/versions/<v>``, or ``…/labels/latest``:
the newest), or to a curated environment of the table in :mod:`jupyter_mlep.specs._curated`
(``azureml://registries/azureml/environments/<name>/…`` and ``AzureML-<name>`` in the workspace),
built from its packages like any conda file. :func:`check_references` refuses an unknown curated
environment when a deployment is submitted, before anything is stored or started.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .._errors import SpecValidationError
from ..specs import AssetReference
from ..specs._conda import load_conda_text
from ..specs._curated import curated_conda, curated_environment, curated_name, unknown_curated
from .arm import ArmError, bad_request
from .blobstore import ACCOUNT
from .context import Workspace
from .datastores import resolve_datastore
from .debugging import debug_request
from .store import Record

__all__ = [
    "check_references",
    "default_output_uri",
    "duration_seconds",
    "local_path",
    "resolve_deployment",
    "resolve_environment",
    "resolve_model_path",
]

_ASSET_ID = re.compile(r"/(models|codes|environments)/([^/]+)/versions/([^/?#]+)$", re.IGNORECASE)
_LABEL_ID = re.compile(r"/(models|codes|environments)/([^/]+)/labels/([^/?#]+)$", re.IGNORECASE)
_SHORT = re.compile(r"^azureml:(?!//)([^:@]+)(?::([^:@]+)|@([A-Za-z0-9_.-]+))?$")
_DATASTORE_URI = re.compile(
    r"^azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+/)?"
    r"datastores/([^/]+)/paths/(.*)$",
    re.IGNORECASE,
)
_JOB_OUTPUT = re.compile(r"^azureml://jobs/([^/]+)/outputs/([^/]+)(?:/paths/(.*))?/?$", re.IGNORECASE)
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def duration_seconds(value: object, default: float) -> float:
    """An ISO 8601 duration (``PT10S``) in seconds; ``default`` when missing."""
    if not isinstance(value, str):
        return default
    match = _DURATION.match(value)
    if not match:
        return default
    days, hours, minutes, seconds = (float(group) if group else 0.0 for group in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def default_output_uri(job: str, output: str) -> str:
    """Where Azure stores a job's output that names no path."""
    return f"azureml://datastores/workspaceblobstore/paths/azureml/{job}/{output}/"


def _job_output(ws: Workspace, match: re.Match[str], what: str) -> Path:
    """The files of ``azureml://jobs/<job>/outputs/<output>[/paths/<sub>]``: the output's URI (as the
    job's PUT recorded it), or Azure's default place."""
    job, output, sub = match.groups()
    record = ws.store.get(f"jobs/{job}")
    outputs = ((record.body["properties"].get("outputs") or {}) if record is not None else {}) or {}
    if record is None or output not in outputs:
        raise bad_request(f"The {what} azureml://jobs/{job}/outputs/{output} does not exist.")
    uri = str(outputs[output].get("uri") or default_output_uri(job, output))
    try:
        path = local_path(ws, uri, what)
    except ArmError:
        raise bad_request(f"The {what} azureml://jobs/{job}/outputs/{output} holds nothing yet.") from None
    return path / unquote(sub).strip("/") if sub else path


def local_path(ws: Workspace, uri: str, what: str) -> Path:
    """The local file or folder an asset URI points to (400 when it cannot be found here); a job's
    output (``azureml://jobs/<job>/outputs/<output>``) too."""
    job_output = _JOB_OUTPUT.match(uri)
    if job_output:
        return _job_output(ws, job_output, what)
    path: Path | None = None
    match = _DATASTORE_URI.match(uri)
    parsed = urlparse(uri)
    if match:
        located = resolve_datastore(ws, match.group(1))
        if located is None or located[0] != ACCOUNT:
            raise bad_request(
                f"The {what} URI {uri} names datastore '{match.group(1)}', which is not a blob "
                "datastore of this workspace."
            )
        path = ws.paths.blobs / located[1] / unquote(match.group(2)).strip("/")
    elif parsed.scheme in ("http", "https") and parsed.hostname in _LOOPBACK:
        parts = unquote(parsed.path).strip("/").split("/", 2)
        if len(parts) >= 2 and parts[0] == ACCOUNT:
            path = ws.paths.blobs / parts[1] / (parts[2] if len(parts) > 2 else "")
    elif parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif uri.startswith("/"):
        path = Path(uri)
    if path is None:
        raise bad_request(
            f"The {what} URI {uri} cannot be reached from this machine; upload it to the "
            "workspace blob store (workspaceblobstore) first."
        )
    if not path.exists():
        raise bad_request(f"The {what} at {uri} does not exist (nothing was uploaded there).")
    return path


def _asset(ws: Workspace, family: str, reference: str, what: str) -> Record:
    match = _ASSET_ID.search(reference)
    labelled = _LABEL_ID.search(reference)
    name = version = label = None
    if match and match.group(1).lower() == family:
        name, version = match.group(2), match.group(3)
    elif labelled and labelled.group(1).lower() == family:
        name, label = labelled.group(2), labelled.group(3)
    else:
        short = _SHORT.match(reference)
        if short:
            name, version, label = short.group(1), short.group(2), short.group(3)
    if name is None:
        raise bad_request(
            f"The {what} reference '{reference}' is not an ARM id or azureml:<name>:<version> of "
            f"a {what} in this workspace."
        )
    if version is None:
        versions = ws.store.children(f"{family[:-1]}Version", f"{family}/{name}")
        if not versions:
            raise ArmError(404, "ResourceNotFound", f"The {what} '{name}' has no versions in this workspace.")
        if label not in (None, "latest"):
            raise bad_request(f"Unknown label '@{label}' for {what} '{name}' (only @latest is known).")
        return versions[-1]
    record = ws.store.get(f"{family}/{name}/versions/{version}")
    if record is None:
        raise ArmError(
            404, "ResourceNotFound", f"The {what} '{name}:{version}' does not exist in this workspace."
        )
    return record


def resolve_model_path(ws: Workspace, props: dict[str, Any]) -> Path | None:
    """The local file or folder of a deployment body's model (None without one)."""
    if not props.get("model"):
        return None
    reference = str(props["model"])
    if _ASSET_ID.search(reference) or _SHORT.match(reference):
        model = _asset(ws, "models", reference, "model")
        return local_path(ws, model.body["properties"].get("modelUri") or "", "model")
    return local_path(ws, reference, "model")


def resolve_deployment(ws: Workspace, endpoint: str, name: str, body: dict[str, Any]) -> Any:
    """The runtime ``DeploymentSpec`` of a stored deployment body (ArmError when a part is missing)."""
    from ..runtime import DeploymentSpec, EnvironmentSpec, ProbeSettings

    props = body["properties"]
    model_path = resolve_model_path(ws, props)
    code = props.get("codeConfiguration") or {}
    if not code.get("codeId"):
        from .nocode import no_code_parts

        code_path, script, environment = no_code_parts(ws, props, model_path)
    else:
        code_record = _asset(ws, "codes", str(code["codeId"]), "code")
        code_path = local_path(ws, str(code_record.body["properties"].get("codeUri") or ""), "code")
        script = code["scoringScript"]
        if not (code_path / script).is_file():
            raise bad_request(
                f"The scoring script '{script}' is not in the uploaded code "
                f"({code_record.name}:{code_record.body['properties'].get('codeUri')})."
            )
        env_id = props.get("environmentId")
        environment = resolve_environment(ws, str(env_id)) if env_id else EnvironmentSpec()
    requests = props.get("requestSettings") or {}
    capacity = (body.get("sku") or {}).get("capacity") or 1
    debug = debug_request(props, int(capacity))
    if debug is not None:  # the listener needs debugpy in the deployment's environment
        environment = dataclasses.replace(
            environment, pip_requirements=(*environment.pip_requirements, "debugpy")
        )
    return DeploymentSpec(
        endpoint=endpoint,
        name=name,
        code=code_path,
        scoring_script=script,
        environment=environment,
        model=model_path,
        environment_variables={
            k: v for k, v in (props.get("environmentVariables") or {}).items() if v is not None
        },
        request_timeout_ms=int(duration_seconds(requests.get("requestTimeout"), 5.0) * 1000),
        max_concurrent_requests_per_instance=int(requests.get("maxConcurrentRequestsPerInstance") or 1),
        liveness_probe=_probe(ProbeSettings, props.get("livenessProbe")),
        readiness_probe=_probe(ProbeSettings, props.get("readinessProbe")),
        instance_count=int(capacity),
        debug_port=debug[0] if debug else None,
        debug_wait=debug[1] if debug else False,
    )


def resolve_environment(ws: Workspace, env_id: str) -> Any:
    """The runtime ``EnvironmentSpec`` of an environment id: a stored version or a curated one (400
    for an unknown curated name or another registry, 404 for a missing version)."""
    from ..runtime import EnvironmentSpec

    reference = AssetReference.parse(env_id, strict=False)
    curated = curated_name(reference)
    if curated is not None:
        entry = curated_environment(curated)
        if entry is None:
            error = unknown_curated(curated, env_id)
            raise bad_request(f"{error.message} {error.hint}", target="properties.environmentId")
        return EnvironmentSpec(conda_file=curated_conda(entry), name=f"curated:{entry.name}")
    if reference.kind == "registry":
        raise bad_request(
            f"The environment {env_id} is in the registry '{reference.registry}', which the local workspace "
            "cannot reach; only the curated environments of the 'azureml' registry resolve here.",
            target="properties.environmentId",
        )
    env = _asset(ws, "environments", env_id, "environment")
    env_props = env.body["properties"]
    build = env_props.get("build") or {}
    conda = None
    if env_props.get("condaFile"):
        try:
            conda = load_conda_text(
                env_props["condaFile"], f"of environment {env.path.split('/')[1]}:{env.name}"
            )
        except SpecValidationError as exc:
            raise bad_request(exc.message, target="properties.condaFile") from None
    return EnvironmentSpec(
        conda_file=conda,
        image=env_props.get("image"),
        build_context=local_path(ws, build["contextUri"], "build context")
        if build.get("contextUri")
        else None,
        dockerfile=build.get("dockerfilePath") or "Dockerfile",
        name=f"{env.path.split('/')[1]}:{env.name}",
    )


def check_references(ws: Workspace, props: dict[str, Any]) -> None:
    """Refuse (400) a deployment body whose environment is curated but unknown, or in a registry
    this workspace cannot reach, before anything is stored or started.

    Other references (a model, code or environment version) are looked up when the servers start:
    a missing one ends the deployment Failed with the reason.
    """
    env_id = props.get("environmentId")
    if not isinstance(env_id, str) or not env_id:
        return
    reference = AssetReference.parse(env_id, strict=False)
    if curated_name(reference) is not None or reference.kind == "registry":
        resolve_environment(ws, env_id)


def _probe(factory: Any, settings: dict[str, Any] | None) -> Any:
    settings = settings or {}
    return factory(
        initial_delay=duration_seconds(settings.get("initialDelay"), 0.0),
        period=duration_seconds(settings.get("period"), 10.0),
        timeout=duration_seconds(settings.get("timeout"), 2.0),
        failure_threshold=int(settings.get("failureThreshold") or 30),
        success_threshold=int(settings.get("successThreshold") or 1),
    )
