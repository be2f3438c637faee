"""Helpers of the batch endpoint tests: endpoints, deployments, invocations and their jobs over real HTTP."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from support.arm import (
    ACCOUNT,
    CONTAINER,
    HISTORY_PREFIX,
    Arm,
    job_environment,
    register_code,
    register_model,
    upload_folder,
)
from support.waiting import unique

DONE = ("Completed", "Failed", "Canceled")

SCORE = """\
import os
import time

def init():
    global delay
    delay = float(os.environ.get("BATCH_DELAY", "0"))
    print("init", os.getpid(), "model dir", os.environ["AZUREML_MODEL_DIR"], flush=True)

def run(mini_batch):
    rows = []
    for path in mini_batch:
        text = open(path).read().strip()
        if text == "boom":
            raise ValueError("cannot score " + os.path.basename(path))
        if text == "skip":
            continue
        if text == "none":
            return None
        if text == "crash" and not os.path.exists(path + ".crashed"):
            open(path + ".crashed", "w").close()  # noqa: SIM115
            os._exit(9)
        time.sleep(delay)
        rows.append(f"{os.path.basename(path)},{len(text)}")
    print("scored", len(mini_batch), flush=True)
    return rows
"""


def batch_endpoint(arm: Arm, **props: Any) -> str:
    """A new batch endpoint (AADToken); its name."""
    name = unique("bep")
    response = arm.put(
        f"/batchEndpoints/{name}", {"location": "local", "properties": {"authMode": "AADToken", **props}}
    )
    arm.ok(response)
    return name


def deployment_props(
    model_id: str | None, code_id: str | None, env_id: str | None, **settings: Any
) -> dict[str, Any]:
    """BatchDeploymentProperties as the SDK sends them (a model reference of type Id)."""
    props: dict[str, Any] = {"compute": None, "resources": {"instanceCount": 1}, **settings}
    if model_id:
        props["model"] = {"referenceType": "Id", "assetId": model_id}
    if code_id:
        props["codeConfiguration"] = {"codeId": code_id, "scoringScript": "score.py"}
    if env_id:
        props["environmentId"] = env_id
    return props


def batch_deployment(arm: Arm, endpoint: str, props: dict[str, Any], *, default: bool = True) -> str:
    """A new batch deployment (made the endpoint's default); its name."""
    name = unique("bdep")
    arm.ok(
        arm.put(f"/batchEndpoints/{endpoint}/deployments/{name}", {"location": "local", "properties": props})
    )
    if default:
        body = arm.get(f"/batchEndpoints/{endpoint}").json()
        body["properties"]["defaults"] = {"deploymentName": name}
        arm.ok(
            arm.put(f"/batchEndpoints/{endpoint}", {"location": "local", "properties": body["properties"]})
        )
    return name


def scoring_code(arm: Arm, script: str = SCORE) -> str:
    return register_code(arm, unique("bcode"), script)


def input_folder(arm: Arm, tmp: Path, files: dict[str, str]) -> str:
    """Upload the files as a folder of the blob store; its datastore URI."""
    folder = tmp / unique("in")
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return upload_folder(arm, folder, f"LocalUpload/{uuid.uuid4().hex}")


def invoke(
    arm: Arm, endpoint: str, uri: str, *, headers: dict[str, str] | None = None, **props: Any
) -> httpx.Response:
    """POST the endpoint's scoringUri as the SDK does."""
    scoring = arm.get(f"/batchEndpoints/{endpoint}").json()["properties"]["scoringUri"]
    body = {"properties": {"inputData": {"UriFolder": {"jobInputType": "UriFolder", "uri": uri}}, **props}}
    return arm.http.post(scoring, json=body, headers=headers or {})


def wait_job(arm: Arm, name: str, wanted: tuple[str, ...] = DONE, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = arm.get(f"/jobs/{name}").json()
        if job["properties"]["status"] in wanted:
            return job
        assert time.monotonic() < deadline, f"job {name} still {job['properties']['status']}"
        time.sleep(0.05)


def log(arm: Arm, job: str, path: str) -> str:
    """A log file of the job through run history ("" while it does not exist)."""
    response = arm.http.get(f"{HISTORY_PREFIX}{arm.url('')}/runs/{job}/logs/{path}")
    return response.text if response.status_code == 200 else ""


def error_of(arm: Arm, job: str) -> str:
    response = arm.http.get(f"{HISTORY_PREFIX}{arm.url('')}/runs/{job}/details")
    return str(((response.json().get("error") or {}).get("error") or {}).get("message"))


def output_text(arm: Arm, job: dict[str, Any], file: str = "predictions.csv") -> httpx.Response:
    """The job's output file, read over the blob API."""
    uri = job["properties"]["outputs"]["score"]["uri"]
    prefix = uri.split("/paths/", 1)[1].strip("/")
    return arm.http.get(f"/{ACCOUNT}/{CONTAINER}/{prefix}/{file}")


def batch_parts(arm: Arm, folder: Path) -> dict[str, str]:
    """A model (a folder of one file below ``folder``), the scoring code (:data:`SCORE`) and an
    environment without packages (its virtual environment built once, then cached): their ids."""
    model = folder / "model"
    model.mkdir(parents=True)
    (model / "weights.txt").write_text("1\n")
    return {
        "model": register_model(arm, unique("bmodel"), model),
        "code": scoring_code(arm),
        "env": job_environment(arm, unique("benv")),
    }
