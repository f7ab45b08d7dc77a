"""The array mechanics of the columnar replay: average-cost books, equity, round trips.

``projections.columnar`` says what is rebuilt and why it matches the ``Decimal`` folds; this
module holds the vectorised steps (no Python object per event):

* Fills are grouped by book (a stable radix sort, so each book keeps tape order). A book's
  quantity is a cumulative sum, in exact integers when the decimal scales allow it, so a
  position that returns to flat is exactly zero.
* The open cost follows ``c = a * c_prev + b`` per fill (``a = 1`` adding to the position,
  ``a = q_after / q_before`` reducing it, ``a = 0`` from flat or crossing zero): a linear
  recurrence solved by a log-depth associative scan that touches only books still open.
* Equity at each bar close = cash + cumulative (realised - fees) + the sum over books of
  ``quantity * mark - cost``; each book's term is differenced on its own rows and scattered
  onto the tape order, then everything is summed once.
* Round trips are runs between flat positions: the trade id is a cumulative count of opening
  fills, and every per-trade figure is one ``bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from projections.performance_inputs import EquityCurve, Labels, TradeLog
from store.archive_arrays import MarketArrays


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
        unit = s / u  # 10 ** -scale of the book (a quantity is never 0 units)
        q_after, q_before = ua * unit, ub * unit
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


def merge_counts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For two increasing arrays with no value in common: how many of ``b`` lie below each
    element of ``a``, and how many of ``a`` below each of ``b`` (``np.searchsorted`` both ways,
    as one merge: a stable sort of two sorted runs is a single linear pass)."""
    order = np.argsort(np.concatenate([a, b]), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[: len(a)] - np.arange(len(a)), rank[len(a) :] - np.arange(len(b))


def _order_of_unique(values: np.ndarray, bound: int) -> np.ndarray:
    """``argsort`` of distinct integers in ``[0, bound)``, in linear time."""
    where = np.full(bound, -1, dtype=np.int64)
    where[values] = np.arange(len(values))
    return where[where >= 0]


def distinct(codes: np.ndarray) -> int:
    return int(np.count_nonzero(np.bincount(codes))) if len(codes) else 0


def _last_index(mask: np.ndarray) -> np.ndarray:
    """For each row, the index of the last row at or before it where ``mask`` holds (or -1)."""
    idx = np.where(mask, np.arange(len(mask)), -1)
    return np.maximum.accumulate(idx) if len(idx) else idx


@dataclass(frozen=True, slots=True)
class _Rows:
    """Per row of the merged fills-and-bars sequence: what is there."""

    book: np.ndarray
    is_fill: np.ndarray
    fill_at: np.ndarray  # row -> fill index in tape order (-1 on bars)
    close: np.ndarray  # the bar's close (0 on fills)
    q_after: np.ndarray  # per fill, tape order: the book's quantity after it
    cost_after: np.ndarray


def _rows(m: MarketArrays, pos: BookScan, n_i: int) -> _Rows:
    book = np.empty(m.n, dtype=np.int64)
    book[m.fill_rows] = m.fill_venue * n_i + m.fill_instrument
    book[m.bar_rows] = m.bar_venue * n_i + m.bar_instrument
    is_fill = np.zeros(m.n, dtype=bool)
    is_fill[m.fill_rows] = True
    fill_at = np.full(m.n, -1, dtype=np.int64)
    fill_at[m.fill_rows] = np.arange(len(m.fill_rows))
    close = np.zeros(m.n)
    close[m.bar_rows] = m.close
    q_after = np.empty(len(pos.order))
    q_after[pos.order] = pos.q_after
    cost_after = np.empty(len(pos.order))
    cost_after[pos.order] = pos.cost_after
    return _Rows(book, is_fill, fill_at, close, q_after, cost_after)


def equity_deltas(m: MarketArrays, pos: BookScan, n_i: int) -> np.ndarray:
    """Per row of the merged sequence, the change of sum(quantity * mark - cost) over books.

    A book whose own venue closed a bar before its first fill is always marked by its own bars.
    For all those books at once: a fill changes the term by ``dq * mark - dcost`` at the mark
    then standing, a bar by ``quantity * dclose`` at the quantity then held; both "then" are
    as-of joins of the book's fills and bars (one ``searchsorted`` each way on (book, row)
    keys). The other books (marked for a while by another venue's bar or their last fill
    price) follow their instrument's rows one by one."""
    delta = np.zeros(m.n)
    if not len(m.fill_rows):
        return delta
    key = pos.key
    fill_row = m.fill_rows[pos.order]
    bar_book = m.bar_venue * n_i + m.bar_instrument
    n_books = int(max(key.max(), bar_book.max() if len(bar_book) else 0)) + 1
    never = m.n + 1
    first_fill = np.full(n_books, never)
    first_fill[key[pos.start]] = fill_row[pos.start]
    by_book = stable_order(bar_book)
    bar_book, bar_row, close = bar_book[by_book], m.bar_rows[by_book], m.close[by_book]
    bar_start = np.ones(len(bar_book), dtype=bool)
    bar_start[1:] = bar_book[1:] != bar_book[:-1]
    first_bar = np.full(n_books, never)
    first_bar[bar_book[bar_start]] = bar_row[bar_start]
    traded = first_fill < never
    own = traded & (first_bar < first_fill)
    span = np.int64(m.n + 1)
    fill_key = key * span + fill_row
    bar_key = bar_book * span + bar_row
    bars_below, fills_below = merge_counts(fill_key, bar_key)
    # fills: the mark is the book's last close before it (there always is one)
    at = bars_below - 1
    mark = close[np.maximum(at, 0)] if len(close) else np.zeros(len(key))
    change = (pos.q_after - pos.q_before) * mark - (pos.cost_after - pos.cost_before)
    fallback = np.flatnonzero(traded & ~own)
    on = own[key] if len(fallback) else slice(None)  # usually every traded book is "own"
    delta[fill_row[on]] = change[on]
    # bars: the quantity held is the book's after its last fill before the bar (else none)
    last = fills_below - 1
    held = (last >= 0) & (key[np.maximum(last, 0)] == bar_book)
    quantity = np.where(held, pos.q_after[np.maximum(last, 0)], 0.0)
    previous = np.r_[0.0, close[:-1]]
    previous[bar_start] = close[bar_start]
    on = own[bar_book] if len(fallback) else slice(None)  # books never traded hold nothing
    delta[bar_row[on]] = (quantity * (close - previous))[on]
    if len(fallback):
        rows = _rows(m, pos, n_i)
        for book in fallback.tolist():
            _fallback_marked_book(m, rows, book, n_i, delta)
    return delta


def _fallback_marked_book(
    m: MarketArrays, r: _Rows, book: int, n_i: int, delta: np.ndarray
) -> None:
    rows = np.flatnonzero(r.book % n_i == book % n_i)  # the instrument's fills and bars
    own = r.book[rows] == book
    fills = r.is_fill[rows]
    last_fill = _last_index(fills & own)
    held = last_fill >= 0
    fill_idx = r.fill_at[rows[np.maximum(last_fill, 0)]]
    last_own_bar = _last_index(~fills & own)
    last_any_bar = _last_index(~fills)
    mark = np.where(
        last_own_bar >= 0,
        r.close[rows[np.maximum(last_own_bar, 0)]],
        np.where(last_any_bar >= 0, r.close[rows[np.maximum(last_any_bar, 0)]], m.price[fill_idx]),
    )
    term = np.where(held, r.q_after[fill_idx] * mark - r.cost_after[fill_idx], 0.0)
    delta[rows] += np.diff(term, prepend=0.0)


def equity_curve(m: MarketArrays, equity_at_row: np.ndarray) -> EquityCurve:
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


def trade_log(
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
    tape_order = _order_of_unique(o[done], len(o))  # in tape order of the closing fill
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
