"""The one way the tests (and benchmarks) run a local workspace server.

Every server started here is stopped when the context ends, even when the test failed (SIGTERM,
then SIGKILL of its process group), and deployment servers a killed workspace left behind are
stopped through the runtime's own records, so no process outlives the tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_mlep.workspace import WorkspaceInfo, control


def kill_group(pid: int) -> None:
    """SIGTERM the process group ``pid`` leads, then SIGKILL it; return once it is gone (≤ 20 s)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.02)


@contextlib.contextmanager
def running_workspace(home: Path, **start_kwargs: Any) -> Iterator[WorkspaceInfo]:
    """A detached workspace server for ``home`` (in this process's environment); stopped (and its
    process group killed) at exit."""
    started: list[int] = []
    try:
        info = control.start(home, **start_kwargs)
        started.append(info.pid)
        yield info
    finally:
        with contextlib.suppress(Exception):
            control.stop(home, timeout=15)
        for pid in started:
            kill_group(pid)
        _stop_leftover_deployments(home)


@contextlib.contextmanager
def process_workspace(home: Path, envs: Path | None = None, **start_kwargs: Any) -> Iterator[WorkspaceInfo]:
    """A workspace in ``home`` whose deployments run as local processes, with its environment
    variables (``MLEP_HOME``, ``MLEP_RUNTIME=process`` and, given ``envs``, the environment cache
    ``MLEP_ENVS_DIR``) set in this process while it runs, and restored afterwards. ``start_kwargs``
    go to :func:`jupyter_mlep.workspace.control.start` (``tls=True``…)."""
    import pytest  # here: the benchmarks use this module without pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLEP_RUNTIME", "process")
        patch.setenv("MLEP_HOME", str(home))
        if envs is not None:
            patch.setenv("MLEP_ENVS_DIR", str(envs))
        with running_workspace(home, **start_kwargs) as info:
            yield info


def _stop_leftover_deployments(home: Path) -> None:
    """Stop deployment servers a killed workspace left behind (through the runtime's own records)."""
    if not any((home / "runtime").glob("*/state.json")):
        return
    from jupyter_mlep.runtime import RuntimeSettings, get_backend

    settings = RuntimeSettings.from_env({**os.environ, "MLEP_HOME": str(home), "MLEP_RUNTIME": "process"})
    backend = get_backend("process", settings=settings, reporter=None)
    for info in backend.list():
        backend.stop(info.endpoint, info.name)
