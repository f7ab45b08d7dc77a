"""The performance metrics as a rich table for the terminal (``tapeline report``)."""

from __future__ import annotations

from rich.table import Table

from projections.performance import GroupMetrics, PerformanceReport
from reports.format import COLUMNS, fmt_duration, fmt_value


def metric_rows(metrics: PerformanceReport) -> list[tuple[str, str, GroupMetrics]]:
    """(dimension, group name, metrics): the total first, then strategies, instruments, venues."""
    rows = [("total", "all", metrics.total)]
    for dim in ("strategy", "instrument", "venue"):
        rows.extend((dim, name, group) for name, group in metrics.groups(dim).items())
    return rows


def render_table(metrics: PerformanceReport, title: str = "Performance") -> Table:
    """One row per group, one column per metric; print it with ``rich.console.Console``."""
    ann = metrics.annualization
    caption = (
        f"annualised over {ann.periods_per_year:,.0f} bars a year "
        f"({fmt_duration(ann.interval_ns)} bars, {ann.days_per_year:g} days), "
        f"risk-free {ann.risk_free_rate * 100:g}%; — means undefined"
    )
    table = Table(title=title, caption=caption, header_style="bold", show_lines=False)
    table.add_column("Group", style="cyan", no_wrap=True)
    for _, label, _ in COLUMNS:
        table.add_column(label, justify="right")
    previous = None
    for dim, name, group in metric_rows(metrics):
        if previous is not None and dim != previous:
            table.add_section()
        previous = dim
        cells = [fmt_value(kind, getattr(group, field)) for field, _, kind in COLUMNS]
        table.add_row(name if dim == "total" else f"{dim}: {name}", *cells)
    return table
