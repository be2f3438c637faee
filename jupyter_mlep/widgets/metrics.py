"""The metrics widget: ``%endpoint metrics`` in a live front end.

The table and charts of a :class:`~jupyter_mlep.operations.MetricsResult`, read again every
``refresh`` seconds by a :class:`Poller` while the widget is open (closing it stops the poller).
Where widgets do not render (papermill, nbconvert, saved notebooks) the verb returns the result
itself, whose HTML carries the charts as images.

DOM contract: the container has class ``mlep-metrics``; the body ``mlep-metrics-body``.
"""

from __future__ import annotations

import html as _html
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..operations import MetricsResult
from ._base import FallbackBox
from ._client import ClientHolder, ClientSource
from ._poller import Poller

__all__ = ["MetricsWidget"]


class MetricsWidget(FallbackBox):
    """Live metrics of an endpoint or deployment.

    Parameters: ``client`` (a client, borrowed, or a factory the widget closes with itself),
    ``read`` (reads a :class:`MetricsResult` with a client: the verb's query), ``refresh``
    (seconds between reads). The first read happens at once, so a wrong name raises here.
    """

    def __init__(
        self, client: ClientSource, read: Callable[[Any], MetricsResult], *, refresh: float = 15.0
    ) -> None:
        self._clients = ClientHolder(client)
        self._read = read
        try:
            self.result = read(self._clients.client)
        except BaseException:
            self._clients.close()
            raise
        self.refreshed_at = time.time()
        self.error: str | None = None
        self.body = widgets.HTML()
        self.body.add_class("mlep-metrics-body")
        self.status_line = widgets.HTML()
        super().__init__(children=[self.body, self.status_line])
        self.add_class("mlep-metrics")
        self._draw()
        self.poller = Poller(
            self._poll,
            interval=refresh,
            on_error=self._failed,
            on_done=self._clients.close,
            name="mlep-metrics",
        )
        self.poller.start()

    def _poll(self) -> bool:
        self.result = self._read(self._clients.client)
        self.refreshed_at = time.time()
        self.error = None
        self._draw()
        return False

    def _failed(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        self.status_line.value = f'<span style="color:#c62828">{_html.escape(self.error)}</span>'

    def _draw(self) -> None:
        self.body.value = self.result.html()
        when = time.strftime("%H:%M:%S", time.localtime(self.refreshed_at))
        self.status_line.value = f"Refreshed at {when}; every {self.poller_interval:g} s while open."

    @property
    def poller_interval(self) -> float:
        """Seconds between reads."""
        poller = getattr(self, "poller", None)
        return float(poller.interval) if poller is not None else 0.0

    def close(self) -> None:
        """Stop reading and close the widget (and the client it made)."""
        poller = getattr(self, "poller", None)
        if poller is not None:
            poller.stop()
        super().close()

    def __repr__(self) -> str:
        return self.result.title()

    def to_html(self) -> str:
        return self.result.html()

    def to_status(self) -> dict[str, Any]:
        return {**self.result.status_payload(), "widget": "metrics"}
