"""The deployment status widget: ``%endpoint deploy`` and ``%endpoint show`` in a live front end.

It shows the phases of a deploy (endpoint, upload, environment, deployment, health, traffic)
with their state and elapsed time, the provisioning state the service reports, and on failure
the error with the log tail and a button that opens the live logs below. While the cell waits it
is fed by the operation's callbacks (trait changes reach the front end at once); with
``--no-wait`` (or for a deployment still in progress) :meth:`StatusWidget.watch` polls the
deployment on a background thread until its state is final, then the thread ends. Closing the
widget stops it too.

DOM contract (browser tests): the container has class ``mlep-status``; its text includes the
deployment name and the provisioning state (``Succeeded``); the state itself is a
``span.mlep-state``; the logs button has class ``mlep-logs-button``.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import Dict, Int, List, Unicode

from .. import operations as ops
from .._errors import OperationFailedError
from ..operations import DeployStep
from ..rest import OperationProgress
from ..specs import OnlineDeployment
from ._client import ClientHolder, ClientSource
from ._poller import Poller
from ._state import DeploymentState

__all__ = ["StatusWidget"]

POLL_INTERVAL = 0.5
"""Seconds between polls while a deployment is in progress (a change shows within about this)."""
SLOW_AFTER = 60.0
"""After this many seconds of polling, the interval grows (by half each poll) up to MAX_INTERVAL."""
MAX_INTERVAL = 5.0
LOG_TAIL_LINES = 50


class StatusWidget(widgets.VBox):  # type: ignore[misc]
    """The status of one deployment, live.

    Parameters: ``client`` (a :class:`~jupyter_mlep.rest.RestClient` or a factory of one, used by
    the poller and the logs), ``endpoint``, ``deployment``, and ``state`` (a
    :class:`~jupyter_mlep.widgets._state.DeploymentState`; default: one with the deploy phases
    pending). Feed it with :meth:`apply_step`, :meth:`apply_progress`, :meth:`apply_deployment`,
    :meth:`fail`, :meth:`finish`, or let :meth:`watch` poll.
    """

    endpoint = Unicode(help="The endpoint's name.")
    deployment = Unicode(help="The deployment's name.")
    state = Unicode(help="The provisioning state the service reports (Creating, Succeeded, Failed, …).")
    error = Unicode(help="The error of a failed deployment (first line), or ''.")
    traffic = Int(None, allow_none=True, help="This deployment's share of live traffic, when known.")
    phases = Dict(help="Phase name → {'state', 'detail', 'elapsed'} (the deploy's phases).")
    warnings = List(Unicode(), help="What the service warned about while preparing the deployment.")

    def __init__(
        self,
        client: ClientSource,
        endpoint: str,
        deployment: str,
        *,
        state: DeploymentState | None = None,
        interval: float = POLL_INTERVAL,
        max_errors: int = 3,
    ) -> None:
        self._client_source = client
        self._model = state or DeploymentState.for_deploy(endpoint, deployment)
        self._interval = interval
        self._max_errors = max_errors
        self.poller: Poller | None = None
        self.logs: Any = None
        self.card = widgets.HTML()
        self.logs_button = widgets.Button(description="Show logs", icon="file-text-o", tooltip="live logs")
        self.logs_button.add_class("mlep-logs-button")
        self.logs_button.on_click(lambda _button: self.toggle_logs())
        self.logs_box = widgets.VBox()
        self.actions = widgets.HBox([self.logs_button])
        super().__init__(
            children=[self.card, self.actions, self.logs_box],
            endpoint=endpoint,
            deployment=deployment,
        )
        self.add_class("mlep-status")
        self.refresh()

    # -- feeding ---------------------------------------------------------------------------

    @property
    def model(self) -> DeploymentState:
        """The state drawn (shared with the static renderings)."""
        return self._model

    def refresh(self) -> None:
        """Draw the current state (safe from any thread: it only sets traits)."""
        model = self._model
        status = model.status()
        self.card.value = model.html()
        self.phases = status["phases"]
        self.traffic = model.traffic
        self.error = model.error.splitlines()[0] if model.error else ""
        self.state = model.state
        self.warnings = list(status["warnings"])

    def apply_step(self, step: DeployStep) -> None:
        """A deploy phase changed (``operations.deploy``'s ``on_phase``)."""
        self._model.apply_step(step)
        self.refresh()

    def apply_progress(self, update: OperationProgress) -> None:
        """A poll of the long-running operation (``progress``)."""
        self._model.apply_progress(update)
        self.refresh()

    def apply_deployment(self, deployment: OnlineDeployment, traffic: int | None = None) -> None:
        """The deployment as the service reports it."""
        self._model.apply_deployment(deployment, traffic)
        self.refresh()

    def fail(self, exc: BaseException, *, final: bool = True) -> None:
        """Show an error (with the log tail of an :class:`~jupyter_mlep.OperationFailedError`)."""
        tail = exc.log_tail if isinstance(exc, OperationFailedError) else ""
        message = getattr(exc, "message", None) or str(exc).split("\nLast lines of the deployment log")[0]
        hint = getattr(exc, "hint", None)
        if not final and hint:  # only the wait ended: what goes on, and what was not done (traffic)
            message = f"{message} {hint}"
        self._model.fail(f"{type(exc).__name__}: {message}", tail, final=final)
        self.refresh()

    def warn(self, warnings: list[str]) -> None:
        """Show what the service warned about while preparing the deployment."""
        self._model.warn(warnings)
        self.refresh()

    def finish(self, traffic: int | None = None) -> None:
        """The operation ended successfully."""
        self._model.finish(traffic)
        self.refresh()

    # -- polling ---------------------------------------------------------------------------

    def watch(self) -> Poller:
        """Poll the deployment in the background until its state is final (or the widget closes)."""
        if self.poller is not None and self.poller.running:
            return self.poller
        clients = ClientHolder(self._client_source)

        def poll() -> bool:
            rest = clients.client
            found = ops.get_deployment(rest, self.endpoint, self.deployment)
            state = str(found.provisioning_state or "")
            traffic = None
            if state == "Succeeded":
                traffic = ops.get_traffic(rest, self.endpoint).traffic.get(self.deployment, 0)
            self._model.note = ""
            if state == "Succeeded":
                self._model.error = ""  # e.g. an interrupted wait: it went on and succeeded
            self._model.apply_deployment(found, traffic)
            if state in ("Failed", "Canceled"):
                tail = ops.get_logs(rest, self.endpoint, self.deployment, lines=LOG_TAIL_LINES)
                self._model.fail(f"Deployment {self.deployment} of {self.endpoint} ended {state}.", tail)
            self.refresh()
            return self._model.done

        def failed(exc: BaseException) -> None:
            assert self.poller is not None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self.poller.reason == "errors":
                self._model.note = ""
                self._model.error = (
                    f"Stopped watching after {self._max_errors} failed polls: {type(exc).__name__}: {first}"
                )
            else:
                self._model.note = f"Poll failed ({self.poller.errors}/{self._max_errors}): {first}"
            self.refresh()

        self.poller = Poller(
            poll,
            interval=self._interval,
            on_error=failed,
            on_done=clients.close,
            max_errors=self._max_errors,
            slow_after=SLOW_AFTER,
            max_interval=MAX_INTERVAL,
            name=f"mlep-status-{self.endpoint}-{self.deployment}",
        )
        return self.poller.start()

    # -- logs ------------------------------------------------------------------------------

    def toggle_logs(self) -> None:
        """Open the live logs below the status (a second call closes them)."""
        if self.logs is not None:
            self.logs.close()
            self.logs = None
            self.logs_box.children = []
            self.logs_button.description = "Show logs"
            return
        from .logs import LogsWidget

        self.logs = LogsWidget(self._client_source, self.endpoint, self.deployment)
        self.logs_box.children = [self.logs]
        self.logs_button.description = "Hide logs"

    # -- lifetime and representations ------------------------------------------------------

    def close(self) -> None:
        """Stop the poller and the logs, and close the widget."""
        if self.poller is not None:
            self.poller.stop()
        if self.logs is not None:
            self.logs.close()
            self.logs = None
        for child in (self.card, self.logs_button, self.actions, self.logs_box):
            child.close()
        super().close()

    def __repr__(self) -> str:
        return self._model.text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super()._repr_mimebundle_(**kwargs) or {}
        data.update(self._model.mimebundle())
        return data
