"""What ``%endpoint deploy``, ``show`` and ``logs --follow`` draw, in either display mode; and the
job widget that ``%%job``, ``%job run|create|stream|show`` draw in interactive mode.

The verbs call these with the display mode, a client factory and their parsed arguments; these
call :mod:`jupyter_mlep.operations` and draw: the status and logs widgets (``interactive``), or
one display updated in place and printed lines (``static``). ipywidgets is imported only in
interactive mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import operations as ops
from .._errors import OperationInterruptedError, OperationTimeoutError
from ..operations import DeployResult, EndpointDetails, JobDetails
from ..rest import ProgressCallback, RestClient
from ..specs import OnlineDeployment
from ._mode import DisplayMode
from ._state import DeploymentState

__all__ = ["deploy_with_status", "follow_logs", "show_status", "shown_once", "watch_job"]

Connect = Callable[[], RestClient]


def _display(obj: Any) -> Any:
    """Display ``obj``; its display handle (to redraw the static fallbacks once final)."""
    from IPython.display import display

    return display(obj, display_id=True)  # type: ignore[no-untyped-call]


def _redraw(handle: Any, obj: Any) -> None:
    """Send the final representations again (the saved notebook's text/HTML then show the final
    state, not the first one). Main thread only: an update from a poller's thread may reach no cell."""
    if handle is not None:
        handle.update(obj)


def shown_once(result: Any) -> Any:
    """``result``, not drawn again under the widget that already shows it in this cell.

    ``r = %endpoint deploy …`` still gets the object, and ``r`` in a later cell draws it as usual:
    the mark is removed when the cell ends.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return result

    def cell_ended(*_args: Any) -> None:
        result.__dict__.pop("_ipython_display_", None)
        shell.events.unregister("post_run_cell", cell_ended)

    result.__dict__["_ipython_display_"] = lambda: None
    shell.events.register("post_run_cell", cell_ended)
    return result


def _share(split: dict[str, int] | None, deployment: str) -> int | None:
    return None if split is None else int(split.get(deployment, 0))


def deploy_with_status(
    mode: DisplayMode,
    connect: Connect,
    spec: OnlineDeployment,
    *,
    traffic: int | None,
    wait: bool,
    check_script: bool,
    say: Callable[[str], None],
    progress: ProgressCallback | None = None,
) -> DeployResult:
    """Deploy with a status view: the widget (interactive) or one display updated in place and
    printed progress (static, which always waits, ``--no-wait`` included). Failures raise."""
    endpoint, name = str(spec.endpoint_name), spec.name
    state = DeploymentState.for_deploy(endpoint, name)
    view: Any
    if mode == "interactive":
        from .status import StatusWidget

        view = StatusWidget(connect, endpoint, name, state=state)
        handle = _display(view)
        on_step: Callable[[str], None] | None = None
    else:
        from ._static import StaticStatus

        view = StaticStatus(state).show()
        wait, on_step, handle = True, say, None

    def polled(update: Any) -> None:
        view.apply_progress(update)
        if progress is not None and mode != "interactive":
            progress(update)

    with connect() as client:
        try:
            result = ops.deploy(
                client,
                spec,
                traffic=traffic,
                wait=wait,
                check_script=check_script,
                progress=polled,
                on_step=on_step,
                on_phase=view.apply_step,
            )
        except (OperationInterruptedError, OperationTimeoutError) as exc:
            view.fail(exc, final=False)  # only the wait ended: the deployment goes on
            if mode == "interactive":
                view.watch()  # keep following it from the background
            _redraw(handle, view)
            raise
        except BaseException as exc:  # Ctrl-C included: the cell fails, the view says why
            view.fail(exc, final=not isinstance(exc, KeyboardInterrupt))
            _redraw(handle, view)
            raise
        share = _share(result.traffic, name)
        if share is None and wait:
            share = _share(ops.get_traffic(client, endpoint).traffic, name)
    if wait:
        view.apply_deployment(result.deployment, share)
        view.warn(result.warnings)
        view.finish(share)
        _redraw(handle, view)
    else:
        view.watch()
    return shown_once(result) if mode == "interactive" else result


def show_status(mode: DisplayMode, connect: Connect, details: EndpointDetails) -> EndpointDetails:
    """``%endpoint show``: interactive mode draws a status widget per deployment (polling those
    still in progress) above the endpoint's table (the returned result); static mode draws the
    result only."""
    if mode != "interactive":
        return details
    from .status import StatusWidget

    for deployment in details.deployments:
        state = DeploymentState(details.endpoint.name, deployment.name)
        widget = StatusWidget(connect, details.endpoint.name, deployment.name, state=state)
        widget.apply_deployment(deployment, _share(details.endpoint.traffic or {}, deployment.name))
        if deployment.provisioning_state in ("Failed", "Canceled") or not state.done:
            widget.watch()  # in progress: until final; failed: once, for the log tail
        _display(widget)
    return details


def follow_logs(
    mode: DisplayMode,
    connect: Connect,
    endpoint: str,
    deployment: str,
    *,
    container: str,
    lines: int,
    say: Callable[[str], None],
    follow_for: float | None = None,
) -> Any:
    """``%endpoint logs … --follow``: the live logs widget (returns at once), or (static) the last
    ``lines`` printed, then new lines for ``follow_for`` seconds (0: none; None: until interrupted)."""
    if mode == "interactive":
        from .logs import MAX_LINES, LogsWidget

        widget = LogsWidget(
            connect, endpoint, deployment, container=container, max_lines=max(lines, MAX_LINES)
        )
        _display(widget)
        return None
    from ._static import follow_text

    with connect() as client:
        follower = ops.LogFollower(client, endpoint, deployment, container=container, window=max(lines, 500))
        follow_text(follower, say, lines=lines, duration=follow_for)
    return None


def watch_job(connect: Connect, job: JobDetails) -> JobDetails:
    """Interactive mode: display the live job widget (it follows the job from the background) and
    return ``job`` at once (not drawn again under the widget in this cell)."""
    from .job import JobWidget

    _display(JobWidget(connect, job.name, job=job))
    return shown_once(job)  # type: ignore[no-any-return]


def watch_sweep(connect: Connect, sweep: Any) -> Any:
    """Interactive mode: display the live sweep widget (it follows the sweep from the background)
    and return ``sweep`` (a :class:`~jupyter_mlep.operations.SweepDetails`) at once."""
    from .sweep import SweepWidget

    _display(SweepWidget(connect, sweep))
    return shown_once(sweep)
