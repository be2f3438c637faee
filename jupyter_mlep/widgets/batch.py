"""The batch job widget: ``%batch invoke`` and ``%batch jobs NAME --job JOB`` in a live front end.

It shows the job's state, a bar of the mini-batches done, the counters (done, failed, running,
items per second), the errors table (file, exception) and, once it completed, the output path; a
Cancel button cancels the job. A background :class:`~jupyter_mlep.widgets.Poller` reads the job
and its progress logs every 0.5 s (more slowly after a minute) until it has ended. Under papermill
and nbconvert, :func:`watch_batch` prints the same counters as they change and blocks instead.

DOM contract (browser tests): the container has class ``mlep-batch``; the status is a
``span.mlep-state``; the counters are in ``.mlep-batch-counters``; the errors table is in
``.mlep-batch-errors``; the Cancel button has class ``mlep-cancel-button``.
"""

from __future__ import annotations

import html as _html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Int, Unicode

from .. import operations as ops
from .._errors import JobFailedError
from ..operations import BatchJob
from ..rendering import html_table
from ._base import FallbackBox
from ._client import ClientHolder, ClientSource
from ._mode import DisplayMode
from ._poller import Poller
from .job import MAX_INTERVAL, POLL_INTERVAL, SLOW_AFTER, _state_span

__all__ = ["BatchWidget", "watch_batch"]


def counters(job: BatchJob) -> str:
    """``mini-batches 3/10 done, 1 failed, 2 running; 41.5 items/s`` (the widget's and the static line)."""
    p = job.progress
    total = f"/{p.total}" if p.total else ""
    return (
        f"mini-batches {p.done}{total} done, {p.failed} failed, {p.running} running; "
        f"{p.items_per_second:.1f} items/s"
    )


class BatchWidget(FallbackBox):
    """One batch job, followed live. ``client`` is a client or a factory of one (closed when done)."""

    name = Unicode(help="The job's name.")
    state = Unicode(help="The job's status.")
    ended = Bool(False, help="True once the job has ended.")
    done = Int(0, help="Mini-batches that succeeded.")
    failed = Int(0, help="Mini-batches that failed.")
    running = Int(0, help="Mini-batches being scored.")
    following = Bool(False, help="Whether the poller runs.")

    def __init__(
        self, client: ClientSource, job: BatchJob, *, interval: float = POLL_INTERVAL, follow: bool = True
    ):
        self._client_source = client
        self._interval = interval
        self._lock = threading.RLock()
        self._job = job
        self._ended = threading.Event()
        self.poller: Poller | None = None
        self.header = widgets.HTML()
        self.bar = widgets.IntProgress(min=0, max=1, value=0, layout={"width": "24em"})
        self.counters = widgets.HTML()
        self.counters.add_class("mlep-batch-counters")
        self.errors = widgets.HTML()
        self.errors.add_class("mlep-batch-errors")
        self.output = widgets.HTML()
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", tooltip="cancel the job")
        self.cancel_button.add_class("mlep-cancel-button")
        self.cancel_button.on_click(lambda _button: self.cancel())
        top = widgets.HBox([self.header, self.cancel_button], layout={"align_items": "center"})
        row = widgets.HBox([self.bar, self.counters], layout={"align_items": "center"})
        super().__init__(children=[top, row, self.errors, self.output], name=job.name)
        self._parts = [
            top,
            row,
            self.header,
            self.bar,
            self.counters,
            self.errors,
            self.output,
            self.cancel_button,
        ]
        self.add_class("mlep-batch")
        self.refresh()
        if follow:
            self.watch()

    @property
    def job(self) -> BatchJob:
        """The job as last read (with its output once it completed)."""
        with self._lock:
            return self._job

    def wait(self, timeout: float | None = None) -> BatchJob:
        """Block until the job has ended and was read a last time; the job."""
        self._ended.wait(timeout)
        return self.job

    def to_pandas(self) -> Any:
        """The output as a DataFrame (waits for the job to end)."""
        return self.wait().to_pandas()

    @property
    def output_value(self) -> Any:
        """The output: a DataFrame when small, else its path (waits for the job to end)."""
        return self.wait().output

    def watch(self) -> Poller:
        """Poll the job until it has ended (or the widget closes)."""
        clients = ClientHolder(self._client_source)

        def poll() -> bool:
            job = ops.get_batch_job(clients.client, self.name, download=False)
            if job.ended:
                job = ops.get_batch_job(clients.client, self.name)
            with self._lock:
                self._job = job
            self.refresh()
            if job.ended:
                self._ended.set()
            return job.ended

        def done() -> None:
            self.following = False
            clients.close()
            self._ended.set()
            self.refresh()

        self.poller = Poller(
            poll,
            interval=self._interval,
            on_done=done,
            slow_after=SLOW_AFTER,
            max_interval=max(MAX_INTERVAL, self._interval),
            name=f"mlep-batch-{self.name}",
        )
        self.following = True
        return self.poller.start()

    def cancel(self) -> None:
        """Ask the service to cancel the job (the poller sees it end ``Canceled``)."""
        self.cancel_button.disabled = True
        clients = ClientHolder(self._client_source)
        try:
            ops.cancel_job(clients.client, self.name, wait=False)
        finally:
            clients.close()

    def refresh(self) -> None:
        """Draw the current state (only sets traits: safe from the poller's thread)."""
        job = self.job
        p = job.progress
        self.state, self.ended = job.status, job.ended
        self.done, self.failed, self.running = p.done, p.failed, p.running
        self.cancel_button.disabled = job.ended
        where = _html.escape(f"{job.endpoint}/{job.deployment}" if job.deployment else job.endpoint)
        self.header.value = f"<b>Batch job {_html.escape(job.name)}</b> on {where}: {_state_span(job.status)}"
        self.bar.max, self.bar.value = max(p.total, 1), p.done + p.failed
        self.counters.value = _html.escape(counters(job))
        self.errors.value = html_table(["file", "exception"], p.errors[:50]) if p.errors else ""
        error = f"<div style='color:#cf222e'>{_html.escape(job.job.error)}</div>" if job.job.error else ""
        path = (
            f"<div>Output: <code>{_html.escape(str(job.output_path))}</code></div>" if job.output_path else ""
        )
        self.output.value = error + path

    def close(self) -> None:
        """Stop the poller and close the widget."""
        if self.poller is not None:
            self.poller.stop()
        for part in self._parts:
            part.close()
        super().close()

    def __repr__(self) -> str:
        return self.job.text()

    def to_html(self) -> str:
        return f'<div class="mlep-batch">{self.job.html()}</div>'

    def to_status(self) -> dict[str, Any]:
        return {**self.job.status_payload(), "following": self.following}


def watch_batch(
    mode: DisplayMode,
    connect: Callable[[], Any],
    job: BatchJob,
    *,
    wait: bool = True,
    say: Callable[[str], None] = print,
) -> Any:
    """Follow a batch job: the live widget in interactive mode (displayed, and returned at once:
    ``.wait()``, ``.to_pandas()``), else its counters printed as they change until it ends (with ``wait``);
    a job that ends Failed or Canceled raises :class:`~jupyter_mlep.JobFailedError`."""
    if mode == "interactive":  # shown now; the cell's value is the widget, not drawn twice
        from ._views import _display, shown_once

        widget = BatchWidget(connect, job)
        _display(widget)
        return shown_once(widget)
    if not wait:
        return job
    last = ""

    def update(current: BatchJob) -> None:
        nonlocal last
        line = f"{current.name}: {current.status}; {counters(current)}"
        if line != last:
            last = line
            say(line)

    with connect() as client:
        try:
            job = ops.follow_batch_job(client, job, on_update=update)
        except KeyboardInterrupt:
            raise JobFailedError(
                f"Stopped following batch job {job.name}; it goes on.",
                job=job.job,
                hint=f"See it with %batch jobs {job.endpoint} --job {job.name}, or cancel it with %job cancel {job.name}.",
            ) from None
    if job.status != "Completed":
        raise JobFailedError(
            f"Batch job {job.name} ended {job.status}" + (f": {job.job.error}" if job.job.error else "."),
            job=job.job,
            hint=f"See its errors with %batch jobs {job.endpoint} --job {job.name} (logs/user/error.txt).",
        )
    return job
