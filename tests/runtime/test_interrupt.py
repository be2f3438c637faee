"""Ctrl-C during a start leaves nothing running, during an update leaves the old servers serving;
the runtime imports without IPython; HOME stays clean."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest
from support.samples import model_1_spec, write_script
from support.servers import get, post_json

from jupyter_mlep.runtime import Backend

from .test_deploy import _assert_nothing_runs, _launcher_pids

STARTER = """\
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from support.samples import model_1_spec
from jupyter_mlep.runtime import get_backend

backend = get_backend({backend!r}, reporter=None)
try:
    getattr(backend, {verb!r})(model_1_spec(Path({model!r}), Path({code!r})))
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


@pytest.mark.parametrize("which", ["process", "docker"])
def test_ctrl_c_while_starting_leaves_nothing_running(
    which: str, request: pytest.FixtureRequest, model_1: Path, tmp_path: Path, isolated_settings: Path
) -> None:
    backend: Backend = request.getfixturevalue(f"{which}_backend")
    code = write_script(
        tmp_path / "src", "import time\n\ndef init():\n    time.sleep(120)\n\ndef run(d):\n    return 1\n"
    )
    script = STARTER.format(
        tests=str(Path(__file__).parents[1]), backend=which, model=str(model_1), code=str(code), verb="start"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if "Invoking user's init" in _server_log(isolated_settings):
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the server never reached init()")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in out
    status = backend.status("ep", "blue")
    assert status.state == "Failed"
    _assert_nothing_runs(backend)
    if which == "process":
        assert _launcher_pids(isolated_settings) == []
    backend.stop("ep", "blue")


@pytest.mark.parametrize("which", ["process", "docker"])
def test_ctrl_c_while_updating_keeps_the_old_servers_and_stops_the_new(
    which: str, request: pytest.FixtureRequest, model_1: Path, tmp_path: Path, isolated_settings: Path
) -> None:
    backend: Backend = request.getfixturevalue(f"{which}_backend")
    code = write_script(tmp_path / "src", "def init():\n    pass\n\ndef run(d):\n    return 1\n")
    first = backend.start(model_1_spec(model_1, code))
    before = _launcher_pids(isolated_settings), _containers(first.endpoint)
    write_script(code, "import time\n\ndef init():\n    time.sleep(120)\n\ndef run(d):\n    return 2\n")
    script = STARTER.format(
        tests=str(Path(__file__).parents[1]), backend=which, model=str(model_1), code=str(code), verb="update"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        logs = list(isolated_settings.glob("runtime/*/i0/server-*.log"))
        if len(logs) == 2 and all("Invoking user's init" in log.read_text(errors="replace") for log in logs):
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the new server never reached init()")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in out
    status = backend.status("ep", "blue")
    assert status.state == "Running" and status.socket == first.socket
    assert get(first.socket, "/")[0] == 200
    assert (_launcher_pids(isolated_settings), _containers(first.endpoint)) == before
    assert [log.name for log in isolated_settings.glob("runtime/*/i0/server-*.log")] == [
        Path(
            os.readlink(isolated_settings / "runtime" / Path(first.socket).parent.name / "i0" / "server.log")
        ).name
    ]
    backend.stop("ep", "blue")


def _containers(endpoint: str) -> list[str]:
    client = docker.from_env(timeout=60)
    try:
        return sorted(
            c.id for c in client.containers.list(all=True, filters={"label": f"mlep.endpoint={endpoint}"})
        )
    finally:
        client.close()


def _server_log(home: Path) -> str:
    return "".join(path.read_text(errors="replace") for path in home.glob("runtime/*/i0/server.log"))


def test_runtime_imports_without_ipython() -> None:
    code = "import sys, jupyter_mlep.runtime; print(json.dumps(sorted(m for m in sys.modules if 'IPython' in m)))"
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_servers_write_nothing_in_home(
    process_backend: Backend, model_1: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    code = write_script(tmp_path / "src")
    info = process_backend.start(model_1_spec(model_1, code))
    assert get(info.socket)[0] == 200
    process_backend.update(model_1_spec(model_1, code))
    assert sorted(os.listdir(home)) == []
    process_backend.stop("ep", "blue")


def test_an_update_killed_midway_is_cleaned_up_by_the_next(
    process_backend: Backend, model_1: Path, tmp_path: Path, isolated_settings: Path
) -> None:
    code = write_script(tmp_path / "src", "def init():\n    pass\n\ndef run(d):\n    return 1\n")
    first = process_backend.start(model_1_spec(model_1, code))
    running = len(_launcher_pids(isolated_settings))
    write_script(code, "import time\n\ndef init():\n    time.sleep(120)\n\ndef run(d):\n    return 2\n")
    script = STARTER.format(
        tests=str(Path(__file__).parents[1]),
        backend="process",
        model=str(model_1),
        code=str(code),
        verb="update",
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(isolated_settings.glob("runtime/*/i0/server-*.log"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.kill()  # no chance to clean up: the new server stays, listed as pending in the record
    proc.wait(30)
    assert len(_launcher_pids(isolated_settings)) > running
    assert process_backend.status("ep", "blue").socket == first.socket
    write_script(code, "def init():\n    pass\n\ndef run(d):\n    return 3\n")
    info = process_backend.update(model_1_spec(model_1, code))
    assert post_json(info.socket, {}) == (200, 3)
    assert len(_launcher_pids(isolated_settings)) == running
    assert len(list(Path(info.socket).parent.glob("*.sock"))) == 1
    process_backend.stop("ep", "blue")
    assert _launcher_pids(isolated_settings) == []
