"""A progressive rollout drawn live: ``%endpoint rollout …`` in a live front end.

:class:`RolloutWidget` is fed by :func:`jupyter_mlep.operations.rollout`'s ``on_step`` events
(:meth:`RolloutWidget.update`); :meth:`RolloutWidget.run` runs a rollout with it. The rollout runs
in the cell (it blocks, and fails the cell when a gate is not met); the widget's comm messages are
sent as the events come, so the front end shows each step as it happens.

DOM contract (browser tests): the container has class ``mlep-rollout``; the title line has class
``mlep-rollout-title``; each step is one row with classes ``mlep-rollout-step`` and
``mlep-step-<state>`` (``pending``, ``running``, ``passed``, ``failed``, ``rolled-back``) whose
text starts with the step's label (``step 2 (green=50%)``) and then its state and gate values.
"""

from __future__ import annotations

import html as _html
from typing import Any

import ipywidgets as widgets

from ..operations import RolloutEvent, RolloutResult, RolloutStep, format_split
from ..rest import RestClient
from ._base import FallbackBox

__all__ = ["RolloutWidget", "step_row_html"]

_COLOURS = {
    "pending": "#6e7781",
    "running": "#0969da",
    "passed": "#1a7f37",
    "failed": "#cf222e",
    "rolled back": "#9a6700",
}
_MARKS = {"pending": "·", "running": "…", "passed": "✓", "failed": "✗", "rolled back": "↺"}


def _state_class(state: str) -> str:
    return "mlep-step-" + state.replace(" ", "-")


def step_row_html(step: RolloutStep) -> str:
    """One step as a line of HTML: mark, label, state, split, what was measured, the gates."""
    esc = _html.escape
    colour = _COLOURS.get(step.state, "#000")
    split = format_split(step.mirror_traffic if step.mirror else step.traffic, zeros=False)
    parts = [
        f'<span style="color:{colour};font-weight:bold">{_MARKS.get(step.state, "")} {esc(step.label)}</span>',
        f'<span style="color:{colour}">{esc(step.state)}</span>',
        f"<span>{'mirror ' if step.mirror else ''}{esc(split)}</span>",
    ]
    measured = step.measured_text()
    if measured:
        parts.append(f"<span>{esc(measured)}</span>")
    for check in step.checks:
        style = "color:#1a7f37" if check.passed else "color:#cf222e;font-weight:bold"
        parts.append(f'<span style="{style}">{esc(check.message)}</span>')
    if step.reason and step.state == "failed" and all(step.reason != c.message for c in step.checks):
        parts.append(f'<span style="color:#cf222e">{esc(step.reason)}</span>')
    return '<div style="display:flex;gap:12px;flex-wrap:wrap">' + "".join(parts) + "</div>"


class RolloutWidget(FallbackBox):
    """The steps of one rollout, updated live from its events.

    Parameters: ``endpoint`` and ``deployment`` (for the title before the first event).
    ``result`` is the :class:`~jupyter_mlep.operations.RolloutResult` once the first event came.
    """

    def __init__(self, endpoint: str, deployment: str) -> None:
        self.endpoint = endpoint
        self.deployment = deployment
        self.result: RolloutResult | None = None
        self.last_message = ""
        self._title = widgets.HTML(
            f"<b>Rollout of {_html.escape(deployment)} on {_html.escape(endpoint)}</b>"
        )
        self._title.add_class("mlep-rollout-title")
        self._rows: list[widgets.HTML] = []
        self._states: list[str] = []
        self._message = widgets.HTML("")
        self._message.add_class("mlep-rollout-message")
        super().__init__([self._title, self._message])
        self.add_class("mlep-rollout")

    def run(self, client: RestClient, **options: Any) -> RolloutResult:
        """Run :func:`jupyter_mlep.operations.rollout` with this widget drawing its events."""
        from .._errors import RolloutError
        from ..operations import rollout

        try:
            return rollout(client, self.endpoint, self.deployment, on_step=self.update, **options)
        except RolloutError as exc:
            if self.result is None:  # refused before it started (e.g. the deployment is not ready)
                self.result = exc.result
                self.last_message = exc.message
                self._title.value = f"<b>{_html.escape(self._title_text())}</b>"
                self._message.value = f"<i>{_html.escape(exc.message)}</i>"
            raise

    def update(self, event: RolloutEvent) -> None:
        """Draw one event (the ``on_step`` callback of a rollout)."""
        self.result = event.result
        self.last_message = str(event)
        steps = event.result.steps
        if len(self._rows) != len(steps):
            self._rows = [widgets.HTML("") for _ in steps]
            self._states = ["" for _ in steps]
            for row in self._rows:
                row.add_class("mlep-rollout-step")
            self.children = [self._title, *self._rows, self._message]
        for index, step in enumerate(steps):
            row = self._rows[index]
            if self._states[index] != step.state:
                if self._states[index]:
                    row.remove_class(_state_class(self._states[index]))
                row.add_class(_state_class(step.state))
                self._states[index] = step.state
            row.value = step_row_html(step)
        self._title.value = f"<b>{_html.escape(self._title_text())}</b>"
        self._message.value = f"<i>{_html.escape(self.last_message)}</i>"

    def _title_text(self) -> str:
        result = self.result
        if result is None:
            return f"Rollout of {self.deployment} on {self.endpoint}"
        gates = ", ".join(str(gate) for gate in result.gates) or "none"
        return (
            f"Rollout of {result.deployment} on {result.endpoint}: {result.outcome} "
            f"(gates: {gates}; {result.interval:g} s per step)"
        )

    def __repr__(self) -> str:
        if self.result is None:
            return f"Rollout of {self.deployment} on {self.endpoint}: not started"
        return self.result.text()

    def to_html(self) -> str:
        """A static HTML copy (front ends without widgets, saved notebooks)."""
        if self.result is None:
            return f"<div class='mlep-rollout'>{_html.escape(repr(self))}</div>"
        return f"<div class='mlep-rollout'>{self.result.html()}</div>"

    def to_status(self) -> dict[str, Any]:
        """The status output (kind ``rollout``)."""
        if self.result is None:
            return {
                "kind": "rollout",
                "endpoint": self.endpoint,
                "deployment": self.deployment,
                "outcome": "pending",
            }
        return self.result.status_payload()
