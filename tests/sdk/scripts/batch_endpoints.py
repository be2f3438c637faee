"""Batch endpoints through the SDK, as the azureml-examples batch notebooks run them
(endpoints/batch/deploy-models): an endpoint, a model deployment with local code, an inline
environment and the settings, made the default, invoked on a folder of the datastore, its job
followed with ``jobs.get``, listed with ``batch_endpoints.list_jobs``, then the endpoint deleted."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from azure.ai.ml import Input
from azure.ai.ml.entities import (
    BatchDeployment,
    BatchEndpoint,
    BatchRetrySettings,
    CodeConfiguration,
    Environment,
    Model,
)
from sdkcalls import Calls, arguments, datastore_container, expect, ml_client, run, upload_folder

ARGS = arguments()
PREFIX = ARGS["prefix"]
WORK = Path(ARGS["work"])

SCORE = """\
import os

def init():
    print("init, model dir", os.environ["AZUREML_MODEL_DIR"])

def run(mini_batch):
    return [f"{os.path.basename(path)},{len(open(path).read())}" for path in mini_batch]
"""
CONDA = "name: sdk-batch\\ndependencies:\\n  - python=3.11\\n  - pip\\n"
DONE = ("Completed", "Failed", "Canceled")


def wait(client, name: str) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 300
    while (status := str(getattr(client.jobs.get(name).status, "value", ""))) not in DONE:
        expect(time.monotonic() < deadline, f"job {name} still {status}")
        time.sleep(0.2)
    return status


def main(calls: Calls) -> None:
    client = ml_client()
    endpoint_name = f"{PREFIX}-{uuid.uuid4().hex[:6]}"
    code = WORK / "batch-src"
    code.mkdir(parents=True, exist_ok=True)
    (code / "score.py").write_text(SCORE, encoding="utf-8")
    (WORK / "sdk-batch-conda.yml").write_text(CONDA.replace("\\\\n", "\\n"), encoding="utf-8")
    data = WORK / "batch-data"
    data.mkdir(parents=True, exist_ok=True)
    for index in range(5):
        (data / f"file{index}.txt").write_text("x" * (index + 1), encoding="utf-8")
    container = datastore_container(calls, client)
    folder = f"sdk-batch/{uuid.uuid4().hex}"
    calls("storage.upload_blob(model and data)", lambda: upload_folder(container, data, folder), len)
    model = calls(
        "models.create_or_update",
        lambda: client.models.create_or_update(
            Model(
                name=f"{endpoint_name}-model",
                path=f"azureml://datastores/workspaceblobstore/paths/{folder}",
                type="custom_model",
            )
        ),
        lambda m: {"name": m.name, "version": m.version},
    )
    compute = calls(
        "compute.list", lambda: list(client.compute.list()), lambda found: [c.name for c in found]
    )[0]
    endpoint = BatchEndpoint(name=endpoint_name, description="SDK conformance")
    calls(
        "batch_endpoints.begin_create_or_update",
        lambda: client.batch_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: {"state": e.provisioning_state, "scoring_uri": e.scoring_uri},
    )
    deployment = BatchDeployment(
        name="main",
        endpoint_name=endpoint_name,
        model=f"azureml:{model.name}:{model.version}",
        code_configuration=CodeConfiguration(code=str(code), scoring_script="score.py"),
        environment=Environment(image="python:3.11-slim", conda_file=str(WORK / "sdk-batch-conda.yml")),
        compute=compute.name,
        instance_count=1,
        max_concurrency_per_instance=2,
        mini_batch_size=2,
        output_action="append_row",
        output_file_name="predictions.csv",
        retry_settings=BatchRetrySettings(max_retries=1, timeout=30),
        logging_level="info",
    )
    calls(
        "batch_deployments.begin_create_or_update",
        lambda: client.batch_deployments.begin_create_or_update(deployment).result(),
        lambda d: {"state": d.provisioning_state, "mini_batch_size": d.mini_batch_size},
    )
    endpoint = client.batch_endpoints.get(endpoint_name)
    endpoint.defaults.deployment_name = "main"
    calls(
        "batch_endpoints.begin_create_or_update(defaults)",
        lambda: client.batch_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: (expect(e.defaults.deployment_name == "main", f"defaults {e.defaults}"), "main")[1],
    )
    job = calls(
        "batch_endpoints.invoke",
        lambda: client.batch_endpoints.invoke(
            endpoint_name=endpoint_name,
            input=Input(type="uri_folder", path=f"azureml://datastores/workspaceblobstore/paths/{folder}"),
        ),
        lambda j: {"name": j.name, "status": j.status},
    )
    calls("jobs.get(until done)", lambda: wait(client, job.name),
          lambda status: (expect(status == "Completed", f"job ended {status}"), status)[1])  # fmt: skip
    calls(
        "jobs.get",
        lambda: client.jobs.get(job.name),
        lambda j: {
            "tags": {k: v for k, v in j.tags.items() if k.startswith("azureml.")},
            "outputs": list(j.outputs),
        },
    )
    calls(
        "batch_endpoints.list_jobs",
        lambda: list(client.batch_endpoints.list_jobs(endpoint_name)),
        lambda found: (expect(job.name in [j.name for j in found], "job not listed"), len(found))[1],
    )
    calls(
        "batch_deployments.list",
        lambda: list(client.batch_deployments.list(endpoint_name)),
        lambda found: [d.name for d in found],
    )
    calls("batch_endpoints.begin_delete", lambda: client.batch_endpoints.begin_delete(endpoint_name).result())


run(main)
