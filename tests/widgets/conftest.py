"""Shared by the widget tests: the operations tests' real local workspace (process runtime), an
IPython shell in a chosen display mode, what a cell displayed (widgets included), waiting.

ipywidgets work without a front end: their comms are dummies, trait changes still happen and
``Output.outputs`` still fills. Nothing of ours is mocked.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from operations.conftest import (  # noqa: F401  (fixtures re-used in this package)
    EXPECTED_MODEL_1,
    SampleTree,
    client,
    make_client,
    use_workspace,
)
from workspace.conftest import running_workspace

from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo

__all__ = [
    "EXPECTED_MODEL_1",
    "PRINTING_SCRIPT",
    "STATUS_MIME",
    "WIDGET_MIME",
    "Displayed",
    "SampleTree",
    "capture_displays",
    "factory",
    "make_client",
    "mode_ip",
    "unique",
    "wait_until",
    "widget_threads",
    "write_scoring_script",
]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

PRINTING_SCRIPT = """\
import json


def init():
    print("Init complete")


def run(raw_data):
    print("scored:", json.loads(raw_data).get("line"))
    return {"ok": True}
"""
"""A scoring script whose every request writes one log line (``scored: <line>``)."""


@pytest.fixture(scope="package")
def ops_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MLEP_HOME of this package's workspace."""
    return tmp_path_factory.mktemp("widgets-home")


@pytest.fixture(scope="package")
def workspace(ops_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceInfo]:
    """A workspace whose deployments run as local processes; environments cached in
    ``<basetemp>/widget-envs`` (shared with the other widget modules of the session)."""
    envs = tmp_path_factory.getbasetemp() / "widget-envs"
    envs.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLEP_RUNTIME", "process")
        patch.setenv("MLEP_ENVS_DIR", str(envs))
        patch.setenv("MLEP_HOME", str(ops_home))
        with running_workspace(ops_home) as info:
            yield info


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it is truthy (its value is returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


def widget_threads(prefix: str = "mlep-") -> list[threading.Thread]:
    """The pollers' threads alive now."""
    return [t for t in threading.enumerate() if t.name.startswith(prefix) and t.is_alive()]


@dataclass
class Displayed:
    """What a cell displayed: every published bundle (updates included) and stdout."""

    outputs: list[Any] = field(default_factory=list)
    stdout: str = ""

    def bundles(self) -> list[dict[str, Any]]:
        return [dict(o.data) for o in self.outputs]

    def widgets(self, kind: type | None = None) -> list[Any]:
        """The widgets displayed (found by their model id; each once), of ``kind`` if given."""
        from ipywidgets.widgets.widget import _instances

        found = []
        for data in self.bundles():
            view = data.get(WIDGET_MIME)
            if view and view["model_id"] in _instances:
                widget = _instances[view["model_id"]]
                if (kind is None or isinstance(widget, kind)) and widget not in found:
                    found.append(widget)
        return found


@contextmanager
def capture_displays() -> Iterator[Displayed]:
    """Capture the displays (and stdout) of the current IPython shell."""
    from IPython.utils.capture import capture_output

    shown = Displayed()
    with capture_output(stderr=False) as captured:
        try:
            yield shown
        finally:
            shown.outputs = list(captured.outputs)
            shown.stdout = captured.stdout
    shown.outputs = list(captured.outputs)
    shown.stdout = captured.stdout


@pytest.fixture
def mode_ip(ip: Any) -> Callable[[str], Any]:
    """``mode_ip("interactive")``: the test shell with ``%config MlepMagics.widgets`` set."""

    def set_mode(mode: str) -> Any:
        ip.run_line_magic("config", f"MlepMagics.widgets = {mode!r}")
        return ip

    return set_mode


def factory(info: WorkspaceInfo) -> Callable[[], RestClient]:
    """A client factory for widgets (they close the clients they make)."""
    return lambda: make_client(info)


def unique(prefix: str) -> str:
    """A unique endpoint name."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def write_scoring_script(tree: SampleTree, script: str, model: str = "model-1") -> Path:
    """Replace the scoring script of one of the sample's code folders."""
    path = tree.sample.parents[1] / model / "onlinescoring" / "score.py"
    path.write_text(script)
    return path
