"""Inline SVG charts (line, area, bar) generated in Python: the HTML report needs no library,
no CDN and no network to draw them.

Long series are reduced per pixel column to (first, min, max, last), vectorised, so a chart of
millions of points stays a few kilobytes and still shows every spike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from reports.format import fmt_time

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 30, 40


@dataclass(frozen=True)
class Series:
    name: str
    ts_ns: np.ndarray
    values: np.ndarray


def reduce_points(ts: np.ndarray, values: np.ndarray, columns: int) -> tuple[np.ndarray, ...]:
    """At most four points per pixel column: first, min, max and last of the column."""
    if len(ts) <= 4 * columns:
        return ts.astype(np.float64), values
    span = max(int(ts[-1] - ts[0]), 1)
    bucket = ((ts - ts[0]) * (columns - 1) // span).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(ts)] - 1
    lo = np.minimum.reduceat(values, starts)
    hi = np.maximum.reduceat(values, starts)
    x = np.repeat(ts[starts].astype(np.float64), 4)
    y = np.column_stack([values[starts], lo, hi, values[ends]]).ravel()
    x[3::4] = ts[ends]
    return x, y


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    return [float(v) for v in np.linspace(lo, hi, count)]


def _frame(title: str, y_lo: float, y_hi: float, t0: int, t1: int, y_fmt: Callable) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<text x="{LEFT}" y="18" class="chart-title">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot-area"/>',
    ]
    for value in _ticks(y_lo, y_hi):
        y = TOP + plot_h * (1 - (value - y_lo) / (y_hi - y_lo)) if y_hi > y_lo else TOP + plot_h / 2
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{escape(y_fmt(value))}</text>"
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 12}" class="axis">{fmt_time(t0)} UTC</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" class="axis" text-anchor="end">'
        f"{fmt_time(t1)} UTC</text>"
    )
    return parts


def line_chart(
    title: str,
    series: Sequence[Series],
    y_fmt: Callable[[float], str] = lambda v: f"{v:,.2f}",
    area: bool = False,
    chart_id: str = "chart",
) -> str:
    """An SVG line chart (or area chart filled down to zero) of one or more time series."""
    drawn = [s for s in series if len(s.ts_ns)]
    if not drawn:
        return f'<p class="empty" id="{escape(chart_id)}">{escape(title)}: no data</p>'
    t0 = min(int(s.ts_ns[0]) for s in drawn)
    t1 = max(int(s.ts_ns[-1]) for s in drawn)
    y_lo = min(float(np.min(s.values)) for s in drawn)
    y_hi = max(float(np.max(s.values)) for s in drawn)
    if area:
        y_lo, y_hi = min(y_lo, 0.0), max(y_hi, 0.0)
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - 1.0, y_hi + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, y_lo, y_hi, t0, t1, y_fmt)
    for i, s in enumerate(drawn):
        xs, ys = reduce_points(s.ts_ns, s.values, plot_w)
        px = LEFT + (xs - t0) / max(t1 - t0, 1) * plot_w
        py = TOP + (1 - (ys - y_lo) / (y_hi - y_lo)) * plot_h
        coords = " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py, strict=True))
        color = PALETTE[i % len(PALETTE)]
        if area:
            zero = TOP + (1 - (0.0 - y_lo) / (y_hi - y_lo)) * plot_h
            d = f"M{px[0]:.1f},{zero:.1f} L{coords} L{px[-1]:.1f},{zero:.1f} Z"
            style = f'fill="{color}" fill-opacity="0.35" stroke="{color}"'
        else:
            d = f"M{coords}"
            style = f'fill="none" stroke="{color}"'
        parts.append(
            f'<path class="series" d="{d}" {style} stroke-width="1.5" '
            f'data-series="{escape(s.name)}" data-points="{len(s.ts_ns)}"/>'
        )
    if len(drawn) > 1:
        for i, s in enumerate(drawn):
            x = LEFT + 10 + (i % 6) * 140
            y = TOP + 14 + (i // 6) * 16
            parts.append(
                f'<rect x="{x}" y="{y - 9}" width="10" height="10" '
                f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                f'<text x="{x + 14}" y="{y}" class="legend">{escape(s.name)}</text>'
            )
    return _svg(chart_id, title, parts)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    y_fmt: Callable[[float], str] = lambda v: f"{v:,.2f}",
    chart_id: str = "bars",
) -> str:
    """An SVG bar chart, bars rising from zero (negative bars point down)."""
    if not labels:
        return f'<p class="empty" id="{escape(chart_id)}">{escape(title)}: no data</p>'
    vals = np.asarray(values, dtype=np.float64)
    vals = np.where(np.isfinite(vals), vals, 0.0)
    y_lo, y_hi = min(float(vals.min()), 0.0), max(float(vals.max()), 0.0)
    if y_hi == y_lo:
        y_hi = y_lo + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<text x="{LEFT}" y="18" class="chart-title">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot-area"/>',
    ]
    for value in _ticks(y_lo, y_hi):
        y = TOP + plot_h * (1 - (value - y_lo) / (y_hi - y_lo))
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{escape(y_fmt(value))}</text>"
        )
    slot = plot_w / len(labels)
    zero = TOP + (1 - (0.0 - y_lo) / (y_hi - y_lo)) * plot_h
    for i, (label, value) in enumerate(zip(labels, vals, strict=True)):
        top = TOP + (1 - (value - y_lo) / (y_hi - y_lo)) * plot_h
        x = LEFT + i * slot + slot * 0.15
        color = PALETTE[0] if value >= 0 else PALETTE[1]
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{min(top, zero):.1f}" width="{slot * 0.7:.1f}" '
            f'height="{max(abs(zero - top), 1.0):.1f}" fill="{color}" '
            f'data-label="{escape(label)}" data-value="{value:.6g}"/>'
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - 12}" class="axis" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return _svg(chart_id, title, parts)


def _svg(chart_id: str, title: str, parts: list[str]) -> str:
    body = "".join(parts)
    return (
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">{body}</svg>'
    )
