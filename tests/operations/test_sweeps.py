"""Sweeps from the notebook: ``%%job … --sweep`` and ``%job create -f sweep.yml`` build the same
sweep; a sweep over a cell that logs with MLflow runs, a bandit policy stops the poorer trial with
its reason, the result shows the trials with the best one highlighted and the charts, and
``%job register-model SWEEP --best`` registers the best trial's output."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlep import cancel_job
from jupyter_mlep._errors import UsageError
from jupyter_mlep.operations import SweepDetails, get_sweep
from jupyter_mlep.rest import RestClient

pytestmark = pytest.mark.usefixtures("use_workspace")

CONDA = "name: train\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - mlflow-skinny\n"

TRAIN = """\
import argparse
import os
import time

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=float)
parser.add_argument("--lr", type=float)
parser.add_argument("--model")
args = parser.parse_args()
for step in range(5):
    mlflow.log_metric("auc", args.n * 0.4 + 0.01 * step, step=step)
    time.sleep(0.4)
with open(os.path.join(args.model, "weights.txt"), "w") as handle:
    handle.write(f"n={args.n}")
print("done", flush=True)
"""

SWEEP_YML = """\
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
trial:
  code: job-src
  command: python train.py --lr ${{search_space.lr}} --n ${{search_space.n}}
  environment:
    conda_file: conda.yml
    image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04
search_space:
  lr: {type: loguniform, min_value: -6, max_value: -1}
  n: {type: choice, values: [16, 32, 64]}
sampling_algorithm: random
objective: {primary_metric: auc, goal: maximize}
limits: {max_total_trials: 20, max_concurrent_trials: 4}
early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 1}
"""


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _sweep_fields(client: RestClient, name: str) -> dict[str, Any]:
    props = client.get(client.paths.job(name))["properties"]
    return {
        "trial": props["trial"]["command"],
        **{k: props[k] for k in ("searchSpace", "objective", "earlyTermination")},
        "sampling": props["samplingAlgorithm"]["samplingAlgorithmType"],
        "limits": {k: v for k, v in props["limits"].items() if k != "timeout"},
    }


def test_the_cell_flags_and_the_yaml_build_the_same_sweep(
    ip: Any, client: RestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conda.yml").write_text(CONDA)
    (tmp_path / "job-src").mkdir()
    (tmp_path / "job-src" / "train.py").write_text("print(1)\n")
    (tmp_path / "sweep.yml").write_text(SWEEP_YML)
    from_cell, from_file = _name("cell"), _name("yml")
    job = ip.run_cell_magic(
        "job",
        f'{from_cell} --env conda.yml --sweep "lr=loguniform(-6,-1)" '
        '--sweep "n=choice(16,32,64)" --primary-metric auc --goal maximize --sampling random --max-trials 20 '
        "--concurrent 4 --policy bandit:slack_factor=0.1,evaluation_interval=1 --no-wait",
        "print(1)\n",
    )
    created = ip.run_line_magic("job", f"create -f sweep.yml --name {from_file} --no-wait")
    try:
        assert job.job_type == "Sweep" and created.job_type == "Sweep"
        assert _sweep_fields(client, from_cell) == _sweep_fields(client, from_file)
        assert _sweep_fields(client, from_cell)["searchSpace"] == {
            "lr": ["loguniform", [-6, -1]],
            "n": ["choice", [[16, 32, 64]]],
        }
    finally:
        cancel_job(client, from_cell)
        cancel_job(client, from_file)
    with pytest.raises(UsageError, match="needs --primary-metric"):
        ip.run_cell_magic("job", '--image python:3.11 --sweep "n=choice(1,2)"', "print(1)\n")
    with pytest.raises(UsageError, match="gamma is not an expression"):
        ip.run_cell_magic("job", '--image python:3.11 --sweep "n=gamma(1)" --primary-metric a', "print(1)\n")


def test_a_sweep_cell_runs_stops_the_poor_trial_and_registers_the_best(
    ip: Any, client: RestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conda.yml").write_text(CONDA)
    name = _name("tune")
    sweep = ip.run_cell_magic(
        "job",
        f'{name} --env conda.yml --output-name model --sweep "n=choice(2,1)" --sweep "lr=choice(0.1)" '
        "--primary-metric auc --sampling grid --concurrent 2 --policy bandit:slack_factor=0.1,evaluation_interval=1",
        TRAIN,
    )
    assert isinstance(sweep, SweepDetails) and sweep.state == "Completed"
    good, poor = (trial for trial in sweep.trials)
    assert good.parameters == {"n": "2", "lr": "0.1"} and good.status == "Completed"
    assert poor.status == "Canceled" and poor.reason.startswith("Stopped by the bandit policy at interval")
    assert sweep.best == good.name and sweep.score == pytest.approx(0.84)
    text, html = sweep.text(), sweep.html()
    assert f"★ {good.name}" in text and "Stopped by the bandit policy" in text
    assert 'class="mlep-best-trial"' in html and 'alt="auc per trial"' in html
    assert 'alt="parallel coordinates"' in html
    streamed = ip.run_line_magic("job", f"stream {name}")  # an ended sweep: its final state at once
    assert isinstance(streamed, SweepDetails) and streamed.state == "Completed"
    shown = ip.run_line_magic("job", f"show {name}")
    assert isinstance(shown, SweepDetails) and shown.best == good.name
    model = ip.run_line_magic(
        "job", f"register-model {name} --best --output-name model --model-name {name}-m"
    )
    assert model.job == good.name and model.reference == f"azureml:{name}-m:1"
    assert get_sweep(client, name).to_dict()["best"] == good.name
    with pytest.raises(UsageError, match="not a sweep"):
        ip.run_line_magic("job", f"register-model {good.name} --best --output-name model --model-name x")
