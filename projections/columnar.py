"""Positions, P&L, the equity curve, the trade log and the metrics, rebuilt column by column.

The same accounting as the ``Decimal`` folds (``positions``, ``equity``, ``trades``), computed
with whole-array numpy operations over the archive's fills and bar closes (``store.
archive_arrays``), so millions of events replay in well under a second; the array steps are in
``projections.columnar_books``. Marks follow ``PositionsProjection``: the book's own venue
close, else the instrument's last close on any venue, else its last fill price. A fill recorded
twice (same order and fill id) counts once. Quantities are exact integers when the archive
gives their decimal places; otherwise float64, where a book within 1e-9 of a fill's size of
flat counts as flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from projections.columnar_books import (
    BookScan,
    distinct,
    equity_curve,
    equity_deltas,
    scan_books,
    trade_log,
)
from projections.performance import PerformanceReport, compute_performance, realised_equity
from projections.performance_inputs import (
    Annualization,
    EquityCurve,
    Fills,
    Labels,
    PositionSnapshots,
    TradeLog,
)
from store.archive_arrays import MarketArrays, read_market

NS = 1_000_000_000
_SUMMED = ("realized_pnl", "fees", "unrealized_pnl", "notional")


@dataclass(frozen=True)
class ColumnarReplay:
    """What a columnar replay rebuilt; ``positions`` has one row per (venue, instrument)."""

    starting_cash: float
    positions: pa.Table
    equity: EquityCurve
    trades: TradeLog
    fills: Fills
    interval_ns: int | None
    duplicate_fills: int
    events: int

    def totals(self) -> dict[str, float]:
        p = {n: self.positions.column(n).to_numpy() for n in _SUMMED}
        realized, fees, unrealized = (p[n].sum() for n in _SUMMED[:3])
        return {
            "realized_pnl": float(realized),
            "fees": float(fees),
            "unrealized_pnl": float(unrealized),
            "net_pnl": float(realized - fees + unrealized),
            "gross_exposure": float(np.abs(p["notional"]).sum()),
            "net_exposure": float(p["notional"].sum()),
        }

    def snapshots(self) -> PositionSnapshots:
        ts = int(self.equity.ts_ns[-1]) if len(self.equity) else 0
        return PositionSnapshots.from_columns(
            ts_ns=np.full(len(self.positions), ts),
            instrument=self.positions.column("instrument"),
            venue=self.positions.column("venue"),
            quantity=self.positions.column("quantity"),
            mark_price=self.positions.column("mark"),
        )

    def performance(self, annualization: Annualization | None = None) -> PerformanceReport:
        """Every metric of ``compute_performance``; strategies' curves are their realised ones."""
        ann = annualization or default_annualization(self.interval_ns, self.equity)
        return performance_of(
            self.trades, self.equity, self.fills, self.snapshots(), self.starting_cash, ann
        )


DAY_NS = 86_400 * NS
DAILY_FROM_NS = 30 * DAY_NS


def default_annualization(
    bar_interval_ns: int | None, equity: EquityCurve, risk_free_rate: float = 0.0
) -> Annualization:
    """Daily returns (the usual basis of Sharpe and Sortino) for a run of 30 days or more; a
    shorter run is measured on its own bars, so that it still has returns to measure."""
    span = int(equity.ts_ns[-1] - equity.ts_ns[0]) if len(equity) else 0
    daily = span >= DAILY_FROM_NS or not bar_interval_ns
    interval = DAY_NS if daily else bar_interval_ns
    return Annualization(interval_ns=interval, risk_free_rate=risk_free_rate)


def strategy_curves(trades: TradeLog, starting_cash: float) -> dict[str, EquityCurve]:
    """Each strategy's realised equity: the cash plus its closed trades' net P&L at their exits."""
    curves = {
        name: realised_equity(trades, starting_cash, np.flatnonzero(trades.strategy.codes == i))
        for i, name in enumerate(trades.strategy.names)
    }
    return {name: curve for name, curve in curves.items() if len(curve)}


def performance_of(
    trades: TradeLog,
    equity: EquityCurve,
    fills: Fills,
    snapshots: PositionSnapshots,
    starting_cash: float,
    annualization: Annualization,
) -> PerformanceReport:
    """The metrics from columnar inputs, the same way for the columnar and the Decimal replay."""
    return compute_performance(
        trades=trades,
        equity=equity,
        strategy_equity=strategy_curves(trades, starting_cash),
        fills=fills,
        positions=snapshots,
        annualization=annualization,
        starting_capital=starting_cash,
    )


def replay(m: MarketArrays, starting_cash: float = 100_000.0) -> ColumnarReplay:
    """Rebuild positions, P&L, the equity curve and the trade log from market arrays."""
    n_i, n_v = max(len(m.instruments), 1), max(len(m.venues), 1)
    book = m.book
    strategy = Labels(m.fill_strategy, m.strategies)
    pos = scan_books(book, m.signed, m.units, m.price)
    delta = equity_deltas(m, pos, n_i)
    fill_pnl = np.empty(len(pos.order))
    fill_pnl[pos.order] = pos.realized
    delta[m.fill_rows] += fill_pnl - m.fee
    equity_at_row = starting_cash + np.cumsum(delta)
    strategy_book = m.fill_strategy * (n_v * n_i) + book
    same_books = distinct(strategy_book) == distinct(book)
    strat = pos if same_books else scan_books(strategy_book, m.signed, m.units, m.price)
    names = (
        strategy,
        Labels(np.zeros(0, np.int64), m.instruments),
        Labels(np.zeros(0, np.int64), m.venues),
    )
    trades = trade_log(m, strategy_book, strat, names)
    return ColumnarReplay(
        starting_cash=starting_cash,
        positions=_positions(m, pos, n_i),
        equity=equity_curve(m, equity_at_row),
        trades=trades,
        fills=Fills.from_columns(
            ts_ns=m.fill_ts_ns,
            strategy=strategy,
            instrument=Labels(m.fill_instrument, m.instruments),
            venue=Labels(m.fill_venue, m.venues),
            quantity=m.signed,
            price=m.price,
            fee=m.fee,
        ),
        interval_ns=m.interval_ns,
        duplicate_fills=m.duplicates,
        events=m.n + m.duplicates,
    )


def _positions(m: MarketArrays, pos: BookScan, n_i: int) -> pa.Table:
    last = np.flatnonzero(np.r_[pos.start[1:], True]) if len(pos.start) else pos.order
    books = pos.key[last]
    venue, instrument = books // n_i, books % n_i
    o = pos.order
    n = len(books)
    group_of = np.zeros(int(books.max()) + 1 if n else 0, dtype=np.int64)
    group_of[books] = np.arange(n)
    group = group_of[m.book]  # each fill's row of the table, in tape order
    agg = {
        "fees": np.bincount(group, m.fee, n),
        "volume": np.bincount(group, np.abs(m.signed) * m.price, n),
        "realized_pnl": np.bincount(np.cumsum(pos.start) - 1, pos.realized, n),
        "fills": np.bincount(group, minlength=n).astype(np.float64),
    }
    quantity, cost = pos.q_after[last], pos.cost_after[last]
    mark = m.price[o[last]]  # the last fill price unless a bar closed for it
    if len(m.bar_rows):
        bars = np.arange(len(m.bar_rows))
        last_own = np.full(len(m.venues) * n_i, -1)  # each book's last bar, else -1
        np.maximum.at(last_own, m.bar_venue * n_i + m.bar_instrument, bars)
        last_any = np.full(n_i, -1)  # each instrument's last bar on any venue
        np.maximum.at(last_any, m.bar_instrument, bars)
        closing = np.where(last_own[books] >= 0, last_own[books], last_any[instrument])
        mark = np.where(closing >= 0, m.close[np.maximum(closing, 0)], mark)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(quantity != 0.0, cost / np.where(quantity != 0.0, quantity, 1.0), np.nan)
    return pa.table(
        {
            "venue": pa.array([m.venues[v] for v in venue.tolist()], pa.string()),
            "instrument": pa.array([m.instruments[i] for i in instrument.tolist()], pa.string()),
            "quantity": quantity,
            "average_price": pa.array(average, from_pandas=True),
            "realized_pnl": agg["realized_pnl"],
            "fees": agg["fees"],
            "mark": mark,
            "unrealized_pnl": quantity * mark - cost,
            "notional": quantity * mark,
            "fills": agg["fills"].astype(np.int64),
            "volume": agg["volume"],
        }
    )


def replay_archive(root: str | Path, starting_cash: float = 100_000.0) -> ColumnarReplay:
    """Read the archive's fills and bar closes and replay them."""
    return replay(read_market(root), starting_cash)
