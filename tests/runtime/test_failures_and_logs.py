"""More behaviours: a script without run(), socket paths too long, side-by-side deployments, followed logs."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from support.samples import EXPECTED_MODEL_1, model_1_spec, write_script
from support.servers import post_json

from jupyter_mlep._errors import DeploymentStartError, RuntimeBackendError
from jupyter_mlep.runtime import Backend, ProbeSettings, RuntimeSettings, get_backend


def test_script_without_run_fails_clearly(backend: Backend, model_1: Path, tmp_path: Path) -> None:
    code = write_script(tmp_path / "src", "def init():\n    pass\n")
    with pytest.raises(DeploymentStartError) as caught:
        backend.start(model_1_spec(model_1, code))
    assert "exited with code 3" in str(caught.value)
    assert "run" in caught.value.log_tail
    assert backend.status("ep", "blue").state == "Failed"
    backend.stop("ep", "blue")


def test_a_home_too_long_for_socket_paths_is_refused(model_1: Path, tmp_path: Path) -> None:
    code = write_script(tmp_path / "src")
    home = tmp_path / ("h" * 120)
    settings = RuntimeSettings.from_env({**os.environ, "MLEP_HOME": str(home)})
    backend = get_backend("process", settings=settings, reporter=None)
    started = time.monotonic()
    with pytest.raises(RuntimeBackendError, match="longer than the 107 bytes") as caught:
        backend.start(model_1_spec(model_1, code))
    assert "MLEP_HOME" in (caught.value.hint or "")
    assert time.monotonic() - started < 30
    assert [d.state for d in backend.list()] == ["Failed"]
    backend.stop("ep", "blue")
    assert backend.list() == []


def test_never_healthy_gives_up_after_the_probe_deadline(
    process_backend: Backend, model_1: Path, tmp_path: Path
) -> None:
    code = write_script(
        tmp_path / "src", "import time\n\ndef init():\n    time.sleep(60)\n\ndef run(data):\n    return 1\n"
    )
    probe = ProbeSettings(initial_delay=1, period=0.5, timeout=0.5, failure_threshold=4)
    started = time.monotonic()
    with pytest.raises(DeploymentStartError, match=r"did not answer .* within 3 s") as caught:
        process_backend.start(model_1_spec(model_1, code, readiness_probe=probe))
    assert 2.5 < time.monotonic() - started < 20
    assert "Invoking user's init function" in caught.value.log_tail
    assert process_backend.status("ep", "blue").state == "Failed"
    process_backend.stop("ep", "blue")


def test_two_deployments_side_by_side(process_backend: Backend, model_1: Path, tmp_path: Path) -> None:
    blue = process_backend.start(model_1_spec(model_1, write_script(tmp_path / "blue")))
    green_code = write_script(
        tmp_path / "green", "def init():\n    pass\n\ndef run(data):\n    return [0.5, 0.5]\n"
    )
    green = process_backend.start(model_1_spec(model_1, green_code, name="green"))
    assert blue.socket != green.socket
    request = json.loads((model_1 / "sample-request.json").read_text())
    assert post_json(blue.socket, request)[1] == pytest.approx(EXPECTED_MODEL_1)
    assert post_json(green.socket, request)[1] == [0.5, 0.5]
    assert sorted(d.name for d in process_backend.list()) == ["blue", "green"]
    with pytest.raises(RuntimeBackendError, match="already runs"):
        process_backend.start(model_1_spec(model_1, green_code, name="green"))
    process_backend.stop("ep", "green")
    assert post_json(blue.socket, request)[1] == pytest.approx(EXPECTED_MODEL_1)
    process_backend.stop("ep", "blue")


def test_follow_the_server_log(backend: Backend, model_1: Path, tmp_path: Path) -> None:
    code = write_script(
        tmp_path / "src", "def init():\n    pass\n\ndef run(data):\n    print('scored', data)\n    return 1\n"
    )
    info = backend.start(model_1_spec(model_1, code))
    done = threading.Event()
    seen: list[str] = []

    def reader() -> None:
        for line in backend.follow_logs("ep", "blue", lines=0, stop=done.is_set):
            seen.append(line)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(0.3)
    post_json(info.socket, {"marker": 42})
    deadline = time.monotonic() + 10
    while not any("marker" in line for line in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    thread.join(5)
    assert any("scored" in line and "42" in line for line in seen), seen
    storage = backend.logs("ep", "blue", source="storage-initializer")
    assert "model" in storage and "code folder" in storage
    backend.stop("ep", "blue")


@pytest.mark.parametrize(
    ("script", "headline"),
    [
        (
            "import lightgbm\n\ndef init():\n    pass\n\ndef run(data):\n    return 1\n",
            "ModuleNotFoundError: No module named 'lightgbm' (while importing score.py, line 1)",
        ),
        (
            "def load():\n    raise ValueError('expected 4 features')\n\n"
            "def init():\n    load()\n\ndef run(data):\n    return 1\n",
            "ValueError: expected 4 features (raised by init() at score.py, line 2)",
        ),
    ],
    ids=["import", "init"],
)
def test_a_server_that_does_not_start_names_the_real_cause(
    process_backend: Backend, model_1: Path, tmp_path: Path, script: str, headline: str
) -> None:
    code = write_script(tmp_path / "src", script)
    with pytest.raises(DeploymentStartError) as caught:
        process_backend.start(model_1_spec(model_1, code))
    message = caught.value.message
    assert headline in message and "exited with code 3" in message
    assert "init() of the scoring script failed, or it has no run()" not in message
    process_backend.stop("ep", "blue")
