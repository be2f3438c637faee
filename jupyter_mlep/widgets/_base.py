"""What every jupyter_mlep widget shows where widgets cannot render (saved notebooks, GitHub,
nbconvert, terminal IPython): a one-line text, static HTML and the status output."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..rendering import STATUS_MIME

__all__ = ["FallbackBox"]


class FallbackBox(widgets.VBox):  # type: ignore[misc]
    """A VBox whose display bundle also carries ``repr(self)`` as ``text/plain``, :meth:`to_html`
    as ``text/html`` and :meth:`to_status` as the status output, all from the current state."""

    def to_html(self) -> str:
        """Static HTML of the current state."""
        raise NotImplementedError

    def to_status(self) -> dict[str, Any]:
        """The status output (``application/vnd.jupyter-mlep.status+json``) of the current state."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super()._repr_mimebundle_(**kwargs) or {}
        data.update({"text/plain": repr(self), "text/html": self.to_html(), STATUS_MIME: self.to_status()})
        return data
