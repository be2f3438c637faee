"""Where a job's outputs are, as ``ml_client.jobs.download`` asks: run history's ``rundata`` lists a
job's data outputs as typed asset references, and the data plane's ``batchGetResolvedUris`` turns
those asset ids into the outputs' datastore URIs. Real HTTP to the package's workspace, a real job."""

from __future__ import annotations

import re
import time
import uuid

import httpx
from support.arm import HISTORY_PREFIX, Arm, job_environment

from jupyter_mlep.workspace._identity import WORKSPACE_PATH

RUN_DATA = f"{HISTORY_PREFIX}{WORKSPACE_PATH}/rundata"
RESOLVE = f"/data/v1.0{WORKSPACE_PATH}/dataversion/batchGetResolvedUris"


def _finished_job(arm: Arm) -> str:
    name = f"rundata_{uuid.uuid4().hex[:8]}"
    body = {
        "properties": {
            "jobType": "Command",
            "command": "echo w > ${{outputs.folder}}/w.txt && echo m > ${{outputs.model}}/m.txt",
            "environmentId": job_environment(arm, f"rundata-env-{uuid.uuid4().hex[:6]}"),
            "outputs": {
                "folder": {"jobOutputType": "uri_folder"},
                "model": {"jobOutputType": "custom_model"},
            },
        }
    }
    created = arm.put(f"/jobs/{name}", body)
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 180
    while (status := arm.get(f"/jobs/{name}").json()["properties"]["status"]) not in ("Completed", "Failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status == "Completed"
    return name


def test_run_data_names_the_data_outputs_and_the_data_plane_resolves_them(
    arm: Arm, anon: httpx.Client
) -> None:
    name = _finished_job(arm)
    answer = arm.http.post(RUN_DATA, json={"runId": name, "selectRunMetadata": True})
    assert answer.status_code == 200, answer.text
    run = answer.json()["runMetadata"]
    assert run["runId"] == name and run["status"] == "Completed"
    # Data outputs only: the SDK (1.35) fails on the model plane's answer and finds models by path.
    assert set(run["outputs"]) == {"folder"}
    folder = run["outputs"]["folder"]
    assert folder["type"] == "uri_folder"
    assert re.fullmatch(
        rf"azureml://locations/local/workspaces/[0-9a-f-]+/data/azureml_{name}_output_data_folder/versions/1",
        folder["assetId"],
    )
    # The run's own body carries them too.
    assert arm.http.get(f"{HISTORY_PREFIX}{WORKSPACE_PATH}/runs/{name}").json()["outputs"] == run["outputs"]

    resolved = arm.http.post(RESOLVE, json={"values": [folder["assetId"]]})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json() == {
        "values": {
            folder["assetId"]: {
                "uri": f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/folder/",
                "type": "uri_folder",
            }
        }
    }


def test_run_data_and_the_data_plane_refuse_what_they_cannot_answer(arm: Arm, anon: httpx.Client) -> None:
    assert arm.http.post(RUN_DATA, json={"runId": "no-such-run"}).status_code == 404
    missing = arm.http.post(RUN_DATA, json={"selectRunMetadata": True})
    assert missing.status_code == 400 and "runId" in missing.json()["error"]["message"]
    assert arm.http.get(RUN_DATA).status_code == 405
    assert anon.post(RUN_DATA, json={"runId": "x"}).status_code == 401
    unknown = "azureml://locations/local/workspaces/x/data/azureml_nojob_output_data_out/versions/1"
    answer = arm.http.post(RESOLVE, json={"values": [unknown]})
    assert answer.status_code == 404 and unknown in answer.json()["error"]["message"]
    assert arm.http.post(RESOLVE, json={"values": "not a list"}).status_code == 400
    assert anon.post(RESOLVE, json={"values": []}).status_code == 401
