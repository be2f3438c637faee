"""Charts of job metrics (value against step), drawn with matplotlib as PNG images: in a widget,
in a result's HTML and in saved notebooks alike. matplotlib is imported on first use."""

from __future__ import annotations

import base64
import functools
import html
import io
from collections.abc import Mapping, Sequence

__all__ = ["chart_img", "metric_chart_png", "metric_charts_html"]

Series = Sequence[tuple[int, float]]


def metric_chart_png(key: str, points: Series, *, width: float = 4.0, height: float = 2.6) -> bytes:
    """A line chart of one metric (``points`` are ``(step, value)``) as PNG bytes (the last charts
    drawn are kept: drawing the same series again costs nothing)."""
    return _chart_png(key, tuple((int(s), float(v)) for s, v in points), width, height)


@functools.lru_cache(maxsize=64)
def _chart_png(key: str, points: tuple[tuple[int, float], ...], width: float, height: float) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=96)
    figure.subplots_adjust(left=0.16, right=0.97, top=0.88, bottom=0.2)  # fixed: a third of "tight"'s cost
    axes = figure.add_subplot()
    steps = [step for step, _ in points]
    values = [value for _, value in points]
    axes.plot(steps, values, marker="o" if len(points) < 30 else None, markersize=3, linewidth=1.5)
    axes.set_title(key, fontsize=10)
    axes.set_xlabel("step", fontsize=8)
    axes.tick_params(labelsize=8)
    axes.grid(True, alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_img(key: str, png: bytes) -> str:
    """An ``<img class="mlep-metric-chart" alt=KEY>`` showing ``png`` (inline, as a data URL)."""
    data = base64.b64encode(png).decode()
    return f'<img class="mlep-metric-chart" alt="{html.escape(key)}" src="data:image/png;base64,{data}">'


def metric_charts_html(metrics: Mapping[str, Series]) -> str:
    """One ``<img>`` per metric with more than one value (a single value is a number, not a chart)."""
    images = [
        chart_img(key, metric_chart_png(key, points)) for key, points in metrics.items() if len(points) > 1
    ]
    return f"<div>{''.join(images)}</div>" if images else ""
