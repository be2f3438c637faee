"""The live sweep widget: ``%%job … --sweep``, ``%job create -f sweep.yml`` and ``%job show`` of a
running sweep, in a live front end.

It shows the sweep's state, its trials as a table (parameters, state, latest and best primary
metric, the reason a policy or limit stopped a trial) with the best trial highlighted, a chart of
the primary metric of every trial against its interval, a parallel-coordinates view of the
parameters against the metric (matplotlib PNGs, redrawn only when a value changed), and a Cancel
button. A background :class:`~jupyter_mlep.widgets.Poller` reads the sweep (its trials through run
history, their metrics through MLflow) every second, more slowly after a minute; it stops once
the sweep has ended, or when the widget is closed.

DOM contract (browser tests): the container has class ``mlep-sweep-widget``; the sweep's status is
a ``span.mlep-state``; the trials are ``table.mlep-sweep-trials`` whose best row has class
``mlep-best-trial``; the charts are ``img.mlep-metric-chart``; the Cancel button has class
``mlep-cancel-button``.
"""

from __future__ import annotations

import html as _html
import threading
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Unicode

from .. import operations as ops
from ..operations import SweepDetails
from ._base import FallbackBox
from ._client import ClientHolder, ClientSource
from ._poller import Poller

__all__ = ["SweepWidget"]

POLL_INTERVAL = 1.0
SLOW_AFTER = 60.0
MAX_INTERVAL = 3.0


def _state_span(status: str) -> str:
    colors = {"Completed": "#1a7f37", "Failed": "#cf222e", "Canceled": "#9a6700"}
    color = colors.get(status, "#0969da")
    return f'<span class="mlep-state" style="color:{color};font-weight:bold">{_html.escape(status)}</span>'


class SweepWidget(FallbackBox):
    """One sweep, followed live (``client``: a client or a factory of one; ``sweep``: its first
    description)."""

    name = Unicode(help="The sweep's name.")
    state = Unicode(help="The sweep's status.")
    ended = Bool(False, help="True once the sweep has ended.")
    best = Unicode(help="The best trial so far named by the sweep ('' until it has ended with one).")
    following = Bool(False, help="Whether the poller runs.")
    note = Unicode(help="A cancel asked for, or a failed poll.")

    def __init__(
        self,
        client: ClientSource,
        sweep: SweepDetails,
        *,
        interval: float = POLL_INTERVAL,
        follow: bool = True,
    ) -> None:
        self._client_source = client
        self._interval = interval
        self._lock = threading.RLock()
        self._sweep = sweep
        self._charts_key: tuple[Any, ...] = ()
        self.poller: Poller | None = None
        self.header = widgets.HTML()
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", tooltip="cancel the sweep")
        self.cancel_button.add_class("mlep-cancel-button")
        self.cancel_button.on_click(lambda _button: self.cancel())
        self.table = widgets.HTML()
        self.charts = widgets.HTML()
        top = widgets.HBox([self.header, self.cancel_button], layout={"align_items": "center"})
        super().__init__(children=[top, self.table, self.charts], name=sweep.name)
        self.add_class("mlep-sweep-widget")
        self.refresh()
        if follow:
            self.watch()

    @property
    def sweep(self) -> SweepDetails:
        """The sweep as last read."""
        with self._lock:
            return self._sweep

    def watch(self) -> Poller:
        """Poll the sweep until it has ended (or the widget closes)."""
        if self.poller is not None and self.poller.running:
            return self.poller
        clients = ClientHolder(self._client_source)

        def poll() -> bool:
            sweep = ops.get_sweep(clients.client, self.name)
            with self._lock:
                self._sweep = sweep
            if self.note and (sweep.ended or not self.note.startswith("Cancel")):
                self.note = ""
            self.refresh()
            return sweep.ended

        def failed(exc: BaseException) -> None:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.note = f"Poll failed: {first}"
            self.refresh()

        def done() -> None:
            self.following = False
            clients.close()
            self.refresh()

        self.poller = Poller(
            poll,
            interval=self._interval,
            on_error=failed,
            on_done=done,
            slow_after=SLOW_AFTER,
            max_interval=max(MAX_INTERVAL, self._interval),
            name=f"mlep-sweep-{self.name}",
        )
        self.following = True
        return self.poller.start()

    def cancel(self) -> None:
        """Ask the service to cancel the sweep (its trials stop); the poller shows it end."""
        self.note = "Cancel requested…"
        self.refresh()
        holder = ClientHolder(self._client_source)
        try:
            ops.cancel_job(holder.client, self.name, wait=False)
        except Exception as exc:  # shown, not raised from a button's callback
            self.note = f"Cancel failed: {exc}"
        finally:
            holder.close()
        self.refresh()

    def refresh(self) -> None:
        """Draw the current state."""
        sweep = self.sweep
        self.state, self.ended, self.best = sweep.state, sweep.ended, sweep.best
        note = f" <i>{_html.escape(self.note)}</i>" if self.note else ""
        self.header.value = f"<b>Sweep {_html.escape(sweep.name)}</b> {_state_span(sweep.state)}{note}"
        self.cancel_button.disabled = sweep.ended
        self.table.value = self._table_html(sweep)
        key = (sweep.best, tuple((t.name, len(t.values), tuple(t.parameters.items())) for t in sweep.trials))
        if key != self._charts_key:  # the charts are redrawn only when a value changed
            self._charts_key = key
            self.charts.value = sweep.charts_html()

    @staticmethod
    def _table_html(sweep: SweepDetails) -> str:
        html = sweep.html()
        start = html.index("<table")
        end = html.index("</table>") + len("</table>")
        footer = "".join(f"<div>{_html.escape(line)}</div>" for line, _bold in sweep.footer())
        return html[start:end] + footer

    def close(self) -> None:
        if self.poller is not None:
            self.poller.stop()
        super().close()

    def to_html(self) -> str:
        return self.sweep.html()

    def to_status(self) -> dict[str, Any]:
        return self.sweep.status_payload()

    def __repr__(self) -> str:
        return self.sweep.text()
