"""The batch job widget against real batch jobs of the shared local workspace: the counters and the
bar as mini-batches end, the errors table naming the failure, the output path, Cancel; and what
``%batch invoke`` draws in interactive mode (the widget, at once) and in static mode (the counters,
then the final state)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.arm import JOB_CONDA
from support.displays import STATUS_MIME
from support.waiting import unique, wait_until

from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import spec_from_dict
from jupyter_mlep.widgets.batch import BatchWidget

pytestmark = pytest.mark.usefixtures("use_workspace")

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
        time.sleep(float(os.environ.get("DELAY", "0")))
        rows.append(os.path.basename(path) + "," + str(len(text)))
    return rows
"""


@pytest.fixture(scope="module")
def endpoint(workspace: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A batch endpoint whose default deployment scores one file per mini-batch on two workers, and
    a ``slow`` one; its data folder has one corrupt file among six."""
    from support.clients import make_client

    folder = tmp_path_factory.mktemp("bwidget")
    (folder / "src").mkdir()
    (folder / "src" / "score.py").write_text(SCORE)
    (folder / "conda.yml").write_text(JOB_CONDA)
    (folder / "model.txt").write_text("m")
    data = folder / "data"
    data.mkdir()
    for index in range(6):
        (data / f"f{index}.txt").write_text("corrupt" if index == 4 else "x" * index)
    name = unique("bwid")
    base = {
        "endpoint_name": name,
        "model": {"path": str(folder / "model.txt")},
        "code_configuration": {"code": str(folder / "src"), "scoring_script": "score.py"},
        "environment": {"image": "python:3.11-slim", "conda_file": str(folder / "conda.yml")},
        "mini_batch_size": 1,
        "max_concurrency_per_instance": 2,
        "retry_settings": {"max_retries": 0, "timeout": 60},
    }
    with make_client(workspace) as client:
        ops.deploy_batch(client, spec_from_dict({"name": "quick", **base}, kind="batchDeployment"))
        slow = {"name": "slow", **base, "environment_variables": {"DELAY": "30"}}
        ops.deploy_batch(client, spec_from_dict(slow, kind="batchDeployment"))
        yield name, data
        ops.delete_batch_endpoint(client, name)


def test_the_widget_follows_a_job_to_its_end(client: RestClient, endpoint: tuple[str, Path]) -> None:
    name, data = endpoint
    job = ops.invoke_batch(client, name, data, wait=False)
    widget = BatchWidget(client, job, interval=0.2)
    try:
        final = widget.wait(120)
        assert final.status == "Completed" and widget.state == "Completed" and widget.ended
        assert (widget.done, widget.failed, widget.running) == (5, 1, 0)
        assert widget.bar.value == widget.bar.max == 6
        assert "unreadable f4.txt" in widget.errors.value
        assert "predictions.csv" in widget.output.value and widget.cancel_button.disabled
        assert "mini-batches 5/6 done, 1 failed, 0 running" in widget.counters.value
        assert len(widget.to_pandas()) == 5
        bundle = widget._repr_mimebundle_()
        assert (
            bundle[STATUS_MIME]["kind"] == "batch-job" and bundle[STATUS_MIME]["mini_batches"]["failed"] == 1
        )
        assert "unreadable f4.txt" in bundle["text/html"] and "Completed" in bundle["text/plain"]
        wait_until(lambda: not widget.following, what="the poller to stop")
    finally:
        widget.close()


def test_cancel_stops_a_running_job(client: RestClient, endpoint: tuple[str, Path]) -> None:
    name, data = endpoint
    job = ops.invoke_batch(client, name, data, deployment="slow", wait=False)
    widget = BatchWidget(client, job, interval=0.2)
    try:
        wait_until(lambda: widget.state == "Running", timeout=60, what="the job to run")
        widget.cancel()
        assert widget.wait(60).status == "Canceled"
        assert widget.state == "Canceled" and widget.cancel_button.disabled
    finally:
        widget.close()


def test_the_magic_draws_the_widget_live_and_counters_in_static_mode(
    mode_ip: Any, endpoint: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    name, data = endpoint
    ip = mode_ip("interactive")
    ip.run_line_magic("load_ext", "jupyter_mlep")
    widget = ip.run_line_magic("batch", f"invoke {name} --input {data}")
    try:
        assert isinstance(widget, BatchWidget)
        assert widget.wait(120).status == "Completed" and len(widget.output_value) == 5
    finally:
        widget.close()
    ip = mode_ip("static")
    job = ip.run_line_magic("batch", f"invoke {name} --input {data} --output-file-name static.csv")
    out = capsys.readouterr().out
    assert job.status == "Completed" and job.output_path is not None and job.output_path.name == "static.csv"
    assert f"{job.name}: Completed; mini-batches 5/6 done, 1 failed, 0 running" in out
