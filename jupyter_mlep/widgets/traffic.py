"""Traffic sliders for one endpoint: ``%endpoint traffic NAME`` in a live front end.

One slider per deployment keeps the live split at 100% while you move it (the others rebalance
proportionally; a lock keeps a deployment where it is), a mirror slider (at most 50%) on one
shadow deployment, and an Apply button: nothing is sent while you drag. Apply sends one update
off the kernel's main thread, waits until the endpoint reports the new split and shows it. Each
deployment's requests, errors and mirrored copies of the last 15 minutes, from its Azure Monitor
metrics (the series ``%endpoint metrics`` reads, on both targets), sit next to its slider.

DOM contract (browser tests): the container has class ``mlep-traffic``; each deployment's
``IntSlider`` has ``description`` = its name and class ``mlep-slider-<name>``; the mirror slider
has class ``mlep-mirror``; the status line (class ``mlep-traffic-status``) reads
``Traffic: blue=70%, green=30%`` (by name), as the endpoint reports it.
"""

from __future__ import annotations

import html as _html
import threading
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

import ipywidgets as widgets

from .. import operations as ops
from .._errors import MlepError
from ..operations import DeploymentRequests, TrafficResult, format_split, traffic_problem
from ..rest import RestClient
from ..specs import MAX_MIRROR_PERCENT
from ._base import FallbackBox
from ._client import ClientHolder, ClientSource
from ._poller import Poller

__all__ = ["TrafficWidget", "mirror_split", "normalized", "split_bars_html", "traffic_problem"]

_NO_MIRROR = ""
_LABEL = {"description_width": "110px"}
_WINDOW_MINUTES = 15


def normalized(split: Mapping[str, int], deployments: Collection[str]) -> dict[str, int]:
    """Every deployment of ``deployments`` with its share of ``split`` (0 when absent), by name."""
    return {name: max(0, int(split.get(name, 0))) for name in sorted(deployments)}


def mirror_split(deployment: str | None, percent: int) -> dict[str, int]:
    """Mirror traffic as the endpoint takes it: ``{deployment: percent}``, or ``{}`` for none."""
    if not deployment or percent <= 0:
        return {}
    return {deployment: int(percent)}


def start_task(work: Callable[[], None], on_error: Callable[[BaseException], None], name: str) -> Poller:
    """Run ``work`` once on a background thread (a one-shot :class:`Poller`: never repeated)."""

    def once() -> bool:
        work()
        return True

    return Poller(once, interval=0.0, on_error=on_error, max_errors=1, name=name).start()


def split_bars_html(split: dict[str, int], mirror: dict[str, int] | None = None) -> str:
    """A deployment's share as a horizontal bar per deployment (static HTML, any front end)."""
    esc = _html.escape
    rows = []
    for name in sorted(split):
        value = max(0, min(100, int(split[name])))
        rows.append(
            '<div style="display:flex;align-items:center;gap:6px;line-height:1.4">'
            f'<span style="min-width:7em">{esc(name)}</span>'
            '<span style="display:inline-block;width:160px;height:10px;background:#e0e0e0">'
            f'<span style="display:block;width:{value}%;height:10px;background:#2f7ed8"></span></span>'
            f"<span>{value}%</span></div>"
        )
    for name, value in sorted((mirror or {}).items()):
        if value:
            rows.append(f"<div><i>mirror: {esc(name)} {int(value)}%</i></div>")
    return "".join(rows) or "<div><i>no deployments</i></div>"


def _counts_text(counts: DeploymentRequests | None) -> str:
    if counts is None:
        return ""
    text = f"{counts.requests} req · {counts.errors} err"
    if counts.mirrored:
        text += f" · {counts.mirrored} mirrored"
    return text


def _requests(client: RestClient, endpoint: str, names: list[str]) -> dict[str, DeploymentRequests] | None:
    """The deployments' requests of the last minutes; None when the metrics cannot be read."""
    try:
        return ops.recent_requests(client, endpoint, names, since=_WINDOW_MINUTES * 60.0)
    except MlepError:
        return None


class TrafficWidget(FallbackBox):
    """Sliders for the live and mirror traffic of ``endpoint``, applied on an explicit button.

    Parameters: ``client`` (a :class:`RestClient`, borrowed, or a factory whose client the widget
    closes with itself), ``endpoint`` (the endpoint's name), ``apply_timeout`` (seconds to wait
    for the endpoint to report an applied split). The current state is read at once, so a wrong
    name raises here. :meth:`wait` waits for a running Apply or Refresh; :meth:`close` stops it.
    """

    def __init__(self, client: ClientSource, endpoint: str, *, apply_timeout: float = 60.0) -> None:
        self._clients = ClientHolder(client)
        self._client = self._clients.client
        self.endpoint = endpoint
        self.apply_timeout = apply_timeout
        self.reported = TrafficResult(endpoint, {})
        self.deployments: list[str] = []
        self.requests: dict[str, DeploymentRequests] | None = None
        self.error: str | None = None
        self.applying = False
        self.updates_sent = 0
        self._task: Poller | None = None
        self._syncing = False
        self._closed = False
        self._lock = threading.Lock()
        try:
            state = self._read()
        except BaseException:
            self._closed = True  # nothing to close but the client (Widget.__del__ calls close)
            self._clients.close()
            raise
        self.title = widgets.HTML()
        self.rows = widgets.VBox()
        self.mirror_target = widgets.Dropdown(
            description="Mirror to", options=[("(none)", _NO_MIRROR)], layout=widgets.Layout(width="240px")
        )
        self.mirror_slider = widgets.IntSlider(
            value=0,
            min=0,
            max=MAX_MIRROR_PERCENT,
            description="mirror",
            continuous_update=False,
            style=_LABEL,
        )
        self.mirror_slider.add_class("mlep-mirror")
        self.apply_button = widgets.Button(description="Apply", button_style="primary")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.reset_button = widgets.Button(description="Reset", tooltip="back to the endpoint's split")
        self.reason = widgets.HTML()
        self.reason.add_class("mlep-traffic-reason")
        self.message = widgets.HTML()
        self.message.add_class("mlep-traffic-message")
        self.status_line = widgets.HTML()
        self.status_line.add_class("mlep-traffic-status")
        self.mirror_status = widgets.HTML()
        self.mirror_status.add_class("mlep-mirror-status")
        self.sliders: dict[str, Any] = {}
        self.locks: dict[str, Any] = {}
        self.counts: dict[str, Any] = {}
        super().__init__(
            children=[
                self.title,
                self.rows,
                widgets.HBox([self.mirror_target, self.mirror_slider]),
                widgets.HBox([self.apply_button, self.refresh_button, self.reset_button]),
                self.reason,
                self.status_line,
                self.mirror_status,
                self.message,
            ]
        )
        self.add_class("mlep-traffic")
        self.mirror_target.observe(self._on_mirror, names="value")
        self.mirror_slider.observe(self._on_mirror, names="value")
        self.apply_button.on_click(lambda _button: self.apply())
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.reset_button.on_click(lambda _button: self.reset())
        self._show(*state, reset=True)

    # -- reading and showing -------------------------------------------------------------------

    def _read(self) -> tuple[list[str], TrafficResult, dict[str, DeploymentRequests] | None]:
        client = self._client
        reported = ops.get_traffic(client, self.endpoint)
        names = {d.name for d in ops.list_deployments(client, self.endpoint)}
        names |= set(reported.traffic) | set(reported.mirror_traffic)
        return sorted(names), reported, _requests(client, self.endpoint, sorted(names))

    def _show(
        self,
        deployments: list[str],
        reported: TrafficResult,
        requests: dict[str, DeploymentRequests] | None,
        *,
        reset: bool,
    ) -> None:
        """Show what the endpoint reports; with ``reset``, move the sliders there too."""
        if self._closed:
            return
        self.reported = TrafficResult(
            reported.endpoint,
            normalized(reported.traffic, deployments),
            {name: value for name, value in reported.mirror_traffic.items() if value},
        )
        self.requests = requests
        if deployments != self.deployments:
            self.deployments = deployments
            self._build_rows()
            reset = True
        esc = _html.escape
        self.title.value = f"<b>Traffic of {esc(self.endpoint)}</b>"
        self.status_line.value = esc(self.status_text())
        mirror = self.reported.mirror_traffic
        self.mirror_status.value = f"Mirror: {esc(format_split(mirror))}" if mirror else ""
        for name, label in self.counts.items():
            found = (requests or {}).get(name.lower())
            label.value = esc(_counts_text(found)) if requests is not None else ""
        if reset:
            self._syncing = True
            try:
                for name, slider in self.sliders.items():
                    slider.value = self.reported.traffic.get(name, 0)
                shadow = next(iter(mirror), _NO_MIRROR)
                self.mirror_target.value = shadow if shadow in self.deployments else _NO_MIRROR
                self.mirror_slider.value = min(MAX_MIRROR_PERCENT, mirror.get(shadow, 0))
            finally:
                self._syncing = False
        self._update_apply()

    def _build_rows(self) -> None:
        for widget in (*self.sliders.values(), *self.locks.values(), *self.counts.values()):
            widget.close()
        self.sliders, self.locks, self.counts = {}, {}, {}
        rows = []
        for name in self.deployments:
            slider = widgets.IntSlider(
                value=0, min=0, max=100, description=name, continuous_update=False, style=_LABEL
            )
            slider.add_class(f"mlep-slider-{name}")
            slider.observe(partial(self._on_slider, name), names="value")
            lock = widgets.Checkbox(value=False, description="lock", indent=False)
            lock.layout.width = "70px"
            lock.add_class(f"mlep-lock-{name}")
            lock.observe(partial(self._on_lock, name), names="value")
            counts = widgets.HTML()
            counts.add_class(f"mlep-counts-{name}")
            self.sliders[name], self.locks[name], self.counts[name] = slider, lock, counts
            rows.append(widgets.HBox([slider, lock, counts]))
        self.rows.children = rows
        self.mirror_target.options = [("(none)", _NO_MIRROR), *[(name, name) for name in self.deployments]]

    # -- slider rules ----------------------------------------------------------------------------

    def split(self) -> dict[str, int]:
        """The live split the sliders show."""
        return {name: int(slider.value) for name, slider in self.sliders.items()}

    def mirror(self) -> dict[str, int]:
        """The mirror split the mirror controls show."""
        return mirror_split(self.mirror_target.value or None, int(self.mirror_slider.value))

    def locked(self) -> set[str]:
        """The deployments whose share is locked."""
        return {name for name, lock in self.locks.items() if lock.value}

    def _on_slider(self, name: str, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        moved = ops.split_traffic(self.split(), name, int(change["new"]), locked=self.locked(), clamp=True)
        self._syncing = True
        try:
            for other, value in moved.items():
                if self.sliders[other].value != value:
                    self.sliders[other].value = value
        finally:
            self._syncing = False
        self._update_apply()

    def _on_lock(self, name: str, change: dict[str, Any]) -> None:
        self.sliders[name].disabled = bool(change["new"]) or self.applying
        self._update_apply()

    def _on_mirror(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._update_apply()

    def problem(self) -> str | None:
        """Why the shown split cannot be applied (None when it can)."""
        return traffic_problem(self.split(), self.mirror(), self.deployments)

    def _update_apply(self) -> None:
        """Enable Apply only for a valid change; say why it is disabled."""
        problem = self.problem()
        unchanged = ops.same_split(self.split(), self.reported.traffic) and ops.same_split(
            self.mirror(), self.reported.mirror_traffic
        )
        if self.applying:
            reason = ""
        elif problem:
            reason = f"⚠ {_html.escape(problem)}"
        elif unchanged:
            reason = "The sliders show the endpoint's split: move one, then Apply."
        else:
            reason = f"Apply to set {_html.escape(format_split(self.split()))}."
        self.apply_button.disabled = self.applying or bool(problem) or unchanged
        self.reason.value = reason
        for name, slider in self.sliders.items():
            slider.disabled = self.applying or self.locks[name].value
        for control in (self.mirror_target, self.mirror_slider, self.refresh_button, self.reset_button):
            control.disabled = self.applying

    # -- actions ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Move the sliders back to the split the endpoint reports."""
        self._show(self.deployments, self.reported, self.requests, reset=True)

    def apply(self) -> None:
        """Send the shown split (one update, in the background), then show what the endpoint reports.

        Does nothing while Apply is disabled (an invalid or unchanged split, or an update running).
        """
        if self._closed or self.apply_button.disabled:
            return
        traffic, mirror = self.split(), self.mirror()
        self.applying, self.error = True, None
        self.message.value = f"Applying {_html.escape(format_split(traffic))}…"
        self._update_apply()

        def work() -> None:
            with self._lock:
                client = self._client
                result = ops.update_traffic(
                    client, self.endpoint, traffic, mirror_traffic=mirror, timeout=self.apply_timeout
                )
                self.updates_sent += 1
                requests = _requests(client, self.endpoint, self.deployments)
            self.applying = False
            self.message.value = f"Applied: the endpoint reports {_html.escape(format_split(traffic))}."
            self._show(self.deployments, result, requests, reset=True)

        self._task = start_task(work, self._failed, f"mlep-traffic-apply-{self.endpoint}")

    def refresh(self) -> None:
        """Read the split, the deployments and their recent requests again (in the background)."""
        if self._closed or self.applying:
            return
        self.message.value = "Refreshing…"

        def work() -> None:
            with self._lock:
                state = self._read()
            self.error = None
            self.message.value = ""
            self._show(*state, reset=not self._edited())

        self._task = start_task(work, self._failed, f"mlep-traffic-refresh-{self.endpoint}")

    def _edited(self) -> bool:
        return not (
            ops.same_split(self.split(), self.reported.traffic)
            and ops.same_split(self.mirror(), self.reported.mirror_traffic)
        )

    def _failed(self, exc: BaseException) -> None:
        self.applying = False
        self.error = str(exc)
        if self._closed:
            return
        self.message.value = (
            f'<span style="color:#c62828">{_html.escape(type(exc).__name__)}: '
            f"{_html.escape(str(exc))}</span>".replace("\n", "<br>")
        )
        self._update_apply()

    def wait(self, timeout: float | None = 120.0) -> None:
        """Wait until a running Apply or Refresh has finished."""
        if self._task is not None:
            self._task.join(timeout)

    def close(self) -> None:
        """Stop background work, close every child widget and the client the widget owns."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.stop(timeout=self.apply_timeout + 5)
        for widget in (
            *self.sliders.values(),
            *self.locks.values(),
            *self.counts.values(),
            *self.children,
        ):
            if isinstance(widget, widgets.Box):
                for child in widget.children:
                    child.close()
            widget.close()
        self._clients.close()
        super().close()

    # -- representations -------------------------------------------------------------------------

    def status_text(self) -> str:
        """``Traffic: blue=70%, green=30%``: the live split the endpoint reports, by name."""
        return f"Traffic: {format_split(self.reported.traffic)}"

    def __repr__(self) -> str:
        text = f"Traffic of {self.endpoint}: {format_split(self.reported.traffic)}"
        if self.reported.mirror_traffic:
            text += f"; mirror {format_split(self.reported.mirror_traffic)}"
        if self.error:
            text += f" (error: {self.error.splitlines()[0]})"
        return text

    def to_html(self) -> str:
        """A static HTML view (front ends without the widget manager, saved notebooks)."""
        esc = _html.escape
        parts = [f'<div class="mlep-traffic-static"><b>Traffic of {esc(self.endpoint)}</b>']
        parts.append(split_bars_html(self.reported.traffic, self.reported.mirror_traffic))
        if self.requests is not None:
            counts = ", ".join(
                f"{esc(name)}: {esc(_counts_text(self.requests.get(name.lower())) or '0 req')}"
                for name in self.deployments
            )
            parts.append(f"<div>Requests (last {_WINDOW_MINUTES} min): {counts}</div>")
        if self.error:
            parts.append(f"<div>Error: {esc(self.error)}</div>")
        return "".join(parts) + "</div>"

    def to_status(self) -> dict[str, Any]:
        """The status output: the endpoint's reported split, deployments and their recent requests."""
        requests = None
        if self.requests is not None:
            requests = {
                name: {
                    "requests": self.requests[name.lower()].requests,
                    "errors": self.requests[name.lower()].errors,
                    "mirrored": self.requests[name.lower()].mirrored,
                }
                for name in self.deployments
                if name.lower() in self.requests
            }
        return {
            "kind": "traffic",
            "widget": "traffic",
            "endpoint": self.endpoint,
            "deployments": list(self.deployments),
            "traffic": dict(self.reported.traffic),
            "mirror_traffic": dict(self.reported.mirror_traffic),
            "requests": requests,
            "applying": self.applying,
            "error": self.error,
        }
