"""``deploy``: check the scoring script, create the endpoint if missing, register the assets,
create or update the deployment, wait, and optionally move traffic to it."""

from __future__ import annotations

import time
from collections.abc import Callable

from .._errors import SpecValidationError
from ..rest import ProgressCallback, RestClient
from ..specs import OnlineDeployment, validate_name
from ._assets import local_code_folder, local_model_path, register_deployment_assets
from ._deployments import create_or_update_deployment
from ._endpoints import create_endpoint, set_traffic
from ._results import DeployResult

__all__ = ["check_deployment_script", "deploy", "traffic_with"]


def check_deployment_script(spec: OnlineDeployment) -> None:
    """Run the scoring-script contract check on a deployment's local script (before any upload)."""
    folder = local_code_folder(spec)
    if folder is None or spec.code_configuration is None:
        return
    from ..scoring import check_score_script

    script = folder / spec.code_configuration.scoring_script if folder.is_dir() else folder
    model = local_model_path(spec)
    check_score_script(script, model_dir=model.parent if model is not None else None)


def traffic_with(current: dict[str, int], deployment: str, percent: int) -> dict[str, int]:
    """The split after giving ``deployment`` ``percent``: 100 takes everything; otherwise the one
    other deployment with live traffic gets the rest."""
    if percent == 100:
        return {**{name: 0 for name in current}, deployment: 100}
    others = [name for name, value in current.items() if value and name != deployment]
    if percent == 0 and not others:
        return {**current, deployment: 0}
    if len(others) != 1:
        raise SpecValidationError(
            f"Cannot give {deployment!r} {percent}% on its own: the rest must go to exactly one other "
            f"deployment, but live traffic is {current or 'empty'}.",
            hint="Set the whole split instead: %endpoint traffic NAME blue=90 green=10",
        )
    return {**{name: 0 for name in current}, others[0]: 100 - percent, deployment: percent}


def deploy(
    client: RestClient,
    spec: OnlineDeployment,
    *,
    endpoint: str | None = None,
    traffic: int | None = None,
    wait: bool = True,
    check_script: bool = True,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DeployResult:
    """Deploy ``spec`` to ``endpoint`` (default: ``spec.endpoint_name``), creating the endpoint if missing.

    Checks names, the model path and the scoring script before anything is uploaded; a failed
    deployment raises :class:`~jupyter_mlep.OperationFailedError` with its log tail. With
    ``traffic`` (a percentage), the deployment then takes that share of live traffic.
    """
    started, requests = time.perf_counter(), client.request_count
    say = on_step or (lambda _text: None)
    name = endpoint or spec.endpoint_name
    if not name:
        raise SpecValidationError(
            f"Deployment {spec.name!r} names no endpoint.",
            hint="Pass the endpoint name (or set endpoint_name).",
        )
    validate_name(name, "endpoint")
    spec = spec.model_copy(update={"endpoint_name": name})
    spec.check()
    if traffic is not None and not 0 <= traffic <= 100:
        raise SpecValidationError(f"--traffic must be 0 to 100 (got {traffic}).", hint="E.g. --traffic 100")
    local_model_path(spec)
    local_code_folder(spec)
    if check_script:
        check_deployment_script(spec)
    created = False
    if client.find(client.paths.endpoint(name)) is None:
        say(f"Creating endpoint {name}")
        create_endpoint(client, name, timeout=timeout)
        created = True
    assets = register_deployment_assets(client, spec, endpoint=name, on_step=say)
    say(f"Deploying {spec.name} to {name}")
    result = create_or_update_deployment(
        client,
        name,
        spec,
        model_id=assets.model_id,
        code_id=assets.code_id,
        environment_id=assets.environment_id,
        wait=wait,
        timeout=timeout,
        progress=progress,
    )
    split = None
    if traffic is not None and wait:
        current = dict(client.get(client.paths.endpoint(name)).get("properties", {}).get("traffic") or {})
        split = traffic_with(current, spec.name, traffic)
        split = set_traffic(client, name, split, timeout=timeout).traffic
        say(f"Traffic: {split}")
    return DeployResult(
        endpoint=name,
        deployment=result,
        assets=assets.registered,
        environment_id=assets.environment_id,
        traffic=split,
        created_endpoint=created,
        elapsed=time.perf_counter() - started,
        requests=client.request_count - requests,
    )
