"""The terminal table shows every group and formats undefined and infinite values plainly."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from projections.performance import compute_performance
from projections.performance_inputs import TradeLog
from reports import render_table
from reports.format import fmt_duration, fmt_value


def rendered(table) -> str:
    console = Console(width=400, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_table_lists_the_total_and_every_group(book) -> None:
    text = rendered(render_table(book.metrics))
    for name in ("all", "strategy: breakout", "instrument: ETH-USDT", "venue: paper"):
        assert name in text
    assert "Sharpe" in text and "Max DD %" in text
    assert f"{book.metrics.total.trades:,}" in text
    assert fmt_value("ratio", book.metrics.total.sharpe) in text
    assert "8,760 bars a year" in text


def test_undefined_and_infinite_values_are_shown_as_symbols() -> None:
    one_win = TradeLog.from_columns(
        strategy=["s"],
        instrument=["BTC-USDT"],
        venue=["paper"],
        entry_ts_ns=[0],
        exit_ts_ns=[1],
        side=[1],
        quantity=[1.0],
        entry_price=[1.0],
        exit_price=[2.0],
        pnl=[1.0],
        fees=[0.0],
    )
    row = next(
        line
        for line in rendered(render_table(compute_performance(trades=one_win))).splitlines()
        if "strategy: s" in line
    )
    assert "∞" in row  # profit factor with no loss
    assert "—" in row  # avg loss, Sharpe ... undefined


def test_formatters() -> None:
    assert fmt_duration(3 * 86_400 * 10**9 + 2 * 3600 * 10**9) == "3d 2h"
    assert fmt_duration(90 * 10**9) == "1m"
    assert fmt_value("pct", 0.1234) == "12.34%"
    assert fmt_value("money", 2_500_000.0) == "2.50M"
    assert fmt_value("ratio", float(np.inf)) == "∞"
    assert fmt_value("int", None) == "—"
