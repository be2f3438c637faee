"""Command jobs really run in the local workspace: statuses, cancel, timeout, failures, inputs and
outputs of each kind, logs through run history while the job runs, the concurrency limit, and a
workspace killed (SIGKILL) while a job runs.

Everything goes over real HTTP to the package's workspace (or a workspace of the test's own) and
runs real processes; the environment is a conda file without packages (a virtual environment of
the runtime's cache, built once).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.arm import (
    ACCOUNT,
    CONTAINER,
    HISTORY_PREFIX,
    Arm,
    job_environment,
    register_model,
    upload_folder,
)
from support.owners import processes_with
from support.samples import BASE_IMAGE
from support.waiting import unique
from support.workspace import running_workspace

from jupyter_mlep.workspace import control

DONE = ("Completed", "Failed", "Canceled")
ORDER = ("NotStarted", "Queued", "Preparing", "Running", "Finalizing", "Completed")


@pytest.fixture(scope="module")
def env_id(arm: Arm) -> str:
    """An environment without packages (its virtual environment is built once, then cached)."""
    return job_environment(arm, unique("jobenv"))


def register_code(arm: Arm, tmp: Path, files: dict[str, str]) -> str:
    folder = tmp / unique("src")
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    uri = upload_folder(arm, folder, f"LocalUpload/{uuid.uuid4().hex}")
    name = unique("code")
    response = arm.put(f"/codes/{name}/versions/1", {"properties": {"codeUri": uri}})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def command_job(env: str, command: str, **props: Any) -> dict[str, Any]:
    return {"properties": {"jobType": "Command", "command": command, "environmentId": env, **props}}


def submit(arm: Arm, body: dict[str, Any], name: str | None = None) -> str:
    name = name or unique("job")
    response = arm.put(f"/jobs/{name}", body)
    assert response.status_code == 201, response.text
    assert response.json()["properties"]["status"] == "NotStarted"
    return name


def status(arm: Arm, name: str) -> str:
    return str(arm.get(f"/jobs/{name}").json()["properties"]["status"])


def wait_status(arm: Arm, name: str, wanted: tuple[str, ...] = DONE, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while True:
        now = status(arm, name)
        if now in wanted:
            return now
        assert time.monotonic() < deadline, f"job {name} still {now}, wanted {wanted}"
        time.sleep(0.05)


def history(arm: Arm, name: str, suffix: str = "", **kwargs: Any) -> httpx.Response:
    """A run-history request (the admin token)."""
    return arm.http.get(f"{HISTORY_PREFIX}{arm.url('')}/runs/{name}{suffix}", **kwargs)


def details(arm: Arm, name: str) -> dict[str, Any]:
    response = history(arm, name, "/details")
    assert response.status_code == 200, response.text
    return dict(response.json())


def log_text(arm: Arm, name: str, path: str = "user_logs/std_log.txt") -> str:
    response = history(arm, name, f"/logs/{path}")
    assert response.status_code == 200, response.text
    return response.text


def log_so_far(arm: Arm, name: str) -> str:
    """The job's log as far as it is written ("" before the job runs)."""
    response = history(arm, name, "/logs/user_logs/std_log.txt")
    return response.text if response.status_code == 200 else ""


def blob_text(arm: Arm, uri: str, file: str) -> str:
    """A blob below an azureml://datastores/workspaceblobstore/paths/… URI, read over the blob API."""
    prefix = uri.split("/paths/", 1)[1].strip("/")
    response = arm.http.get(f"/{ACCOUNT}/{CONTAINER}/{prefix}/{file}")
    assert response.status_code == 200, response.text
    return response.text


def wait_for(predicate: Any, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# -- statuses ---------------------------------------------------------------------------------------
def test_a_job_goes_through_every_status_with_times(arm: Arm, env_id: str, tmp_path: Path) -> None:
    code = register_code(arm, tmp_path, {"hello.py": "import sys, os\nprint('hello from', os.getcwd())\n"})
    compute = arm.get("/computes").json()["value"][0]["id"]  # this machine
    body = command_job(env_id, "python hello.py && echo run=$AZUREML_RUN_ID", codeId=code, computeId=compute)
    name = submit(arm, body)
    assert wait_status(arm, name) == "Completed"
    run = details(arm, name)
    seen = [item["status"] for item in run["statusHistory"]]
    assert seen == list(ORDER), seen
    assert run["status"] == "Completed" and run["error"] is None
    assert run["startTimeUtc"] and run["endTimeUtc"] and run["startTimeUtc"] <= run["endTimeUtc"]
    text = log_text(arm, name)
    assert "hello from" in text and f"run={name}" in text
    assert set(run["logFiles"]) >= {"user_logs/std_log.txt"}


def test_non_zero_exit_fails_with_exit_code_and_log_tail(arm: Arm, env_id: str) -> None:
    name = submit(arm, command_job(env_id, "echo about to fail; echo oops >&2; exit 3"))
    assert wait_status(arm, name) == "Failed"
    error = details(arm, name)["error"]["error"]
    assert "exited with code 3" in error["message"] and "oops" in error["message"]
    assert {"code": "exit_code", "message": "3"} in error["details"]


def test_cancel_stops_the_whole_process_tree(arm: Arm, env_id: str) -> None:
    marker = unique("tree")
    name = submit(arm, command_job(env_id, f"sleep 300 & sleep 301 & echo {marker}; wait # {marker}"))
    wait_status(arm, name, ("Running",))
    wait_for(lambda: marker in log_so_far(arm, name), what="the job's first line")
    assert processes_with(marker)
    cancel = arm.post(f"/jobs/{name}/cancel")
    assert cancel.status_code == 202
    arm.ok(cancel)
    assert status(arm, name) == "Canceled"
    wait_for(lambda: not processes_with(marker), timeout=10, what="the job's processes to go")
    assert not processes_with("sleep 301")
    assert arm.post(f"/jobs/{name}/cancel").status_code == 400
    seen = [item["status"] for item in details(arm, name)["statusHistory"]]
    assert seen[-3:] == ["Running", "CancelRequested", "Canceled"], seen
    # Deleting a running job stops it too.
    other = submit(arm, command_job(env_id, f"sleep 302; echo {marker}-deleted"))
    wait_status(arm, other, ("Running",))
    wait_for(lambda: bool(processes_with(f"{marker}-deleted")), what="the second job's process")
    arm.ok(arm.delete(f"/jobs/{other}"))
    assert arm.get(f"/jobs/{other}").status_code == 404
    assert not processes_with(f"{marker}-deleted")


def test_timeout_fails_the_job_and_stops_it(arm: Arm, env_id: str) -> None:
    marker = unique("slow")
    body = command_job(
        env_id, f"echo {marker}; sleep 120", limits={"jobLimitsType": "Command", "timeout": "PT2S"}
    )
    name = submit(arm, body)
    assert wait_status(arm, name, timeout=60) == "Failed"
    error = details(arm, name)["error"]["error"]
    assert error["code"] == "JobTimeout" and "limits.timeout" in error["message"]
    assert not processes_with(f"echo {marker}")


# -- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "target", "words"),
    [
        ({"command": "python x.py --n ${{inputs.n}}"}, "properties.command", "inputs.n"),
        ({"command": "echo ${{outputs.model}}"}, "properties.command", "outputs.model"),
        (
            {
                "inputs": {
                    "data": {
                        "jobInputType": "uri_folder",
                        "uri": "azureml://datastores/workspaceblobstore/paths/none/here",
                    }
                }
            },
            "properties.inputs.data.uri",
            "does not exist",
        ),
        (
            {"inputs": {"data": {"jobInputType": "uri_file", "uri": "azureml:nosuchdata:1"}}},
            "properties.inputs.data.uri",
            "nosuchdata",
        ),
        ({"environmentId": "azureml:nosuchenv:1"}, "properties.environmentId", "nosuchenv"),
        ({"computeId": "azureml:cpu-cluster"}, "properties.computeId", "cpu-cluster"),
        (
            {"distribution": {"distributionType": "Mpi", "processCountPerInstance": 2}},
            "properties.distribution.distributionType",
            "MPI",
        ),
        (
            {"distribution": {"distributionType": "TensorFlow", "workerCount": 2}},
            "properties.distribution.distributionType",
            "TensorFlow",
        ),
    ],
)
def test_bad_jobs_are_refused_before_anything_is_created(
    arm: Arm, env_id: str, change: dict[str, Any], target: str, words: str
) -> None:
    name = unique("bad")
    body = command_job(env_id, "echo hi")
    body["properties"].update(change)
    response = arm.put(f"/jobs/{name}", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["target"] == target and words in error["message"], error
    assert arm.get(f"/jobs/{name}").status_code == 404


def test_invalid_job_name_is_refused(arm: Arm, env_id: str) -> None:
    response = arm.put("/jobs/-bad name", command_job(env_id, "echo hi"))
    assert response.status_code == 400 and response.json()["error"]["target"] == "name"


# -- inputs and outputs ---------------------------------------------------------------------------------
IO_SCRIPT = """\
import argparse, os, pathlib
parser = argparse.ArgumentParser()
for name in ("n", "n2", "extra", "file", "folder", "dl", "model", "out", "up"):
    parser.add_argument("--" + name)
args = parser.parse_args()
print("n=%s n2=%s extra=%s" % (args.n, args.n2, args.extra))
print("file says", pathlib.Path(args.file).read_text().strip())
print("folder holds", sorted(p.name for p in pathlib.Path(args.folder).iterdir()))
print("download holds", sorted(p.name for p in pathlib.Path(args.dl).iterdir()))
print("model holds", sorted(p.name for p in pathlib.Path(args.model).rglob("*") if p.is_file()))
# Read-only by mode bits (root, as the tests may run, could still write).
modes = [p.stat().st_mode & 0o222 for p in [pathlib.Path(args.dl), *pathlib.Path(args.dl).rglob("*")]]
print("download is read-only" if not any(modes) else "download is writable")
print("GREETING=%s" % os.environ["GREETING"])
print("AZURE_ML_INPUT_n=%s" % os.environ["AZURE_ML_INPUT_n"])
pathlib.Path(args.out, "result.txt").write_text("n was " + args.n)
pathlib.Path(args.up, "up.txt").write_text("uploaded")
"""


def test_inputs_and_outputs_of_each_kind(arm: Arm, env_id: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1,2")
    (data / "b.csv").write_text("3,4")
    folder_uri = upload_folder(arm, data, f"LocalUpload/{uuid.uuid4().hex}")
    data_name = unique("data")
    registered = arm.put(
        f"/data/{data_name}/versions/1", {"properties": {"dataType": "uri_folder", "dataUri": folder_uri}}
    )
    assert registered.status_code in (200, 201), registered.text
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.txt").write_text("w")
    model_name = unique("model")
    register_model(arm, model_name, model)
    code = register_code(arm, tmp_path, {"io.py": IO_SCRIPT})
    name = unique("io")
    body = command_job(
        env_id,
        "python io.py --n ${{inputs.n}} --file ${{inputs.file}} --folder ${{inputs.folder}} "
        "--dl ${{inputs.dl}} --model ${{inputs.model}} --out ${{outputs.result}} --up ${{outputs.uploaded}} "
        "$[[--extra ${{inputs.extra}}]] $[[--n2 ${{inputs.n}}]]",
        codeId=code,
        environmentVariables={"GREETING": "hi"},
        inputs={
            "n": {"jobInputType": "literal", "value": "5"},
            "file": {"jobInputType": "uri_file", "uri": f"{folder_uri}/a.csv"},
            "folder": {"jobInputType": "uri_folder", "uri": f"azureml:{data_name}:1"},
            "dl": {"jobInputType": "uri_folder", "uri": folder_uri, "mode": "Download"},
            "model": {"jobInputType": "custom_model", "uri": f"azureml:{model_name}:1"},
        },
        outputs={
            "result": {"jobOutputType": "uri_folder"},
            "uploaded": {
                "jobOutputType": "uri_folder",
                "mode": "Upload",
                "uri": "azureml://datastores/workspaceblobstore/paths/custom/${{name}}/up/",
            },
        },
    )
    created = arm.put(f"/jobs/{name}", body)
    assert created.status_code == 201, created.text
    outputs = created.json()["properties"]["outputs"]
    assert outputs["result"]["uri"] == f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/result/"
    assert outputs["uploaded"]["uri"] == f"azureml://datastores/workspaceblobstore/paths/custom/{name}/up/"
    assert wait_status(arm, name) == "Completed", details(arm, name)["error"]
    text = log_text(arm, name)
    for line in (
        "n=5 n2=5 extra=None",
        "file says 1,2",
        "folder holds ['a.csv', 'b.csv']",
        "download holds ['a.csv', 'b.csv']",
        "model holds ['weights.txt']",
        "download is read-only",
        "GREETING=hi",
        "AZURE_ML_INPUT_n=5",
    ):
        assert line in text, text
    assert arm.get(f"/jobs/{name}").json()["properties"]["outputs"] == outputs
    assert blob_text(arm, outputs["result"]["uri"], "result.txt") == "n was 5"
    assert blob_text(arm, outputs["uploaded"]["uri"], "up.txt") == "uploaded"
    # The output of a job is the input of the next one, as azureml://jobs/<job>/outputs/<output>.
    follow = submit(
        arm,
        command_job(
            env_id,
            "cat ${{inputs.previous}}/result.txt",
            inputs={
                "previous": {"jobInputType": "uri_folder", "uri": f"azureml://jobs/{name}/outputs/result"}
            },
        ),
    )
    assert wait_status(arm, follow) == "Completed"
    assert "n was 5" in log_text(arm, follow)


def test_pytorch_distribution_runs_a_process_per_rank(arm: Arm, env_id: str) -> None:
    name = submit(
        arm,
        command_job(
            env_id,
            "echo rank=$RANK local=$LOCAL_RANK world=$WORLD_SIZE master=$MASTER_ADDR:$MASTER_PORT",
            distribution={"distributionType": "PyTorch", "processCountPerInstance": 2},
            resources={"instanceCount": 1},
        ),
    )
    assert wait_status(arm, name) == "Completed"
    logs = details(arm, name)["logFiles"]
    assert set(logs) >= {"user_logs/std_log_process_0.txt", "user_logs/std_log_process_1.txt"}
    for rank in (0, 1):
        text = log_text(arm, name, f"user_logs/std_log_process_{rank}.txt")
        assert f"rank={rank} local={rank} world=2 master=127.0.0.1:" in text


# -- logs ---------------------------------------------------------------------------------------------
def test_logs_are_readable_while_the_job_runs(arm: Arm, env_id: str, anon: httpx.Client) -> None:
    name = submit(arm, command_job(env_id, "echo first line; sleep 2; echo second line"))
    wait_for(
        lambda: "first line" in (history(arm, name, "/logs/user_logs/std_log.txt").text or ""), what="line 1"
    )
    assert status(arm, name) == "Running"
    listed = history(arm, name, "/logs").json()["value"]
    assert {"path": "user_logs/std_log.txt", "size": len("first line\n")} in listed
    assert wait_status(arm, name) == "Completed"
    start = len("first line\n")
    rest = history(arm, name, "/logs/user_logs/std_log.txt", params={"offset": start})
    assert rest.text == "second line\n" and rest.headers["x-ms-log-size"] == str(start + len("second line\n"))
    # The URLs of logFiles carry their own signature (the SDK downloads them without credentials).
    url = details(arm, name)["logFiles"]["user_logs/std_log.txt"]
    assert anon.get(url).text == "first line\nsecond line\n"
    assert anon.get(url.split("?")[0]).status_code == 401
    assert anon.get(url.replace("std_log.txt", "other.txt")).status_code == 401
    assert history(arm, "no-such-job", "/details").status_code == 404


# -- own workspaces: the concurrency limit, restarts -------------------------------------------------------
@pytest.fixture
def own_home(tmp_path: Path, env_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace home of this test: one job at a time, process runtime, the session's environments."""
    monkeypatch.setenv("MLEP_MAX_JOBS", "1")
    monkeypatch.setenv("MLEP_RUNTIME", "process")
    monkeypatch.setenv("MLEP_ENVS_DIR", str(env_cache))
    monkeypatch.setenv("MLEP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_jobs_beyond_the_limit_wait_queued(own_home: Path) -> None:
    with running_workspace(own_home) as info, Arm(info) as arm:
        env = job_environment(arm)
        first = submit(arm, command_job(env, "sleep 2"))
        wait_status(arm, first, ("Running",))
        second = submit(arm, command_job(env, "echo second"))
        time.sleep(0.5)
        assert status(arm, second) == "Queued" and status(arm, first) == "Running"
        assert wait_status(arm, second) == "Completed"
        first_end = details(arm, first)["endTimeUtc"]
        assert details(arm, second)["startTimeUtc"] >= first_end
        third = submit(arm, command_job(env, "sleep 30"))
        wait_status(arm, third, ("Running",))
        queued = submit(arm, command_job(env, "echo never"))
        time.sleep(0.3)
        arm.ok(arm.post(f"/jobs/{queued}/cancel"))
        assert status(arm, queued) == "Canceled"
        assert [item["status"] for item in details(arm, queued)["statusHistory"]] == [
            "NotStarted", "Queued", "CancelRequested", "Canceled"
        ]  # fmt: skip
        arm.ok(arm.post(f"/jobs/{third}/cancel"))


def test_a_killed_workspace_fails_its_running_job_and_leaves_nothing_running(own_home: Path) -> None:
    marker = unique("orphan")
    info = control.start(own_home)
    try:
        with Arm(info) as arm:
            env = job_environment(arm)
            name = submit(arm, command_job(env, f"sleep 300; echo {marker}"))
            wait_status(arm, name, ("Running",))
            wait_for(lambda: bool(processes_with(marker)), what="the job's process")
        os.kill(info.pid, 9)
        wait_for(lambda: control.status(own_home) is None, timeout=10, what="the workspace to die")
        assert processes_with(marker), "the job's process group outlives its workspace until it restarts"
        with running_workspace(own_home) as again, Arm(again) as arm:
            assert not processes_with(marker)
            assert status(arm, name) == "Failed"
            error = details(arm, name)["error"]["error"]
            assert error["code"] == "WorkspaceStopped" and "killed" in error["message"]
            # A job running when the workspace stops normally is stopped with it.
            stopped = submit(arm, command_job(env, f"sleep 300; echo {marker}-2"))
            wait_status(arm, stopped, ("Running",))
            wait_for(lambda: bool(processes_with(f"{marker}-2")), what="the second job's process")
            waiting = submit(arm, command_job(env, "echo resumed"))  # one job at a time: it waits
            wait_status(arm, waiting, ("Queued",))
            assert control.stop(own_home)
            assert not processes_with(f"{marker}-2")
    finally:
        control.stop(own_home)
    with running_workspace(own_home) as last, Arm(last) as arm:
        assert status(arm, stopped) == "Failed"
        assert "stopped while the job was running" in details(arm, stopped)["error"]["error"]["message"]
        assert wait_status(arm, waiting) == "Completed" and "resumed" in log_text(arm, waiting)


def test_workspace_stop_after_kill_stops_the_jobs_it_left(own_home: Path) -> None:
    marker = unique("left")
    info = control.start(own_home)
    with Arm(info) as arm:
        env = job_environment(arm)
        name = submit(arm, command_job(env, f"sleep 300; echo {marker}"))
        wait_status(arm, name, ("Running",))
        wait_for(lambda: bool(processes_with(marker)), what="the job's process")
    os.kill(info.pid, 9)
    wait_for(lambda: control.status(own_home) is None, timeout=10, what="the workspace to die")
    lines: list[str] = []
    control.stop(own_home, report=lines.append)
    assert not processes_with(marker)
    assert any(line.startswith(f"job {name}: stopped process group") for line in lines), lines


# -- Docker ----------------------------------------------------------------------------------------------
def test_a_job_runs_in_a_container_when_asked(own_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docker

    prefix = f"mlep-test-job-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MLEP_IMAGE_PREFIX", prefix)
    client = docker.from_env()
    try:
        with running_workspace(own_home) as info, Arm(info) as arm:
            created = arm.put("/environments/base/versions/1", {"properties": {"image": BASE_IMAGE}})
            assert created.status_code == 201, created.text
            env = str(created.json()["id"])
            on_docker = {"properties": {"mlep.runtime": "docker"}}
            name = submit(
                arm,
                command_job(
                    env,
                    "head -1 /etc/os-release; echo run=$AZUREML_RUN_ID; echo from-a-container > ${{outputs.out}}/x.txt",
                    outputs={"out": {"jobOutputType": "uri_folder"}},
                    **on_docker,
                ),
            )
            assert wait_status(arm, name, timeout=300) == "Completed", details(arm, name)["error"]
            text = log_text(arm, name)
            assert "Debian" in text and f"run={name}" in text
            uri = arm.get(f"/jobs/{name}").json()["properties"]["outputs"]["out"]["uri"]
            assert blob_text(arm, uri, "x.txt") == "from-a-container\n"
            assert not client.containers.list(all=True, filters={"label": f"mlep.job={name}"})
            slow = submit(arm, command_job(env, "echo started; sleep 300", **on_docker))
            wait_for(lambda: "started" in log_so_far(arm, slow), what="the container's first line")
            assert client.containers.list(filters={"label": f"mlep.job={slow}"})
            arm.ok(arm.post(f"/jobs/{slow}/cancel"))
            assert status(arm, slow) == "Canceled"
            assert not client.containers.list(all=True, filters={"label": f"mlep.job={slow}"})
    finally:
        for container in client.containers.list(
            all=True, filters={"label": f"mlep.home={own_home / 'runtime'}"}
        ):
            container.remove(force=True)
        for image in client.images.list(name=prefix):
            for tag in image.tags:
                client.images.remove(tag, force=True)
        client.close()
