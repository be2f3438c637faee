"""Every deployment server has an owner: sticky runtimes across kill -9 and engines that come and go.

A deployment runs on the runtime it was created on (process or docker) until an update asks for
another (property ``mlep.runtime``). The workspace is killed (SIGKILL) and restarted with a Docker
engine that appeared or disappeared meanwhile ("absent" = ``DOCKER_HOST`` at a socket nothing
listens on; it "appears" when a forwarder to the real engine starts listening there). After each
step no process under this test's MLEP_HOME and no container of its runtime folder is left
without a record of a deployment that wants it; ``workspace stop`` leaves none at all.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from support.arm import Arm, deployment_body, endpoint_body, register_code, register_model
from support.clients import make_client
from support.owners import (
    Forwarder,
    assert_no_unowned_process,
    assert_nothing_left,
    describe,
    home_containers,
    home_processes,
    pending_servers,
    running,
)
from support.samples import AZURE_IMAGE, BASE_IMAGE
from support.waiting import wait_until
from support.workspace import running_workspace

from jupyter_mlep import operations as ops
from jupyter_mlep.workspace import WorkspaceInfo, control

RUNTIME_SCRIPT = """\
import os


def init():
    pass


def run(raw_data):
    return {"runtime": "docker" if os.path.isdir("/var/mlep/agent") else "process", "pid": os.getpid()}
"""
TINY_CONDA = """\
name: tiny
dependencies:
  - python=3.11
  - pip
  - pip:
    - azureml-inference-server-http
"""
HEADER = "azureml-model-deployment"


@pytest.fixture
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", timeout=120)
    yield client
    client.close()


@pytest.fixture
def setup(
    tmp_path: Path, env_cache: Path, monkeypatch: pytest.MonkeyPatch, docker_client: docker.DockerClient
) -> Iterator[dict[str, Any]]:
    """Runtime settings of a workspace in ``tmp_path/home`` (auto runtime, shared caches); at the end,
    nothing of it runs and its images are removed."""
    home = tmp_path / "home"
    prefix = f"mlep-test-own-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MLEP_HOME", str(home))
    monkeypatch.setenv("MLEP_RUNTIME", "auto")
    monkeypatch.setenv("MLEP_ENVS_DIR", str(env_cache))
    monkeypatch.setenv("MLEP_IMAGE_MAP", f"{AZURE_IMAGE}={BASE_IMAGE}")
    monkeypatch.setenv("MLEP_IMAGE_PREFIX", prefix)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    absent = tmp_path / "docker.sock"  # a short path: AF_UNIX paths are limited to 108 bytes
    state: dict[str, Any] = {"home": home, "absent": f"unix://{absent}", "absent_path": absent}
    try:
        yield state
    finally:
        monkeypatch.delenv("DOCKER_HOST", raising=False)
        with contextlib.suppress(Exception):
            control.stop(home)
        for container in home_containers(docker_client, home):
            container.remove(force=True)
        for pid in home_processes(home):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for image in docker_client.images.list(name=prefix):
            for tag in image.tags:
                docker_client.images.remove(tag, force=True)


def _wait_no_container(docker_client: docker.DockerClient, home: Path, what: str) -> None:
    """Wait (up to 60 s) until ``home``'s runtime folder has no container; fail naming ``what``."""
    wait_until(lambda: not home_containers(docker_client, home), timeout=60, interval=0.2, what=what)


@contextlib.contextmanager
def workspace_to_kill(home: Path) -> Iterator[WorkspaceInfo]:
    """A workspace server the test kills with SIGKILL (what it leaves is for the next one to find;
    the ``setup`` fixture stops whatever is left at the end)."""
    info = control.start(home)
    yield info
    assert control.status(home) is None, "the test should have killed the workspace"


def _kill_9(home: Path, pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: control.status(home) is None, timeout=10, what="the killed server releasing its lock")


def _blue_on_docker_then_killed(
    home: Path, docker_client: docker.DockerClient, model_1: Path, azureml_examples: Path
) -> Deployer:
    """A workspace (an engine answers) that deploys ``blue`` on Docker and is then killed with SIGKILL."""
    with workspace_to_kill(home) as info:
        arm = Arm(info)
        deployer = Deployer(arm, model_1, azureml_examples)
        assert deployer.deploy("blue")["status"] == "Succeeded"
        assert deployer.answer("blue")["runtime"] == "docker"
        assert len(home_containers(docker_client, home)) == 1
        _kill_9(home, info.pid)
        arm.close()
    return deployer


class Deployer:
    """An endpoint of the workspace and what it takes to deploy the runtime-telling script on it."""

    def __init__(self, arm: Arm, model_1: Path, azureml_examples: Path, image: str = AZURE_IMAGE) -> None:
        self.arm = arm
        self.endpoint = f"own-{uuid.uuid4().hex[:6]}"
        arm.ok(
            arm.put(
                f"/onlineEndpoints/{self.endpoint}",
                endpoint_body(azureml_examples / "cli/endpoints/online/managed/sample"),
            )
        )
        env_name = f"tiny-{uuid.uuid4().hex[:6]}"
        env = arm.put(
            f"/environments/{env_name}/versions/1", {"properties": {"image": image, "condaFile": TINY_CONDA}}
        )
        assert env.status_code in (200, 201), env.text
        self.ids = {
            "model": register_model(arm, f"m-{uuid.uuid4().hex[:6]}", model_1 / "model"),
            "code": register_code(arm, f"c-{uuid.uuid4().hex[:6]}", RUNTIME_SCRIPT),
            "env": str(env.json()["id"]),
        }

    def body(self, **properties: str) -> dict[str, Any]:
        extra = {"properties": properties} if properties else {}
        return deployment_body(self.ids["model"], self.ids["code"], self.ids["env"], **extra)

    def deploy(self, name: str, **properties: str) -> dict[str, Any]:
        path = f"/onlineEndpoints/{self.endpoint}/deployments/{name}"
        return self.arm.wait(self.arm.put(path, self.body(**properties)), timeout=600)

    def state(self, name: str) -> str:
        path = f"/onlineEndpoints/{self.endpoint}/deployments/{name}"
        return str(self.arm.get(path).json()["properties"]["provisioningState"])

    def wait_state(self, name: str, wanted: str, timeout: float = 300) -> None:
        wait_until(lambda: self.state(name) == wanted, timeout, 0.1, what=f"{name} being {wanted}")

    def answer(self, name: str) -> dict[str, Any]:
        """The answer of deployment ``name`` through the router (runtime and pid of its server)."""
        keys = self.arm.post(f"/onlineEndpoints/{self.endpoint}/listKeys").json()
        uri = self.arm.get(f"/onlineEndpoints/{self.endpoint}").json()["properties"]["scoringUri"]
        headers = {"Authorization": f"Bearer {keys['primaryKey']}", HEADER: name}
        response = self.arm.http.post(uri, json={"data": []}, headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def storage_log(self, name: str) -> str:
        path = f"/onlineEndpoints/{self.endpoint}/deployments/{name}/getLogs"
        return str(self.arm.post(path, {"containerType": "StorageInitializer"}).json()["content"])


def test_process_deployments_stay_processes_when_docker_appears(
    setup: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    docker_client: docker.DockerClient,
    model_1: Path,
    azureml_examples: Path,
) -> None:
    home = setup["home"]
    monkeypatch.setenv("DOCKER_HOST", setup["absent"])  # auto picks processes
    with workspace_to_kill(home) as info:
        arm = Arm(info)
        deployer = Deployer(arm, model_1, azureml_examples)
        for name in ("blue", "green"):
            assert deployer.deploy(name)["status"] == "Succeeded"
        before = {name: deployer.answer(name) for name in ("blue", "green")}
        assert {answer["runtime"] for answer in before.values()} == {"process"}
        # green's deletion is under way (slowed down) when the workspace is killed.
        arm.admin("POST", "faults/operations", json={"minimumSeconds": 60})
        assert arm.delete(f"/onlineEndpoints/{deployer.endpoint}/deployments/green").status_code == 202
        _kill_9(home, info.pid)
        arm.close()
    monkeypatch.delenv("DOCKER_HOST")  # the real engine answers now
    with running_workspace(home) as again:
        arm = Arm(again)
        deployer.arm = arm
        deployer.wait_state("blue", "Succeeded")
        assert deployer.answer("blue") == before["blue"]  # the same server, attached again
        # green's deletion was interrupted: Failed, and its server (no longer wanted) is stopped.
        assert deployer.state("green") == "Failed"
        green = Path(f"/proc/{before['green']['pid']}")
        wait_until(lambda: not green.exists(), timeout=30, interval=0.1, what="green's server stopping")
        assert home_containers(docker_client, home) == []
        assert_no_unowned_process(home)
        assert home_processes(home), "blue's processes should run"
        # Changing the runtime is an explicit update: blue moves to Docker.
        assert deployer.deploy("blue", **{"mlep.runtime": "docker"})["status"] == "Succeeded"
        assert deployer.answer("blue")["runtime"] == "docker"
        assert len(home_containers(docker_client, home)) == 1
        assert not Path(f"/proc/{before['blue']['pid']}").exists()
        assert_no_unowned_process(home)
        body = arm.get(f"/onlineEndpoints/{deployer.endpoint}/deployments/blue").json()
        assert body["properties"]["properties"]["mlep.runtime"] == "docker" and "runtime" not in body
        # Updates without the property keep each on its runtime: blue on Docker, and green (created
        # on processes) back on processes, though an engine answers now.
        assert deployer.deploy("blue")["status"] == "Succeeded"
        assert deployer.answer("blue")["runtime"] == "docker"
        assert deployer.deploy("green")["status"] == "Succeeded"
        assert deployer.answer("green")["runtime"] == "process"
        arm.close()
        assert control.stop(home)
    assert_nothing_left(home, docker_client)


def test_docker_deployment_fails_with_the_reason_when_docker_disappears(
    setup: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    docker_client: docker.DockerClient,
    model_1: Path,
    azureml_examples: Path,
) -> None:
    home = setup["home"]
    deployer = _blue_on_docker_then_killed(home, docker_client, model_1, azureml_examples)
    monkeypatch.setenv("DOCKER_HOST", setup["absent"])  # no engine answers there
    with workspace_to_kill(home) as again:
        arm = Arm(again)
        deployer.arm = arm
        deployer.wait_state("blue", "Failed")
        log = deployer.storage_log("blue")
        assert "docker runtime" in log and f"no Docker engine answers at {setup['absent']}" in log, log
        assert "mlep.runtime=process" in log
        with make_client(again) as client:  # show names the reason too
            details = ops.describe_endpoint(client, deployer.endpoint)
            assert details.deployments[0].failure_reason == log.split("Deployment failed: ", 1)[1].strip()
            assert "blue failed: Could not bring the deployment back" in details.text()
            assert "no Docker engine answers" in details.status_payload()["deployments"][0]["failure_reason"]
        assert_no_unowned_process(home)
        # The engine appears at that address: the container nobody wants any more is removed.
        with Forwarder(setup["absent_path"]):
            _wait_no_container(docker_client, home, "the container of the Failed deployment being removed")
            # Moving it to processes is an explicit update, and works.
            assert deployer.deploy("blue", **{"mlep.runtime": "process"})["status"] == "Succeeded"
            assert deployer.answer("blue")["runtime"] == "process"
            arm.close()
        _kill_9(home, again.pid)
    # The workspace is dead; `workspace stop` still stops what it started.
    lines: list[str] = []
    assert control.stop(home, report=lines.append) is False
    assert any("blue" in line and "process" in line for line in lines), lines
    assert_nothing_left(home, docker_client)


def test_auto_runs_processes_when_the_base_image_cannot_be_had(
    setup: dict[str, Any], docker_client: docker.DockerClient, model_1: Path, azureml_examples: Path
) -> None:
    home = setup["home"]
    image = f"registry.invalid/mlep/not-mapped-{uuid.uuid4().hex[:6]}:1"
    with running_workspace(home) as info, Arm(info) as arm:
        deployer = Deployer(arm, model_1, azureml_examples, image=image)
        assert deployer.deploy("blue")["status"] == "Succeeded"
        assert deployer.answer("blue")["runtime"] == "process"
        log = deployer.storage_log("blue")
        warnings = [line for line in log.splitlines() if "warning: " in line]
        assert any(image in line and "local processes" in line for line in warnings), log
        assert home_containers(docker_client, home) == []
        # Recorded: an update stays on processes without asking the engine again.
        assert deployer.deploy("blue")["status"] == "Succeeded"
        assert deployer.answer("blue")["runtime"] == "process"
        # An unknown runtime is refused before anything changes.
        refused = arm.put(
            f"/onlineEndpoints/{deployer.endpoint}/deployments/blue",
            deployer.body(**{"mlep.runtime": "vm"}),
        )
        assert refused.status_code == 400 and "mlep.runtime" in refused.text
        assert deployer.state("blue") == "Succeeded"
    assert home_processes(home) == set()


def _start_slow_update(deployer: Deployer, name: str, home: Path) -> int:
    """Start an update of ``name`` whose new server never becomes ready; the pid of that server."""
    slow = RUNTIME_SCRIPT.replace("    pass", "    import time\n\n    time.sleep(600)", 1)
    code = register_code(deployer.arm, f"c-{uuid.uuid4().hex[:6]}", slow)
    body = deployment_body(deployer.ids["model"], code, deployer.ids["env"])
    accepted = deployer.arm.put(f"/onlineEndpoints/{deployer.endpoint}/deployments/{name}", body)
    assert accepted.status_code in (200, 201, 202), accepted.text
    pending = wait_until(
        lambda: [pid for pid in pending_servers(home) if running(pid)],
        timeout=120,
        interval=0.05,
        what="the update starting a new server",
    )
    return int(pending[0])


def _sockets(home: Path) -> set[str]:
    return {path.name for path in (home / "sockets").glob("*/*")}


def test_servers_of_an_update_killed_midway_are_stopped(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch, model_1: Path, azureml_examples: Path
) -> None:
    home = setup["home"]
    monkeypatch.setenv("DOCKER_HOST", setup["absent"])  # processes: the slow server is a fork of the launcher
    with workspace_to_kill(home) as info:
        arm = Arm(info)
        deployer = Deployer(arm, model_1, azureml_examples)
        assert deployer.deploy("blue")["status"] == "Succeeded"
        before = deployer.answer("blue")
        serving = _sockets(home)
        pending = _start_slow_update(deployer, "blue", home)
        assert pending != before["pid"]  # the update's new server is listed, never the serving one
        _kill_9(home, info.pid)
        arm.close()
    # Restarted: the old server is found again and serves; the update's server is stopped.
    with workspace_to_kill(home) as again:
        arm = Arm(again)
        deployer.arm = arm
        wait_until(
            lambda: not running(pending), 30, 0.1, what="the server of the interrupted update stopping"
        )
        assert deployer.state("blue") == "Failed"  # the update was interrupted; the old version serves
        assert deployer.answer("blue") == before
        assert pending_servers(home) == [] and _sockets(home) == serving
        assert_no_unowned_process(home)
        # Killed again during an update: `workspace stop` stops the old and the new servers, and
        # removes the deployment's socket folder.
        pending = _start_slow_update(deployer, "blue", home)
        _kill_9(home, again.pid)
        arm.close()
    assert control.stop(home) is False
    assert {pid: describe(pid) for pid in home_processes(home)} == {}
    assert not running(pending)
    assert list((home / "sockets").iterdir()) == []


def test_docker_servers_of_a_deployment_moved_while_the_engine_was_away_are_stopped(
    setup: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    docker_client: docker.DockerClient,
    model_1: Path,
    azureml_examples: Path,
) -> None:
    home = setup["home"]
    deployer = _blue_on_docker_then_killed(home, docker_client, model_1, azureml_examples)
    monkeypatch.setenv("DOCKER_HOST", setup["absent"])
    with running_workspace(home) as again, Arm(again) as arm:
        deployer.arm = arm
        deployer.wait_state("blue", "Failed")
        # Moved to processes while no engine answers: it serves at once; its container waits.
        assert deployer.deploy("blue", **{"mlep.runtime": "process"})["status"] == "Succeeded"
        moved = deployer.answer("blue")
        assert moved["runtime"] == "process"
        assert len(home_containers(docker_client, home)) == 1
        with Forwarder(setup["absent_path"]):
            _wait_no_container(docker_client, home, "the container of the moved deployment being removed")
            assert deployer.answer("blue") == moved  # the processes (and their sockets) were spared
            assert_no_unowned_process(home)
    assert_nothing_left(home, docker_client)
