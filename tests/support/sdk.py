"""The official Azure ML SDK (``azure-ai-ml``) as a client of a local workspace, for the conformance
suite (``tests/sdk``) and its benchmark: the SDK's own virtual environment (``.sdk-venv``, made by
``scripts/install``), and the scripts of ``tests/sdk/scripts`` run by it against a workspace.

A script prints one JSON line per SDK call (see ``tests/sdk/scripts/sdkcalls.py``);
:func:`run_sdk_script` returns them as :class:`SdkRun`.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlep.workspace import WorkspaceInfo
from jupyter_mlep.workspace.sdk import sdk_variables

from .samples import REPO

SCRIPTS = REPO / "tests" / "sdk" / "scripts"
"""The scripts the SDK's interpreter runs."""


def sdk_python() -> Path:
    """The interpreter of the SDK's environment: ``MLEP_SDK_PYTHON``, else ``.sdk-venv`` of the
    checkout (``scripts/install`` makes it)."""
    configured = os.environ.get("MLEP_SDK_PYTHON")
    return Path(configured) if configured else REPO / ".sdk-venv" / "bin" / "python"


@dataclass
class SdkRun:
    """What one script did: each SDK call's line, its output, and its exit status."""

    script: str
    status: int
    calls: list[dict[str, Any]]
    output: str = field(repr=False)
    done: bool = False

    @property
    def passed(self) -> list[str]:
        """The names of the calls that passed."""
        return [call["call"] for call in self.calls if call["ok"]]

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The lines of the calls that failed."""
        return [call for call in self.calls if not call["ok"]]

    def result(self, name: str) -> Any:
        """The result summary the script printed for the call ``name`` (the first of that name)."""
        for call in self.calls:
            if call["call"] == name:
                return call.get("result")
        raise KeyError(f"{self.script} made no call {name!r}; calls: {[c['call'] for c in self.calls]}")

    def explain(self) -> str:
        """The failed calls and the output's tail, for assertion messages."""
        tail = "\n".join(self.output.splitlines()[-60:])
        return f"{self.script} exited {self.status}; failed: {self.failed}\n{tail}"


def run_sdk_script(
    info: WorkspaceInfo, script: str, arguments: dict[str, Any], *, timeout: float = 900.0
) -> SdkRun:
    """Run ``tests/sdk/scripts/<script>`` with the SDK's interpreter against the workspace ``info``
    (the environment ``jupyter-mlep workspace sdk-env`` prints), with ``arguments`` as JSON."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AZURE", "MLEP_", "REQUESTS_CA", "SSL_CERT"))
    }
    env.update(sdk_variables(info))
    env["PYTHONPATH"] = str(SCRIPTS)
    env["PYTHONUNBUFFERED"] = "1"
    completed = subprocess.run(
        [str(sdk_python()), str(SCRIPTS / script), json.dumps(arguments)],
        env=env,
        cwd=str(SCRIPTS),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    calls: list[dict[str, Any]] = []
    done = False
    output = completed.stdout + completed.stderr
    for line in completed.stdout.splitlines():
        start = line.find('{"call": ')
        if start < 0:
            done = done or line.startswith('{"done": true')
            continue
        calls.append(json.loads(line[start:]))
    return SdkRun(script, completed.returncode, calls, output, done)


def record_calls(name: str, run: SdkRun) -> Path:
    """Keep the calls of one script in ``test-artifacts/sdk/<name>.json`` (the suite's count of SDK
    calls that pass); returns the file."""
    folder = REPO / "test-artifacts" / "sdk"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"passed": run.passed, "failed": run.failed, "status": run.status}, indent=1))
    return path
