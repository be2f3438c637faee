"""The job widget against real jobs of the shared local workspace: phases with times, the log, one
chart per MLflow metric, parameters and outputs, Cancel, a failure's error and log tail; what the
``%job`` verbs draw in interactive mode (the widget, at once) and in static mode (the final state
with a metrics table and the charts as images)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from support.displays import STATUS_MIME, capture_displays
from support.waiting import unique, wait_until

from jupyter_mlep import operations as ops
from jupyter_mlep.operations._job_results import job_phases
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import spec_from_dict
from jupyter_mlep.widgets import JobWidget

pytestmark = pytest.mark.usefixtures("use_workspace")

CONDA = "name: train\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - mlflow-skinny\n"
PNG = b"\x89PNG\r\n\x1a\n"

TRAIN = """\
import os
import sys
import time

import mlflow

mlflow.log_param("alpha", "0.5")
print("training starts")
for step in range(5):
    mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("accuracy", 0.5 + step / 10, step=step)
    print("step", step, flush=True)
    time.sleep(0.2)
out = sys.argv[sys.argv.index("--model") + 1]
with open(os.path.join(out, "weights.txt"), "w") as handle:
    handle.write("w=1")
print("training done")
"""

SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n"
FAILING = "print('about to fail', flush=True)\nraise SystemExit(3)\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "conda.yml").write_text(CONDA)
    return tmp_path


@pytest.fixture
def submit(client: RestClient, folder: Path) -> Iterator[Callable[..., ops.JobDetails]]:
    """``submit(script, outputs=…)``: a command job running ``script``; canceled afterwards if it runs."""
    names: list[str] = []

    def make(script: str, *, model_output: bool = False) -> ops.JobDetails:
        name = unique("jw").replace("-", "_")
        code = folder / name
        code.mkdir()
        (code / "train.py").write_text(script)
        data: dict[str, Any] = {
            "type": "command",
            "name": name,
            "command": "python train.py" + (" --model ${{outputs.model}}" if model_output else ""),
            "code": str(code),
            "environment": {"conda_file": str(folder / "conda.yml"), "image": "python:3.11"},
            "experiment_name": "widgets",
        }
        if model_output:
            data["outputs"] = {"model": {"type": "uri_folder"}}
        names.append(name)
        return ops.create_job(client, spec_from_dict(data, kind="commandJob"))

    yield make
    for name in names:
        ops.cancel_job(client, name)


@pytest.fixture
def connect(workspace: Any) -> Callable[[], RestClient]:
    return lambda: ops.connect()


def _ended(widget: JobWidget, timeout: float = 300.0) -> JobWidget:
    assert widget.poller is not None
    widget.poller.join(timeout)
    assert not widget.poller.running, f"the widget still follows the job after {timeout} s: {widget.state}"
    return widget


def test_the_widget_follows_a_job_to_its_end(
    submit: Callable[..., ops.JobDetails], connect: Callable[[], RestClient]
) -> None:
    job = submit(TRAIN, model_output=True)
    widget = JobWidget(connect, job.name, job=job, interval=0.2)
    seen_states: list[str] = []
    widget.observe(lambda change: seen_states.append(change["new"]), "state")
    try:
        _ended(widget)
        assert widget.poller is not None and widget.poller.reason == "done"
        assert widget.state == "Completed" and widget.ended and not widget.following, widget.note
        assert "Running" in seen_states
        # phases with their times, then the end
        phases = {item["phase"]: item for item in widget.phases}
        assert list(phases) == ["Queued", "Preparing", "Running", "Finalizing", "Completed"]
        for name in ("Preparing", "Running"):
            assert phases[name]["state"] == "done" and phases[name]["seconds"] is not None
            assert phases[name]["started"]
        assert phases["Running"]["seconds"] >= 1.0  # the script slept 5 x 0.2 s
        assert phases["Completed"]["state"] == "done"
        # the log, complete
        assert "training starts" in widget.log_text and "training done" in widget.log_text
        shown = "".join(str(item.get("text", "")) for item in widget.log_output.outputs)
        assert "step 4" in shown and "training done" in shown
        assert widget.line_count == len(widget.log_text.splitlines())
        # one chart per metric, redrawn up to the last value
        assert widget.metrics["loss"] == {"step": 4, "value": pytest.approx(0.2), "count": 5}
        assert widget.metrics["accuracy"]["count"] == 5
        assert len(widget.charts.children) == 2
        for key in ("loss", "accuracy"):
            png = widget.chart_png(key)
            assert png is not None and png.startswith(PNG)
        chart_html = " ".join(view.value for view in widget.charts.children)
        assert 'class="mlep-metric-chart" alt="accuracy"' in chart_html and 'alt="loss"' in chart_html
        # parameters and outputs with their URIs; Cancel is off once the job has ended
        assert widget.params == {"alpha": "0.5"}
        uri = f"azureml://datastores/workspaceblobstore/paths/azureml/{job.name}/model/"
        assert uri in widget.details.value and "alpha" in widget.details.value
        assert widget.cancel_button.disabled
        assert 'class="mlep-state"' in widget.header.value and "Completed" in widget.header.value
        # the bundle: text, static HTML with the charts as images, the status output
        bundle = widget._repr_mimebundle_()
        assert f"Job {job.name}: Completed" in bundle["text/plain"]
        assert "loss" in bundle["text/plain"] and "alpha" in bundle["text/plain"]
        assert 'alt="loss"' in bundle["text/html"] and "data:image/png;base64," in bundle["text/html"]
        assert "training done" in bundle["text/html"]
        status = bundle[STATUS_MIME]
        assert status["kind"] == "job" and status["status"] == "Completed"
        assert [p["phase"] for p in status["phases"]][-1] == "Completed"
        assert status["metrics"]["loss"][0] == {"step": 0, "value": 1.0}
        assert status["params"] == {"alpha": "0.5"} and status["outputs"]["model"]["uri"] == uri
        # following the ended job again reads once and redraws nothing (no metric changed)
        redrawn: list[str] = []
        for view in widget.charts.children:
            view.observe(lambda change: redrawn.append(change["new"]), "value")
        lines = widget.line_count
        again = widget.watch()
        again.join(60)
        assert again.reason == "done" and again.polls == 1
        assert redrawn == [] and widget.line_count == lines and widget.state == "Completed"
    finally:
        widget.close()


def test_cancel_from_the_widget_stops_the_job(
    client: RestClient, submit: Callable[..., ops.JobDetails], connect: Callable[[], RestClient]
) -> None:
    job = submit(SLEEPER)
    widget = JobWidget(connect, job.name, job=job, interval=0.2)
    try:
        wait_until(lambda: "sleeping" in widget.log_text, 300, 0.1, what="the job to run")
        assert widget.state == "Running" and not widget.cancel_button.disabled
        widget.cancel_button.click()
        assert widget.cancel_button.disabled
        _ended(widget, 60)
        assert widget.state == "Canceled" and widget.ended
        assert ops.get_job(client, job.name).status == "Canceled"
        assert widget.phases[-1] == {**widget.phases[-1], "phase": "Canceled", "state": "canceled"}
        assert any(p["state"] == "canceled" for p in widget.phases[:-1])  # the phase it ended in
        assert widget.cancel_button.disabled
    finally:
        widget.close()


def test_a_failed_job_shows_its_error_and_log_tail(
    submit: Callable[..., ops.JobDetails], connect: Callable[[], RestClient]
) -> None:
    job = submit(FAILING)
    widget = JobWidget(connect, job.name, job=job, interval=0.2)
    try:
        _ended(widget)
        assert widget.state == "Failed" and "exited with code 3" in widget.error
        assert "exited with code 3" in widget.failure.value and "about to fail" in widget.failure.value
        assert "mlep-job-error" in widget.failure.value
        assert widget.to_status()["log_tail"].endswith("about to fail")
        assert widget.phases[-1]["phase"] == "Failed" and widget.phases[-1]["state"] == "failed"
    finally:
        widget.close()


def test_closing_the_widget_stops_its_poller(
    submit: Callable[..., ops.JobDetails], connect: Callable[[], RestClient]
) -> None:
    job = submit(SLEEPER)
    widget = JobWidget(connect, job.name, job=job, interval=0.2)
    assert widget.poller is not None
    wait_until(lambda: widget.poller is not None and widget.poller.polls >= 2, 60, what="two polls")
    widget.close()
    assert not widget.poller.running and widget.poller.reason == "stopped" and not widget.following


def test_interactive_job_verbs_display_the_widget_and_return_at_once(
    mode_ip: Callable[[str], Any], folder: Path, client: RestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)
    ip = mode_ip("interactive")
    name = unique("jwi").replace("-", "_")
    widgets: list[JobWidget] = []
    try:
        with capture_displays() as shown:
            job = ip.run_cell_magic("job", f"{name} --env conda.yml", SLEEPER)
        widgets += shown.widgets(JobWidget)
        assert job.name == name and not job.ended  # returned at once: the job goes on
        assert len(widgets) == 1 and widgets[0].name == name and widgets[0].following
        assert {"text/plain", "text/html", STATUS_MIME} <= set(shown.bundles()[-1])
        wait_until(lambda: widgets[0].state == "Running", 300, 0.1, what="the job to run")
        for verb in ("show", "stream"):
            with capture_displays() as again:
                same = ip.run_line_magic("job", f"{verb} {name}")
            assert same.name == name
            widgets += again.widgets(JobWidget)
        assert [w.name for w in widgets] == [name] * 3
        widgets[0].cancel()
        for widget in widgets:
            _ended(widget, 60)
            assert widget.state == "Canceled"
        with capture_displays() as ended:  # an ended job: its description, no widget
            final = ip.run_line_magic("job", f"show {name}")
        assert final.status == "Canceled" and not ended.widgets(JobWidget)
    finally:
        for widget in widgets:
            widget.close()
        ops.cancel_job(client, name)


def test_static_mode_shows_the_final_state_with_metrics_and_charts(
    mode_ip: Callable[[str], Any], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)
    ip = mode_ip("static")
    name = unique("jws").replace("-", "_")
    with capture_displays() as shown:
        job = ip.run_cell_magic("job", f"{name} --env conda.yml --output-name model", TRAIN)
    assert not shown.widgets()
    assert "training done" in shown.stdout and f"{name}: Completed" in shown.stdout
    assert job.status == "Completed" and job.metrics is not None
    text = job.text()
    assert "metric" in text and "loss" in text and "accuracy" in text and "alpha" in text
    assert "Finalizing" in text and "phase" in text
    html = job.html()
    assert 'class="mlep-metric-chart" alt="loss"' in html and 'alt="accuracy"' in html
    status = job.status_payload()
    assert status["kind"] == "job" and status["status"] == "Completed"
    assert [p["phase"] for p in status["phases"]] == [
        "Queued",
        "Preparing",
        "Running",
        "Finalizing",
        "Completed",
    ]
    assert len(status["metrics"]["loss"]) == 5 and status["params"] == {"alpha": "0.5"}


def test_phases_from_a_status_history() -> None:
    at = "2026-01-01T10:00:{:02d}Z".format
    history = [
        {"status": "NotStarted", "timeUtc": at(0)},
        {"status": "Queued", "timeUtc": at(1)},
        {"status": "Preparing", "timeUtc": at(2)},
        {"status": "Running", "timeUtc": at(5)},
    ]
    now = datetime(2026, 1, 1, 10, 0, 15, tzinfo=timezone.utc)
    running = {p["phase"]: p for p in job_phases("Running", history, now)}
    assert running["Queued"]["state"] == "done" and running["Queued"]["seconds"] == 1.0
    assert running["Preparing"]["seconds"] == 3.0
    assert running["Running"]["state"] == "active" and running["Running"]["seconds"] == 10.0
    assert running["Finalizing"]["state"] == "pending" and running["End"]["state"] == "pending"
    failed = job_phases("Failed", [*history, {"status": "Failed", "timeUtc": at(9)}], now)
    assert [p["state"] for p in failed] == ["done", "done", "failed", "skipped", "failed"]
    assert failed[2]["seconds"] == 4.0 and failed[-1]["phase"] == "Failed"
    without = job_phases("Running", [], now)  # Azure: no history, the phases from the status
    assert [p["state"] for p in without] == ["done", "done", "active", "pending", "pending"]
