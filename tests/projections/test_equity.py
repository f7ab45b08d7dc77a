"""Equity curve at bar close times, with drawdown."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain.values import Side
from projections.equity import EquityProjection
from tests.projections.builders import SEC, Tape

BUY, SELL = Side.BUY, Side.SELL
MIN = 60 * SEC


def test_curve_one_point_per_close_time_last_value_wins() -> None:
    t = Tape()
    p = EquityProjection(starting_cash=1000)
    p.fold(
        [
            t.bar("100", open_ts_ns=0),
            t.filled("o1", "f1", BUY, "2", "100", fee="1"),
            t.bar("110", open_ts_ns=MIN),
            t.bar("50", open_ts_ns=MIN, instrument="ETH-USDT"),  # same close time
            t.bar("90", open_ts_ns=2 * MIN),
            t.filled("o2", "f1", SELL, "2", "95", fee="1"),
            t.bar("200", open_ts_ns=3 * MIN),  # flat: no effect
        ]
    )
    ts, equity = p.curve()
    assert ts == [MIN, 2 * MIN, 3 * MIN, 4 * MIN]
    assert equity == [1000.0, 1019.0, 979.0, 988.0]
    state = p.state()
    assert state["equity"] == "988"
    assert state["points"] == 4
    assert state["peak"] == 1019.0
    assert state["max_drawdown_abs"] == pytest.approx(40.0)
    assert state["max_drawdown"] == pytest.approx(40 / 1019)


def test_drawdown_ignores_superseded_values_at_the_same_time() -> None:
    t = Tape()
    p = EquityProjection(starting_cash=D(100))
    p.fold(
        [
            t.filled("o1", "f1", BUY, "1", "10"),
            t.bar("50", open_ts_ns=0),  # 140: superseded below
            t.bar("10", open_ts_ns=0),  # 100
            t.bar("5", open_ts_ns=MIN),  # 95
        ]
    )
    assert p.curve() == ([MIN, 2 * MIN], [100.0, 95.0])
    assert p.drawdown() == (pytest.approx(0.05), pytest.approx(5.0))


def test_empty_curve_state() -> None:
    p = EquityProjection()
    state = p.state()
    assert state["points"] == 0
    assert state["equity"] == "100000"
    assert state["max_drawdown"] == 0.0
