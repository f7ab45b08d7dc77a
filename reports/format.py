"""Human formatting of metric values, shared by the terminal table and the HTML report."""

from __future__ import annotations

import math
from datetime import UTC, datetime

NONE = "—"

# (field, label, kind): kind picks the formatter below
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("trades", "Trades", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "ratio"),
    ("expectancy", "Expectancy", "money"),
    ("avg_win", "Avg win", "money"),
    ("avg_loss", "Avg loss", "money"),
    ("net_pnl", "Net P&L", "money"),
    ("fees_paid", "Fees", "money"),
    ("turnover", "Turnover", "money"),
    ("gross_exposure", "Gross exp.", "money"),
    ("net_exposure", "Net exp.", "money"),
    ("total_return", "Return", "pct"),
    ("max_drawdown", "Max DD", "money"),
    ("max_drawdown_pct", "Max DD %", "pct"),
    ("max_drawdown_duration_ns", "DD duration", "duration"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("calmar", "Calmar", "ratio"),
)


def fmt_money(value: float | None) -> str:
    if value is None:
        return NONE
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}M"
    return f"{value:,.2f}"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return NONE
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:,.2f}"


def fmt_pct(value: float | None) -> str:
    if value is None:
        return NONE
    return f"{value * 100:,.2f}%"


def fmt_duration(ns: int | None) -> str:
    if ns is None:
        return NONE
    seconds = ns // 1_000_000_000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


def fmt_value(kind: str, value: float | int | None) -> str:
    if kind == "int":
        return NONE if value is None else f"{int(value):,}"
    if kind == "pct":
        return fmt_pct(value)
    if kind == "ratio":
        return fmt_ratio(value)
    if kind == "duration":
        return fmt_duration(None if value is None else int(value))
    return fmt_money(value)


def fmt_time(ts_ns: int) -> str:
    moment = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M")
