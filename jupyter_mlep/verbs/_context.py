"""What every verb gets: settings (with ``--local``), the notebook's variables, the cell body, a way
to report progress and to display, the display mode, and the shared argument helpers."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import UsageError

if TYPE_CHECKING:
    from ..rest import OperationProgress, RestClient
    from ..settings import Settings
    from ..widgets import DisplayMode

__all__ = ["Context", "parse_split"]


@dataclass
class Context:
    """The caller of a verb: the magic (notebook) or the command line.

    ``mode`` is "interactive" when the verb should show widgets (a live front end), else "static"
    (papermill, nbconvert, terminal IPython, the command line): print text and block.
    ``objects`` are the words of the line that stand for a notebook object (``$payload`` holding a
    dict, see :mod:`._expand`); ``display`` shows a widget (IPython's, given by the magic).
    """

    settings: Callable[..., Settings]
    namespace: Mapping[str, Any] = field(default_factory=dict)
    cell: str | None = None
    say: Callable[[str], None] = print
    magic: bool = True
    mode: DisplayMode = "static"
    objects: Mapping[str, Any] = field(default_factory=dict)
    display: Callable[[Any], None] = print
    _last: dict[str, str] = field(default_factory=dict)

    def value(self, word: Any) -> Any:
        """The notebook object a word of the line stands for (``$payload``), else the word itself."""
        if isinstance(word, str) and word in self.objects:
            return self.objects[word]
        return word

    def client(self, args: argparse.Namespace) -> RestClient:
        """The REST client of the current target (the local workspace with ``--local``)."""
        from ..rest import RestClient

        settings = self.settings(target="local") if getattr(args, "local", False) else self.settings()
        return RestClient.from_settings(settings)

    def progress(self, update: OperationProgress) -> None:
        """Report a long-running operation's state once per change (not on every poll)."""
        name = update.resource.rstrip("/").rsplit("/", 1)[-1]
        if self._last.get(update.resource) != update.status:
            self._last[update.resource] = update.status
            self.say(f"{name}: {update.status} ({update.elapsed:.1f} s)")


def parse_split(pairs: list[str] | None, option: str) -> dict[str, int] | None:
    """``["blue=90", "green=10"]`` as ``{"blue": 90, "green": 10}`` (None when no pairs)."""
    if not pairs:
        return None
    split: dict[str, int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            split[name.strip()] = int(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise UsageError(
                f"{option} {pair!r} is not of the form DEPLOYMENT=PERCENT.", hint=f"Example: {option} blue=90"
            )
    return split
