"""Performance metrics per strategy (signal source), per instrument, per venue and in total.

``compute_performance`` is a pure function of columnar inputs (see ``performance_inputs``): a
trade log of round trips, equity curves, fills and position snapshots. It returns one flat
``GroupMetrics`` per group and a ``PerformanceReport`` around them. The definitions and edge
cases are documented where they are computed: ``performance_trades`` (win rate, profit factor,
expectancy, exposure, turnover) and ``performance_returns`` (drawdown, Sharpe, Sortino, Calmar,
annualisation).

Where a group's return metrics come from: the total uses ``equity``; a strategy uses its curve
in ``strategy_equity``. Any group without a curve (instruments and venues always) gets a
*realised* curve when ``starting_capital`` is given: the capital plus the cumulative net P&L of
its trades at their exit times. Otherwise its return metrics are ``None``. Fees paid come from
the fills when fills are given (every fee, including those of still-open positions), else from
the trade log. Exposure is measured at ``as_of_ns`` (default: the last snapshot or fill).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from pydantic import ConfigDict

from domain.values import Frozen
from projections.correlation import CorrelationMatrix, correlation_matrix
from projections.performance_inputs import (
    Annualization,
    EquityCurve,
    Fills,
    Labels,
    PositionSnapshots,
    TradeLog,
)
from projections.performance_returns import ReturnMetrics, drawdown_series, return_metrics
from projections.performance_trades import (
    Exposure,
    ExposureReport,
    TradeStats,
    exposure_from_fills,
    exposure_from_snapshots,
    group_sum,
    trade_stats,
)

DIMENSIONS = ("strategy", "instrument", "venue")


class GroupMetrics(Frozen):
    """Every metric of one group; ``None`` where it is undefined (see the module docs).

    An infinite ratio (profit factor with no loss, ...) serialises to JSON as ``"Infinity"``."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="strings")

    trades: int = 0
    wins: int = 0
    losses: int = 0
    breakeven: int = 0
    win_rate: float | None = None
    profit_factor: float | None = None
    expectancy: float | None = None
    avg_win: float | None = None
    avg_loss: float | None = None
    gross_profit: float = 0.0
    gross_loss: float = 0.0
    net_pnl: float = 0.0
    fees_paid: float = 0.0
    turnover: float | None = None
    gross_exposure: float | None = None
    net_exposure: float | None = None
    periods: int = 0
    start_equity: float | None = None
    end_equity: float | None = None
    total_return: float | None = None
    cagr: float | None = None
    volatility: float | None = None
    sharpe: float | None = None
    sortino: float | None = None
    calmar: float | None = None
    max_drawdown: float | None = None
    max_drawdown_pct: float | None = None
    max_drawdown_duration_ns: int | None = None


class PerformanceReport(Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="strings")

    annualization: Annualization
    total: GroupMetrics
    by_strategy: dict[str, GroupMetrics] = {}
    by_instrument: dict[str, GroupMetrics] = {}
    by_venue: dict[str, GroupMetrics] = {}
    exposure: ExposureReport = ExposureReport()
    correlation: CorrelationMatrix | None = None

    def groups(self, dimension: str) -> dict[str, GroupMetrics]:
        return getattr(self, f"by_{dimension}")


def _group_metrics(
    stats: TradeStats,
    returns: ReturnMetrics | None,
    fees: float,
    turnover: float | None,
    exposure: Exposure | None,
) -> GroupMetrics:
    fields = stats.model_dump(exclude={"fees"})
    fields.update(fees_paid=fees, turnover=turnover)
    if exposure is not None:
        fields.update(gross_exposure=exposure.gross, net_exposure=exposure.net)
    if returns is not None:
        fields.update(returns.model_dump(exclude={"max_drawdown"}))
        dd = returns.max_drawdown
        if dd is not None:
            fields.update(
                max_drawdown=dd.amount,
                max_drawdown_pct=dd.pct,
                max_drawdown_duration_ns=dd.duration_ns,
            )
    return GroupMetrics(**fields)


def realised_equity(
    trades: TradeLog, starting_capital: float, rows: np.ndarray | None = None
) -> EquityCurve:
    """Capital plus cumulative net P&L at each exit, starting at the first entry."""
    pnl = trades.pnl if rows is None else trades.pnl[rows]
    exits = trades.exit_ts_ns if rows is None else trades.exit_ts_ns[rows]
    entries = trades.entry_ts_ns if rows is None else trades.entry_ts_ns[rows]
    if len(pnl) == 0:
        return EquityCurve.from_columns([], [])
    ts = np.concatenate(([min(int(entries.min()), int(exits[0]))], exits))
    equity = starting_capital + np.concatenate(([0.0], np.cumsum(pnl)))
    return EquityCurve.from_columns(ts, equity)


def drawdown_curve(curve: EquityCurve) -> EquityCurve:
    """The fractional drawdown (<= 0) at every sample of ``curve``."""
    return EquityCurve(curve.ts_ns, drawdown_series(curve.equity))


def _names(*sources: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set().union(*sources)))


def _recode(labels: Labels, names: tuple[str, ...]) -> np.ndarray:
    """Codes of ``labels`` re-expressed as indexes into the (super)set ``names``."""
    if not labels.names:
        return labels.codes
    table = np.searchsorted(np.array(names, dtype=object), np.array(labels.names, dtype=object))
    return table[labels.codes]


def _rows_by_group(codes: np.ndarray, n_groups: int) -> list[np.ndarray]:
    small = n_groups < 2**16 and (not len(codes) or int(codes.min()) >= 0)
    order = np.argsort(codes.astype(np.uint16) if small else codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=n_groups))))
    return [order[bounds[g] : bounds[g + 1]] for g in range(n_groups)]


def compute_performance(
    *,
    trades: TradeLog | None = None,
    equity: EquityCurve | None = None,
    strategy_equity: Mapping[str, EquityCurve] | None = None,
    fills: Fills | None = None,
    positions: PositionSnapshots | None = None,
    annualization: Annualization | None = None,
    starting_capital: float | None = None,
    as_of_ns: int | None = None,
    min_periods: int = 3,
) -> PerformanceReport:
    """All metrics, grouped per strategy, instrument and venue, and in total."""
    ann = annualization or Annualization()
    trades = trades if trades is not None else TradeLog.empty()
    strategy_equity = dict(strategy_equity or {})
    exposure, has_exposure = ExposureReport(), False
    if fills is not None and len(fills):
        exposure, has_exposure = exposure_from_fills(fills, as_of_ns), True
    if positions is not None and len(positions):
        snap = exposure_from_snapshots(positions, as_of_ns)
        exposure = snap.model_copy(update={"by_strategy": exposure.by_strategy})
        has_exposure = True

    def returns_for(curve: EquityCurve | None, rows: np.ndarray | None) -> ReturnMetrics | None:
        if curve is None and starting_capital is not None and len(trades):
            curve = realised_equity(trades, starting_capital, rows)
        return return_metrics(curve, ann) if curve is not None and len(curve) else None

    total_fees = float(fills.fee.sum()) if fills is not None else float(trades.fees.sum())
    notional = np.abs(fills.quantity * fills.price) if fills is not None else None
    total_turnover = float(notional.sum()) if notional is not None else None
    total = _group_metrics(
        trade_stats(trades.pnl, trades.fees)[0],
        returns_for(equity, None),
        total_fees,
        total_turnover,
        exposure.total if has_exposure else None,
    )

    grouped: dict[str, dict[str, GroupMetrics]] = {}
    for dim in DIMENSIONS:
        trade_labels: Labels = getattr(trades, dim)
        sources = [trade_labels.names, getattr(exposure, f"by_{dim}")]
        if fills is not None:
            sources.append(getattr(fills, dim).names)
        if dim == "strategy":
            sources.append(strategy_equity)
        names = _names(*sources)
        codes = _recode(trade_labels, names)
        stats = trade_stats(trades.pnl, trades.fees, codes, len(names))
        rows = _rows_by_group(codes, len(names))
        fees, turnover = group_sum(trades.fees, codes, len(names)), None
        if fills is not None:
            fill_codes = _recode(getattr(fills, dim), names)
            fees = group_sum(fills.fee, fill_codes, len(names))
            turnover = group_sum(notional, fill_codes, len(names))  # type: ignore[arg-type]
        by_name = getattr(exposure, f"by_{dim}")
        grouped[dim] = {
            name: _group_metrics(
                stats[g],
                returns_for(strategy_equity.get(name) if dim == "strategy" else None, rows[g]),
                float(fees[g]),
                None if turnover is None else float(turnover[g]),
                by_name.get(name),
            )
            for g, name in enumerate(names)
        }

    correlation = None
    if len(strategy_equity) >= 2:
        correlation = correlation_matrix(strategy_equity, ann.interval_ns, min_periods)
    return PerformanceReport(
        annualization=ann,
        total=total,
        by_strategy=grouped["strategy"],
        by_instrument=grouped["instrument"],
        by_venue=grouped["venue"],
        exposure=exposure,
        correlation=correlation,
    )
