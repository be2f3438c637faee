"""Rolling updates lose no request: continuous clients through the router while a deployment is
redeployed, redeployed with a slow or a failing ``init()``, and scaled, on both runtimes.

Each runtime gets its own workspace (the Docker one with the locally built base image) and one
endpoint whose deployment ``blue`` answers ``{"version": N, "server": …}``, so every answer says which
code (and which server process) gave it. During each scenario a :class:`support.load.Load` sends a
few hundred requests per second on four kept-alive connections; afterwards no request may have
failed or been refused, and the answers must go from the old version to the new, never back.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.arm import Arm, deployment_body, register_code, register_environment, register_model
from support.load import Http, Load, Outcome, check_never_back
from support.samples import AZURE_IMAGE, BASE_IMAGE
from support.workspace import running_workspace

MAX_INSTANCES = 4  # the workspaces of this module run with MLEP_MAX_INSTANCES=4
RATE = 250.0  # requests per second, in total
CONNECTIONS = 4
ENVIRONMENT = "name: rolling\ndependencies:\n  - python=3.11\n  - pip:\n    - azureml-inference-server-http\n"


def script(version: int, *, init_seconds: float = 0.0, init_raises: bool = False) -> str:
    """A scoring script answering its version and an id of the server process that loaded it."""
    init = f"    time.sleep({init_seconds})\n"
    if init_raises:
        init += f'    raise RuntimeError("version {version} cannot start")\n'
    return (
        "import time\nimport uuid\n\nSERVER = uuid.uuid4().hex\n\n\ndef init():\n"
        + init
        + f'\n\ndef run(raw_data):\n    return {{"version": {version}, "server": SERVER}}\n'
    )


def version(outcome: Outcome) -> int:
    return int(json.loads(outcome.body)["version"])


@dataclass
class Rolling:
    """One workspace, one endpoint, deployment ``blue`` with all the traffic."""

    arm: Arm
    endpoint: str
    model: str
    env: str
    scoring_uri: str
    key: str
    current: int = 1

    @property
    def path(self) -> str:
        return f"/onlineEndpoints/{self.endpoint}/deployments/blue"

    def body(
        self, code_version: int, *, init_seconds: float = 0.0, init_raises: bool = False
    ) -> dict[str, object]:
        """A deployment body with a new code asset answering ``code_version``."""
        code = script(code_version, init_seconds=init_seconds, init_raises=init_raises)
        return deployment_body(
            self.model, register_code(self.arm, f"code-{uuid.uuid4().hex[:8]}", code), self.env
        )

    def load(self) -> Load[Http]:
        return Load(
            Http(self.scoring_uri, {"Authorization": f"Bearer {self.key}"}, b'{"data": [1]}'),
            connections=CONNECTIONS,
            rate=RATE,
            max_seconds=90,
        )


@contextlib.contextmanager
def _runtime_environment(runtime: str, home: Path, env_cache: Path, prefix: str) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLEP_HOME", str(home))
        patch.setenv("MLEP_RUNTIME", runtime)
        patch.setenv("MLEP_ENVS_DIR", str(env_cache))
        patch.setenv("MLEP_IMAGE_MAP", f"{AZURE_IMAGE}={BASE_IMAGE}")
        patch.setenv("MLEP_IMAGE_PREFIX", prefix)
        patch.setenv("MLEP_MAX_INSTANCES", str(MAX_INSTANCES))
        yield


def _remove_images(prefix: str) -> None:
    import docker

    try:
        client = docker.from_env(timeout=120)
    except docker.errors.DockerException:
        return
    try:
        for image in client.images.list(name=prefix):
            for tag in image.tags:
                client.images.remove(tag, force=True)
    finally:
        client.close()


@pytest.fixture(scope="module", params=["process", "docker"])
def rolling(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, env_cache: Path, model_1: Path
) -> Iterator[Rolling]:
    runtime = str(request.param)
    home = tmp_path_factory.mktemp(f"rolling-{runtime}")
    prefix = f"mlep-rolling-{uuid.uuid4().hex[:8]}"
    conda = home / "conda.yaml"
    conda.write_text(ENVIRONMENT)
    try:
        with (
            _runtime_environment(runtime, home, env_cache, prefix),
            running_workspace(home) as info,
            Arm(info) as arm,
        ):
            endpoint = f"rolling-{uuid.uuid4().hex[:6]}"
            arm.ok(
                arm.put(
                    f"/onlineEndpoints/{endpoint}",
                    {"location": "local", "properties": {"authMode": "Key"}},
                )
            )
            state = Rolling(
                arm,
                endpoint,
                register_model(arm, "rolling-model", model_1 / "model"),
                register_environment(arm, "rolling-env", conda),
                "",
                "",
            )
            arm.ok(arm.put(state.path, state.body(1)), timeout=600)
            arm.ok(
                arm.put(
                    f"/onlineEndpoints/{endpoint}",
                    {"location": "local", "properties": {"authMode": "Key", "traffic": {"blue": 100}}},
                )
            )
            state.key = arm.post(f"/onlineEndpoints/{endpoint}/listKeys").json()["primaryKey"]
            state.scoring_uri = arm.get(f"/onlineEndpoints/{endpoint}").json()["properties"]["scoringUri"]
            yield state
    finally:
        if runtime == "docker":
            _remove_images(prefix)


def _servers(load: Load[Http], since: float) -> set[str]:
    """The server processes that answered requests started since ``since``."""
    return {json.loads(o.body)["server"] for o in load.snapshot() if o.start >= since and o.status == 200}


def _no_failures(load: Load[Http]) -> list[Outcome]:
    outcomes = load.snapshot()
    failed = load.failures()
    summary = [(o.status, o.error or o.body[:200]) for o in failed[:5]]
    assert not failed, f"{len(failed)} of {len(outcomes)} requests failed, e.g. {summary}"
    seconds = outcomes[-1].end - outcomes[0].start
    assert len(outcomes) >= 0.4 * RATE * seconds, f"only {len(outcomes) / seconds:.0f} requests/s"
    return outcomes


def test_ten_code_redeploys_lose_no_request(rolling: Rolling) -> None:
    first = rolling.current
    with rolling.load() as load:
        load.wait_for(lambda o: o.status == 200, timeout=10)
        for step in range(1, 11):
            new = first + step
            rolling.arm.ok(rolling.arm.put(rolling.path, rolling.body(new)), timeout=60)
            load.wait_for(lambda o, new=new: o.status == 200 and version(o) == new, timeout=5)
            rolling.current = new
    outcomes = _no_failures(load)
    assert check_never_back(outcomes, version) == list(range(first, first + 11))


def test_a_redeploy_whose_init_takes_10_s_loses_no_request(rolling: Rolling) -> None:
    old, new = rolling.current, rolling.current + 1
    with rolling.load() as load:
        load.wait_for(lambda o: o.status == 200, timeout=10)
        response = rolling.arm.put(rolling.path, rolling.body(new, init_seconds=10))
        # while the new server runs init(), the old one answers
        during = load.wait_for(lambda o: o.status == 200, timeout=5)
        assert version(during) == old
        rolling.arm.ok(response, timeout=60)
        load.wait_for(lambda o: o.status == 200 and version(o) == new, timeout=5)
        rolling.current = new
    outcomes = _no_failures(load)
    assert check_never_back(outcomes, version) == [old, new]
    assert outcomes[-1].end - outcomes[0].start > 10


def test_a_redeploy_whose_init_raises_keeps_the_old_version(rolling: Rolling) -> None:
    old, broken, fixed = rolling.current, rolling.current + 1, rolling.current + 2
    with rolling.load() as load:
        load.wait_for(lambda o: o.status == 200, timeout=10)
        status = rolling.arm.wait(rolling.arm.put(rolling.path, rolling.body(broken, init_raises=True)), 60)
        assert status["status"] == "Failed"
        assert f"version {broken} cannot start" in status["error"]["message"]
        deployment = rolling.arm.get(rolling.path).json()
        assert deployment["properties"]["provisioningState"] == "Failed"
        logs = rolling.arm.post(f"{rolling.path}/getLogs", {"containerType": "StorageInitializer"}).json()
        assert f"version {broken} cannot start" in logs["content"]
        assert version(load.wait_for(lambda o: o.status == 200, timeout=5)) == old  # still served
        # the next good update replaces the old servers
        rolling.arm.ok(rolling.arm.put(rolling.path, rolling.body(fixed)), timeout=60)
        load.wait_for(lambda o: o.status == 200 and version(o) == fixed, timeout=5)
        rolling.current = fixed
    outcomes = _no_failures(load)
    assert check_never_back(outcomes, version) == [old, fixed]
    assert rolling.arm.get(rolling.path).json()["properties"]["provisioningState"] == "Succeeded"


def test_scale_1_to_3_to_1_loses_no_request(rolling: Rolling) -> None:
    with rolling.load() as load:
        load.wait_for(lambda o: o.status == 200, timeout=10)
        rolling.arm.ok(rolling.arm.patch(rolling.path, {"sku": {"capacity": 3}}), timeout=60)
        since = load.wait_for(lambda o: o.status == 200, timeout=5).start
        time.sleep(1.0)
        assert len(_servers(load, since)) == 3  # the router spreads requests over the three instances
        assert rolling.arm.get(rolling.path).json()["sku"]["capacity"] == 3
        rolling.arm.ok(rolling.arm.patch(rolling.path, {"sku": {"capacity": 1}}), timeout=60)
        since = load.wait_for(lambda o: o.status == 200, timeout=5).start
        time.sleep(1.0)
        assert len(_servers(load, since)) == 1
    outcomes = _no_failures(load)
    assert check_never_back(outcomes, version) == [rolling.current]


def test_a_scale_above_the_limit_is_refused_and_nothing_changes(rolling: Rolling) -> None:
    skus = rolling.arm.get(f"{rolling.path}/skus").json()["value"]
    limit = skus[0]["capacity"]["maximum"]
    assert limit == MAX_INSTANCES
    with rolling.load() as load:
        load.wait_for(lambda o: o.status == 200, timeout=10)
        response = rolling.arm.patch(rolling.path, {"sku": {"capacity": limit + 1}})
        assert response.status_code == 400, response.text
        message = response.json()["error"]["message"]
        assert f"limit of {limit} instances" in message and "MLEP_MAX_INSTANCES" in message
        deployment = rolling.arm.get(rolling.path).json()
        assert deployment["sku"]["capacity"] == 1
        assert deployment["properties"]["provisioningState"] == "Succeeded"
        time.sleep(0.5)
    _no_failures(load)
