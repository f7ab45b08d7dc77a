"""A self-contained HTML performance report: one file, inline CSS, inline SVG charts and a few
lines of inline JavaScript, no external resource of any kind, so it opens offline anywhere.

The script only marks the page once the browser has laid the charts out (each series path gets
its rendered size in ``data-rendered-width``/``-height`` and ``<body data-rendered>`` the count of
rendered charts): a headless browser's DOM dump then shows that the charts really rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

import numpy as np

from projections.performance import PerformanceReport, drawdown_curve
from projections.performance_inputs import EquityCurve
from reports.format import COLUMNS, NONE, fmt_duration, fmt_money, fmt_pct, fmt_ratio, fmt_value
from reports.svg import Series, bar_chart, line_chart
from reports.table import metric_rows

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; } tr.section td { background: #fafafa; font-weight: bold; }
.chart { display: block; margin: 8px 0; max-width: 100%; height: auto; }
.plot-area { fill: #fcfcfc; stroke: #ccc; } .grid { stroke: #eee; }
.axis, .legend { font-size: 11px; fill: #555; } .chart-title { font-size: 13px; font-weight: 600; }
.caption { color: #666; font-size: 12px; } .scroll { overflow-x: auto; }
"""

SCRIPT = """
window.addEventListener('load', function () {
  var rendered = 0;
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var marks = svg.querySelectorAll('path.series, rect.bar');
    var drawn = 0;
    marks.forEach(function (el) {
      var box = el.getBBox();
      el.setAttribute('data-rendered-width', box.width.toFixed(1));
      el.setAttribute('data-rendered-height', box.height.toFixed(1));
      if (box.width > 0 || box.height > 0) { drawn += 1; }
    });
    if (marks.length && drawn === marks.length) { rendered += 1; }
  });
  document.body.setAttribute('data-rendered', String(rendered));
});
"""


def _metrics_table(metrics: PerformanceReport) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label, _ in COLUMNS)
    rows = [f"<tr><th>Group</th>{head}</tr>"]
    previous = None
    for dim, name, group in metric_rows(metrics):
        if dim != previous and dim != "total":
            rows.append(f'<tr class="section"><td colspan="{len(COLUMNS) + 1}">{dim}</td></tr>')
        previous = dim
        cells = "".join(
            f"<td>{escape(fmt_value(kind, getattr(group, field)))}</td>"
            for field, _, kind in COLUMNS
        )
        rows.append(f"<tr><td>{escape(name)}</td>{cells}</tr>")
    return f'<div class="scroll"><table id="metrics">{"".join(rows)}</table></div>'


def _correlation_table(metrics: PerformanceReport) -> str:
    corr = metrics.correlation
    if corr is None or not corr.names:
        return ""
    head = "".join(f"<th>{escape(n)}</th>" for n in corr.names)
    rows = [f"<tr><th></th>{head}</tr>"]
    for name, row in zip(corr.names, corr.values, strict=True):
        cells = []
        for value in row:
            if value is None:
                cells.append(f"<td>{NONE}</td>")
                continue
            shade = int(255 - 120 * abs(value))
            color = f"rgb(255,{shade},{shade})" if value >= 0 else f"rgb({shade},{shade},255)"
            cells.append(f'<td style="background:{color}">{value:.2f}</td>')
        rows.append(f"<tr><th>{escape(name)}</th>{''.join(cells)}</tr>")
    return (
        "<h2>Correlation of strategies' returns</h2>"
        f'<table id="correlation">{"".join(rows)}</table>'
    )


def _normalised(curve: EquityCurve) -> np.ndarray:
    start = curve.equity[0] if len(curve) and curve.equity[0] != 0 else 1.0
    return (curve.equity / start - 1.0) * 100.0


def render_html(
    metrics: PerformanceReport,
    equity: EquityCurve | None,
    drawdown: EquityCurve | None = None,
    per_strategy: Mapping[str, EquityCurve] | None = None,
    title: str = "Tapeline performance report",
) -> str:
    """The report as one HTML string (see ``write_html_report``)."""
    total = metrics.total
    if drawdown is None and equity is not None:
        drawdown = drawdown_curve(equity)
    charts = []
    if equity is not None:
        charts.append(
            line_chart(
                "Equity", [Series("equity", equity.ts_ns, equity.equity)], chart_id="equity-chart"
            )
        )
    if drawdown is not None:
        charts.append(
            line_chart(
                "Drawdown",
                [Series("drawdown", drawdown.ts_ns, drawdown.equity * 100.0)],
                y_fmt=lambda v: f"{v:.1f}%",
                area=True,
                chart_id="drawdown-chart",
            )
        )
    curves = dict(sorted((per_strategy or {}).items()))
    if curves:
        charts.append(
            line_chart(
                "Per-strategy return (%)",
                [Series(n, c.ts_ns, _normalised(c)) for n, c in curves.items() if len(c)],
                y_fmt=lambda v: f"{v:.1f}%",
                chart_id="strategy-chart",
            )
        )
    if metrics.by_strategy:
        names = list(metrics.by_strategy)
        charts.append(
            bar_chart(
                "Net P&L per strategy",
                names,
                [metrics.by_strategy[n].net_pnl for n in names],
                chart_id="strategy-pnl-chart",
            )
        )
    ann = metrics.annualization
    summary = (
        f"Net P&L {fmt_money(total.net_pnl)} · return {fmt_pct(total.total_return)} · "
        f"Sharpe {fmt_ratio(total.sharpe)} · max drawdown {fmt_pct(total.max_drawdown_pct)} "
        f"over {fmt_duration(total.max_drawdown_duration_ns)}"
    )
    caption = (
        f"Annualised with {ann.periods_per_year:,.0f} bars a year ({fmt_duration(ann.interval_ns)}"
        f" bars, {ann.days_per_year:g}-day years), risk-free rate {ann.risk_free_rate * 100:g}%."
        f" {NONE} marks a metric that is undefined (no trades, no variation, ...)."
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(summary)}</p>"
        f"{''.join(charts)}<h2>Metrics</h2>{_metrics_table(metrics)}"
        f'<p class="caption">{escape(caption)}</p>{_correlation_table(metrics)}'
        f"<script>{SCRIPT}</script></body></html>"
    )


def write_html_report(
    path: str | Path,
    metrics: PerformanceReport,
    equity: EquityCurve | None,
    drawdown: EquityCurve | None = None,
    per_strategy: Mapping[str, EquityCurve] | None = None,
    title: str = "Tapeline performance report",
) -> Path:
    """Write the self-contained report to ``path``; ``drawdown`` (fractions <= 0) defaults to the
    drawdown of ``equity``. Returns the path written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(metrics, equity, drawdown, per_strategy, title), "utf-8")
    return target
