"""The sweep widget against a real sweep of the shared local workspace: the trials table with their
parameters, state, latest and best metric and stop reason, the best trial highlighted, the charts
(metric per trial against interval, parallel coordinates), Cancel; ``%%job … --sweep`` draws the
widget at once in interactive mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.displays import capture_displays
from support.waiting import unique, wait_until

from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import spec_from_dict
from jupyter_mlep.widgets import SweepWidget

pytestmark = pytest.mark.usefixtures("use_workspace")

CONDA = "name: train\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - mlflow-skinny\n"

TRAIN = """\
import argparse
import time

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=float)
parser.add_argument("--pause", type=float, default=0.3)
args = parser.parse_args()
for step in range(5):
    mlflow.log_metric("auc", args.n * 0.4 + 0.01 * step, step=step)
    time.sleep(args.pause)
"""


def _sweep(client: RestClient, folder: Path, values: list[Any], pause: float = 0.3) -> ops.JobDetails:
    (folder / "conda.yml").write_text(CONDA)
    code = folder / "src"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text(TRAIN)
    data = {
        "type": "sweep",
        "name": unique("sw").replace("-", "_"),
        "trial": {
            "command": f"python train.py --n ${{{{search_space.n}}}} --pause {pause}",
            "code": str(code),
            "environment": {"conda_file": str(folder / "conda.yml"), "image": "python:3.11"},
        },
        "search_space": {"n": {"type": "choice", "values": values}},
        "sampling_algorithm": "grid",
        "objective": {"primary_metric": "auc", "goal": "maximize"},
        "limits": {"max_concurrent_trials": 2},
        "early_termination": {"type": "bandit", "slack_factor": 0.1, "evaluation_interval": 1},
    }
    return ops.create_job(client, spec_from_dict(data, kind="sweepJob"))


@pytest.fixture
def connect(workspace: Any) -> Callable[[], RestClient]:
    return lambda: ops.connect()


def test_the_widget_follows_a_sweep_to_its_end(
    client: RestClient, tmp_path: Path, connect: Callable[[], RestClient]
) -> None:
    job = _sweep(client, tmp_path, [2, 1])
    widget = SweepWidget(connect, ops.get_sweep(client, job.name), interval=0.2)
    try:
        assert widget.poller is not None
        widget.poller.join(300)
        assert widget.state == "Completed" and widget.ended and not widget.following, widget.note
        good = f"{job.name}_0"
        assert widget.best == good
        table = widget.table.value
        assert 'class="mlep-best-trial"' in table and f"★ {good}" in table
        assert "Stopped by the bandit policy" in table and "Canceled" in table
        assert (
            'alt="auc per trial"' in widget.charts.value
            and 'alt="parallel coordinates"' in widget.charts.value
        )
        assert widget.cancel_button.disabled
        bundle = widget._repr_mimebundle_()
        assert "mlep-sweep" in bundle["text/html"] and f"Sweep {job.name}: Completed" in bundle["text/plain"]
    finally:
        widget.close()


def test_cancel_from_the_widget_and_the_interactive_cell(
    ip: Any, client: RestClient, tmp_path: Path, connect: Callable[[], RestClient]
) -> None:
    job = _sweep(client, tmp_path, [1, 2, 3], pause=20)
    widget = SweepWidget(connect, ops.get_sweep(client, job.name), interval=0.2)
    try:
        wait_until(
            lambda: any(t.status == "Running" for t in widget.sweep.trials),
            timeout=120,
            what="a trial running",
        )
        widget.cancel()
        assert widget.poller is not None
        widget.poller.join(120)
        assert widget.state == "Canceled"
        assert all(t.status == "Canceled" for t in widget.sweep.trials)
    finally:
        widget.close()
    ip.run_line_magic("config", "MlepMagics.widgets = 'interactive'")
    (tmp_path / "conda.yml").write_text(CONDA)
    name = unique("cell").replace("-", "_")
    with capture_displays() as shown:
        ip.run_cell_magic(
            "job",
            f'{name} --env conda.yml --sweep "n=choice(1)" --primary-metric auc --sampling grid',
            TRAIN,
        )
    try:
        widgets = shown.widgets(SweepWidget)
        assert len(widgets) == 1 and widgets[0].name == name
        widgets[0].close()
    finally:
        ops.cancel_job(client, name)
