"""The live logs widget against a real deployment whose every request writes a log line: new lines
appear, the filter and pause work, memory stays bounded, the container can be switched, closing
stops the poller, and ``%endpoint logs … --follow`` shows it in interactive mode."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.clients import factory, make_client
from support.displays import WIDGET_MIME, capture_displays
from support.samples import PRINTING_SCRIPT, SampleTree, write_scoring_script
from support.waiting import unique, wait_until, widget_threads

from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import load_deployment
from jupyter_mlep.widgets import LogsWidget
from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="module")
def printing(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[SampleTree]:
    """An endpoint whose deployment ``blue`` logs ``scored: <line>`` for every request."""
    tree = SampleTree(tmp_path_factory.mktemp("logs"), azureml_examples, unique("logs"))
    write_scoring_script(tree, PRINTING_SCRIPT)
    with make_client(workspace) as client:
        ops.deploy(client, load_deployment(tree.blue), traffic=100)
        yield tree
        ops.delete_endpoint(client, tree.endpoint)


@pytest.fixture
def score(workspace: WorkspaceInfo, printing: SampleTree) -> Iterator[Callable[[str], None]]:
    """``score("x")``: one request, which logs ``scored: x``."""
    with make_client(workspace) as client:

        def send(line: str) -> None:
            ops.invoke(client, printing.endpoint, {"line": line})

        yield send


@pytest.fixture
def logs(workspace: WorkspaceInfo, printing: SampleTree) -> Iterator[LogsWidget]:
    widget = LogsWidget(factory(workspace), printing.endpoint, "blue", interval=0.1, max_lines=40)
    yield widget
    widget.close()


def test_new_lines_are_appended(logs: LogsWidget, score: Callable[[str], None]) -> None:
    wait_until(lambda: "Init complete" in logs.text)
    before = len(logs.output.outputs)
    score("first-line")
    wait_until(lambda: "scored: first-line" in logs.text)
    score("second-line")
    wait_until(lambda: "scored: second-line" in logs.text)
    assert logs.text.index("scored: first-line") < logs.text.index("scored: second-line")
    assert len(logs.output.outputs) > before  # appended (append_stdout), not redrawn
    assert logs.text.count("scored: first-line") == 1
    assert "mlep-logs" in logs._dom_classes and logs.following
    logs.stop()
    assert not logs.following and not logs.poller.running
    logs.start()  # starts over from the log's last lines: nothing twice
    wait_until(lambda: "scored: second-line" in logs.text)
    assert logs.text.count("scored: first-line") == 1 and logs.following


def test_filter_and_pause(logs: LogsWidget, score: Callable[[str], None]) -> None:
    score("apple-1")
    wait_until(lambda: "scored: apple-1" in logs.text)
    logs.filter_box.value = "APPLE"  # what typing in the box does; case-insensitive
    assert logs.filter == "APPLE" and "scored: apple-1" in logs.text
    assert all("apple" in line for line in logs.text.strip().splitlines())
    score("pear-1")
    score("apple-2")
    wait_until(lambda: "scored: apple-2" in logs.text)
    assert "pear" not in logs.text

    logs.pause_button.value = True
    assert logs.paused and logs.pause_button.description == "Resume"
    score("apple-3")
    wait_until(lambda: any("apple-3" in line for line in logs.lines))  # read and kept ...
    assert "apple-3" not in logs.text  # ... but not shown while paused
    assert "paused (" in logs.status_line.value
    logs.paused = False
    assert "scored: apple-3" in logs.text
    logs.filter = ""
    assert "scored: pear-1" in logs.text


def test_memory_stays_bounded(logs: LogsWidget, score: Callable[[str], None]) -> None:
    for n in range(120):
        score(f"many-{n}")
    wait_until(lambda: "scored: many-119" in logs.text, timeout=60)
    assert len(logs.lines) <= logs.max_lines == 40
    shown = logs.text.splitlines()
    assert len(shown) <= 60  # the Output is redrawn from the kept lines once it holds 1.5 × max_lines
    assert "scored: many-0" not in logs.lines


def test_container_switch_and_close(
    logs: LogsWidget, workspace: WorkspaceInfo, printing: SampleTree, score: Callable[[str], None]
) -> None:
    score("switch")
    wait_until(lambda: "scored: switch" in logs.text)
    expected = ops.get_logs(
        make_client(workspace), printing.endpoint, "blue", lines=5, container="storage-initializer"
    )
    logs.container_picker.value = "storage-initializer"
    assert logs.container == "storage-initializer"
    wait_until(lambda: expected.strip().splitlines()[-1] in logs.text)
    assert "scored:" not in logs.text
    poller = logs.poller
    assert poller is not None and poller.running
    logs.close()
    assert not poller.running and poller.reason == "stopped"
    assert not widget_threads("mlep-logs")


def test_representations(logs: LogsWidget, score: Callable[[str], None]) -> None:
    score("shown")
    wait_until(lambda: "scored: shown" in logs.text)
    bundle = logs._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", STATUS_MIME, WIDGET_MIME}
    assert bundle["text/plain"].startswith("Logs of deployment blue of ") and "\n" not in bundle["text/plain"]
    assert "scored: shown" in bundle["text/html"]
    status = bundle[STATUS_MIME]
    assert (
        status["kind"] == "logs" and status["deployment"] == "blue" and "scored: shown" in status["content"]
    )


def test_read_errors_show_and_stop_it(workspace: WorkspaceInfo) -> None:
    widget = LogsWidget(factory(workspace), "no-such-endpoint", "blue", interval=0.05)
    wait_until(lambda: not widget.poller.running, timeout=10)
    assert widget.poller.reason == "errors" and not widget.following
    assert widget.status_line.value.startswith("Stopped following after 3 failed reads: ")
    assert "no-such-endpoint" in widget.status_line.value
    widget.close()


@pytest.mark.usefixtures("use_workspace")
def test_follow_magic_shows_the_widget_and_returns(
    mode_ip: Callable[[str], Any], printing: SampleTree, client: RestClient
) -> None:
    ip = mode_ip("interactive")
    with capture_displays() as shown:
        result = ip.run_line_magic("endpoint", f"logs {printing.endpoint} blue --follow --lines 5")
    assert result is None
    (widget,) = shown.widgets(LogsWidget)
    wait_until(lambda: "scored:" in widget.text or "Init complete" in widget.text)
    assert widget.following
    widget.close()
    assert not widget.poller.running


def test_static_follow_prints_new_lines_until_interrupted(
    workspace: WorkspaceInfo, printing: SampleTree, score: Callable[[str], None]
) -> None:
    from jupyter_mlep.widgets._static import follow_text

    printed: list[str] = []

    def say(text: str) -> None:
        printed.append(text)
        if "scored: static-2" in text:
            raise KeyboardInterrupt  # what Ctrl-C does to the waiting cell

    score("static-1")
    with make_client(workspace) as client:
        follower = ops.LogFollower(client, printing.endpoint, "blue", window=50)
        thread = threading.Thread(target=lambda: (time.sleep(0.5), score("static-2")), daemon=True)
        thread.start()
        follow_text(follower, say, lines=3, interval=0.1)  # returns on the interrupt
        thread.join()
    assert len(printed[0].splitlines()) == 3 and "scored: static-1" in printed[0]
    assert "scored: static-2" in printed[-1] and "static-1" not in "".join(printed[1:])


def test_new_lines_are_found_after_the_overlap() -> None:
    from jupyter_mlep.operations._deployments import _overlap

    seen = ["a", "b", "c", "d"]
    assert _overlap(seen, ["c", "d", "e", "f"]) == 2  # the window moved by two lines
    assert _overlap(seen, ["a", "b", "c", "d"]) == 4  # nothing new
    assert _overlap(seen, ["x", "y"]) == 0  # all new (the log was replaced)
    assert _overlap(["a", "b"], ["a", "b", "c"]) == 2  # a log shorter than the window grew


@pytest.mark.usefixtures("use_workspace")
def test_static_follow_prints_the_tail_and_returns(
    mode_ip: Callable[[str], Any],
    printing: SampleTree,
    score: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """papermill, nbconvert, terminal IPython: no widget, and the cell must end."""
    ip = mode_ip("static")
    score("bounded-1")
    started = time.monotonic()
    result = ip.run_line_magic("endpoint", f"logs {printing.endpoint} blue --follow --lines 5")
    assert result is None and time.monotonic() - started < 10
    printed = capsys.readouterr().out
    assert "scored: bounded-1" in printed and "--follow-for" in printed


@pytest.mark.usefixtures("use_workspace")
def test_static_follow_for_a_duration_prints_new_lines_then_returns(
    mode_ip: Callable[[str], Any],
    printing: SampleTree,
    score: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ip = mode_ip("static")
    thread = threading.Thread(target=lambda: (time.sleep(0.5), score("bounded-2")), daemon=True)
    started = time.monotonic()
    thread.start()
    ip.run_line_magic("endpoint", f"logs {printing.endpoint} blue --follow --follow-for 2s --lines 1")
    elapsed = time.monotonic() - started
    thread.join()
    assert 2.0 <= elapsed < 10
    assert "scored: bounded-2" in capsys.readouterr().out


def test_cli_follow_for_returns(
    workspace_home: Path, printing: SampleTree, score: Callable[[str], None]
) -> None:
    """The command line follows until Ctrl-C, or for --follow-for."""
    score("bounded-cli")
    env = {**os.environ, "MLEP_HOME": str(workspace_home)}
    command = [str(Path(sys.executable).with_name("jupyter-mlep")), "endpoint", "logs", printing.endpoint]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "blue", "--follow-for", "1s", "--lines", "20"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "scored: bounded-cli" in done.stdout + done.stderr and time.monotonic() - started < 30
