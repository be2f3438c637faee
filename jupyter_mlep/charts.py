"""Charts of job metrics (value against step), drawn with matplotlib as PNG images: in a widget,
in a result's HTML and in saved notebooks alike. matplotlib is imported on first use."""

from __future__ import annotations

import base64
import functools
import html
import io
from collections.abc import Mapping, Sequence

__all__ = [
    "chart_img",
    "latency_throughput_png",
    "metric_chart_png",
    "metric_charts_html",
    "parallel_coordinates_png",
    "sparkline_svg",
    "sweep_metric_png",
]

Series = Sequence[tuple[int, float]]


def metric_chart_png(
    key: str, points: Series, *, width: float = 4.0, height: float = 2.6, xlabel: str = "step"
) -> bytes:
    """A line chart of one metric (``points`` are ``(step, value)``; ``xlabel`` names the steps) as
    PNG bytes (the last charts drawn are kept: drawing the same series again costs nothing)."""
    return _chart_png(key, tuple((int(s), float(v)) for s, v in points), width, height, xlabel)


@functools.lru_cache(maxsize=64)
def _chart_png(
    key: str, points: tuple[tuple[int, float], ...], width: float, height: float, xlabel: str = "step"
) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=96)
    figure.subplots_adjust(left=0.16, right=0.97, top=0.88, bottom=0.2)  # fixed: a third of "tight"'s cost
    axes = figure.add_subplot()
    steps = [step for step, _ in points]
    values = [value for _, value in points]
    axes.plot(steps, values, marker="o" if len(points) < 30 else None, markersize=3, linewidth=1.5)
    axes.set_title(key, fontsize=10)
    axes.set_xlabel(xlabel, fontsize=8)
    axes.tick_params(labelsize=8)
    axes.grid(True, alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_img(key: str, png: bytes) -> str:
    """An ``<img class="mlep-metric-chart" alt=KEY>`` showing ``png`` (inline, as a data URL)."""
    data = base64.b64encode(png).decode()
    return f'<img class="mlep-metric-chart" alt="{html.escape(key)}" src="data:image/png;base64,{data}">'


def metric_charts_html(metrics: Mapping[str, Series], *, xlabel: str = "step") -> str:
    """One ``<img>`` per metric with more than one value (a single value is a number, not a chart)."""
    images = [
        chart_img(key, metric_chart_png(key, points, xlabel=xlabel))
        for key, points in metrics.items()
        if len(points) > 1
    ]
    return f"<div>{''.join(images)}</div>" if images else ""


def sparkline_svg(label: str, values: Sequence[float | None], *, width: int = 90, height: int = 18) -> str:
    """A tiny inline SVG line of ``values`` (gaps where None), titled ``label`` and its last value;
    no matplotlib, so a dashboard can draw many on every refresh."""
    known = [v for v in values if v is not None]
    top = max(known) if known else 0.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 1 - (v / top * (height - 2) if top else 0):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
    last = f"{known[-1]:g}" if known else "no data"
    title = html.escape(f"{label}: {last} (max {top:g})" if known else f"{label}: no data")
    line = f'<polyline fill="none" stroke="#1565c0" stroke-width="1.2" points="{points}"/>' if points else ""
    return (
        f'<svg class="mlep-sparkline" width="{width}" height="{height}" role="img" aria-label="{title}">'
        f"<title>{title}</title>{line}</svg>"
    )


def sweep_metric_png(metric: str, series: Mapping[str, Sequence[float]], best: str = "") -> bytes:
    """The primary metric of each trial against its interval (one line per trial; the best trial's
    thicker), as PNG bytes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.0, 3.0), dpi=96)
    figure.subplots_adjust(left=0.14, right=0.97, top=0.88, bottom=0.17)
    axes = figure.add_subplot()
    for trial, values in series.items():
        intervals = list(range(1, len(values) + 1))
        wide = trial == best
        axes.plot(
            intervals,
            list(values),
            marker="o" if len(values) < 30 else None,
            markersize=3,
            linewidth=2.5 if wide else 1.0,
            alpha=1.0 if wide else 0.6,
            label=trial.rsplit("_", 1)[-1] if not wide else f"{trial.rsplit('_', 1)[-1]} (best)",
        )
    axes.set_title(f"{metric} per trial", fontsize=10)
    axes.set_xlabel("interval", fontsize=8)
    axes.tick_params(labelsize=8)
    axes.grid(True, alpha=0.3)
    if 0 < len(series) <= 12:
        axes.legend(fontsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def parallel_coordinates_png(
    names: Sequence[str], rows: Sequence[tuple[Sequence[object], float | None]], metric: str
) -> bytes:
    """Parameters against the metric: one polyline per trial across the parameters' axes (each axis
    scaled to its values; categorical values by their order), coloured by the trial's metric."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    axes_names = [*names, metric]
    columns: list[list[float]] = []
    for index in range(len(axes_names)):
        raw = [row[0][index] if index < len(names) else row[1] for row in rows]
        numbers: list[float] = []
        if all(isinstance(v, (int, float)) or v is None for v in raw):
            numbers = [float(v) if v is not None else float("nan") for v in raw]  # type: ignore[arg-type]
        else:
            order = {v: i for i, v in enumerate(sorted({str(v) for v in raw}))}
            numbers = [float(order[str(v)]) for v in raw]
        finite = [v for v in numbers if v == v]
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        span = (high - low) or 1.0
        columns.append([(v - low) / span for v in numbers])
    figure = Figure(figsize=(5.0, 3.0), dpi=96)
    figure.subplots_adjust(left=0.06, right=0.97, top=0.88, bottom=0.17)
    axes = figure.add_subplot()
    cmap = colormaps["viridis"]
    for trial in range(len(rows)):
        ys = [column[trial] for column in columns]
        shade = ys[-1] if ys[-1] == ys[-1] else 0.0
        axes.plot(range(len(axes_names)), ys, color=cmap(shade), alpha=0.8, linewidth=1.2)
    axes.set_xticks(range(len(axes_names)), axes_names, fontsize=8)
    axes.set_yticks([])
    axes.set_title(f"parameters against {metric}", fontsize=10)
    for x in range(len(axes_names)):
        axes.axvline(x, color="#999", linewidth=0.6)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def latency_throughput_png(
    points: Sequence[tuple[float, Mapping[str, float]]], *, target_ms: float | None = None
) -> bytes:
    """Latency percentiles (ms, one line each: ``{"p50": …, "p95": …}``) against throughput
    (requests per second), one point per load level, with the latency target as a dashed line."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.0, 3.0), dpi=96)
    figure.subplots_adjust(left=0.14, right=0.97, top=0.88, bottom=0.17)
    axes = figure.add_subplot()
    ordered = sorted(points, key=lambda p: p[0])
    names = list(ordered[0][1]) if ordered else []
    for name in names:
        axes.plot(
            [x for x, _ in ordered], [ys[name] for _, ys in ordered], marker="o", markersize=3, label=name
        )
    if target_ms is not None:
        axes.axhline(target_ms, linestyle="--", color="grey", linewidth=1, label="p95 target")
    axes.set_title("Latency against throughput", fontsize=10)
    axes.set_xlabel("throughput (requests/s)", fontsize=8)
    axes.set_ylabel("latency (ms)", fontsize=8)
    axes.tick_params(labelsize=8)
    axes.grid(True, alpha=0.3)
    if names:
        axes.legend(fontsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
