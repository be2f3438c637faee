"""What an IPython cell displayed: every published bundle (updates included), widgets, stdout.

ipywidgets work without a front end: their comms are dummies, trait changes still happen and
``Output.outputs`` still fills. Nothing of ours is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlep.rendering import STATUS_MIME

__all__ = ["STATUS_MIME", "WIDGET_MIME", "Displayed", "capture_displays"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


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
