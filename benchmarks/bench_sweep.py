"""Sweep jobs in the local workspace: per-trial overhead, throughput, early-termination latency.

Figures (process runtime, environment cached, statuses polled every 10 ms over ARM):
- overhead per trial: the trial's wall time (created as a child job → ``Completed``, from its
  status history) minus the script's own wall time (its first to its last line, one second apart),
  median of ``--runs`` trials run one at a time: target ≤ 0.3 s;
- 20 trials of a 1 s script with ``maxConcurrentTrials`` 2: the sweep's total (PUT sent →
  ``Completed`` seen) against the ideal 10 s: target ≤ 1.2× (12 s);
- early termination: the time from the metric value that makes a bandit policy stop a trial
  (MLflow's timestamp of the later of the two values compared at that interval) to the trial's end
  (``Canceled``), median of ``--runs`` sweeps: target ≤ 1 s.

    .venv/bin/python benchmarks/bench_sweep.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import textwrap
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import print_table
from support.arm import HISTORY_PREFIX, Arm, job_environment, upload_folder
from support.tracking import call
from support.workspace import running_workspace

SCRIPT = "python3 -c 'import time; print(time.time())'; sleep 1; python3 -c 'import time; print(time.time())'"

LOGGER = textwrap.dedent(
    """
    import json, os, sys, time, urllib.request

    curve, pause = sys.argv[1], float(sys.argv[2])
    uri, run = os.environ["MLFLOW_TRACKING_URI"], os.environ["MLFLOW_RUN_ID"]
    headers = {"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"], "Content-Type": "application/json"}
    for step, value in enumerate(curve.split("/")):
        body = {"run_id": run, "key": "auc", "value": float(value), "timestamp": int(time.time() * 1000), "step": step}
        request = urllib.request.Request(uri + "/api/2.0/mlflow/runs/log-metric", json.dumps(body).encode(), headers)
        urllib.request.urlopen(request).read()
        time.sleep(pause)
    """
)


def _sweep(arm: Arm, body: dict[str, Any]) -> tuple[str, float]:
    name = f"bench-sweep-{uuid.uuid4().hex[:8]}"
    started = time.time()
    response = arm.put(f"/jobs/{name}", body)
    assert response.status_code == 201, response.text
    while (status := arm.get(f"/jobs/{name}").json()["properties"]["status"]) not in (
        "Completed",
        "Failed",
        "Canceled",
    ):
        time.sleep(0.01)
    assert status == "Completed", status
    return name, time.time() - started


def _body(env: str, command: str, space: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {
        "properties": {
            "jobType": "Sweep",
            "trial": {"command": command, "environmentId": env, **props.pop("trial", {})},
            "searchSpace": space,
            "samplingAlgorithm": {"samplingAlgorithmType": "Grid"},
            "objective": {"goal": "Maximize", "primaryMetric": "auc"},
            **props,
        }
    }


def _time(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _history(arm: Arm, run: str, tail: str = "") -> Any:
    response = arm.http.get(f"{HISTORY_PREFIX}{arm.url('')}/runs/{run}{tail}")
    assert response.status_code == 200, response.text
    return response


def _overheads(arm: Arm, env: str, runs: int) -> list[float]:
    limits = {"jobLimitsType": "Sweep", "maxConcurrentTrials": 1}
    name, _ = _sweep(
        arm,
        _body(
            env, f"{SCRIPT} # ${{{{search_space.n}}}}", {"n": ["choice", [list(range(runs))]]}, limits=limits
        ),
    )
    values = []
    for trial in _history(arm, name, "/children").json()["value"]:
        history = trial["statusHistory"]
        wall = _time(history[-1]["timeUtc"]) - _time(history[0]["timeUtc"])
        log = _history(arm, trial["runId"], "/logs/user_logs/std_log.txt").text.split()
        values.append(wall - (float(log[1]) - float(log[0])))
    return values


def _throughput(arm: Arm, env: str) -> float:
    limits = {"jobLimitsType": "Sweep", "maxConcurrentTrials": 2}
    _, total = _sweep(
        arm, _body(env, "sleep 1 # ${{search_space.n}}", {"n": ["choice", [list(range(20))]]}, limits=limits)
    )
    return total


def _decision(arm: Arm, env: str, code: str) -> float:
    good, poor = "/".join(["0.9"] * 8), "/".join(["0.3"] * 8)
    body = _body(
        env,
        "python log.py ${{search_space.curve}} 0.5",
        {"curve": ["choice", [[good, poor]]]},
        trial={"codeId": code},
        limits={"jobLimitsType": "Sweep", "maxConcurrentTrials": 2},
        earlyTermination={"policyType": "Bandit", "slackFactor": 0.1, "evaluationInterval": 1},
    )
    name, _ = _sweep(arm, body)
    stopped = _history(arm, f"{name}_1", "/details").json()
    interval = int(re.search(r"at interval (\d+)", stopped["error"]["error"]["message"]).group(1))  # type: ignore[union-attr]
    stamps = []
    for trial in (f"{name}_0", f"{name}_1"):
        history = call(
            arm.info,
            "GET",
            "/api/2.0/mlflow/metrics/get-history",
            params={"run_id": trial, "metric_key": "auc"},
        )
        stamps.append(sorted(p["timestamp"] for p in history.json()["metrics"])[interval - 1] / 1000)
    return _time(stopped["endTimeUtc"]) - max(stamps)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlep-bench-sweep-") as tmp:
        home = Path(tmp) / "home"
        os.environ.update(MLEP_HOME=str(home), MLEP_RUNTIME="process")
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        (code_dir / "log.py").write_text(LOGGER)
        with running_workspace(home) as info, Arm(info) as arm:
            env = job_environment(arm)
            _overheads(arm, env, 1)  # builds (or finds) the environment
            overhead = _overheads(arm, env, args.runs)
            total = _throughput(arm, env)
            uri = upload_folder(arm, code_dir, f"LocalUpload/{uuid.uuid4().hex}")
            code = arm.put("/codes/bench-logger/versions/1", {"properties": {"codeUri": uri}}).json()["id"]
            latency = [_decision(arm, env, code) for _ in range(max(3, args.runs // 2))]
    print_table(
        f"Sweep jobs (process runtime, environment cached; medians of {args.runs} trials)",
        [
            ("overhead per trial", f"{statistics.median(overhead) * 1000:.0f} ms", "target ≤ 300 ms"),
            (
                "20 trials × 1 s, 2 at once",
                f"{total:.1f} s ({total / 10:.2f}× the ideal 10 s)",
                "target ≤ 1.2×",
            ),
            (
                "metric → early-termination stop",
                f"{statistics.median(latency) * 1000:.0f} ms (max {max(latency) * 1000:.0f} ms)",
                "target ≤ 1 s",
            ),
        ],
    )


if __name__ == "__main__":
    main()
