"""The live logs widget: ``%endpoint logs NAME DEPLOYMENT --follow`` in a live front end.

A background poller reads the deployment's log (through
:class:`jupyter_mlep.operations.LogFollower`) and appends new lines to an ``Output`` with
``append_stdout`` (never ``with out:`` from a thread). A drop-down picks the container (inference
server or storage initializer), a toggle pauses and resumes the display (lines keep being read
and kept while paused), a text box filters lines (case-insensitive substring). Memory is bounded:
the widget keeps the last ``max_lines`` lines, and the ``Output`` is redrawn from them once it
holds half as many again. Closing the widget stops the poller.

DOM contract (browser tests): the container has class ``mlep-logs``; the log text is inside
an element with class ``mlep-logs-output``.
"""

from __future__ import annotations

import html as _html
import threading
from collections import deque
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Int, Unicode, observe

from .. import operations as ops
from ..rendering import STATUS_MIME
from ._client import ClientHolder, ClientSource
from ._poller import Poller

__all__ = ["LogsWidget"]

POLL_INTERVAL = 0.5
"""Seconds between reads of the log (a new line shows within about this)."""
MAX_LINES = 1000
HTML_LINES = 200
"""Lines in the static ``text/html`` fallback."""

_CONTAINERS = [("inference server", "inference-server"), ("storage initializer", "storage-initializer")]


class LogsWidget(widgets.VBox):  # type: ignore[misc]
    """A deployment's log, followed live.

    Parameters: ``client`` (a REST client or a factory of one: the widget closes what it makes),
    ``endpoint``, ``deployment``, ``container`` (``inference-server`` or ``storage-initializer``),
    ``max_lines`` (kept in memory), ``interval`` (seconds between reads), ``follow`` (start the
    poller at once; else call :meth:`start`).
    """

    endpoint = Unicode(help="The endpoint's name.")
    deployment = Unicode(help="The deployment's name.")
    container = Unicode("inference-server", help="The log followed: inference-server or storage-initializer.")
    paused = Bool(False, help="While True, new lines are kept but not shown.")
    filter = Unicode("", help="Show only lines containing this text (case-insensitive).")
    max_lines = Int(MAX_LINES, help="How many of the last lines are kept.")
    line_count = Int(0, help="How many lines are kept now.")
    following = Bool(False, help="Whether the poller runs.")
    message = Unicode("", help="What the status line says (errors included).")

    def __init__(
        self,
        client: ClientSource,
        endpoint: str,
        deployment: str,
        *,
        container: str = "inference-server",
        max_lines: int = MAX_LINES,
        interval: float = POLL_INTERVAL,
        max_errors: int = 3,
        follow: bool = True,
    ) -> None:
        ops.check_container(container)
        self._client_source = client
        self._interval = interval
        self._max_errors = max_errors
        self._lock = threading.RLock()
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._shown = 0  # lines in the Output since it was last redrawn
        self._pending = 0  # lines read while paused
        self._generation = 0  # bumped when the container changes: the poller starts over
        self.poller: Poller | None = None
        self.container_picker = widgets.Dropdown(options=_CONTAINERS, value=container, description="Log")
        self.filter_box = widgets.Text(placeholder="filter", description="Filter", continuous_update=True)
        self.pause_button = widgets.ToggleButton(value=False, description="Pause", icon="pause")
        self.status_line = widgets.Label()
        self.output = widgets.Output(layout={"max_height": "24em", "overflow": "auto"})
        self.output.add_class("mlep-logs-output")
        self.toolbar = widgets.HBox([self.container_picker, self.filter_box, self.pause_button])
        super().__init__(
            children=[self.toolbar, self.status_line, self.output],
            endpoint=endpoint,
            deployment=deployment,
            container=container,
            max_lines=max_lines,
        )
        self.add_class("mlep-logs")
        widgets.link((self.container_picker, "value"), (self, "container"))
        widgets.link((self.filter_box, "value"), (self, "filter"))
        widgets.link((self.pause_button, "value"), (self, "paused"))
        self._say()
        if follow:
            self.start()

    # -- reading ---------------------------------------------------------------------------

    def start(self) -> Poller:
        """Start following (a no-op while already following)."""
        if self.poller is not None and self.poller.running:
            return self.poller
        if self.poller is not None:  # restarted: the first read brings the last lines again
            with self._lock:
                self._lines.clear()
                self.line_count = 0
                self.redraw()
        clients = ClientHolder(self._client_source)
        follower: list[ops.LogFollower] = []
        generation = [-1]

        def poll() -> bool:
            with self._lock:
                current, container = self._generation, self.container
            if generation[0] != current:
                follower[:] = [
                    ops.LogFollower(
                        clients.client,
                        self.endpoint,
                        self.deployment,
                        container=container,
                        window=self.max_lines,
                    )
                ]
                generation[0] = current
            lines = follower[0].poll()
            with self._lock:
                if generation[0] == self._generation:  # not switched while reading
                    self.add_lines(lines)
                    if self.message.startswith("Read failed"):
                        self._say()
            return False

        def failed(exc: BaseException) -> None:
            assert self.poller is not None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self.poller.reason == "errors":
                self._say(f"Stopped following after {self._max_errors} failed reads: {first}")
            else:
                self._say(f"Read failed ({self.poller.errors}/{self._max_errors}): {first}")

        def done() -> None:
            self.following = False
            clients.close()
            if self.poller is not None and self.poller.reason != "errors":
                self._say()

        self.poller = Poller(
            poll,
            interval=self._interval,
            on_error=failed,
            on_done=done,
            max_errors=self._max_errors,
            name=f"mlep-logs-{self.endpoint}-{self.deployment}",
        )
        self.following = True
        self._say()
        return self.poller.start()

    def stop(self) -> None:
        """Stop following (the lines read stay)."""
        if self.poller is not None:
            self.poller.stop()
        self.following = False
        self._say()

    # -- showing ---------------------------------------------------------------------------

    def _matches(self, line: str) -> bool:
        return not self.filter or self.filter.lower() in line.lower()

    def add_lines(self, lines: list[str]) -> None:
        """Keep ``lines`` and show those that pass the filter (unless paused). Any thread."""
        if not lines:
            return
        with self._lock:
            self._lines.extend(lines)
            self.line_count = len(self._lines)
            if self.paused:
                self._pending += len(lines)
                self._say()
                return
            shown = [line for line in lines if self._matches(line)]
            if shown:
                if self._shown + len(shown) > self.max_lines * 3 // 2:
                    self.redraw()
                else:
                    self.output.append_stdout("\n".join(shown) + "\n")
                    self._shown += len(shown)
            self._say()

    def redraw(self) -> None:
        """Draw the kept lines that pass the filter (one output, replacing what was shown)."""
        with self._lock:
            visible = [line for line in self._lines if self._matches(line)]
            self._pending = 0
            self._shown = len(visible)
            text = "\n".join(visible) + "\n" if visible else ""
            self.output.outputs = ({"output_type": "stream", "name": "stdout", "text": text},) if text else ()

    @property
    def lines(self) -> list[str]:
        """The lines kept (at most ``max_lines``)."""
        with self._lock:
            return list(self._lines)

    @property
    def text(self) -> str:
        """The text the ``Output`` shows now."""
        return "".join(
            str(item.get("text", "")) for item in self.output.outputs if item.get("output_type") == "stream"
        )

    def _say(self, message: str | None = None) -> None:
        if message is None:
            what = f"{self.container} log of {self.deployment}: {len(self._lines)} line(s)"
            if self.paused:
                what += f", paused ({self._pending} new)"
            elif self.following:
                what += ", following"
            if self.filter:
                what += f", filter {self.filter!r}"
            message = what
        self.message = message
        self.status_line.value = message

    @observe("filter")
    def _filter_changed(self, _change: dict[str, Any]) -> None:
        if not self.paused:
            self.redraw()
        self._say()

    @observe("paused")
    def _pause_changed(self, change: dict[str, Any]) -> None:
        self.pause_button.description = "Resume" if change["new"] else "Pause"
        self.pause_button.icon = "play" if change["new"] else "pause"
        if not change["new"]:
            self.redraw()
        self._say()

    @observe("container")
    def _container_changed(self, change: dict[str, Any]) -> None:
        ops.check_container(change["new"])
        with self._lock:
            self._generation += 1
            self._lines.clear()
            self.line_count = 0
            self.redraw()
        self._say()

    # -- lifetime and representations ------------------------------------------------------

    def close(self) -> None:
        """Stop the poller and close the widget."""
        if self.poller is not None:
            self.poller.stop()
        for child in (*self.toolbar.children, self.toolbar, self.status_line, self.output):
            child.close()
        super().close()

    def summary(self) -> str:
        """One line: endpoint, deployment, container, how many lines, following or not."""
        state = "paused" if self.paused else "following" if self.following else "stopped"
        return (
            f"Logs of deployment {self.deployment} of {self.endpoint} ({self.container}): "
            f"{len(self._lines)} line(s), {state}"
        )

    def __repr__(self) -> str:
        return self.summary()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super()._repr_mimebundle_(**kwargs) or {}
        lines = [line for line in self.lines if self._matches(line)][-HTML_LINES:]
        data["text/plain"] = self.summary()
        data["text/html"] = (
            f'<div class="mlep-logs"><div>{_html.escape(self.summary())}</div>'
            f"<pre>{_html.escape(chr(10).join(lines))}</pre></div>"
        )
        data[STATUS_MIME] = {
            "kind": "logs",
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "container": self.container,
            "lines": len(self._lines),
            "following": self.following,
            "content": "\n".join(self.lines),
        }
        return data
