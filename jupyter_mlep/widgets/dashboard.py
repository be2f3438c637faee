"""The endpoint dashboard: ``%endpoint list`` in a live front end.

Every endpoint of the workspace with its deployments, provisioning states, traffic (as bars) and
scoring URI, and per endpoint: Traffic (opens the traffic sliders), Logs (a deployment's live logs,
when :mod:`jupyter_mlep.widgets.logs` is there) and Delete (asks for a second click). Refresh
reads everything again; the auto-refresh box does it every few seconds with a :class:`Poller`
that stops when unchecked, after repeated errors, or when the dashboard is closed.

DOM contract: the container has class ``mlep-dashboard``; each endpoint's card has classes
``mlep-endpoint`` and ``mlep-endpoint-<name>``.
"""

from __future__ import annotations

import html as _html
import importlib
import threading
import time
from typing import Any

import ipywidgets as widgets

from .. import operations as ops
from .._errors import MlepError, NotFoundError
from ..operations import EndpointDetails, MetricsResult, format_split
from ..rest import RestClient
from ._base import FallbackBox
from ._client import ClientHolder, ClientSource
from ._poller import Poller
from .traffic import TrafficWidget, normalized, split_bars_html, start_task

__all__ = ["EndpointCard", "EndpointDashboard"]

_HIDDEN = "none"
_WINDOW_MINUTES = 15


def _error_html(exc: BaseException) -> str:
    text = _html.escape(f"{type(exc).__name__}: {exc}").replace("\n", "<br>")
    return f'<span style="color:#c62828">{text}</span>'


def _sparklines(metrics: MetricsResult | None, deployment: str) -> str:
    """Requests per minute and mean latency of ``deployment`` over the dashboard's window."""
    if metrics is None:
        return "—"
    from ..charts import sparkline_svg

    cells = []
    for name, label, aggregation in (
        ("RequestsPerMinute", "requests/min", "total"),
        ("RequestLatency", "latency ms", "average"),
    ):
        found = metrics.of(name, deployment=deployment)
        values = [p.value(aggregation) for p in found.points] if found else []
        cells.append(sparkline_svg(f"{deployment} {label}", values))
    return " ".join(cells)


def _card_html(details: EndpointDetails, metrics: MetricsResult | None = None) -> str:
    esc = _html.escape
    endpoint = details.endpoint
    traffic = normalized(endpoint.traffic or {}, [d.name for d in details.deployments])
    head = (
        f"<b>{esc(endpoint.name)}</b> · {esc(str(endpoint.provisioning_state or 'unknown'))}"
        f" · auth {esc(endpoint.auth_mode)}"
    )
    uri = f"<div>Scoring URI: <code>{esc(endpoint.scoring_uri or '—')}</code></div>"
    rows = "".join(
        f"<tr><td>{esc(d.name)}</td><td>{esc(str(d.provisioning_state or ''))}</td>"
        f"<td>{esc(str(d.instance_type or ''))}</td><td>{d.instance_count}</td>"
        f"<td>{_sparklines(metrics, d.name)}</td></tr>"
        for d in details.deployments
    )
    table = (
        "<table><thead><tr><th>deployment</th><th>state</th><th>instance type</th><th>instances</th>"
        f"<th>requests · latency ({_WINDOW_MINUTES} min)</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else "<div><i>no deployments</i></div>"
    )
    bars = split_bars_html(traffic, endpoint.mirror_traffic) if traffic else ""
    return f"<div>{head}{uri}{table}{bars}</div>"


class EndpointCard(widgets.VBox):  # type: ignore[misc]
    """One endpoint in the dashboard: its description, its actions and a panel for opened widgets."""

    def __init__(self, dashboard: EndpointDashboard, details: EndpointDetails) -> None:
        self.endpoint_name = details.endpoint.name
        self.details = details
        self._dashboard = dashboard
        self.info = widgets.HTML()
        self.traffic_button = widgets.Button(description="Traffic", icon="sliders")
        self.logs_deployment = widgets.Dropdown(layout=widgets.Layout(width="150px"))
        self.logs_button = widgets.Button(description="Logs", icon="align-left")
        self.delete_button = widgets.Button(description="Delete", icon="trash")
        self.confirm_button = widgets.Button(
            description="Confirm delete", button_style="danger", layout=widgets.Layout(display=_HIDDEN)
        )
        self.cancel_button = widgets.Button(description="Cancel", layout=widgets.Layout(display=_HIDDEN))
        self.message = widgets.HTML()
        self.message.add_class("mlep-endpoint-message")
        self.panel = widgets.VBox()
        self.actions = widgets.HBox(
            [
                self.traffic_button,
                self.logs_deployment,
                self.logs_button,
                self.delete_button,
                self.confirm_button,
                self.cancel_button,
            ]
        )
        super().__init__(children=[self.info, self.actions, self.message, self.panel])
        self.add_class("mlep-endpoint")
        self.add_class(f"mlep-endpoint-{self.endpoint_name}")
        self.layout.border = "1px solid #ddd"
        self.layout.padding = "4px"
        self.layout.margin = "4px 0"
        self.traffic_button.on_click(lambda _b: self.open_traffic())
        self.logs_button.on_click(lambda _b: self.open_logs())
        self.delete_button.on_click(lambda _b: self.ask_delete())
        self.confirm_button.on_click(lambda _b: self.confirm_delete())
        self.cancel_button.on_click(lambda _b: self.cancel_delete())
        self.update(details)

    def update(self, details: EndpointDetails) -> None:
        """Show the endpoint as last read."""
        self.details = details
        self.info.value = _card_html(details, self._dashboard.metrics.get(details.endpoint.name))
        names = [d.name for d in details.deployments]
        if list(self.logs_deployment.options) != names:
            chosen = self.logs_deployment.value
            self.logs_deployment.options = names
            self.logs_deployment.value = chosen if chosen in names else (names[0] if names else None)
        self.logs_button.disabled = not names

    def _open(self, widget: Any) -> None:
        for old in self.panel.children:
            old.close()
        self.panel.children = [widget] if widget is not None else []

    def open_traffic(self) -> None:
        """Open the traffic sliders of this endpoint below it (a second click closes them)."""
        if any(isinstance(child, TrafficWidget) for child in self.panel.children):
            self._open(None)
            return
        try:
            self._open(TrafficWidget(self._dashboard.client, self.endpoint_name))
            self.message.value = ""
        except Exception as exc:
            self.message.value = _error_html(exc)

    def open_logs(self) -> None:
        """Open the live logs of the chosen deployment below the endpoint."""
        deployment = self.logs_deployment.value
        if not deployment:
            return
        try:  # written alongside; imported when first used
            logs_widget: Any = importlib.import_module(f"{__package__}.logs").LogsWidget
        except (ImportError, AttributeError):
            self.message.value = "Live logs need jupyter_mlep.widgets.logs, which is not installed here."
            return
        try:
            self._open(logs_widget(self._dashboard.client, self.endpoint_name, deployment))
            self.message.value = ""
        except Exception as exc:
            self.message.value = _error_html(exc)

    def ask_delete(self) -> None:
        """First click: ask for confirmation."""
        count = len(self.details.deployments)
        self.message.value = (
            f"Delete endpoint <b>{_html.escape(self.endpoint_name)}</b> and its {count} deployment(s)? "
            "This cannot be undone."
        )
        self.delete_button.layout.display = _HIDDEN
        self.confirm_button.layout.display = None
        self.cancel_button.layout.display = None

    def cancel_delete(self) -> None:
        """Keep the endpoint."""
        self.message.value = ""
        self.delete_button.layout.display = None
        self.confirm_button.layout.display = _HIDDEN
        self.cancel_button.layout.display = _HIDDEN

    @property
    def confirming(self) -> bool:
        """Whether the card waits for the confirmation of a delete."""
        return bool(self.confirm_button.layout.display != _HIDDEN)

    def confirm_delete(self) -> None:
        """Second click: delete the endpoint (in the background), then refresh the dashboard."""
        if not self.confirming:
            return
        self.confirm_button.layout.display = _HIDDEN
        self.cancel_button.layout.display = _HIDDEN
        for button in (self.traffic_button, self.logs_button, self.delete_button):
            button.disabled = True
        self.message.value = f"Deleting {_html.escape(self.endpoint_name)}…"
        self._open(None)
        self._dashboard.delete(self)

    def close(self) -> None:
        """Close the opened panel and every control."""
        self._open(None)
        for widget in (*self.actions.children, self.actions, self.info, self.message, self.panel):
            widget.close()
        super().close()


class EndpointDashboard(FallbackBox):
    """Every online endpoint of the workspace, with actions; refreshed on demand or every ``interval`` s.

    Parameters: ``client`` (a :class:`RestClient`, borrowed, or a factory whose client the
    dashboard closes with itself), ``interval`` (auto-refresh period, seconds), ``max_errors``
    (auto-refresh stops after this many failures in a row). The endpoints are read at once, so
    an unreachable workspace raises here. :meth:`close` stops every background thread.
    """

    def __init__(self, client: ClientSource, *, interval: float = 5.0, max_errors: int = 3) -> None:
        self._clients = ClientHolder(client)
        self.client: RestClient = self._clients.client
        """The client of the dashboard, lent to the widgets it opens."""
        self.target = self.client.target
        self.interval = interval
        self.max_errors = max_errors
        self.details: list[EndpointDetails] = []
        self.error: str | None = None
        self.refreshed_at: float | None = None
        self.poller: Poller | None = None
        self._tasks: list[Poller] = []
        self._cards: dict[str, EndpointCard] = {}
        self._lock = threading.Lock()
        self._failures = 0
        self._closed = False
        self.metrics: dict[str, MetricsResult | None] = {}
        """The last metrics read per endpoint (requests and latency by deployment)."""
        try:
            details = self._read()
        except BaseException:
            self._closed = True  # nothing to close but the client (Widget.__del__ calls close)
            self._clients.close()
            raise
        self.title = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.auto_refresh = widgets.Checkbox(
            value=False, description=f"auto-refresh every {interval:g} s", indent=False
        )
        self.status_line = widgets.HTML()
        self.status_line.add_class("mlep-dashboard-status")
        self.body = widgets.VBox()
        self.toolbar = widgets.HBox([self.refresh_button, self.auto_refresh])
        super().__init__(children=[self.title, self.toolbar, self.status_line, self.body])
        self.add_class("mlep-dashboard")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.auto_refresh.observe(self._on_auto_refresh, names="value")
        self._show(details)

    # -- reading and showing -------------------------------------------------------------------

    def _read(self) -> list[EndpointDetails]:
        details = []
        for endpoint in sorted(ops.list_endpoints(self.client), key=lambda e: e.name):
            try:
                deployments = ops.list_deployments(self.client, endpoint.name)
            except NotFoundError:  # deleted meanwhile
                continue
            details.append(EndpointDetails(endpoint, sorted(deployments, key=lambda d: d.name)))
            self.metrics[endpoint.name] = self._read_metrics(endpoint.name)
        return details

    def _read_metrics(self, endpoint: str) -> MetricsResult | None:
        """The sparklines' series (the same Azure Monitor metrics ``%endpoint metrics`` reads);
        None when the target does not give them (the card then shows a dash)."""
        try:
            return ops.get_metrics(
                self.client,
                endpoint,
                metrics=["RequestsPerMinute", "RequestLatency"],
                since=_WINDOW_MINUTES * 60.0,
                aggregations=["Total", "Average"],
                split="deployment",
            )
        except MlepError:
            return None

    def _show(self, details: list[EndpointDetails]) -> None:
        if self._closed:
            return
        self.details = details
        self.refreshed_at = time.time()
        self.error = None
        names = {item.endpoint.name for item in details}
        for name in [name for name in self._cards if name not in names]:
            self._cards.pop(name).close()
        for item in details:
            card = self._cards.get(item.endpoint.name)
            if card is None:
                self._cards[item.endpoint.name] = EndpointCard(self, item)
            else:
                card.update(item)
        cards = [self._cards[item.endpoint.name] for item in details]
        self.body.children = cards or [widgets.HTML("<i>No online endpoints.</i>")]
        self.title.value = f"<b>{_html.escape(self.summary())}</b>"
        when = time.strftime("%H:%M:%S", time.localtime(self.refreshed_at))
        self.status_line.value = f"Refreshed at {when}."

    def summary(self) -> str:
        """``2 online endpoint(s) (local)``."""
        return f"{len(self.details)} online endpoint(s)" + (f" ({self.target})" if self.target else "")

    def card(self, endpoint: str) -> EndpointCard:
        """The card of one endpoint (KeyError when it is not shown)."""
        return self._cards[endpoint]

    # -- actions ---------------------------------------------------------------------------------

    def refresh_now(self) -> None:
        """Read every endpoint and deployment again, on this thread (errors raise)."""
        with self._lock:
            details = self._read()
            self._show(details)

    def refresh(self) -> None:
        """Read everything again in the background (the Refresh button)."""
        if self._closed:
            return
        self.status_line.value = "Refreshing…"
        self._start(self.refresh_now, self._failed, "mlep-dashboard-refresh")

    def delete(self, card: EndpointCard) -> None:
        """Delete ``card``'s endpoint in the background, then refresh (called by the card's confirm)."""

        def work() -> None:
            ops.delete_endpoint(self.client, card.endpoint_name)
            self.refresh_now()

        def failed(exc: BaseException) -> None:
            card.message.value = _error_html(exc)
            for button in (card.traffic_button, card.logs_button, card.delete_button):
                button.disabled = False
            card.cancel_delete()
            card.message.value = _error_html(exc)

        self._start(work, failed, f"mlep-dashboard-delete-{card.endpoint_name}")

    def _start(self, work: Any, on_error: Any, name: str) -> None:
        self._tasks = [task for task in self._tasks if task.running]
        self._tasks.append(start_task(work, on_error, name))

    def _failed(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        if not self._closed:
            self.status_line.value = _error_html(exc)

    def _on_auto_refresh(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.start_auto_refresh()
        else:
            self.stop_auto_refresh()

    def start_auto_refresh(self) -> None:
        """Refresh every ``interval`` seconds until unchecked, closed, or ``max_errors`` failures."""
        if self._closed or (self.poller is not None and self.poller.running):
            return
        self._failures = 0

        def poll() -> bool:
            self.refresh_now()
            self._failures = 0
            return False

        self.poller = Poller(
            poll,
            interval=self.interval,
            on_error=self._poll_failed,
            max_errors=self.max_errors,
            name="mlep-dashboard-auto-refresh",
        ).start()
        if not self.auto_refresh.value:
            self.auto_refresh.value = True

    def stop_auto_refresh(self) -> None:
        """Stop refreshing every few seconds."""
        poller, self.poller = self.poller, None
        if poller is not None:
            poller.stop()
        if self.auto_refresh.value and not self._closed:
            self.auto_refresh.value = False

    def _poll_failed(self, exc: BaseException) -> None:
        self._failures += 1
        self._failed(exc)
        if self._failures >= self.max_errors and not self._closed:
            self.status_line.value = (
                f"Auto-refresh stopped after {self._failures} errors in a row. " + _error_html(exc)
            )
            self.stop_auto_refresh()

    def wait(self, timeout: float | None = 120.0) -> None:
        """Wait until the running refreshes and deletes have finished (not the auto-refresh)."""
        for task in list(self._tasks):
            task.join(timeout)

    def close(self) -> None:
        """Stop the auto-refresh and background work, close every card and the owned client."""
        if self._closed:
            return
        self._closed = True
        if self.poller is not None:
            self.poller.stop()
            self.poller = None
        for task in self._tasks:
            task.stop(timeout=60.0)
        for card in self._cards.values():
            card.close()
        self._cards.clear()
        for widget in (*self.body.children, *self.toolbar.children, *self.children):
            widget.close()
        self._clients.close()
        super().close()

    # -- representations -------------------------------------------------------------------------

    def __repr__(self) -> str:
        if not self.details:
            return f"No online endpoints ({self.target})"
        shown = []
        for item in self.details:
            names = [d.name for d in item.deployments]
            split = normalized(item.endpoint.traffic or {}, names)
            shown.append(f"{item.endpoint.name} [{format_split(split)}]")
        return f"Endpoints ({self.target}): " + ", ".join(shown)

    def to_html(self) -> str:
        """A static HTML view (front ends without the widget manager, saved notebooks)."""
        parts = [f'<div class="mlep-dashboard-static"><b>{_html.escape(self.summary())}</b>']
        parts += [_card_html(item, self.metrics.get(item.endpoint.name)) for item in self.details]
        if self.error:
            parts.append(f"<div>Error: {_html.escape(self.error)}</div>")
        return "".join(parts) + "</div>"

    def to_status(self) -> dict[str, Any]:
        """The status output: every endpoint with its deployments, states and traffic."""
        endpoints = []
        for item in self.details:
            endpoint = item.endpoint
            endpoints.append(
                {
                    "name": endpoint.name,
                    "provisioning_state": endpoint.provisioning_state,
                    "auth_mode": endpoint.auth_mode,
                    "scoring_uri": endpoint.scoring_uri,
                    "traffic": dict(endpoint.traffic or {}),
                    "mirror_traffic": dict(endpoint.mirror_traffic or {}),
                    "deployments": [
                        {"name": d.name, "provisioning_state": d.provisioning_state} for d in item.deployments
                    ],
                }
            )
        return {
            "kind": "endpoints",
            "widget": "dashboard",
            "target": self.target,
            "endpoints": endpoints,
            "auto_refresh": self.poller is not None and self.poller.running,
            "error": self.error,
        }
