"""``deploy``: check the scoring script, create the endpoint if missing, register the assets,
create or update the deployment, wait, and optionally move traffic to it.

Progress is reported three ways: ``on_step`` (one line of text per step, for terminals),
``progress`` (every poll of the long-running operation) and ``on_phase`` (a :class:`DeployStep`
each time one of the :data:`DEPLOY_PHASES` starts, changes or ends: what the status widget draws).

The service builds the environment after the deployment is submitted: while it does, the
``environment`` phase runs again (read from the deployment's storage-initializer log, whose
``environment …: building`` / ``ready`` / ``reusing`` lines say where the build is), and ``health``
starts once it is ready. The log's ``warning: …`` lines of this deploy (a conda file asking for
another Python, an image the process runtime ignores, a runtime fallback) end up on
:attr:`DeployResult.warnings <jupyter_mlep.operations.DeployResult.warnings>`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .._errors import (
    MlepError,
    OperationInterruptedError,
    OperationTimeoutError,
    RestError,
    SpecValidationError,
)
from ..rest import OperationProgress, ProgressCallback, RestClient
from ..specs import OnlineDeployment, validate_name
from ._assets import ended_state, local_code_folder, local_model_path, register_deployment_assets
from ._build_log import StorageLog
from ._debug import check_debug_target, debug_attach
from ._deployments import create_or_update_deployment
from ._endpoints import create_endpoint, delete_endpoint
from ._results import DeployResult
from ._traffic import format_split, set_traffic, split_traffic
from ._validate import validate_deployment

__all__ = [
    "DEPLOY_PHASES",
    "DeployStep",
    "PhaseCallback",
    "check_deployment_script",
    "deploy",
]

DEPLOY_PHASES = ("endpoint", "upload", "environment", "deployment", "health", "traffic")
"""The phases of :func:`deploy`, in order: create the endpoint if missing, upload the model and
code, register the environment (and, once the deployment is submitted, wait while the service
builds it), submit the deployment, wait until the service reports it healthy (provisioning state
Succeeded), move traffic (only with ``traffic``)."""


@dataclass(frozen=True)
class DeployStep:
    """One change of a deployment phase, as :func:`deploy` reports it to ``on_phase``."""

    phase: str
    """One of :data:`DEPLOY_PHASES`."""
    state: str
    """``running``, ``done``, ``skipped`` (nothing to do: e.g. the endpoint exists), ``failed``, or
    ``interrupted`` (Ctrl-C or a timeout ended the wait; the service may go on)."""
    detail: str = ""
    """What happened, in a few words (``model m:3 uploaded``, the provisioning state, the error)."""
    elapsed: float = 0.0
    """Seconds since the phase started."""

    @property
    def finished(self) -> bool:
        """True once the phase is over (done, skipped, failed or interrupted)."""
        return self.state in ("done", "skipped", "failed", "interrupted")


PhaseCallback = Callable[[DeployStep], None]


class _Phases:
    """Reports phase changes to an optional callback, timing each phase."""

    def __init__(self, callback: PhaseCallback | None) -> None:
        self._callback = callback
        self._started: dict[str, float] = {}
        self._finished: set[str] = set()

    def report(self, phase: str, state: str, detail: str = "", *, ago: float = 0.0) -> None:
        """``phase`` is ``state`` since ``ago`` seconds (a change seen only later, in a log)."""
        now = time.perf_counter() - ago
        if state == "running" and phase in self._finished:  # a phase that runs again: timed anew
            self._finished.discard(phase)
            self._started.pop(phase, None)
        started = self._started.setdefault(phase, now)
        now = max(now, started)
        step = DeployStep(phase, state, detail, now - started)
        if step.finished:
            self._finished.add(phase)
        if self._callback is not None:
            self._callback(step)

    @contextlib.contextmanager
    def running(self, phase: str, detail: str = "") -> Iterator[None]:
        """Report ``phase`` running, then failed (with the error) if the block raises."""
        self.report(phase, "running", detail)
        try:
            yield
        except BaseException as exc:
            self.report(phase, ended_state(exc), _first_line(exc))
            raise


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _say_endpoint_stays(exc: MlepError, endpoint: str) -> None:
    """Tell, on an error after ``deploy`` created the endpoint, that the endpoint stays (as on Azure)."""
    note = (
        f"The endpoint {endpoint} was created and stays; delete it with %endpoint delete {endpoint}, "
        "or deploy again to it."
    )
    exc.hint = f"{exc.hint}\n{note}" if exc.hint else note


def _refused(exc: RestError) -> bool:
    """True when the service refused the deployment request itself (a 4xx: nothing was started)."""
    return exc.status is not None and 400 <= exc.status < 500


def _take_back_endpoint(client: RestClient, exc: MlepError, endpoint: str, timeout: float | None) -> None:
    """Delete the endpoint ``deploy`` created for a deployment the service refused at once."""
    try:
        delete_endpoint(client, endpoint, timeout=timeout)
    except MlepError:
        _say_endpoint_stays(exc, endpoint)
        return
    note = f"The endpoint {endpoint} that deploy had created for it was deleted again: nothing is left."
    exc.hint = f"{exc.hint}\n{note}" if exc.hint else note


def _interrupted_hint(endpoint: str, name: str, traffic: int) -> str:
    """How to give the deployment its traffic after Ctrl-C (magic and command line)."""
    split = f"{name}={traffic}" + ("" if traffic == 100 else " OTHER=...")
    return (
        f"The traffic was not applied ({name} was to get {traffic}%). Once the deployment is Succeeded, "
        f"apply it: %endpoint traffic {endpoint} {split}."
    )


def check_deployment_script(spec: OnlineDeployment) -> None:
    """Run the scoring-script contract check on a deployment's local script (before any upload)."""
    folder = local_code_folder(spec)
    if folder is None or spec.code_configuration is None:
        return
    from ..scoring import check_score_script

    script = folder / spec.code_configuration.scoring_script if folder.is_dir() else folder
    model = local_model_path(spec)
    check_score_script(script, model_dir=model.parent if model is not None else None)


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
    on_phase: PhaseCallback | None = None,
) -> DeployResult:
    """Deploy ``spec`` to ``endpoint`` (default: ``spec.endpoint_name``), creating the endpoint if missing.

    Everything that can be checked here is checked before the endpoint is created or anything is
    uploaded (see :func:`validate_deployment`: the spec, the paths, the conda file, the scoring
    script, the referenced assets). A failed deployment raises
    :class:`~jupyter_mlep.OperationFailedError` with its log tail; when ``deploy`` created the
    endpoint, the endpoint stays (as on Azure) and the error's hint says how to delete it. With
    ``traffic`` (a percentage), the deployment then takes that share of live traffic. With
    ``wait=False`` it returns once the service accepted the deployment (the ``health`` phase is
    then still running: watch the deployment's provisioning state).
    """
    started, requests = time.perf_counter(), client.request_count
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    say = on_step or (lambda _text: None)
    phases = _Phases(on_phase)
    name = endpoint or spec.endpoint_name
    if not name:
        raise SpecValidationError(
            f"Deployment {spec.name!r} names no endpoint.",
            hint="Pass the endpoint name (or set endpoint_name).",
        )
    validate_name(name, "endpoint")
    spec = spec.model_copy(update={"endpoint_name": name})
    spec.check()
    check_debug_target(client, spec)
    if traffic is not None and not 0 <= traffic <= 100:
        raise SpecValidationError(f"--traffic must be 0 to 100 (got {traffic}).", hint="E.g. --traffic 100")
    validate_deployment(client, spec, check_script=check_script)
    created = False
    with phases.running("endpoint"):
        if client.find(client.paths.endpoint(name)) is None:
            say(f"Creating endpoint {name}")
            create_endpoint(client, name, timeout=timeout)
            created = True
    phases.report("endpoint", "done" if created else "skipped", "created" if created else "exists")
    try:
        assets = register_deployment_assets(client, spec, endpoint=name, on_step=say, on_phase=phases.report)
    except MlepError as exc:
        if created:
            _say_endpoint_stays(exc, name)
        raise
    say(f"Deploying {spec.name} to {name}")

    submitted: list[str] = []
    storage = StorageLog(client, name, spec.name, since)

    def built() -> None:
        """The environment phase ends once the storage log says the build is over (when it said so)."""
        if storage.build == "done":
            ago = storage.done_ago()
            phases.report("environment", "done", storage.detail, ago=ago)
            phases.report("health", "running", submitted[-1] if submitted else "", ago=ago)

    def accepted(body: OnlineDeployment) -> None:
        state = body.provisioning_state or "Accepted"
        submitted.append(state)
        phases.report("deployment", "done", f"accepted ({state})")
        if wait:
            phases.report("environment", "running", "waiting for the build")
        else:  # not followed here: a status view polls the provisioning state
            phases.report("health", "running", state)

    def polled(update: OperationProgress) -> None:
        if not update.done and storage.build != "done" and wait:
            storage.read(throttle=True)
            if storage.build == "done":
                built()
            elif storage.build == "running":
                phases.report("environment", "running", storage.detail)
        if not update.done and (storage.build == "done" or not wait):
            # an operation status says InProgress: keep the provisioning state
            state = submitted[-1] if submitted and update.status == "InProgress" else update.status
            phases.report("health", "running", state)
        if progress is not None:
            progress(update)

    phases.report("deployment", "running", "submitting")
    try:
        result = create_or_update_deployment(
            client,
            name,
            spec,
            model_id=assets.model_id,
            code_id=assets.code_id,
            environment_id=assets.environment_id,
            wait=wait,
            timeout=timeout,
            progress=polled,
            on_accepted=accepted,
        )
    except BaseException as exc:
        if created and not submitted and isinstance(exc, RestError) and _refused(exc):
            _take_back_endpoint(client, exc, name, timeout)
        elif created and isinstance(exc, MlepError):
            _say_endpoint_stays(exc, name)
        if not submitted:
            phases.report("deployment", ended_state(exc), _first_line(exc))
            raise
        interrupted = ended_state(exc) == "interrupted"
        if storage.build != "done" and not isinstance(exc, KeyboardInterrupt):
            storage.read()  # did the build end before the failure?
            built()
        if storage.build != "done":
            phases.report("environment", ended_state(exc), _first_line(exc))
        if storage.build == "done" or interrupted:  # an interrupted wait ends both waits
            phases.report("health", ended_state(exc), _first_line(exc))
        if storage.warnings and isinstance(exc, MlepError):
            said = "Warnings while preparing it: " + "; ".join(storage.warnings)
            exc.hint = " ".join(part for part in (exc.hint, said) if part)
        if traffic is not None and isinstance(exc, (OperationInterruptedError, OperationTimeoutError)):
            exc.hint = " ".join(
                part for part in (_interrupted_hint(name, spec.name, traffic), exc.hint) if part
            )
        raise
    if wait:
        known = storage.build == "done"
        storage.read()  # the warnings of this deploy (and how the build ended, if not seen yet)
        for warning in storage.warnings:
            say(f"Warning: {warning}")
        if not known:
            if storage.build != "done":  # the log did not say (another service): it is over anyway
                storage.build, storage.detail = "done", ""
            built()
        phases.report("health", "done", str(result.provisioning_state or "Succeeded"))
    split = None
    if traffic is not None and wait:
        with phases.running("traffic"):
            current = dict(client.get(client.paths.endpoint(name)).get("properties", {}).get("traffic") or {})
            split = split_traffic(current, spec.name, traffic, rest_to="one", endpoint=name)
            split = set_traffic(client, name, split, timeout=timeout).traffic
        phases.report("traffic", "done", format_split(split))
        say(f"Traffic: {format_split(split)}")
    return DeployResult(
        endpoint=name,
        deployment=result,
        assets=assets.registered,
        environment_id=assets.environment_id,
        traffic=split,
        created_endpoint=created,
        warnings=list(storage.warnings),
        elapsed=time.perf_counter() - started,
        requests=client.request_count - requests,
        debug=debug_attach(name, spec, result),
    )
