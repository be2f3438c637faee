"""Deploy, score, reload, fail and clean up, on both backends, with the real inference server."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import docker
import pytest
from support.samples import EXPECTED_MODEL_1, model_1_spec, write_script
from support.servers import get, post_json, server_pids, tcp_listeners

from jupyter_mlep._errors import DeploymentNotFoundError, DeploymentStartError
from jupyter_mlep.runtime import Backend, get_backend

SCORE_ENV = """\
import json
import os


def init():
    pass


def run(raw_data):
    model_dir = os.environ["AZUREML_MODEL_DIR"]
    return {
        "model_dir_listing": sorted(os.listdir(model_dir)),
        "entry_script": os.environ.get("AZUREML_ENTRY_SCRIPT"),
        "app_root": os.environ.get("AML_APP_ROOT"),
        "timeout": os.environ.get("SCORING_TIMEOUT_MS"),
        "workers": os.environ.get("WORKER_COUNT"),
        "greeting": os.environ.get("GREETING"),
        "cwd": os.getcwd(),
    }
"""


def _assert_nothing_runs(backend: Backend, endpoint: str = "ep") -> None:
    assert [info for info in backend.list() if info.endpoint == endpoint and info.state == "Running"] == []
    if backend.name == "docker":
        client = docker.from_env(timeout=60)
        try:
            found = client.containers.list(all=True, filters={"label": f"mlep.endpoint={endpoint}"})
        finally:
            client.close()
        assert [container.id for container in found] == []


def _launcher_pids(home: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            ours = str(home) in cmdline or str(home).encode() in environ  # servers are forks of a launcher
            if ("launcher.py" in cmdline or "azmlinfsrv" in cmdline or "gunicorn" in cmdline) and ours:
                pids.append(int(entry.name))
    return pids


def test_model_1_scores_on_a_private_unix_socket_only(
    backend: Backend, model_1: Path, tmp_path: Path, isolated_settings: Path
) -> None:
    code = write_script(tmp_path / "onlinescoring")
    info = backend.start(model_1_spec(model_1, code))
    assert info.state == "Running" and info.backend == backend.name
    status, body = post_json(info.socket, json.loads((model_1 / "sample-request.json").read_text()))
    assert status == 200
    assert body == pytest.approx(EXPECTED_MODEL_1)
    assert get(info.socket)[0] == 200
    swagger_status, swagger = get(info.socket, "/swagger.json")
    assert swagger_status == 200 and "paths" in json.loads(swagger)
    socket = Path(info.socket)
    assert socket.is_socket() and socket.is_relative_to(isolated_settings / "sockets")
    assert socket.stat().st_mode & 0o777 == 0o600
    for folder in (socket.parent, isolated_settings / "sockets"):
        assert folder.stat().st_mode & 0o777 == 0o700
    pids = server_pids(backend, info)
    assert len(pids) >= 2  # the server and its worker at least
    assert tcp_listeners(pids) == []
    assert "Init complete" in backend.logs("ep", "blue")
    assert "environment" in backend.logs("ep", "blue", source="storage-initializer")
    backend.stop("ep", "blue")
    _assert_nothing_runs(backend)
    with pytest.raises(DeploymentNotFoundError):
        backend.status("ep", "blue")


@pytest.mark.parametrize("single_file", [False, True], ids=["model-folder", "model-file"])
def test_azure_layout_and_settings(
    backend: Backend, model_1: Path, tmp_path: Path, single_file: bool
) -> None:
    code = write_script(tmp_path / "src", SCORE_ENV)
    model = model_1 / "model" / "sklearn_regression_model.pkl" if single_file else model_1 / "model"
    spec = model_1_spec(
        model_1, code, model=model, environment_variables={"GREETING": "hello"},
        request_timeout_ms=1234, max_concurrent_requests_per_instance=2,
    )  # fmt: skip
    info = backend.start(spec)
    status, body = post_json(info.socket, {"data": []})
    assert status == 200, body
    assert body["model_dir_listing"] == (["sklearn_regression_model.pkl"] if single_file else ["model"])
    assert body["entry_script"].endswith("/src/score.py")
    assert body["app_root"].endswith("/src") and body["cwd"] == body["app_root"]
    assert (body["timeout"], body["workers"], body["greeting"]) == ("1234", "2", "hello")
    backend.stop("ep", "blue")


def test_init_raising_fails_with_traceback_and_leaves_nothing(
    backend: Backend, model_1: Path, tmp_path: Path, isolated_settings: Path
) -> None:
    code = write_script(
        tmp_path / "src",
        """\
        def init():
            raise RuntimeError("the model file is corrupt (on purpose)")


        def run(raw_data):
            return raw_data
        """,
    )
    started = time.monotonic()
    with pytest.raises(DeploymentStartError) as caught:
        backend.start(model_1_spec(model_1, code))
    assert time.monotonic() - started < 60
    text = str(caught.value)
    assert "init()" in text and "exited with code 3" in text
    assert "the model file is corrupt (on purpose)" in caught.value.log_tail
    assert "Traceback" in caught.value.log_tail
    assert backend.status("ep", "blue").state == "Failed"
    assert "corrupt" in backend.logs("ep", "blue")
    _assert_nothing_runs(backend)
    if backend.name == "process":
        assert _launcher_pids(isolated_settings) == []
    backend.stop("ep", "blue")


def test_code_change_is_picked_up_without_rebuild(backend: Backend, model_1: Path, tmp_path: Path) -> None:
    code = write_script(tmp_path / "src")
    spec = model_1_spec(model_1, code)
    first = backend.start(spec)
    request = json.loads((model_1 / "sample-request.json").read_text())
    assert post_json(first.socket, request)[1] == pytest.approx(EXPECTED_MODEL_1)
    builds_before = backend.logs("ep", "blue", source="storage-initializer").count("building")
    script = (code / "score.py").read_text().replace("return model.predict(data).tolist()", "return {'v': 2}")
    (code / "score.py").write_text(script)
    started = time.monotonic()
    second = backend.update(spec)
    assert post_json(second.socket, request) == (200, {"v": 2})
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"a code reload took {elapsed:.1f} s"
    assert second.environment == first.environment
    assert second.socket != first.socket and not Path(first.socket).exists()
    assert second.instances[0].container == first.instances[0].container  # the same container (docker)
    assert backend.logs("ep", "blue", source="storage-initializer").count("building") == builds_before
    backend.stop("ep", "blue")


def test_environment_variable_change_restarts_without_rebuild(
    backend: Backend, model_1: Path, tmp_path: Path
) -> None:
    code = write_script(tmp_path / "src", SCORE_ENV)
    first = backend.start(model_1_spec(model_1, code, environment_variables={"GREETING": "one"}))
    assert post_json(first.socket, {})[1]["greeting"] == "one"
    second = backend.update(model_1_spec(model_1, code, environment_variables={"GREETING": "two"}))
    assert post_json(second.socket, {})[1]["greeting"] == "two"
    assert second.environment == first.environment
    assert second.socket != first.socket and not Path(first.socket).exists()
    backend.stop("ep", "blue")


def test_environment_change_rebuilds(backend: Backend, model_1: Path, tmp_path: Path) -> None:
    code = write_script(
        tmp_path / "src",
        """\
        def init():
            pass


        def run(raw_data):
            try:
                import termcolor
            except ImportError:
                return "no termcolor"
            return "termcolor " + termcolor.__name__
        """,
    )
    spec = model_1_spec(model_1, code)
    first = backend.start(spec)
    assert post_json(first.socket, {})[1] == "no termcolor"
    env = spec.environment
    changed = model_1_spec(model_1, code, environment=type(env)(conda_file=env.conda_file, image=env.image,
                                                                pip_requirements=("termcolor",)))  # fmt: skip
    second = backend.update(changed)
    assert second.environment != first.environment
    assert str(post_json(second.socket, {})[1]).startswith("termcolor ")
    assert "building" in backend.logs("ep", "blue", source="storage-initializer")
    backend.stop("ep", "blue")


def test_server_killed_from_outside(backend: Backend, model_1: Path, tmp_path: Path) -> None:
    code = write_script(tmp_path / "src")
    info = backend.start(model_1_spec(model_1, code))
    if backend.name == "docker":
        client = docker.from_env(timeout=60)
        try:
            client.containers.get(info.instances[0].container or "").kill()
        finally:
            client.close()
    else:
        assert info.instances[0].pid is not None
        os.killpg(info.instances[0].pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while backend.status("ep", "blue").state != "Failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    status = backend.status("ep", "blue")
    assert status.state == "Failed", status
    assert status.message
    assert "Init complete" in backend.logs("ep", "blue")
    backend.stop("ep", "blue")
    _assert_nothing_runs(backend)


def test_rediscovery_by_a_new_runtime_object(backend: Backend, model_1: Path, tmp_path: Path) -> None:
    code = write_script(tmp_path / "src")
    info = backend.start(model_1_spec(model_1, code))
    again = get_backend(backend.name, reporter=None)
    found = {(d.endpoint, d.name): d for d in again.list()}
    assert found[("ep", "blue")].state == "Running"
    assert found[("ep", "blue")].socket == info.socket
    assert "Init complete" in again.logs("ep", "blue")
    again.stop("ep", "blue")
    assert get_backend(backend.name, reporter=None).list() == []
    _assert_nothing_runs(backend)
