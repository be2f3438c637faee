"""The live job widget: ``%%job``, ``%job run|create``, ``%job stream`` and ``%job show`` of a
running job, in a live front end.

It shows the job's state and phases with their times (run history's ``statusHistory``), the log
as it grows (``user_logs/std_log.txt`` and the other processes' logs, appended to an ``Output``),
one chart per metric the job logs with MLflow (value against step, a matplotlib PNG redrawn only
when that metric changed), the parameters, the outputs with their URIs, a Cancel button, and on
failure the error with the log tail. A background :class:`~jupyter_mlep.widgets.Poller` reads
run history, the log and the MLflow run every 0.5 s, more slowly after a minute; it stops once
the job has ended and its last log and metrics were read, or when the widget is closed.

DOM contract (browser tests): the container has class ``mlep-job``; the job's status is a
``span.mlep-state``; the log is inside ``.mlep-job-log``; each chart is an
``img.mlep-metric-chart`` whose ``alt`` is the metric's key; the Cancel button has class
``mlep-cancel-button``.
"""

from __future__ import annotations

import html as _html
import threading
from collections import deque
from dataclasses import replace
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Dict, Int, List, Unicode

from .. import operations as ops
from .._errors import NotFoundError
from ..charts import chart_img, metric_chart_png
from ..operations import JobDetails, JobMetrics
from ..operations._job_results import TERMINAL_STATUSES
from ..operations._job_runs import metric_series
from ..rest import RestClient
from ..rest._services import read_log, run_data, run_details
from ._base import FallbackBox
from ._client import ClientHolder, ClientSource
from ._poller import Poller

__all__ = ["JobWidget"]

POLL_INTERVAL = 0.5
"""Seconds between polls (a new metric value or log line shows within about this)."""
SLOW_AFTER = 60.0
"""After this many seconds, the interval grows (by half each poll) up to MAX_INTERVAL."""
MAX_INTERVAL = 2.0
MAX_LINES = 2000
"""Log lines kept (the ``Output`` is redrawn from them when it holds many pieces)."""
TAIL_LINES = 30
"""Log lines shown with the error of a failed job, and in the static HTML."""
_MAX_PIECES = 200

_warm = threading.Lock()
_warmed = False


def _warm_charts() -> None:
    """Import matplotlib and draw once (fonts loaded), so that the first metric is drawn at once."""
    global _warmed
    with _warm:
        if not _warmed:
            metric_chart_png("", [(0, 0.0)])
            _warmed = True


def _state_span(status: str) -> str:
    colors = {"Completed": "#1a7f37", "Failed": "#cf222e", "Canceled": "#9a6700"}
    color = colors.get(status, "#0969da")
    return f'<span class="mlep-state" style="color:{color};font-weight:bold">{_html.escape(status)}</span>'


def _phases_html(phases: list[dict[str, Any]]) -> str:
    marks = {"done": "✔", "active": "…", "pending": "·", "skipped": "–", "failed": "✖", "canceled": "■"}
    cells = []
    for item in phases:
        seconds = item["seconds"]
        time = "" if seconds is None else f" {seconds:.1f} s"
        mark = marks.get(item["state"], "")
        style = "font-weight:bold" if item["state"] == "active" else ""
        cells.append(
            f'<span class="mlep-phase mlep-phase-{_html.escape(item["state"])}" style="margin-right:1.2em;{style}">'
            f"{mark} {_html.escape(item['phase'])}{_html.escape(time)}</span>"
        )
    return f'<div class="mlep-job-phases">{"".join(cells)}</div>'


def _pairs_html(title: str, rows: list[tuple[str, str]]) -> str:
    if not rows:
        return ""
    body = "".join(
        f"<tr><td><code>{_html.escape(key)}</code></td><td>{_html.escape(value)}</td></tr>"
        for key, value in rows
    )
    return f"<div><b>{_html.escape(title)}</b><table>{body}</table></div>"


def _io(value: Any) -> str:
    if isinstance(value, dict):
        if value.get("jobInputType") == "literal":
            return str(value.get("value"))
        return str(value.get("uri") or value.get("jobOutputType") or value.get("jobInputType") or "")
    return str(value)


class JobWidget(FallbackBox):
    """One job, followed live.

    Parameters: ``client`` (a :class:`~jupyter_mlep.rest.RestClient` or a factory of one: the widget
    closes what it makes), ``name`` (the job), ``job`` (its description when the caller has it, e.g.
    just created), ``interval`` (seconds between polls), ``follow`` (start polling at once; else
    call :meth:`watch`).
    """

    name = Unicode(help="The job's name.")
    state = Unicode(help="The job's status (NotStarted, Queued, Preparing, Running, …, Completed).")
    ended = Bool(False, help="True once the job is Completed, Failed or Canceled.")
    error = Unicode(help="The error of a failed job (first line), or ''.")
    phases = List(Dict(), help="The phases with their state and times (see operations' job_phases).")
    metrics = Dict(help="Metric key → {'step', 'value', 'count'}: its last value and how many were drawn.")
    params = Dict(help="The parameters the job logged with MLflow.")
    line_count = Int(0, help="How many log lines were read.")
    following = Bool(False, help="Whether the poller runs.")
    note = Unicode(help="What the widget says besides the job's state (a cancel asked, a failed poll).")

    def __init__(
        self,
        client: ClientSource,
        name: str,
        *,
        job: JobDetails | None = None,
        interval: float = POLL_INTERVAL,
        max_errors: int = 3,
        follow: bool = True,
    ) -> None:
        self._client_source = client
        self._interval = interval
        self._max_errors = max_errors
        self._lock = threading.RLock()
        self._job = job or JobDetails(name=name, job_type="", status="NotStarted")
        self._series: dict[str, list[tuple[int, float]]] = {}
        self._marks: dict[str, tuple[Any, ...]] = {}
        self._pngs: dict[str, bytes] = {}
        self._params: dict[str, str] = {}
        self._offsets: dict[str, int] = {}
        self._lines: deque[str] = deque(maxlen=MAX_LINES)
        self._partial: dict[str, str] = {}
        self._pieces = 0
        self.poller: Poller | None = None
        self.header = widgets.HTML()
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", tooltip="cancel the job")
        self.cancel_button.add_class("mlep-cancel-button")
        self.cancel_button.on_click(lambda _button: self.cancel())
        self.phases_html = widgets.HTML()
        self.failure = widgets.HTML()
        self.charts = widgets.HBox(layout={"flex_flow": "row wrap"})
        self.charts.add_class("mlep-job-charts")
        self._chart_views: dict[str, widgets.HTML] = {}
        self.details = widgets.HTML()
        self.log_output = widgets.Output(
            layout={"max_height": "24em", "overflow": "auto", "border": "1px solid #ddd"}
        )
        self.log_output.add_class("mlep-job-log")
        top = widgets.HBox([self.header, self.cancel_button], layout={"align_items": "center"})
        super().__init__(
            children=[top, self.phases_html, self.failure, self.charts, self.details, self.log_output],
            name=name,
        )
        self._top = top
        self.add_class("mlep-job")
        self.refresh()
        if follow:
            self.watch()

    # -- the job ---------------------------------------------------------------------------

    @property
    def job(self) -> JobDetails:
        """The job as last read, with the metrics and parameters read so far."""
        with self._lock:
            metrics = JobMetrics(name=self.name, metrics=dict(self._series), params=dict(self._params))
            return self._job.with_metrics(metrics)

    @property
    def log_text(self) -> str:
        """The log lines kept (the last :data:`MAX_LINES`)."""
        with self._lock:
            return "\n".join(self._lines)

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        """The last ``lines`` of the log."""
        with self._lock:
            return "\n".join(list(self._lines)[-lines:])

    def chart_png(self, key: str) -> bytes | None:
        """The PNG of metric ``key``'s chart as drawn now (None before its first value)."""
        return self._pngs.get(key)

    # -- polling ---------------------------------------------------------------------------

    def watch(self) -> Poller:
        """Poll the job in the background until it has ended and its last log and metrics were read
        (or the widget closes)."""
        if self.poller is not None and self.poller.running:
            return self.poller
        clients = ClientHolder(self._client_source)

        def poll() -> bool:
            rest = clients.client
            if not self._job.job_type:  # the first poll: what the job is (inputs, outputs, command)
                self._job = JobDetails.from_rest(rest.get(rest.paths.job(self.name)))
            details = run_details(rest, self.name)
            status = str(details.get("status") or self._job.status)
            with self._lock:
                self._job = replace(self._job.with_run(details), status=status)
            ended = status in TERMINAL_STATUSES
            self._read_logs(rest, details)
            self._read_metrics(rest)
            if ended:  # the outputs' final URIs, the error as the job reports it
                final = JobDetails.from_rest(rest.get(rest.paths.job(self.name))).with_run(details)
                with self._lock:
                    self._job = replace(final, status=status)
            if self.note and (ended or not self.note.startswith("Cancel")):
                self.note = ""  # a failed poll recovered, or the cancel asked for is done
            self.refresh()
            return ended

        def failed(exc: BaseException) -> None:
            assert self.poller is not None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self.poller.reason == "errors":
                self.note = (
                    f"Stopped following after {self._max_errors} failed polls: {type(exc).__name__}: {first}"
                )
            else:
                self.note = f"Poll failed ({self.poller.errors}/{self._max_errors}): {first}"
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
            max_errors=self._max_errors,
            slow_after=SLOW_AFTER,
            max_interval=max(MAX_INTERVAL, self._interval),
            name=f"mlep-job-{self.name}",
        )
        self.following = True
        return self.poller.start()

    def _read_logs(self, rest: RestClient, details: dict[str, Any]) -> None:
        files = dict(details.get("logFiles") or {})
        logs = sorted(name for name in files if name.startswith("user_logs/"))
        logs.sort(key=lambda name: name != "user_logs/std_log.txt")
        for log in logs:
            chunk = read_log(rest, files[log], self._offsets.get(log, 0))
            self._offsets[log] = chunk.end
            if chunk.text:
                prefix = "" if len(logs) == 1 or log == logs[0] else f"[{log.rsplit('/', 1)[-1]}] "
                self._add_text(log, chunk.text, prefix)

    def _add_text(self, log: str, text: str, prefix: str = "") -> None:
        """Append a piece of ``log`` (complete lines only: a line cut by a read waits for its end)."""
        with self._lock:
            text = self._partial.pop(log, "") + text
            complete, sep, rest = text.rpartition("\n")
            if rest:
                self._partial[log] = rest
            if not sep:
                return
            lines = [prefix + line for line in complete.split("\n")]
            self._lines.extend(lines)
            self.line_count += len(lines)
            if self._pieces >= _MAX_PIECES:
                self._redraw_log()
            else:
                self.log_output.append_stdout("\n".join(lines) + "\n")
                self._pieces += 1

    def _redraw_log(self) -> None:
        text = "\n".join(self._lines) + "\n" if self._lines else ""
        self.log_output.outputs = ({"output_type": "stream", "name": "stdout", "text": text},) if text else ()
        self._pieces = 1

    def _read_metrics(self, rest: RestClient) -> None:
        if not _warmed:
            _warm_charts()
        try:
            data = run_data(rest, self.name)
        except NotFoundError:  # no MLflow run (yet)
            return
        params = {str(item["key"]): str(item["value"]) for item in data.get("params") or []}
        changed = []
        for item in data.get("metrics") or []:
            key = str(item["key"])
            mark = (item.get("value"), item.get("step"), item.get("timestamp"))
            if self._marks.get(key) != mark:
                changed.append((key, mark))
        for key, mark in changed:
            points = metric_series(rest, self.name, key)
            png = metric_chart_png(key, points)
            with self._lock:
                self._series[key] = points
                self._pngs[key] = png
                self._marks[key] = mark
            self._draw_chart(key, png)
        with self._lock:
            if params != self._params:
                self._params = params
                self.params = dict(params)
            if changed:
                self.metrics = {
                    key: {"step": points[-1][0], "value": points[-1][1], "count": len(points)}
                    for key, points in sorted(self._series.items())
                    if points
                }

    def _draw_chart(self, key: str, png: bytes) -> None:
        view = self._chart_views.get(key)
        value = chart_img(key, png)
        if view is None:
            view = widgets.HTML(value)
            self._chart_views[key] = view
            self.charts.children = [self._chart_views[k] for k in sorted(self._chart_views)]
        else:
            view.value = value

    # -- cancel ----------------------------------------------------------------------------

    def cancel(self) -> None:
        """Ask the service to cancel the job (the poller sees it end ``Canceled``)."""
        if self.ended:
            return
        self.cancel_button.disabled = True
        self.note = "Cancel requested…"
        self.refresh()
        clients = ClientHolder(self._client_source)
        try:
            job = ops.cancel_job(clients.client, self.name, wait=False)
        except Exception as exc:
            self.cancel_button.disabled = False
            self.note = f"Cancel failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            self.refresh()
            raise
        finally:
            clients.close()
        self.note = f"Cancel requested ({job.status})."
        self.refresh()
        if self.poller is None or not self.poller.running:
            self.watch()

    # -- drawing ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Draw the current state (safe from any thread: it only sets traits)."""
        with self._lock:
            job = self._job
            phases = job.phases()
        self.state = job.status
        self.ended = job.ended
        self.error = job.error.splitlines()[0] if job.error else ""
        self.phases = phases
        self.cancel_button.disabled = self.ended or self.note.startswith("Cancel requested")
        duration = job.duration
        took = f" in {duration:.1f} s" if job.ended and duration is not None else ""
        note = f' <span class="mlep-job-note">{_html.escape(self.note)}</span>' if self.note else ""
        self.header.value = (
            f"<b>Job {_html.escape(self.name)}</b> ({_html.escape(job.experiment)}): "
            f"{_state_span(job.status)}{_html.escape(took)}{note}"
        )
        self.phases_html.value = _phases_html(phases)
        self.failure.value = self._failure_html(job)
        self.details.value = self._details_html(job)

    def _failure_html(self, job: JobDetails) -> str:
        if job.status not in ("Failed", "Canceled") and not job.error:
            return ""
        tail = self.log_tail()
        error = f"<div><b>Error:</b> {_html.escape(job.error)}</div>" if job.error else ""
        pre = f"<pre>{_html.escape(tail)}</pre>" if tail and job.status == "Failed" else ""
        return f'<div class="mlep-job-error" style="color:#cf222e">{error}{pre}</div>' if error or pre else ""

    def _details_html(self, job: JobDetails) -> str:
        with self._lock:
            params = sorted(self._params.items())
        inputs = [(key, _io(value)) for key, value in job.inputs.items()]
        outputs = [(key, _io(value)) for key, value in job.outputs.items()]
        return (
            _pairs_html("Parameters", params)
            + _pairs_html("Inputs", inputs)
            + _pairs_html("Outputs", outputs)
            + (f"<div>Command: <code>{_html.escape(job.command)}</code></div>" if job.command else "")
        )

    # -- lifetime and representations ------------------------------------------------------

    def close(self) -> None:
        """Stop the poller and close the widget."""
        if self.poller is not None:
            self.poller.stop()
        for child in (
            self.header,
            self.cancel_button,
            self._top,
            self.phases_html,
            self.failure,
            *self._chart_views.values(),
            self.charts,
            self.details,
            self.log_output,
        ):
            child.close()
        super().close()

    def summary(self) -> str:
        """One line: the job, its status, metrics and log lines."""
        following = ", following" if self.following else ""
        return (
            f"Job {self.name}: {self.state}; {len(self.metrics)} metric(s), "
            f"{self.line_count} log line(s){following}"
        )

    def __repr__(self) -> str:
        return self.job.text()

    def to_html(self) -> str:
        tail = self.log_tail()
        return (
            f'<div class="mlep-job">{self.job.html()}'
            + (f'<pre class="mlep-job-log">{_html.escape(tail)}</pre>' if tail else "")
            + "</div>"
        )

    def to_status(self) -> dict[str, Any]:
        job = self.job
        return {
            **job.status_payload(),
            "phases": job.phases(),
            "log_tail": self.log_tail(),
            "following": self.following,
        }
