"""The batch job widget in a real browser: in JupyterLab 4, ``%batch invoke`` returns at once and
shows the widget; its bar and counters move as mini-batches end, the errors table names the
corrupt file's failure, the output path appears, the state reaches Completed and Cancel turns off.

Screenshots of every stage: ``test-artifacts/browser/<test>-NN-<stage>.png``.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from jupyter_mlep import operations, settings
from jupyter_mlep.rest import RestClient

from .conftest import JupyterServer, Shots
from .jupyter_ui import cells, open_notebook, output_bundles, run_all, wait_all_executed, write_notebook

CONDA = "name: batch\ndependencies:\n  - python=3.11\n  - pip\n"
SCORE = """\
import os
import time

def init():
    pass

def run(mini_batch):
    rows = []
    for path in mini_batch:
        text = open(path).read()
        if text == "corrupt":
            raise ValueError("unreadable " + os.path.basename(path))
        time.sleep(0.5)
        rows.append(os.path.basename(path))
    return rows
"""
SETUP = f"""\
from pathlib import Path
Path("src").mkdir(exist_ok=True)
Path("src/score.py").write_text({SCORE!r})
Path("conda.yml").write_text({CONDA!r})
Path("model.txt").write_text("m")
Path("data").mkdir(exist_ok=True)
for index in range(8):
    Path(f"data/f{{index}}.txt").write_text("corrupt" if index == 5 else "x" * index)
"""
JOB_TIMEOUT_MS = 300_000  # the first job of a session builds the environment
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_lab_batch_widget_follows_the_job_and_names_the_failure(
    lab_server: JupyterServer, page: Page, shots: Shots
) -> None:
    endpoint = f"brb-{uuid.uuid4().hex[:8]}"
    path = write_notebook(
        lab_server,
        "batch.ipynb",
        [
            "%load_ext jupyter_mlep",
            SETUP,
            f"%batch deploy {endpoint} blue --model model.txt --code src --scoring-script score.py --env conda.yml "
            "--mini-batch-size 1 --max-concurrency-per-instance 2",
            f"%batch invoke {endpoint} --input data --max-retries 0",
        ],
    )
    open_notebook(page, lab_server, path)
    run_all(page)
    wait_all_executed(page, 4, timeout=JOB_TIMEOUT_MS / 1000)  # up to the invoke: it returns at once
    widget = cells(page).nth(3).locator(".mlep-batch").first
    expect(widget).to_be_visible()
    assert any(WIDGET_VIEW in out.get("data", {}) for out in output_bundles(page, 3)), output_bundles(page, 3)
    shots("started", widget)
    state = widget.locator("span.mlep-state").first
    counters = widget.locator(".mlep-batch-counters")
    expect(counters).to_contain_text("running", timeout=JOB_TIMEOUT_MS)
    expect(state).to_have_text("Completed", timeout=JOB_TIMEOUT_MS)
    expect(counters).to_contain_text("mini-batches 7/8 done, 1 failed, 0 running")
    expect(widget.locator(".mlep-batch-errors")).to_contain_text("unreadable f5.txt")
    expect(widget).to_contain_text("predictions.csv")
    expect(widget.locator(".mlep-cancel-button")).to_be_disabled()
    shots("completed", widget)
    with RestClient.from_settings(settings.resolve({"target": "local"})) as client:
        operations.delete_batch_endpoint(client, endpoint)
