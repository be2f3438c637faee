"""The profile widget: ``%endpoint profile`` while it runs, in a live front end.

A progress bar over the load levels, a line with the current level's requests, throughput and
latency so far (updated about once a second from the load generator), and the chart of latency
against throughput, which gains a point as each level ends. The verb returns the
:class:`~jupyter_mlep.operations.ProfileResult` when the run is over.

DOM contract: the container has class ``mlep-profile``; the line ``mlep-profile-line``; the
chart ``mlep-profile-chart``.
"""

from __future__ import annotations

import html as _html
import threading
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ..operations import ProfileResult
from ..operations._profile_result import latency_summary
from ..rest import Shot
from ._base import FallbackBox

__all__ = ["ProfileWidget"]


class ProfileWidget(FallbackBox):
    """Progress of a profile. Parameters: ``title`` (what is profiled), ``levels`` (the labels of
    the load levels, in order), ``target_p95_ms`` (drawn on the chart; None: no line)."""

    def __init__(self, title: str, levels: Sequence[str], target_p95_ms: float | None = None) -> None:
        self.title = title
        self.levels = list(levels)
        self.target_p95_ms = target_p95_ms
        self.points: dict[str, tuple[float, dict[str, float]]] = {}
        self.current = ""
        self._lock = threading.Lock()
        self.bar = widgets.FloatProgress(min=0.0, max=float(max(len(self.levels), 1)), description="profile")
        self.line = widgets.HTML()
        self.line.add_class("mlep-profile-line")
        self.chart = widgets.Image(format="png")
        self.chart.add_class("mlep-profile-chart")
        super().__init__(
            children=[widgets.HTML(f"<b>{_html.escape(title)}</b>"), self.bar, self.line, self.chart]
        )
        self.add_class("mlep-profile")

    def update(self, label: str, seconds: float, duration: float, shots: Sequence[Shot]) -> None:
        """The load generator's report for level ``label`` (called from its thread)."""
        answered = [s.latency * 1000 for s in shots if s.status]
        summary = latency_summary(answered)
        throughput = len(answered) / seconds if seconds > 0 else 0.0
        with self._lock:
            redraw = bool(self.current and label != self.current)
            self.current = label
            if summary:
                self.points[label] = (throughput, {k: summary[k] for k in ("p50", "p95", "p99")})
        index = self.levels.index(label) if label in self.levels else 0
        self.bar.value = index + min(seconds / duration, 1.0) if duration > 0 else float(index)
        p50 = f"{summary['p50']:.1f}" if summary else "-"
        p95 = f"{summary['p95']:.1f}" if summary else "-"
        self.line.value = _html.escape(
            f"{label}: {len(shots)} requests, {throughput:.1f} req/s, p50 {p50} ms, p95 {p95} ms ({seconds:.0f} s)"
        )
        if redraw:
            self._draw()

    def finish(self, result: ProfileResult) -> None:
        """Show the final chart and the recommendation."""
        self.bar.value = self.bar.max
        png = result.chart_png()
        if png:
            self.chart.value = png
        rec = result.recommendation
        self.line.value = _html.escape(rec.summary if rec else "Profile complete.")

    def _draw(self) -> None:
        from ..charts import latency_throughput_png

        with self._lock:
            done = [point for label, point in self.points.items() if label != self.current]
        if done:
            self.chart.value = latency_throughput_png(done, target_ms=self.target_p95_ms)

    def __repr__(self) -> str:
        return f"{self.title}: {self.line.value or 'starting'}"

    def to_html(self) -> str:
        return f"<div><b>{_html.escape(self.title)}</b><div>{self.line.value}</div></div>"

    def to_status(self) -> dict[str, Any]:
        return {
            "kind": "profile-progress",
            "title": self.title,
            "levels": self.levels,
            "current": self.current,
            "points": {label: {"throughput": x, **ys} for label, (x, ys) in self.points.items()},
        }
