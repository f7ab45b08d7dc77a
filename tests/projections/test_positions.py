"""Positions: average cost, partial closes, flips, fees, duplicate fills and marks."""

from __future__ import annotations

from decimal import Decimal as D

from domain.values import Side
from projections.positions import PositionsProjection
from tests.projections.builders import SEC, Tape

BUY, SELL = Side.BUY, Side.SELL


def test_average_cost_partial_close_and_fees() -> None:
    t = Tape()
    p = PositionsProjection()
    p.fold(
        [
            t.filled("o1", "f1", BUY, "1", "100", fee="0.1"),
            t.filled("o2", "f2", BUY, "3", "120", fee="0.3"),  # avg (100 + 360) / 4 = 115
            t.filled("o3", "f3", SELL, "2", "130", fee="0.2"),  # realises 2 * (130 - 115) = 30
        ]
    )
    pos = p.position("paper", "BTC-USDT")
    assert pos.quantity == D(2)
    assert pos.average_price == D(115)
    assert pos.realized_pnl == D(30)
    assert pos.fees == D("0.6")
    # no bar yet: marked at the last fill price
    assert pos.mark == D(130)
    assert pos.unrealized_pnl == D(30)
    assert pos.notional == D(260)
    assert pos.net_pnl == D("59.4")


def test_flip_through_zero_closes_and_reopens_at_fill_price() -> None:
    t = Tape()
    p = PositionsProjection()
    p.apply(t.filled("o1", "f1", BUY, "2", "100"))
    p.apply(t.filled("o2", "f2", SELL, "5", "90"))  # closes 2 (-20), opens 3 short at 90
    pos = p.position("paper", "BTC-USDT")
    assert pos.quantity == D(-3)
    assert pos.average_price == D(90)
    assert pos.realized_pnl == D(-20)
    p.apply(t.bar("80", open_ts_ns=0))
    pos = p.position("paper", "BTC-USDT")
    assert pos.mark == D(80)
    assert pos.unrealized_pnl == D(30)  # short 3 from 90 to 80
    assert pos.notional == D(-240)
    p.apply(t.filled("o3", "f3", BUY, "3", "85"))  # covers: +15
    pos = p.position("paper", "BTC-USDT")
    assert pos.quantity == 0
    assert pos.average_price is None
    assert pos.realized_pnl == D(-5)
    assert pos.unrealized_pnl == 0


def test_short_partial_cover() -> None:
    t = Tape()
    p = PositionsProjection()
    p.apply(t.filled("o1", "f1", SELL, "4", "50"))
    p.apply(t.filled("o2", "f2", BUY, "1", "40"))
    pos = p.position("paper", "BTC-USDT")
    assert pos.quantity == D(-3)
    assert pos.average_price == D(50)
    assert pos.realized_pnl == D(10)


def test_duplicate_fill_counts_once_but_same_fill_id_on_another_order_counts() -> None:
    t = Tape()
    p = PositionsProjection()
    fill = t.filled("o1", "f1", BUY, "1", "100", fee="1")
    p.fold([fill, fill, t.filled("o1", "f1", BUY, "1", "100", fee="1")])
    assert p.position("paper", "BTC-USDT").quantity == D(1)
    assert p.position("paper", "BTC-USDT").fees == D(1)
    assert p.state()["totals"]["duplicate_fills"] == 2
    p.apply(t.filled("o2", "f1", BUY, "1", "100"))
    assert p.position("paper", "BTC-USDT").quantity == D(2)


def test_marks_prefer_same_venue_then_any_venue() -> None:
    t = Tape()
    p = PositionsProjection()
    p.apply(t.filled("o1", "f1", BUY, "1", "100", venue="alpha"))
    p.apply(t.bar("110", open_ts_ns=0, venue="beta"))
    assert p.position("alpha", "BTC-USDT").mark == D(110)
    p.apply(t.bar("105", open_ts_ns=0, venue="alpha"))
    p.apply(t.bar("120", open_ts_ns=60 * SEC, venue="beta"))
    assert p.position("alpha", "BTC-USDT").mark == D(105)
    assert p.position("alpha", "BTC-USDT").unrealized_pnl == D(5)


def test_positions_are_per_venue_and_instrument_with_totals() -> None:
    t = Tape()
    p = PositionsProjection()
    p.fold(
        [
            t.filled("o1", "f1", BUY, "1", "100", fee="0.5"),
            t.filled("o2", "f2", SELL, "2", "10", venue="other", fee="0.5"),
            t.filled("o3", "f3", BUY, "10", "2", instrument="ETH-USDT"),
            t.bar("110", open_ts_ns=0),
            t.bar("3", open_ts_ns=0, instrument="ETH-USDT"),
        ]
    )
    state = p.state()
    assert sorted(state["positions"]) == ["other:BTC-USDT", "paper:BTC-USDT", "paper:ETH-USDT"]
    eth = state["positions"]["paper:ETH-USDT"]
    assert eth["quantity"] == "10"
    assert eth["unrealized_pnl"] == "10"
    # other:BTC-USDT has no bar of its own: marked by paper's BTC close (110), short 2 from 10
    assert state["positions"]["other:BTC-USDT"]["unrealized_pnl"] == "-200"
    totals = state["totals"]
    assert totals["unrealized_pnl"] == str(10 + 10 - 200)
    assert totals["fees"] == "1"
    assert totals["net_pnl"] == "-181"
    assert totals["gross_exposure"] == str(110 + 220 + 30)
    assert totals["net_exposure"] == str(110 - 220 + 30)


def test_digest_is_stable_and_changes_with_state() -> None:
    t = Tape()
    a, b = PositionsProjection(), PositionsProjection()
    events = [t.filled("o1", "f1", BUY, "1.50", "100.0"), t.bar("101.00", open_ts_ns=0)]
    a.fold(events)
    b.fold(events)
    assert a.digest() == b.digest()
    assert a.state()["positions"]["paper:BTC-USDT"]["quantity"] == "1.5"
    b.apply(t.bar("102", open_ts_ns=60 * SEC))
    assert a.digest() != b.digest()
