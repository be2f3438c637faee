"""Interactive widgets or static text: which one this kernel should show.

``MLEP_WIDGETS`` (or ``%config MlepMagics.widgets``) is ``auto`` (the default), ``interactive``
or ``static``. ``auto`` means widgets in a live front end (JupyterLab, Notebook 7, VS Code) and
static text everywhere else: terminal IPython, plain Python, and kernels run by papermill,
nbconvert or nbclient, whose saved notebooks must show final states, not widget snapshots.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

from .._errors import SettingsError

__all__ = ["DisplayMode", "display_mode"]

DisplayMode = Literal["interactive", "static"]

_BATCH_RUNNERS = ("papermill", "nbconvert", "nbclient", "jupyter-execute")
_LIVE_FRONT_ENDS = ("JPY_SESSION_NAME", "VSCODE_PID", "VSCODE_CWD", "VSCODE_IPC_HOOK_CLI")


def display_mode(setting: str | None = None) -> DisplayMode:
    """The mode to use: ``setting`` (the magics' trait), else ``MLEP_WIDGETS``, else detected."""
    value = (setting or os.environ.get("MLEP_WIDGETS") or "auto").strip().lower()
    if value in ("interactive", "static"):
        return value  # type: ignore[return-value]
    if value != "auto":
        raise SettingsError(
            f"MLEP_WIDGETS / MlepMagics.widgets is {value!r}.",
            hint="Use 'auto', 'interactive' or 'static'.",
        )
    return "interactive" if _in_live_front_end() else "static"


def _in_live_front_end() -> bool:
    if not _in_kernel() or _run_by_batch_runner():
        return False
    return any(os.environ.get(name) for name in _LIVE_FRONT_ENDS)


def _in_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _run_by_batch_runner() -> bool:
    """Whether the kernel's parent process is papermill, nbconvert or nbclient (Linux: /proc)."""
    try:
        command = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    text = command.decode(errors="replace")
    return any(runner in text for runner in _BATCH_RUNNERS)
