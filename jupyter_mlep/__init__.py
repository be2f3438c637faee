"""jupyter_mlep: from a trained model in a notebook to a live, scored, safely rolled-out endpoint.

``%load_ext jupyter_mlep`` registers the magics. Everything heavy is imported on first use,
so loading the extension stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import (
    MlepError,
    PlaceholderError,
    ScoreScriptError,
    ScoreTestError,
    SettingsError,
    SpecError,
    SpecValidationError,
    UsageError,
)
from ._version import __version__

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = [
    "MlepError",
    "PlaceholderError",
    "ScoreScriptError",
    "ScoreTestError",
    "SettingsError",
    "SpecError",
    "SpecValidationError",
    "UsageError",
    "__version__",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the jupyter_mlep magics (``%load_ext jupyter_mlep``)."""
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Nothing to undo: IPython keeps registered magics until the kernel restarts."""


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'jupyter_mlep' has no attribute {name!r}")
