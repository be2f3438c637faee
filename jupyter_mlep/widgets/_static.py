"""Static mode: what papermill, nbconvert and terminal IPython get instead of widgets.

No widget is emitted. A deployment's status is ONE display (``display(..., display_id=True)``)
updated in place as the phases move (the saved notebook keeps one output with the final state:
text, HTML and the status output), while progress lines are printed; the call blocks until the
operation is over. ``--follow`` on logs prints the tail, then new lines for ``--follow-for`` (a
cell must end: never forever), and returns. No ipywidgets here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..operations import DeployStep, LogFollower
from ..rest import OperationProgress
from ..specs import OnlineDeployment
from ._state import DeploymentState

__all__ = ["StaticStatus", "follow_text"]


class StaticStatus:
    """A deployment status shown once and updated in place (same feeding methods as the widget)."""

    def __init__(self, state: DeploymentState) -> None:
        self.state = state
        self.updates = 0
        self._handle: Any = None
        self._last: dict[str, Any] | None = None

    def show(self) -> StaticStatus:
        """Display it (once); later changes update that display."""
        from IPython.display import display

        self._handle = display(self, display_id=True)  # type: ignore[no-untyped-call]
        self._last = self.state.status()
        return self

    def refresh(self) -> None:
        """Update the display when what it shows changed (elapsed time alone does not count)."""
        status = self.state.status()
        current = {k: v for k, v in status.items() if k != "elapsed"}
        if self._handle is None or current == self._last:
            return
        self._last = current
        self.updates += 1
        self._handle.update(self)

    def apply_step(self, step: DeployStep) -> None:
        """A deploy phase changed."""
        self.state.apply_step(step)
        self.refresh()

    def apply_progress(self, update: OperationProgress) -> None:
        """A poll of the long-running operation."""
        self.state.apply_progress(update)
        self.refresh()

    def apply_deployment(self, deployment: OnlineDeployment, traffic: int | None = None) -> None:
        """The deployment as the service reports it."""
        self.state.apply_deployment(deployment, traffic)
        self.refresh()

    def fail(self, exc: BaseException, *, final: bool = True) -> None:
        """Show the error and the log tail (the caller raises)."""
        tail = str(getattr(exc, "log_tail", "") or "")
        message = getattr(exc, "message", None) or str(exc).split("\nLast lines of the deployment log")[0]
        hint = getattr(exc, "hint", None)
        if not final and hint:  # only the wait ended: what goes on, and what was not done (traffic)
            message = f"{message} {hint}"
        self.state.fail(f"{type(exc).__name__}: {message}", tail, final=final)
        self.refresh()

    def warn(self, warnings: list[str]) -> None:
        """Show what the service warned about."""
        self.state.warn(warnings)
        self.refresh()

    def finish(self, traffic: int | None = None) -> None:
        """The operation ended: show the final state (with its total time)."""
        self.state.finish(traffic)
        self._last = None  # always show the final elapsed time
        self.refresh()

    def __repr__(self) -> str:
        return self.state.text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.state.mimebundle()


def follow_text(
    follower: LogFollower,
    say: Callable[[str], None],
    *,
    lines: int = 100,
    interval: float = 1.0,
    duration: float | None = None,
) -> None:
    """Print the last ``lines`` of the log, then its new lines every ``interval`` seconds for
    ``duration`` seconds (0: only the tail; None: until interrupted). Ctrl-C returns."""
    deadline = None if duration is None else time.monotonic() + duration
    try:
        first = follower.poll()[-lines:] if lines > 0 else follower.poll()[:0]
        if first:
            say("\n".join(first))
        while deadline is None or time.monotonic() < deadline:
            pause = interval if deadline is None else min(interval, deadline - time.monotonic())
            time.sleep(max(pause, 0.0))
            new = follower.poll()
            if new:
                say("\n".join(new))
    except KeyboardInterrupt:
        return
