"""Batch endpoints and deployments: create, deploy, show, list, delete (the verbs of
``az ml batch-endpoint`` and ``az ml batch-deployment``).

A deployment is checked whole before anything is created (the spec, its local paths, the scoring
script), then its inline model, code and environment are registered as for online deployments,
the endpoint is created when missing (and then deleted again when the service refuses the
deployment at once), and the deployment becomes the endpoint's default when the endpoint had none.
"""

from __future__ import annotations

from collections.abc import Callable

from .._errors import MlepError, NotFoundError, RestError, SpecValidationError
from ..rest import ProgressCallback, RestClient
from ..specs import BatchDeployment, BatchEndpoint, validate_name
from ._assets import local_code_folder, local_model_path, register_deployment_assets
from ._batch_results import BatchEndpointDetails, BatchEndpointList
from ._common import endpoint_lock, location_of, not_found

__all__ = [
    "create_batch_endpoint",
    "delete_batch_endpoint",
    "deploy_batch",
    "describe_batch_endpoint",
    "get_batch_deployment",
    "get_batch_endpoint",
    "list_batch_deployments",
    "list_batch_endpoints",
    "set_default_deployment",
]


def list_batch_endpoints(client: RestClient) -> BatchEndpointList:
    """Every batch endpoint of the workspace."""
    return BatchEndpointList(
        [BatchEndpoint.from_rest(item) for item in client.list(client.paths.batch_endpoints())]
    )


def get_batch_endpoint(client: RestClient, name: str) -> BatchEndpoint:
    """One batch endpoint; :class:`~jupyter_mlep.NotFoundError` with "did you mean" when missing."""
    try:
        return BatchEndpoint.from_rest(client.get(client.paths.batch_endpoint(name)))
    except NotFoundError as exc:
        names = [str(item.get("name")) for item in client.list(client.paths.batch_endpoints())]
        raise not_found(exc, name, names, "batch endpoint") from None


def list_batch_deployments(client: RestClient, endpoint: str) -> list[BatchDeployment]:
    """The deployments of a batch endpoint."""
    path = client.paths.batch_deployments(endpoint)
    return [BatchDeployment.from_rest(item, endpoint_name=endpoint) for item in client.list(path)]


def get_batch_deployment(client: RestClient, endpoint: str, name: str) -> BatchDeployment:
    """One deployment of a batch endpoint (a "did you mean" error when missing)."""
    try:
        body = client.get(client.paths.batch_deployment(endpoint, name))
    except NotFoundError as exc:
        names = [d.name for d in list_batch_deployments(client, endpoint)]
        raise not_found(exc, name, names, f"deployment of batch endpoint '{endpoint}'") from None
    return BatchDeployment.from_rest(body, endpoint_name=endpoint)


def describe_batch_endpoint(client: RestClient, name: str) -> BatchEndpointDetails:
    """A batch endpoint and its deployments."""
    return BatchEndpointDetails(get_batch_endpoint(client, name), list_batch_deployments(client, name))


def create_batch_endpoint(
    client: RestClient,
    spec: BatchEndpoint | str,
    *,
    wait: bool = True,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
) -> BatchEndpoint:
    """Create or update a batch endpoint from a spec (or a name); waits unless ``wait`` is False."""
    if isinstance(spec, str):
        spec = BatchEndpoint(name=spec)
    spec.check()
    body = spec.to_rest(location=spec.location or location_of(client))
    with endpoint_lock(client, spec.name):
        operation = client.begin("PUT", client.paths.batch_endpoint(spec.name), body)
        result = operation.wait(timeout=timeout, progress=progress) if wait else operation.initial.json()
    return BatchEndpoint.from_rest(result)


def set_default_deployment(
    client: RestClient, endpoint: str, deployment: str, *, timeout: float | None = None
) -> BatchEndpoint:
    """Make ``deployment`` the one invocations without ``--deployment`` use (a PUT of the endpoint:
    its PATCH changes only tags and identity)."""
    current = get_batch_endpoint(client, endpoint)
    get_batch_deployment(client, endpoint, deployment)
    spec = BatchEndpoint.model_validate(
        {**current.model_dump(exclude={"defaults"}), "defaults": {"deployment_name": deployment}}
    )
    return create_batch_endpoint(client, spec, timeout=timeout)


def delete_batch_endpoint(
    client: RestClient,
    name: str,
    *,
    deployment: str | None = None,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
) -> None:
    """Delete a batch endpoint (with its deployments), or only its ``deployment``."""
    if deployment:
        get_batch_deployment(client, name, deployment)
        path = client.paths.batch_deployment(name, deployment)
    else:
        get_batch_endpoint(client, name)
        path = client.paths.batch_endpoint(name)
    with endpoint_lock(client, name):
        client.run("DELETE", path, timeout=timeout, progress=progress)


def check_batch_deployment(spec: BatchDeployment) -> None:
    """Everything checkable before a request: the spec, its local paths and its scoring script
    (which must define ``init()`` and ``run(mini_batch)``)."""
    spec.check(complete=True)
    local_model_path(spec)
    folder = local_code_folder(spec)
    if folder is not None and spec.code_configuration is not None:
        script = folder / spec.code_configuration.scoring_script
        if not script.is_file():
            raise SpecValidationError(
                f"The scoring script {script} of batch deployment {spec.name!r} does not exist.",
                hint="Fix code_configuration.scoring_script (a file in the code folder).",
            )
        from ._batch_dry_run import check_batch_script

        check_batch_script(script)


def deploy_batch(
    client: RestClient,
    spec: BatchDeployment,
    *,
    endpoint: str | None = None,
    make_default: bool | None = None,
    wait: bool = True,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
    on_step: Callable[[str], None] | None = None,
) -> BatchEndpointDetails:
    """Create or update the batch deployment ``spec`` on ``endpoint`` (default ``spec.endpoint_name``),
    creating the endpoint when missing; the endpoint and its deployments afterwards.

    ``make_default`` (default: when the endpoint has no default deployment yet) makes it the
    deployment invocations use. Nothing is created when a check fails.
    """
    say = on_step or (lambda _text: None)
    name = endpoint or spec.endpoint_name
    if not name:
        raise SpecValidationError(
            f"Batch deployment {spec.name!r} names no endpoint.",
            hint="Set endpoint_name: in the YAML, or pass the endpoint (--endpoint-name NAME).",
        )
    validate_name(name, "endpoint")
    spec = spec.model_copy(update={"endpoint_name": name})
    check_batch_deployment(spec)
    existing = client.find(client.paths.batch_endpoint(name))
    created = existing is None
    if created:
        say(f"Creating batch endpoint {name}")
        create_batch_endpoint(client, name, timeout=timeout, progress=progress)
    try:
        assets = register_deployment_assets(client, spec, endpoint=name, on_step=say)
        body = spec.to_rest(
            workspace=client.paths.workspace,
            location=spec.location or location_of(client),
            model_id=assets.model_id,
            code_id=assets.code_id,
            environment_id=assets.environment_id,
        )
        say(f"Creating batch deployment {spec.name}")
        with endpoint_lock(client, name):
            operation = client.begin("PUT", client.paths.batch_deployment(name, spec.name), body)
            if wait:
                operation.wait(timeout=timeout, progress=progress)
    except MlepError as exc:
        if created and isinstance(exc, RestError) and exc.status is not None and 400 <= exc.status < 500:
            delete_batch_endpoint(client, name, timeout=timeout)
            note = f"The batch endpoint {name} created for it was deleted again: nothing is left."
            exc.hint = f"{exc.hint}\n{note}" if exc.hint else note
        raise
    current = BatchEndpoint.from_rest(existing) if existing else get_batch_endpoint(client, name)
    if make_default or (make_default is None and not current.default_deployment):
        say(f"{spec.name} is the default deployment of {name}")
        set_default_deployment(client, name, spec.name, timeout=timeout)
    return describe_batch_endpoint(client, name)
