"""Terminal rendering of projection states (rich tables and summary lines)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def positions_table(state: dict[str, Any]) -> Table:
    table = Table(title="Positions", show_lines=False)
    for col in (
        "venue",
        "instrument",
        "quantity",
        "avg price",
        "mark",
        "realized",
        "unrealized",
        "fees",
        "fills",
    ):
        table.add_column(col, justify="left" if col in ("venue", "instrument") else "right")
    for p in state.get("positions", {}).get("positions", {}).values():
        table.add_row(
            p["venue"],
            p["instrument"],
            p["quantity"],
            _short(p["average_price"]),
            _short(p["mark"]),
            _short(p["realized_pnl"]),
            _short(p["unrealized_pnl"]),
            _short(p["fees"]),
            str(p["fills"]),
        )
    return table


def _short(value: str | None, places: int = 2) -> str:
    if value is None:
        return "-"
    try:
        return f"{float(value):,.{places}f}"
    except ValueError:
        return value


def summary_lines(state: dict[str, Any], gateway_stats: dict[str, Any]) -> list[str]:
    totals = state.get("positions", {}).get("totals", {})
    trades = state.get("trades", {}).get("summary", {})
    equity = state.get("equity", {})
    orders = state.get("orders", {}).get("counts", {})
    lines = [
        f"P&L: realized {_short(totals.get('realized_pnl'))}, unrealized "
        f"{_short(totals.get('unrealized_pnl'))}, fees {_short(totals.get('fees'))}, net "
        f"{_short(totals.get('net_pnl'))}",
        f"trades: {trades.get('count', 0)} closed ({trades.get('wins', 0)} won, "
        f"{trades.get('losses', 0)} lost), {trades.get('open', 0)} open",
        "orders: " + ", ".join(f"{k} {v}" for k, v in orders.items() if v),
        f"equity: {_short(equity.get('equity'))} from {_short(equity.get('starting_cash'))}; "
        f"max drawdown {float(equity.get('max_drawdown') or 0):.2%}",
    ]
    for venue, stats in gateway_stats.items():
        if stats.get("anomalies"):
            lines.append(f"gateway {venue}: {stats['anomalies']} anomalies")
    return lines
