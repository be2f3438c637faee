"""The exceptions jupyter_mlep raises.

Every error says what went wrong and how to fix it. In a notebook only that short
message is shown (``_render_traceback_``), never a traceback of our own code.

Exception tree::

    MlepError
    ├── UsageError               a magic or command was called with wrong arguments
    ├── SettingsError            a setting, config.json or environment variable is invalid
    ├── SpecError                an Azure ML YAML file or spec object is invalid
    │   ├── PlaceholderError     a YAML file still holds a {{PLACEHOLDER}} template
    │   └── SpecValidationError  a value breaks a rule the service enforces
    └── ScoreScriptError         a scoring script breaks the Azure ML inference server contract
        └── ScoreTestError       init() or run() failed while smoke-testing a scoring script
"""

from __future__ import annotations

__all__ = [
    "MlepError",
    "PlaceholderError",
    "ScoreScriptError",
    "ScoreTestError",
    "SettingsError",
    "SpecError",
    "SpecValidationError",
    "UsageError",
]


class MlepError(Exception):
    """Base class of every error raised by jupyter_mlep.

    ``message`` says what went wrong; ``hint`` (optional) says how to fix it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message

    def _render_traceback_(self) -> list[str]:
        """IPython hook: show the short message instead of a traceback."""
        return [f"{type(self).__name__}: {self}"]


class UsageError(MlepError):
    """Raised when a magic or command is called with missing or wrong arguments."""


class SettingsError(MlepError):
    """Raised when a setting, a config.json file or an environment variable is invalid."""


class SpecError(MlepError):
    """Raised when an Azure ML YAML file (or a spec built from flags) cannot be read."""


class PlaceholderError(SpecError):
    """Raised when a YAML file still holds a ``{{PLACEHOLDER}}`` that must be filled in first."""


class SpecValidationError(SpecError):
    """Raised when a spec breaks a rule the service enforces (names, traffic, counts, required fields)."""


class ScoreScriptError(MlepError):
    """Raised when a scoring script breaks the contract of the Azure ML inference server."""


class ScoreTestError(ScoreScriptError):
    """Raised when ``init()`` or ``run()`` fails while smoke-testing a scoring script.

    ``user_traceback`` holds the script's own traceback (frames of jupyter_mlep removed),
    ``output`` what the script printed.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        user_traceback: str = "",
        output: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.user_traceback = user_traceback
        self.output = output

    def __str__(self) -> str:
        parts = [self.message]
        if self.output:
            parts.append("The script printed:\n" + self.output.rstrip())
        if self.user_traceback:
            parts.append(self.user_traceback.rstrip())
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)
