"""The job widget in a real browser: in JupyterLab 4, a ``%%job`` cell whose script logs a metric with
MLflow every 0.3 s returns at once and shows the widget; the metric's chart appears and is redrawn
while the job runs, the log grows, the state reaches Completed and Cancel turns off; a second job
is canceled with the widget's Cancel button.

Screenshots of every stage: ``test-artifacts/browser/<test>-NN-<stage>.png``.
"""

from __future__ import annotations

import time
import uuid

from playwright.sync_api import Page, expect

from jupyter_mlep import operations, settings
from jupyter_mlep.rest import RestClient

from .conftest import JupyterServer, Shots
from .jupyter_ui import cells, open_notebook, output_bundles, run_all, wait_all_executed, write_notebook

CONDA = "name: train\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - mlflow-skinny\n"
TRAIN = """\
import time

import mlflow

print("training starts", flush=True)
for step in range(20):
    mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    print("step", step, flush=True)
    time.sleep(0.3)
print("training done")
"""
SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(300)\n"
JOB_TIMEOUT_MS = 300_000  # the first job of a session builds the environment
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BUNDLE = {WIDGET_VIEW, "text/plain", "text/html", "application/vnd.jupyter-mlep.status+json"}


def job_status(name: str) -> str:
    """The job's status as the local workspace reports it (read from the test process)."""
    with RestClient.from_settings(settings.resolve({"target": "local"})) as client:
        return operations.get_job(client, name).status


def test_lab_job_widget_draws_the_metric_live_and_cancels(
    lab_server: JupyterServer, page: Page, shots: Shots
) -> None:
    train, sleeper = f"br_train_{uuid.uuid4().hex[:8]}", f"br_sleep_{uuid.uuid4().hex[:8]}"
    (lab_server.root / "conda.yml").write_text(CONDA)
    path = write_notebook(
        lab_server,
        "train.ipynb",
        [
            "%load_ext jupyter_mlep",
            f"%%job {train} --env conda.yml --code train-src\n{TRAIN}",
            f"%%job {sleeper} --env conda.yml --code sleep-src\n{SLEEPER}",
        ],
    )
    open_notebook(page, lab_server, path)
    run_all(page)
    wait_all_executed(page, 3, timeout=60)  # the cells return at once: the widgets follow the jobs
    widget = cells(page).nth(1).locator(".mlep-job").first
    expect(widget).to_be_visible()
    state = widget.locator("span.mlep-state").first
    shots("started", widget)
    for index in (1, 2):
        widget_outputs = [out for out in output_bundles(page, index) if WIDGET_VIEW in out.get("data", {})]
        assert widget_outputs, f"cell {index} shows no widget: {output_bundles(page, index)}"
        assert set(widget_outputs[0]["data"]) >= BUNDLE, widget_outputs[0]["data"].keys()

    # The chart appears, and is redrawn while the job runs.
    chart = widget.locator('img.mlep-metric-chart[alt="loss"]')
    expect(chart).to_be_visible(timeout=JOB_TIMEOUT_MS)
    shots("first-chart", widget)
    drawn: set[str] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = state.text_content()
        src = chart.get_attribute("src") or ""
        if now == "Running" and state.text_content() == "Running":
            drawn.add(src)
        if now in ("Completed", "Failed", "Canceled") or len(drawn) >= 3:
            break
        time.sleep(0.1)
    assert len(drawn) >= 3, f"the chart was drawn {len(drawn)} time(s) while the job ran (state {now})"
    shots("chart-redrawn", widget)

    expect(state).to_have_text("Completed", timeout=60_000)
    expect(widget.locator(".mlep-job-log")).to_contain_text("training done")
    expect(widget.locator(".mlep-cancel-button")).to_be_disabled()
    expect(widget).to_contain_text("Finalizing")
    assert job_status(train) == "Completed"
    shots("completed", widget)

    # Cancel, from the second job's widget.
    second = cells(page).nth(2).locator(".mlep-job").first
    expect(second.locator(".mlep-job-log")).to_contain_text("sleeping", timeout=JOB_TIMEOUT_MS)
    expect(second.locator("span.mlep-state").first).to_have_text("Running")
    second.locator(".mlep-cancel-button").click()
    expect(second.locator("span.mlep-state").first).to_have_text("Canceled", timeout=60_000)
    expect(second.locator(".mlep-cancel-button")).to_be_disabled()
    assert job_status(sleeper) == "Canceled"
    shots("canceled", second)
