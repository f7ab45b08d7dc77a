"""Builds the facts alert rules look at from the read models (pure)."""

from __future__ import annotations

from typing import Any

from alerts.rules import AlertFacts

DAY_NS = 86_400 * 1_000_000_000


def facts_from(
    state: dict[str, Any],
    *,
    now_ns: int,
    rejections_in_a_row: dict[str, int],
    open_circuits: set[str],
    last_bar_ns: dict[str, int],
    actor_restarts: dict[str, int],
    day_start_equity: float | None,
) -> AlertFacts:
    """``state`` is a projection bundle's state (equity and positions)."""
    equity = state.get("equity", {})
    current = float(equity.get("equity") or 0.0)
    peak = equity.get("peak")
    drawdown_pct: dict[str, float] = {}
    drawdown_amount: dict[str, float] = {}
    if peak:
        drawdown_amount["total"] = max(0.0, float(peak) - current)
        drawdown_pct["total"] = drawdown_amount["total"] / float(peak) if float(peak) else 0.0
    daily = {} if day_start_equity is None else {"total": current - day_start_equity}
    return AlertFacts(
        now_ns=now_ns,
        drawdown_pct=drawdown_pct,
        drawdown_amount=drawdown_amount,
        daily_pnl=daily,
        consecutive_rejections=dict(rejections_in_a_row),
        open_circuits=frozenset(open_circuits),
        market_data_last_ns=dict(last_bar_ns),
        actor_restarts=dict(actor_restarts),
    )
