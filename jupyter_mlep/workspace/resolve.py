"""From a stored REST deployment and the registered assets to the runtime's input objects.

Asset URIs are resolved to local paths: the workspace's own blob store (``azureml://…/datastores/
<ds>/paths/<p>``, or ``http://127.0.0.1:<port>/mlepstore/<container>/<p>``), and, as a local
extension, ``file://`` URIs and absolute paths.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from .arm import ArmError, bad_request
from .blobstore import ACCOUNT
from .context import Workspace
from .datastores import resolve_datastore
from .store import Record

__all__ = ["duration_seconds", "local_path", "resolve_deployment"]

_ASSET_ID = re.compile(r"/(models|codes|environments)/([^/]+)/versions/([^/?#]+)$", re.IGNORECASE)
_SHORT = re.compile(r"^azureml:(?!//)([^:@]+)(?::([^:@]+)|@([A-Za-z0-9_.-]+))?$")
_DATASTORE_URI = re.compile(
    r"^azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+/)?"
    r"datastores/([^/]+)/paths/(.*)$",
    re.IGNORECASE,
)
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


def local_path(ws: Workspace, uri: str, what: str) -> Path:
    """The local file or folder an asset URI points to (400 when it cannot be found here)."""
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
    name = version = label = None
    if match and match.group(1).lower() == family:
        name, version = match.group(2), match.group(3)
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


def resolve_deployment(ws: Workspace, endpoint: str, name: str, body: dict[str, Any]) -> Any:
    """The runtime ``DeploymentSpec`` of a stored deployment body (ArmError when a part is missing)."""
    from ..runtime import DeploymentSpec, EnvironmentSpec, ProbeSettings

    props = body["properties"]
    model_path: Path | None = None
    if props.get("model"):
        reference = str(props["model"])
        if _ASSET_ID.search(reference) or _SHORT.match(reference):
            model = _asset(ws, "models", reference, "model")
            uri = model.body["properties"].get("modelUri") or ""
            model_path = local_path(ws, uri, "model")
        else:
            model_path = local_path(ws, reference, "model")
    code = props.get("codeConfiguration") or {}
    if not code.get("codeId"):
        raise bad_request(
            "The deployment has no codeConfiguration.codeId; locally, a scoring script is needed "
            "(no-code deployments are not supported).",
            target="properties.codeConfiguration",
        )
    code_record = _asset(ws, "codes", str(code["codeId"]), "code")
    code_path = local_path(ws, str(code_record.body["properties"].get("codeUri") or ""), "code")
    if not (code_path / code["scoringScript"]).is_file():
        raise bad_request(
            f"The scoring script '{code['scoringScript']}' is not in the uploaded code "
            f"({code_record.name}:{code_record.body['properties'].get('codeUri')})."
        )
    environment = EnvironmentSpec()
    env_id = props.get("environmentId")
    if env_id and not str(env_id).startswith("azureml://registries/"):
        env = _asset(ws, "environments", str(env_id), "environment")
        env_props = env.body["properties"]
        build = env_props.get("build") or {}
        environment = EnvironmentSpec(
            conda_file=yaml.safe_load(env_props["condaFile"]) if env_props.get("condaFile") else None,
            image=env_props.get("image"),
            build_context=local_path(ws, build["contextUri"], "build context")
            if build.get("contextUri")
            else None,
            dockerfile=build.get("dockerfilePath") or "Dockerfile",
            name=f"{env.path.split('/')[1]}:{env.name}",
        )
    elif env_id:
        environment = EnvironmentSpec(name=str(env_id))
    requests = props.get("requestSettings") or {}
    capacity = (body.get("sku") or {}).get("capacity") or 1
    return DeploymentSpec(
        endpoint=endpoint,
        name=name,
        code=code_path,
        scoring_script=code["scoringScript"],
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
    )


def _probe(factory: Any, settings: dict[str, Any] | None) -> Any:
    settings = settings or {}
    return factory(
        initial_delay=duration_seconds(settings.get("initialDelay"), 0.0),
        period=duration_seconds(settings.get("period"), 10.0),
        timeout=duration_seconds(settings.get("timeout"), 2.0),
        failure_threshold=int(settings.get("failureThreshold") or 30),
        success_threshold=int(settings.get("successThreshold") or 1),
    )
