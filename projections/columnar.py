"""Positions, P&L, the equity curve, the trade log and the metrics, rebuilt column by column.

The same accounting as the ``Decimal`` folds (``positions``, ``equity``, ``trades``), computed
with whole-array numpy operations over the archive's fills and bar closes, so that millions of
events replay in well under a second. No Python object is made per event.

How the path-dependent parts become array operations:

* Fills are grouped by book (stable sort, so each book keeps tape order). A book's quantity is
  a cumulative sum, done in exact integers when the archive says how many decimal places each
  quantity has (``quantity_scale``), so a position that returns to flat is exactly zero.
* The average-cost book's open cost follows ``c = a * c_prev + b`` per fill (``a = 1`` adding
  to the position, ``a = q_after / q_before`` reducing it, ``a = 0`` flat or crossing zero).
  That linear recurrence is solved by a log-depth associative scan (compose ``(a, b)`` pairs
  at doubling offsets), which touches only books still open and never divides.
* Equity at each bar close = cash + cumulative (realised - fees) + the sum over books of
  ``quantity * mark - cost``; each book's term is evaluated on its instrument's events only
  (fills and bar closes), differenced and scattered onto the tape order, then summed once.
* Round trips are the runs between flat positions: the trade id is a cumulative count of
  opening fills, and every per-trade figure is one ``bincount``.

Marks follow ``PositionsProjection``: the book's own venue close, else the instrument's last
close on any venue, else its last fill price. A fill whose (order, fill id) was seen before
counts once (keys hashed by the archive, ``fill_key``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

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


def _linear_scan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x[i] = a[i] * x[i-1] + b[i]`` with ``x[-1] = 0``; ``a[0]`` must be 0 (a book start)."""
    coef, acc = a.copy(), b.copy()
    active = np.flatnonzero(coef)
    step = 1
    while active.size:
        active = active[active >= step]
        prev = active - step
        acc[active] = coef[active] * acc[prev] + acc[active]
        coef[active] = coef[active] * coef[prev]
        step *= 2
        active = active[coef[active] != 0.0]
    return acc


def stable_order(codes: np.ndarray) -> np.ndarray:
    """A stable argsort of small non-negative codes (numpy radix-sorts 16-bit integers)."""
    if len(codes) and int(codes.max()) < 2**16:
        return np.argsort(codes.astype(np.uint16), kind="stable")
    return np.argsort(codes, kind="stable")


@dataclass(frozen=True, slots=True)
class BookScan:
    """Per fill, in ``order`` (grouped by book, tape order inside): the book's state."""

    order: np.ndarray
    key: np.ndarray
    q_before: np.ndarray
    q_after: np.ndarray
    cost_before: np.ndarray
    cost_after: np.ndarray
    realized: np.ndarray
    start: np.ndarray


def scan_books(
    key: np.ndarray, signed: np.ndarray, units: np.ndarray | None, price: np.ndarray
) -> BookScan:
    """Average-cost books keyed by ``key``: quantities, costs and realised P&L after each fill."""
    order = stable_order(key)
    k, s, p = key[order], signed[order], price[order]
    n = len(k)
    start = np.ones(n, dtype=bool)
    start[1:] = k[1:] != k[:-1]
    first = np.flatnonzero(start)
    group = np.cumsum(start) - 1
    if units is not None:
        u = units[order]
        total = np.cumsum(u)
        ua = total - (total[first] - u[first])[group]
        ub = ua - u
        ratio_scale = np.where(u != 0, s / np.where(u != 0, u, 1), 0.0)
        q_after, q_before = ua * ratio_scale, ub * ratio_scale
        zero_after, zero_before = ua == 0, ub == 0
        pos_before, pos_s = ub > 0, u > 0
    else:
        total = np.cumsum(s)
        q_after = total - (total[first] - s[first])[group]
        tol = 1e-9 * np.maximum.reduceat(np.abs(s), first)[group] if n else s
        q_after = np.where(np.abs(q_after) <= tol, 0.0, q_after)
        q_before = np.where(start, 0.0, np.r_[0.0, q_after[:-1]])
        zero_after, zero_before = q_after == 0.0, q_before == 0.0
        pos_before, pos_s = q_before > 0, s > 0
    flat = zero_before
    adding = ~flat & (pos_before == pos_s)
    closing = ~flat & ~adding & (zero_after | ((q_after > 0) != pos_before))
    reducing = ~flat & ~adding & ~closing
    a = np.where(adding, 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(reducing, q_after / np.where(reducing, q_before, 1.0), a)
    b = np.where(flat | adding, s * p, np.where(closing, q_after * p, 0.0))
    a[start] = 0.0
    cost_after = _linear_scan(a, b)
    cost_before = np.where(start, 0.0, np.r_[0.0, cost_after[:-1]])
    realized = np.where(
        reducing,
        -s * p - (cost_before - cost_after),
        np.where(closing, q_before * p - cost_before, 0.0),
    )
    return BookScan(order, k, q_before, q_after, cost_before, cost_after, realized, start)


def _last_index(mask: np.ndarray) -> np.ndarray:
    """For each row, the index of the last row at or before it where ``mask`` holds (or -1)."""
    idx = np.where(mask, np.arange(len(mask)), -1)
    return np.maximum.accumulate(idx) if len(idx) else idx


def _equity_deltas(m: MarketArrays, pos: BookScan, n_instruments: int) -> np.ndarray:
    """Per row of the merged sequence, the change of sum(quantity * mark - cost) over books."""
    delta = np.zeros(m.n)
    if not len(m.fill_rows):
        return delta
    row_instrument = np.empty(m.n, dtype=np.int64)
    row_instrument[m.fill_rows] = m.fill_instrument
    row_instrument[m.bar_rows] = m.bar_instrument
    row_venue = np.empty(m.n, dtype=np.int64)
    row_venue[m.fill_rows] = m.fill_venue
    row_venue[m.bar_rows] = m.bar_venue
    is_fill = np.zeros(m.n, dtype=bool)
    is_fill[m.fill_rows] = True
    fill_at_row = np.full(m.n, -1, dtype=np.int64)  # row -> fill index (tape order)
    fill_at_row[m.fill_rows] = np.arange(len(m.fill_rows))
    close_at_row = np.zeros(m.n)
    close_at_row[m.bar_rows] = m.close
    # book state after each fill, back in tape order
    q_after = np.empty(len(pos.order))
    q_after[pos.order] = pos.q_after
    cost_after = np.empty(len(pos.order))
    cost_after[pos.order] = pos.cost_after
    by_instrument = stable_order(row_instrument)
    bounds = np.r_[0, np.cumsum(np.bincount(row_instrument, minlength=n_instruments))]
    books = np.unique(m.fill_venue * n_instruments + m.fill_instrument)
    for book in books.tolist():
        venue, instrument = divmod(book, n_instruments)
        rows = by_instrument[bounds[instrument] : bounds[instrument + 1]]
        fills_here = is_fill[rows]
        bars_here = ~fills_here
        own = row_venue[rows] == venue
        last_fill = _last_index(fills_here & own)
        held = last_fill >= 0
        fill_idx = fill_at_row[rows[np.maximum(last_fill, 0)]]
        last_own_bar = _last_index(bars_here & own)
        last_any_bar = _last_index(bars_here)
        mark = np.where(
            last_own_bar >= 0,
            close_at_row[rows[np.maximum(last_own_bar, 0)]],
            np.where(
                last_any_bar >= 0,
                close_at_row[rows[np.maximum(last_any_bar, 0)]],
                m.price[fill_idx],
            ),
        )
        term = np.where(held, q_after[fill_idx] * mark - cost_after[fill_idx], 0.0)
        delta[rows] += np.diff(term, prepend=0.0)
    return delta


def _equity_curve(m: MarketArrays, equity_at_row: np.ndarray) -> EquityCurve:
    """One point per new close time (a bar closing at or before the newest point updates it)."""
    if not len(m.bar_rows):
        return EquityCurve.from_columns([], [])
    ts = m.close_ts_ns
    newest = np.maximum.accumulate(ts)
    new = np.ones(len(ts), dtype=bool)
    new[1:] = ts[1:] > newest[:-1]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(ts)] - 1
    return EquityCurve(ts[starts], equity_at_row[m.bar_rows[ends]])


def _trade_log(
    m: MarketArrays, key: np.ndarray, scan: BookScan, names: tuple[Labels, ...]
) -> TradeLog:
    """Closed round trips, in the order they closed, from a scan of strategy books."""
    o = scan.order
    size = np.abs(m.signed[o])
    price, fee, ts = m.price[o], m.fee[o], m.fill_ts_ns[o]
    qb, qa = scan.q_before, scan.q_after
    flat = qb == 0.0
    cross = ~flat & (qa != 0.0) & ((qa > 0) != (qb > 0))
    ends = ~flat & ((qa == 0.0) | cross)
    opens = flat | cross
    closed = np.where(ends, np.abs(qb), np.where(~flat & (np.abs(qa) < np.abs(qb)), size, 0.0))
    opened = size - closed
    with np.errstate(divide="ignore", invalid="ignore"):
        fee_close = np.where(closed > 0, np.where(opened > 0, fee * closed / size, fee), 0.0)
    fee_open = fee - fee_close
    trade = np.cumsum(opens) - 1
    exit_trade = trade - (opens & ends)
    n = int(trade[-1]) + 1 if len(trade) else 0
    entry_qty = np.bincount(trade, opened, n)
    entry_notional = np.bincount(trade, opened * price, n)
    exit_qty = np.bincount(exit_trade, closed, n)
    exit_notional = np.bincount(exit_trade, closed * price, n)
    gross = np.bincount(exit_trade, scan.realized, n)
    fees = np.bincount(trade, fee_open, n) + np.bincount(exit_trade, fee_close, n)
    first = np.flatnonzero(opens)
    entry_ts = ts[first]
    side = np.sign(qa[first])
    grows = np.flatnonzero(opened > 0)
    run = np.flatnonzero(np.r_[True, trade[grows][1:] != trade[grows][:-1]])
    max_qty = np.zeros(n)
    if len(grows):
        max_qty[trade[grows][run]] = np.maximum.reduceat(np.abs(qa[grows]), run)
    done = np.flatnonzero(ends)
    closing_trade = exit_trade[done]
    tape_order = np.argsort(o[done], kind="stable")  # closed in tape order of the closing fill
    t, closing = closing_trade[tape_order], done[tape_order]
    book = key[o][first][t]
    strategy, instrument, venue = names
    n_i, n_v = len(instrument.names) or 1, len(venue.names) or 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return TradeLog.from_columns(
            strategy=Labels(book // (n_v * n_i), strategy.names),
            venue=Labels((book // n_i) % n_v, venue.names),
            instrument=Labels(book % n_i, instrument.names),
            entry_ts_ns=entry_ts[t],
            exit_ts_ns=ts[closing],
            side=side[t],
            quantity=max_qty[t],
            entry_price=entry_notional[t] / entry_qty[t],
            exit_price=exit_notional[t] / exit_qty[t],
            pnl=gross[t] - fees[t],
            fees=fees[t],
        )


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
        p = {
            name: self.positions.column(name).to_numpy() for name in self.positions.column_names[2:]
        }
        realized, fees, unrealized = (
            p["realized_pnl"].sum(),
            p["fees"].sum(),
            p["unrealized_pnl"].sum(),
        )
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
    delta = _equity_deltas(m, pos, n_i)
    fill_pnl = np.empty(len(pos.order))
    fill_pnl[pos.order] = pos.realized
    delta[m.fill_rows] += fill_pnl - m.fee
    equity_at_row = starting_cash + np.cumsum(delta)
    strategy_book = m.fill_strategy * (n_v * n_i) + book
    same_books = len(np.unique(strategy_book)) == len(np.unique(book))
    strat = pos if same_books else scan_books(strategy_book, m.signed, m.units, m.price)
    names = (
        strategy,
        Labels(np.zeros(0, np.int64), m.instruments),
        Labels(np.zeros(0, np.int64), m.venues),
    )
    trades = _trade_log(m, strategy_book, strat, names)
    return ColumnarReplay(
        starting_cash=starting_cash,
        positions=_positions(m, pos, n_i),
        equity=_equity_curve(m, equity_at_row),
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
    sums = {
        "fees": m.fee[o],
        "volume": np.abs(m.signed[o]) * m.price[o],
        "realized_pnl": pos.realized,
        "fills": np.ones(len(o)),
    }
    group = np.cumsum(pos.start) - 1
    agg = {k: np.bincount(group, v, len(books)) for k, v in sums.items()}
    quantity, cost = pos.q_after[last], pos.cost_after[last]
    mark = m.price[o][last]  # the last fill price unless a bar closed for it
    for b, (v, i) in enumerate(zip(venue.tolist(), instrument.tolist(), strict=True)):
        own = np.flatnonzero((m.bar_venue == v) & (m.bar_instrument == i))
        anywhere = own if len(own) else np.flatnonzero(m.bar_instrument == i)
        if len(anywhere):
            mark[b] = m.close[anywhere[-1]]
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
