"""A sweep job through the SDK, as the azureml-examples sweep notebooks build one: a ``command()``
whose inputs are replaced by search-space expressions, then ``.sweep(...)`` with a sampling
algorithm, objective, limits and a bandit policy; created, followed until it ends, its children
listed with ``jobs.list(parent_job_name=…)``, and the best trial read from its properties."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from azure.ai.ml import command
from azure.ai.ml.entities import Environment
from azure.ai.ml.sweep import BanditPolicy, Choice, Uniform
from sdkcalls import Calls, arguments, expect, ml_client, run

ARGS = arguments()
PREFIX = ARGS["prefix"]
WORK = Path(ARGS["work"])

# the trial logs its metric through MLflow's REST API (its environment has no packages)
TRAIN = """\
import argparse, json, os, ssl, time, urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
parser.add_argument("--layers", type=int)
args = parser.parse_args()
uri, run = os.environ["MLFLOW_TRACKING_URI"], os.environ["MLFLOW_RUN_ID"]
cafile = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH")
context = ssl.create_default_context(cafile=cafile) if uri.startswith("https") else None
headers = {"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"], "Content-Type": "application/json"}
for step in range(3):
    value = args.layers * args.lr * (step + 1)
    body = {"run_id": run, "key": "score", "value": value, "timestamp": int(time.time() * 1000), "step": step}
    request = urllib.request.Request(uri + "/api/2.0/mlflow/runs/log-metric", json.dumps(body).encode(), headers)
    urllib.request.urlopen(request, context=context).read()
print("trained", args.lr, args.layers, flush=True)
"""

CONDA = "name: sdk-sweep\ndependencies:\n  - python=3.11\n  - pip\n"


def main(calls: Calls) -> None:
    client = ml_client()
    code = WORK / "sweep-src"
    code.mkdir(parents=True, exist_ok=True)
    (code / "train.py").write_text(TRAIN, encoding="utf-8")
    (WORK / "sdk-sweep-conda.yml").write_text(CONDA, encoding="utf-8")
    environment = Environment(image="python:3.11-slim", conda_file=str(WORK / "sdk-sweep-conda.yml"))
    trial = command(
        code=str(code),
        command="python train.py --lr ${{inputs.lr}} --layers ${{inputs.layers}}",
        inputs={"lr": 0.01, "layers": 2},
        environment=environment,
        experiment_name=PREFIX,
    )
    for_sweep = trial(lr=Uniform(min_value=0.01, max_value=0.1), layers=Choice(values=[1, 2, 4]))
    sweep = for_sweep.sweep(
        sampling_algorithm="random",
        primary_metric="score",
        goal="Maximize",
        early_termination_policy=BanditPolicy(slack_factor=0.5, evaluation_interval=1),
    )
    sweep.set_limits(max_total_trials=4, max_concurrent_trials=2, timeout=600)
    name = f"{PREFIX}-{uuid.uuid4().hex[:8]}"
    sweep.name = name
    created = calls(
        "jobs.create_or_update(sweep)",
        lambda: client.jobs.create_or_update(sweep),
        lambda j: {"name": j.name, "type": j.type, "status": str(getattr(j.status, "value", j.status))},
    )
    expect(created.name == name, f"created {created.name}")

    def finished() -> str:
        deadline = time.monotonic() + 300
        while (status := client.jobs.get(name).status) not in ("Completed", "Failed", "Canceled"):
            expect(time.monotonic() < deadline, f"the sweep is still {status}")
            time.sleep(0.5)
        return str(getattr(status, "value", status))

    calls(
        "jobs.get(sweep ended)",
        finished,
        lambda status: (expect(status == "Completed", f"status {status}"), {"status": status})[1],
    )
    calls(
        "jobs.get(sweep)",
        lambda: client.jobs.get(name),
        lambda j: {
            "type": j.type,
            "search_space": sorted(j.search_space),
            "goal": j.objective.goal.lower(),
            "metric": j.objective.primary_metric,
            "max_total_trials": j.limits.max_total_trials,
            "policy": type(j.early_termination).__name__,
            "best": j.properties.get("best_child_run_id"),
        },
    )
    calls(
        "jobs.list(parent_job_name=sweep)",
        lambda: list(client.jobs.list(parent_job_name=name)),
        lambda children: sorted(
            (child.name, str(getattr(child.status, "value", child.status))) for child in children
        ),
    )
    best = client.jobs.get(name).properties["best_child_run_id"]
    calls(
        "jobs.get(best trial)",
        lambda: client.jobs.get(best),
        lambda j: {"type": j.type, "status": str(getattr(j.status, "value", j.status)), "command": j.command},
    )


if __name__ == "__main__":
    run(main)
