"""Sweep jobs really run in the local workspace: trials are child command jobs with their
parameters bound and logged, a policy stops a trial on scripted metrics and says why, the best
trial is named in the sweep's properties, limits and timeouts end trials and sweeps, a sweep
cancels with its trials, and a workspace that restarts resumes its sweep.

Trials log their primary metric through MLflow's REST API from a script that uses only the
standard library (the environment has no packages): each value of a ``curve`` is one interval.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.arm import HISTORY_PREFIX, Arm, job_environment, upload_folder
from support.owners import processes_with
from support.tracking import call
from support.waiting import unique
from support.workspace import running_workspace

from jupyter_mlep.workspace import control

DONE = ("Completed", "Failed", "Canceled")

LOGGER = textwrap.dedent(
    """
    import json, os, ssl, sys, time, urllib.request

    metric, curve, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
    uri, run = os.environ["MLFLOW_TRACKING_URI"], os.environ["MLFLOW_RUN_ID"]
    cafile = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH")
    context = ssl.create_default_context(cafile=cafile) if uri.startswith("https") else None
    headers = {"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"], "Content-Type": "application/json"}
    for step, value in enumerate(curve.split("/")):
        body = {"run_id": run, "key": metric, "value": float(value), "timestamp": int(time.time() * 1000), "step": step}
        request = urllib.request.Request(uri + "/api/2.0/mlflow/runs/log-metric", json.dumps(body).encode(), headers)
        urllib.request.urlopen(request, context=context).read()
        print("logged", step, value, flush=True)
        time.sleep(pause)
    print("done", flush=True)
    """
)


@pytest.fixture(scope="module")
def env_id(arm: Arm) -> str:
    return job_environment(arm, unique("sweepenv"))


@pytest.fixture(scope="module")
def code_id(arm: Arm, tmp_path_factory: pytest.TempPathFactory) -> str:
    return register_code(arm, tmp_path_factory.mktemp("sweepcode"))


def register_code(arm: Arm, folder: Path) -> str:
    (folder / "log.py").write_text(LOGGER)
    uri = upload_folder(arm, folder, f"LocalUpload/{uuid.uuid4().hex}")
    name = unique("code")
    response = arm.put(f"/codes/{name}/versions/1", {"properties": {"codeUri": uri}})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def sweep_body(
    env: str,
    command: str,
    space: dict[str, Any],
    *,
    code: str | None = None,
    sampling: dict[str, Any] | None = None,
    goal: str = "Maximize",
    metric: str = "auc",
    **props: Any,
) -> dict[str, Any]:
    trial = {"command": command, "environmentId": env, **({"codeId": code} if code else {})}
    return {
        "properties": {
            "jobType": "Sweep",
            "trial": trial,
            "searchSpace": space,
            "samplingAlgorithm": sampling or {"samplingAlgorithmType": "Grid"},
            "objective": {"goal": goal, "primaryMetric": metric},
            **props,
        }
    }


def submit(arm: Arm, body: dict[str, Any]) -> str:
    name = unique("sweep")
    response = arm.put(f"/jobs/{name}", body)
    assert response.status_code == 201, response.text
    return name


def job(arm: Arm, name: str) -> dict[str, Any]:
    response = arm.get(f"/jobs/{name}")
    assert response.status_code == 200, response.text
    return dict(response.json()["properties"])


def wait_status(arm: Arm, name: str, wanted: tuple[str, ...] = DONE, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while True:
        now = str(job(arm, name)["status"])
        if now in wanted:
            return now
        assert time.monotonic() < deadline, f"{name} still {now}, wanted {wanted}"
        time.sleep(0.05)


def history(arm: Arm, name: str, suffix: str = "") -> dict[str, Any]:
    response = arm.http.get(f"{HISTORY_PREFIX}{arm.url('')}/runs/{name}{suffix}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def children(arm: Arm, name: str) -> list[dict[str, Any]]:
    return list(history(arm, name, "/children")["value"])


def error_of(arm: Arm, name: str) -> dict[str, Any]:
    return dict(history(arm, name, "/details")["error"]["error"])


def log_text(arm: Arm, name: str) -> str:
    response = arm.http.get(f"{HISTORY_PREFIX}{arm.url('')}/runs/{name}/logs/user_logs/std_log.txt")
    return response.text if response.status_code == 200 else ""


GOOD = "0.9/0.9/0.9/0.9/0.9/0.9"
POOR = "/".join(["0.3"] * 60)  # long enough (24 s) that only the policy ends it, however late GOOD starts


POLICIES = {
    "bandit": (
        {"policyType": "Bandit", "slackFactor": 0.1, "evaluationInterval": 1},
        "Stopped by the bandit policy at interval ",
        "the trial's best auc so far (0.3) is below 0.818182, the best trial's 0.9 / (1 + slack_factor 0.1)",
    ),
    "median_stopping": (
        {"policyType": "MedianStopping", "evaluationInterval": 1},
        "Stopped by the median stopping policy at interval ",
        "the trial's best auc so far (0.3) is below 0.6, the median of the running averages of the 2 trials",
    ),
    "truncation_selection": (
        {"policyType": "TruncationSelection", "truncationPercentage": 50, "evaluationInterval": 0},
        "Stopped by the truncation selection policy at interval ",
        "the trial's best auc so far (0.3) is among the worst 50% (1 of 2 trials",
    ),
}


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_a_policy_stops_the_poor_trial_and_says_why(arm: Arm, env_id: str, code_id: str, policy: str) -> None:
    rest, start, because = POLICIES[policy]
    body = sweep_body(
        env_id,
        "python log.py auc ${{search_space.curve}} 0.4",
        {"curve": ["choice", [[GOOD, POOR]]]},
        code=code_id,
        limits={"jobLimitsType": "Sweep", "maxConcurrentTrials": 2},
        earlyTermination=rest,
    )
    name = submit(arm, body)
    assert wait_status(arm, name) == "Completed"
    good, poor = f"{name}_0", f"{name}_1"
    assert [run["runId"] for run in children(arm, name)] == [good, poor]
    assert {run["parentRunId"] for run in children(arm, name)} == {name}
    assert job(arm, good)["status"] == "Completed" and "done" in log_text(arm, good)
    assert job(arm, poor)["status"] == "Canceled" and "done" not in log_text(arm, poor)
    error = error_of(arm, poor)
    assert error["code"] == "EarlyTermination"
    assert error["message"].startswith(start) and because in error["message"], error["message"]
    props = job(arm, name)["properties"]
    assert props["best_child_run_id"] == good and float(props["score"]) == 0.9
    assert props["best_metric_status"] == "Succeeded"
    assert "limits.maxTotalTrials (2)" in props["mlep.sweep.endReason"]
    # the trial is a command job with its value bound and logged as its run's param
    trial = job(arm, good)
    assert trial["parentJobName"] == name and trial["command"] == f"python log.py auc {GOOD} 0.4"
    run = call(arm.info, "GET", "/api/2.0/mlflow/runs/get", params={"run_id": good}).json()["run"]
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"curve": GOOD}
    assert {item["name"] for item in arm.list_all("/jobs")} >= {name, good, poor}


def test_a_sweep_without_the_metric_says_so_and_seeds_reproduce(arm: Arm, env_id: str) -> None:
    space = {"x": ["uniform", [0, 1]], "n": ["choice", [[16, 32, 64]]]}
    sampling = {"samplingAlgorithmType": "Random", "seed": 17}
    body = sweep_body(
        env_id,
        "echo x=${{search_space.x}} n=${{search_space.n}} env=$AZUREML_SWEEP_n",
        space,
        sampling=sampling,
        limits={"jobLimitsType": "Sweep", "maxTotalTrials": 3, "maxConcurrentTrials": 2},
        earlyTermination={"policyType": "MedianStopping"},
    )
    first, second = submit(arm, body), submit(arm, body)
    assert wait_status(arm, first) == "Completed" and wait_status(arm, second) == "Completed"
    seen = []
    for sweep in (first, second):
        trials = children(arm, sweep)
        assert len(trials) == 3 and all(t["status"] == "Completed" for t in trials)
        values = []
        for index in range(3):
            run = call(arm.info, "GET", "/api/2.0/mlflow/runs/get", params={"run_id": f"{sweep}_{index}"})
            params = {p["key"]: p["value"] for p in run.json()["run"]["data"]["params"]}
            assert f"x={params['x']} n={params['n']} env={params['n']}" in log_text(arm, f"{sweep}_{index}")
            values.append(params)
        seen.append(values)
        props = job(arm, sweep)["properties"]
        assert "No trial logged the primary metric 'auc'" in props["mlep.sweep.note"]
        assert "best_child_run_id" not in props
    assert seen[0] == seen[1]  # the same seed, the same trials


def test_bayesian_sampling_through_optuna(arm: Arm, env_id: str, code_id: str) -> None:
    body = sweep_body(
        env_id,
        "python log.py auc ${{search_space.curve}} 0 # ${{search_space.x}} ${{search_space.q}}",
        {
            "x": ["uniform", [0, 1]],
            "q": ["quniform", [0, 10, 5]],
            "curve": ["choice", [["0.5/0.6", "0.7/0.8"]]],
        },
        code=code_id,
        sampling={"samplingAlgorithmType": "Bayesian"},
        limits={"jobLimitsType": "Sweep", "maxTotalTrials": 4, "maxConcurrentTrials": 2},
    )
    name = submit(arm, body)
    assert wait_status(arm, name) == "Completed"
    trials = children(arm, name)
    assert len(trials) == 4 and all(t["status"] == "Completed" for t in trials)
    last = {}
    for trial in trials:
        run = call(arm.info, "GET", "/api/2.0/mlflow/runs/get", params={"run_id": trial["runId"]}).json()[
            "run"
        ]
        params = {p["key"]: p["value"] for p in run["data"]["params"]}
        assert 0 <= float(params["x"]) <= 1 and params["q"] in ("0", "5", "10")
        assert params["curve"] in ("0.5/0.6", "0.7/0.8")
        last[trial["runId"]] = float(params["curve"].split("/")[-1])
    props = job(arm, name)["properties"]
    assert float(props["score"]) == max(last.values()) == last[props["best_child_run_id"]]
    # a Bayesian sweep refuses what Azure's does
    refused = sweep_body(
        env_id,
        "echo ${{search_space.lr}}",
        {"lr": ["loguniform", [-5, 0]]},
        sampling={"samplingAlgorithmType": "Bayesian"},
    )
    response = arm.put(f"/jobs/{unique('sweep')}", refused)
    assert response.status_code == 400 and "Bayesian sampling takes choice" in response.text


def test_refusals_before_anything_runs(arm: Arm, env_id: str) -> None:
    grid = sweep_body(env_id, "echo ${{search_space.lr}}", {"lr": ["uniform", [0, 1]]})
    response = arm.put(f"/jobs/{unique('sweep')}", grid)
    assert response.status_code == 400 and "Grid sampling takes choice parameters only" in response.text
    unknown = sweep_body(env_id, "echo ${{search_space.lr}}", {"n": ["choice", [[1, 2]]]})
    response = arm.put(f"/jobs/{unique('sweep')}", unknown)
    assert response.status_code == 400 and "search space does not define" in response.text
    bandit = sweep_body(
        env_id,
        "echo ${{search_space.n}}",
        {"n": ["choice", [[1]]]},
        earlyTermination={"policyType": "Bandit"},
    )
    response = arm.put(f"/jobs/{unique('sweep')}", bandit)
    assert response.status_code == 400 and "slackFactor or slackAmount" in response.text
    slow = sweep_body(
        env_id,
        "echo ${{search_space.n}}",
        {"n": ["choice", [[1]]]},
        limits={"jobLimitsType": "Sweep", "trialTimeout": "soon"},
    )
    response = arm.put(f"/jobs/{unique('sweep')}", slow)
    assert response.status_code == 400 and "limits.trialTimeout must be an ISO 8601 duration" in response.text


def test_trial_timeout_and_sweep_timeout(arm: Arm, env_id: str) -> None:
    marker = unique("slow")
    body = sweep_body(
        env_id,
        f"sleep 30; echo {marker} ${{{{search_space.n}}}}",
        {"n": ["choice", [[1, 2]]]},
        limits={"jobLimitsType": "Sweep", "maxConcurrentTrials": 2, "trialTimeout": "PT1S"},
    )
    name = submit(arm, body)
    assert wait_status(arm, name, timeout=60) == "Completed"
    for trial in children(arm, name):
        assert trial["status"] == "Canceled"
        assert error_of(arm, trial["runId"])["code"] == "TrialTimeout"
    body = sweep_body(
        env_id,
        f"sleep 30; echo {marker} ${{{{search_space.n}}}}",
        {"n": ["choice", [[1, 2, 3, 4]]]},
        limits={"jobLimitsType": "Sweep", "maxConcurrentTrials": 1, "timeout": "PT2S"},
    )
    started = time.monotonic()
    name = submit(arm, body)
    assert wait_status(arm, name, timeout=60) == "Completed"
    assert time.monotonic() - started < 10
    assert "limits.timeout (2 s) ran out" in job(arm, name)["properties"]["mlep.sweep.endReason"]
    trials = children(arm, name)
    assert len(trials) == 1 and error_of(arm, trials[0]["runId"])["code"] == "SweepTimeout"
    assert not processes_with(marker)


def test_cancel_stops_every_trial(arm: Arm, env_id: str) -> None:
    marker = unique("cancel")
    body = sweep_body(
        env_id,
        f"sleep 60; echo {marker} ${{{{search_space.n}}}}",
        {"n": ["choice", [[1, 2, 3, 4, 5]]]},
        limits={"jobLimitsType": "Sweep", "maxConcurrentTrials": 2},
    )
    name = submit(arm, body)
    deadline = time.monotonic() + 120
    while len([t for t in children(arm, name) if t["status"] == "Running"]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert arm.post(f"/jobs/{name}/cancel").status_code == 202
    assert wait_status(arm, name, timeout=60) == "Canceled"
    trials = children(arm, name)
    assert len(trials) == 2
    for trial in trials:
        assert trial["status"] == "Canceled" and error_of(arm, trial["runId"])["code"] == "SweepCanceled"
    assert not processes_with(marker)


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    env_cache = Path(os.environ.get("MLEP_ENVS_DIR") or tmp_path / "envs")
    monkeypatch.setenv("MLEP_RUNTIME", "process")
    monkeypatch.setenv("MLEP_ENVS_DIR", str(env_cache))
    monkeypatch.setenv("MLEP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_a_restarted_workspace_resumes_its_sweep(own_home: Path) -> None:
    body_of = lambda env: sweep_body(  # noqa: E731
        env,
        "sleep 1; echo trial ${{search_space.n}}",
        {"n": ["choice", [[1, 2, 3]]]},
        limits={"jobLimitsType": "Sweep", "maxConcurrentTrials": 1},
    )
    with running_workspace(own_home) as info, Arm(info) as arm:
        name = submit(arm, body_of(job_environment(arm)))
        deadline = time.monotonic() + 120
        while not any(t["status"] == "Running" for t in children(arm, name)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert control.stop(own_home)
    with running_workspace(own_home) as info, Arm(info) as arm:
        assert wait_status(arm, name) == "Completed"
        trials = children(arm, name)
        assert [t["runId"] for t in trials] == [f"{name}_{i}" for i in range(3)]
        assert trials[0]["status"] == "Failed"  # the workspace stopped while it ran
        assert [t["status"] for t in trials[1:]] == ["Completed", "Completed"]
        assert "trial 3" in log_text(arm, f"{name}_2")
        assert json.loads(job(arm, name)["properties"]["mlep.sweep.trials"]) == 3
