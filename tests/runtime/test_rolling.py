"""Rolling updates on both backends: the old servers serve until ``on_ready``, a failed update keeps
them, scaling keeps the running ones; clients calling all along see no failure."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.load import Load, Outcome, Sockets
from support.samples import model_1_spec, write_script
from support.servers import post_json

from jupyter_mlep._errors import DeploymentStartError
from jupyter_mlep.runtime import Backend, DeploymentInfo

SCRIPT = """\
import time

def init():
    time.sleep({sleep})
    if {fail}:
        raise RuntimeError("init exploded on purpose")

def run(raw_data):
    return {{"version": {version}}}
"""


def _script(code: Path, version: int, *, sleep: float = 0.0, fail: bool = False) -> Path:
    return write_script(code, SCRIPT.format(version=version, sleep=sleep, fail=fail))


def _calling(info: DeploymentInfo) -> Load[Sockets]:
    """Three clients calling ``info``'s servers as fast as they answer (``load.target.switch`` is an ``on_ready``)."""
    return Load(Sockets(info, {"data": []}), connections=3, rate=None, max_seconds=600)


def _versions(load: Load[Sockets]) -> set[int]:
    return {json.loads(outcome.body)["version"] for outcome in load.answers()}


def _seen(version: int) -> Callable[[Outcome], bool]:
    return lambda outcome: outcome.status == 200 and json.loads(outcome.body)["version"] == version


def _record(home: Path) -> dict[str, object]:
    (path,) = home.glob("runtime/*/state.json")
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_the_old_server_answers_until_on_ready_and_the_new_one_from_then_on(
    backend: Backend, model_1: Path, tmp_path: Path
) -> None:
    code = _script(tmp_path / "src", 1)
    first = backend.start(model_1_spec(model_1, code))
    seen: dict[str, object] = {}

    with _calling(first) as load:
        load.wait_for(_seen(1), timeout=30)

        def on_ready(info: DeploymentInfo) -> None:
            seen["old"] = post_json(first.socket, {})
            seen["new"] = post_json(info.socket, {})
            seen["info"] = info
            load.target.switch(info)

        _script(code, 2, sleep=1.5)
        started = time.monotonic()
        update = backend.update(model_1_spec(model_1, code), on_ready=on_ready)
        assert time.monotonic() - started > 1.5  # the new init() ran while the old server served
        count = len(load.answers())
        load.wait_for(_seen(2), timeout=30)
    assert seen["old"] == (200, {"version": 1}) and seen["new"] == (200, {"version": 2})
    ready = seen["info"]
    assert isinstance(ready, DeploymentInfo) and ready.socket == update.socket != first.socket
    assert load.failures() == [] and _versions(load) == {1, 2} and count > 0
    assert not Path(first.socket).exists()
    assert update.state == "Running" and backend.status("ep", "blue").socket == update.socket
    assert post_json(update.socket, {}) == (200, {"version": 2})
    backend.stop("ep", "blue")


def test_a_failed_update_keeps_the_old_servers_serving(
    backend: Backend, model_1: Path, tmp_path: Path, isolated_settings: Path
) -> None:
    code = _script(tmp_path / "src", 1)
    first = backend.start(model_1_spec(model_1, code))
    before = _record(isolated_settings)
    calls: list[DeploymentInfo] = []
    with _calling(first) as load:
        load.wait_for(_seen(1), timeout=30)
        _script(code, 2, fail=True)
        with pytest.raises(DeploymentStartError) as caught:
            backend.update(model_1_spec(model_1, code), on_ready=calls.append)
        load.wait_answers(20)
    assert "init exploded on purpose" in caught.value.log_tail and "exited with code 3" in str(caught.value)
    assert calls == [] and load.failures() == [] and _versions(load) == {1}
    status = backend.status("ep", "blue")
    assert status.state == "Running" and status.socket == first.socket
    assert _record(isolated_settings)["spec"] == before["spec"]
    assert [path.name for path in Path(first.socket).parent.glob("*.sock")] == [Path(first.socket).name]
    assert post_json(first.socket, {}) == (200, {"version": 1})
    # the next good update replaces them
    _script(code, 3)
    fixed = backend.update(model_1_spec(model_1, code))
    assert post_json(fixed.socket, {}) == (200, {"version": 3}) and not Path(first.socket).exists()
    backend.stop("ep", "blue")


def test_scaling_1_3_1_keeps_the_running_servers_answering(
    backend: Backend, model_1: Path, tmp_path: Path
) -> None:
    code = _script(tmp_path / "src", 1)
    first = backend.start(model_1_spec(model_1, code))
    with _calling(first) as load:
        load.wait_for(_seen(1), timeout=30)
        up = backend.update(model_1_spec(model_1, code, instance_count=3), on_ready=load.target.switch)
        assert [i.index for i in up.instances] == [0, 1, 2]
        assert up.instances[0].socket == first.socket  # the running server was kept
        assert len({i.socket for i in up.instances}) == 3
        load.wait_answers(30)
        down = backend.update(model_1_spec(model_1, code, instance_count=1), on_ready=load.target.switch)
        assert [i.socket for i in down.instances] == [first.socket]
        load.wait_answers(30)
    assert load.target.switches == [[i.socket for i in up.instances], [first.socket]]
    assert load.failures() == [] and _versions(load) == {1}
    assert [Path(i.socket).exists() for i in up.instances] == [True, False, False]
    assert len(backend.status("ep", "blue").instances) == 1
    backend.stop("ep", "blue")


def test_new_launchers_for_new_variables_roll_without_a_failed_request(
    backend: Backend, model_1: Path, tmp_path: Path
) -> None:
    code = write_script(
        tmp_path / "src",
        "import os\n\ndef init():\n    pass\n\ndef run(raw_data):\n"
        "    return {'version': int(os.environ['VERSION'])}\n",
    )
    first = backend.start(model_1_spec(model_1, code, environment_variables={"VERSION": "1"}))
    with _calling(first) as load:
        load.wait_for(_seen(1), timeout=30)
        second = backend.update(
            model_1_spec(model_1, code, environment_variables={"VERSION": "2"}), on_ready=load.target.switch
        )
        load.wait_for(_seen(2), timeout=30)
    assert load.failures() == [] and _versions(load) == {1, 2}
    assert second.instances[0].pid != first.instances[0].pid or backend.name == "docker"
    if backend.name == "docker":
        assert second.instances[0].container != first.instances[0].container
    assert not Path(first.socket).exists()
    backend.stop("ep", "blue")


def test_an_on_ready_that_raises_keeps_the_old_servers(
    process_backend: Backend, model_1: Path, tmp_path: Path
) -> None:
    code = _script(tmp_path / "src", 1)
    first = process_backend.start(model_1_spec(model_1, code))
    offered: list[str] = []

    def on_ready(info: DeploymentInfo) -> None:
        offered.append(info.socket)
        raise RuntimeError("the router could not switch")

    _script(code, 2)
    with pytest.raises(RuntimeError, match="could not switch"):
        process_backend.update(model_1_spec(model_1, code), on_ready=on_ready)
    assert len(offered) == 1 and offered[0] != first.socket and not Path(offered[0]).exists()
    status = process_backend.status("ep", "blue")
    assert status.state == "Running" and status.socket == first.socket
    assert post_json(first.socket, {}) == (200, {"version": 1})
    process_backend.stop("ep", "blue")
