"""The columnar replay agrees with the Decimal projections on the same events.

Events go into archive rows in process (the archive's own row builder over encoded events), so
these tests need no tape and no files; ``tests/cluster/test_report.py`` covers the way through
a real tape and a Parquet archive.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks.replay_tape import session_events
from domain.events import Event
from domain.values import Side
from projections.columnar import ColumnarReplay, replay
from projections.columnar_books import scan_books
from projections.default import default_bundle
from projections.equity import EquityProjection
from projections.positions import PositionsProjection
from projections.trades import TradesProjection
from store.archive_arrays import market_arrays
from store.archive_schema import RowBuilder
from store.codec import encode
from tests.projections.builders import SEC, Tape
from tests.projections.generators import trading_tapes

CASH = 100_000


def archive_table(events: list[Event]) -> pa.Table:
    rows = RowBuilder()
    for position, event in enumerate(events, start=1):
        stored = encode(event)
        rows.add(position, event.stream, event.version, event.topic, stored.state)
    return rows.table()


def columnar(events: list[Event], exact: bool = True) -> ColumnarReplay:
    table = archive_table(events)
    if not exact:  # no decimal scales: the float path with its near-zero snap
        table = table.drop_columns(["quantity_scale"])
    return replay(market_arrays(table), float(CASH))


def close(a: float, b: float, tol: float = 1e-7) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def assert_same(events: list[Event], result: ColumnarReplay) -> None:
    bundle = default_bundle(Decimal(CASH)).fold(events)
    positions, equity, trades = bundle["positions"], bundle["equity"], bundle["trades"]
    assert isinstance(positions, PositionsProjection)
    assert isinstance(equity, EquityProjection)
    assert isinstance(trades, TradesProjection)

    views = {(v.venue, v.instrument): v for v in positions.positions()}
    rows = result.positions.to_pylist()
    assert {(r["venue"], r["instrument"]) for r in rows} == set(views)
    for row in rows:
        view = views[(row["venue"], row["instrument"])]
        book = positions.books[(view.venue, view.instrument)]
        assert row["quantity"] == pytest.approx(float(view.quantity), abs=1e-9)
        for name in ("realized_pnl", "fees", "unrealized_pnl", "notional"):
            assert close(row[name], float(getattr(view, name))), name
        assert close(row["mark"], float(view.mark))
        assert row["fills"] == book.fills
        assert close(row["volume"], float(book.volume))
        if view.average_price is None:
            assert row["average_price"] is None
        else:
            assert close(row["average_price"], float(view.average_price))
    for name, value in positions.totals().items():
        assert close(result.totals()[name], float(value)), name
    assert result.duplicate_fills == positions.duplicate_fills

    ts, values = equity.curve()
    assert result.equity.ts_ns.tolist() == ts
    np.testing.assert_allclose(result.equity.equity, values, rtol=1e-10, atol=1e-7)

    closed = trades.trades()
    log = result.trades
    assert len(log) == len(closed)
    expected = sorted(
        (t.exit_ts_ns, t.strategy, t.venue, t.instrument, float(t.net_pnl), float(t.fees))
        for t in closed
    )
    got = sorted(
        (
            int(log.exit_ts_ns[i]),
            log.strategy.names[log.strategy.codes[i]],
            log.venue.names[log.venue.codes[i]],
            log.instrument.names[log.instrument.codes[i]],
            float(log.pnl[i]),
            float(log.fees[i]),
        )
        for i in range(len(log))
    )
    for e, g in zip(expected, got, strict=True):
        assert e[:4] == g[:4]
        assert close(e[4], g[4]) and close(e[5], g[5])


def test_a_trading_session_replays_to_the_same_books_curve_and_trades() -> None:
    events = session_events(150, seed=5)
    result = columnar(events)
    assert result.trades and len(result.equity) == 150
    assert_same(events, result)


def test_the_float_path_without_decimal_scales_agrees_too() -> None:
    events = session_events(120, seed=9, full_chain=False)
    assert_same(events, columnar(events, exact=False))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trading_tapes)
def test_any_tape_of_fills_and_bars_agrees_with_the_decimal_folds(events: list[Event]) -> None:
    assert_same(events, columnar(events))


def test_crossing_zero_partial_reduce_and_rebates() -> None:
    t = Tape()
    events: list[Event] = [
        t.filled("a", "1", Side.BUY, "2", "100", fee="0.2"),
        t.filled("b", "1", Side.SELL, "0.5", "110", fee="0.05"),  # partial: +5 realised
        t.filled("c", "1", Side.SELL, "3", "120", fee="-0.03"),  # closes 1.5 (+30), short 1.5
        t.bar("115", open_ts_ns=0),
        t.filled("d", "1", Side.BUY, "1.5", "100", fee="0"),  # closes the short: +30
    ]
    result = columnar(events)
    row = result.positions.to_pylist()[0]
    assert row["realized_pnl"] == pytest.approx(65.0)
    assert row["quantity"] == 0.0 and row["average_price"] is None
    assert len(result.trades) == 2
    assert sorted(result.trades.side.tolist()) == [-1, 1]
    assert_same(events, result)


def test_bars_only_and_an_empty_archive() -> None:
    t = Tape()
    bars = [t.bar("100", open_ts_ns=k * 60 * SEC) for k in range(3)]
    result = columnar(bars)
    assert len(result.positions) == 0 and len(result.trades) == 0
    assert result.equity.equity.tolist() == [CASH] * 3
    empty = columnar([])
    assert len(empty.equity) == 0 and empty.totals()["net_pnl"] == 0.0
    assert empty.performance().total.trades == 0


def test_the_cost_scan_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(3)
    n = 2_000
    key = rng.integers(0, 4, n)
    signed = rng.choice([-3, -2, -1, 1, 2, 3], n).astype(float)
    price = rng.uniform(90, 110, n)
    scan = scan_books(key, signed, signed.astype(np.int64), price)
    q: dict[int, float] = {}
    c: dict[int, float] = {}
    realized = np.zeros(n)
    for j, i in enumerate(scan.order.tolist()):
        k, s, p = int(key[i]), signed[i], price[i]
        held, cost = q.get(k, 0.0), c.get(k, 0.0)
        if held == 0 or (held > 0) == (s > 0):
            q[k], c[k] = held + s, cost + s * p
        elif abs(s) < abs(held):
            removed = cost * abs(s) / abs(held)
            realized[j] = -s * p - removed
            q[k], c[k] = held + s, cost - removed
        else:
            realized[j] = held * p - cost
            q[k], c[k] = held + s, (held + s) * p
        assert scan.cost_after[j] == pytest.approx(c[k], rel=1e-9, abs=1e-6)
    np.testing.assert_allclose(scan.realized, realized, rtol=1e-9, atol=1e-6)
