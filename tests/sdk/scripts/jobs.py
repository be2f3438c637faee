"""Command jobs through the SDK, as the azureml-examples SDK notebooks run them (jobs/single-step):
``command()`` with local code, a literal input and a data input by datastore URI, then ``get``,
``stream`` (the log printed, returning when the job ends), where ``download`` finds the outputs
(run data and the data plane; the files through the storage client, see below), the log files
run history lists, the children of a job (none for a command job), ``list``, and ``begin_cancel``
of a long job."""

from __future__ import annotations

import contextlib
import io
import time
import urllib.request
import uuid
from pathlib import Path

from azure.ai.ml import Input, Output, command
from azure.ai.ml.entities import Environment
from sdkcalls import Calls, arguments, datastore_container, expect, ml_client, run, upload_folder

ARGS = arguments()
PREFIX = ARGS["prefix"]
WORK = Path(ARGS["work"])

TRAIN = """\
import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--greeting")
parser.add_argument("--data")
parser.add_argument("--out")
args = parser.parse_args()
rows = sorted(os.listdir(args.data))
print(f"{args.greeting} from the job, data files: {rows}")
with open(os.path.join(args.out, "result.txt"), "w") as handle:
    handle.write(f"{args.greeting}: {len(rows)} file(s)")
"""

CONDA = "name: sdk-job\ndependencies:\n  - python=3.11\n  - pip\n"


def main(calls: Calls) -> None:
    client = ml_client()
    code = WORK / "job-src"
    code.mkdir(parents=True, exist_ok=True)
    (code / "train.py").write_text(TRAIN, encoding="utf-8")
    (WORK / "sdk-job-conda.yml").write_text(CONDA, encoding="utf-8")
    container = datastore_container(calls, client)
    folder = f"sdk-jobs/{uuid.uuid4().hex}"
    calls("storage.upload_blob(data folder)", lambda: upload_folder(container, WORK / "data", folder), len)
    environment = Environment(image="python:3.11-slim", conda_file=str(WORK / "sdk-job-conda.yml"))

    name = f"{PREFIX}-{uuid.uuid4().hex[:8]}"
    job = command(
        name=name,
        code=str(code),
        command=(
            "python train.py --greeting ${{inputs.greeting}} --data ${{inputs.data}} --out ${{outputs.result}}"
        ),
        inputs={
            "greeting": "hello",
            "data": Input(type="uri_folder", path=f"azureml://datastores/workspaceblobstore/paths/{folder}"),
        },
        outputs={"result": Output(type="uri_folder")},
        environment=environment,
        experiment_name=PREFIX,
        display_name="sdk command job",
    )
    created = calls(
        "jobs.create_or_update(command, local code)",
        lambda: client.jobs.create_or_update(job),
        lambda j: {"name": j.name, "status": j.status, "code": bool(j.code), "type": j.type},
    )
    expect(created.name == name, f"created {created.name}")
    calls(
        "jobs.get",
        lambda: client.jobs.get(name),
        lambda j: {
            "name": j.name,
            "experiment": j.experiment_name,
            "display_name": j.display_name,
            "inputs": sorted(j.inputs),
            "outputs": sorted(j.outputs),
        },
    )

    def stream() -> str:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            client.jobs.stream(name)
        return printed.getvalue()

    calls(
        "jobs.stream",
        stream,
        lambda text: (
            expect("hello from the job" in text, f"the log is not in the stream: {text[-2000:]}"),
            {
                "log": "hello from the job" in text,
                "streamed": "Streaming user_logs/std_log.txt" in text,
                "summary": "Execution Summary" in text,
            },
        )[1],
    )
    calls(
        "jobs.get(after stream)",
        lambda: client.jobs.get(name),
        lambda j: (expect(j.status == "Completed", f"status {j.status}"), {"status": j.status})[1],
    )
    # jobs.download finds the outputs through run history's run data and the data plane, then reads
    # their files from the storage account it addresses by its cloud's suffix
    # (https://<account>.blob.core.windows.net), never the datastore's endpoint, as for uploads (see
    # test_uploads): that last step cannot reach a local workspace (the storage client retries the
    # unknown host for about 90 s). So download's own resolution step is checked, and the files are
    # read the way that works: the datastore path, through the official storage client.
    calls(
        "jobs.download: outputs resolved (run data, data plane)",
        lambda: client.jobs._get_named_output_uri(name),
        lambda uris: uris,
    )

    def output_files() -> dict[str, str]:
        prefix = f"azureml/{name}/result/"
        return {
            blob.name.removeprefix(prefix): container.download_blob(blob.name).readall().decode()
            for blob in container.list_blobs(name_starts_with=prefix)
        }

    calls(
        "storage.download_blob(job output)",
        output_files,
        lambda files: (expect(bool(files), "the output has no files"), files)[1],
    )

    def log_files() -> dict[str, str]:
        details = client.jobs._runs_operations.get_run_details(name)
        texts = {}
        for path, url in (details.log_files or {}).items():  # signed URLs, read without credentials
            with urllib.request.urlopen(url) as answer:
                texts[path] = answer.read().decode()
        return texts

    calls(
        "run history: log files (the job's logs)",
        log_files,
        lambda texts: (
            expect("hello from the job" in texts.get("user_logs/std_log.txt", ""), f"logs: {texts}"),
            sorted(texts),
        )[1],
    )
    calls(
        "jobs.list(parent_job_name)",
        lambda: list(client.jobs.list(parent_job_name=name)),
        lambda children: [child.name for child in children],
    )
    calls(
        "jobs.list",
        lambda: list(client.jobs.list()),
        lambda jobs: (
            expect(name in [j.name for j in jobs], "the job is not listed"),
            [j.name for j in jobs],
        )[1],
    )

    long_name = f"{PREFIX}-long-{uuid.uuid4().hex[:8]}"
    long_job = command(
        name=long_name,
        code=str(code),
        command="python -c \"import time; print('started', flush=True); time.sleep(600)\"",
        environment=environment,
        experiment_name=PREFIX,
    )
    calls(
        "jobs.create_or_update(long job)",
        lambda: client.jobs.create_or_update(long_job),
        lambda j: {"name": j.name},
    )

    def running() -> str:
        deadline = time.monotonic() + 120
        while (status := client.jobs.get(long_name).status) not in ("Running", "Failed", "Completed"):
            expect(time.monotonic() < deadline, f"the long job is still {status}")
            time.sleep(0.2)
        return str(getattr(status, "value", status))

    calls("jobs.get(long job running)", running, lambda status: {"status": status})
    calls("jobs.begin_cancel", lambda: client.jobs.begin_cancel(long_name).result(), lambda _: None)
    calls(
        "jobs.get(after cancel)",
        lambda: client.jobs.get(long_name),
        lambda j: (expect(j.status == "Canceled", f"status {j.status}"), {"status": j.status})[1],
    )


if __name__ == "__main__":
    run(main)
