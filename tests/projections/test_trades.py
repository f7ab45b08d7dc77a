"""Round-trip trade log: open on leaving flat, close on returning, flips split the fill."""

from __future__ import annotations

from decimal import Decimal as D

from domain.values import Side
from projections.trades import TradesProjection
from tests.projections.builders import Tape

BUY, SELL = Side.BUY, Side.SELL


def test_round_trip_with_partial_fills_and_fees() -> None:
    t = Tape()
    p = TradesProjection()
    p.fold(
        [
            t.filled("o1", "f1", BUY, "1", "100", fee="0.1", fill_ts_ns=10),
            t.filled("o1", "f2", BUY, "1", "110", fee="0.1", fill_ts_ns=11),
            t.filled("o2", "f1", SELL, "0.5", "120", fee="0.05", fill_ts_ns=20),
            t.filled("o2", "f2", SELL, "1.5", "130", fee="0.15", fill_ts_ns=21),
        ]
    )
    [trade] = p.trades()
    assert (trade.strategy, trade.venue, trade.instrument) == ("s1", "paper", "BTC-USDT")
    assert trade.side == "long"
    assert (trade.entry_ts_ns, trade.exit_ts_ns) == (10, 21)
    assert trade.max_quantity == D(2)
    assert trade.entry_price == D(105)
    assert trade.exit_price == D("127.5")  # (60 + 195) / 2
    assert trade.gross_pnl == D(45)  # 0.5 * 15 + 1.5 * 25
    assert trade.fees == D("0.4")
    assert trade.net_pnl == D("44.6")
    assert trade.fills == 4
    assert p.open == {}


def test_flip_closes_one_trade_and_opens_another_at_the_same_fill() -> None:
    t = Tape()
    p = TradesProjection()
    p.fold(
        [
            t.filled("o1", "f1", BUY, "2", "100", fee="0.2", fill_ts_ns=1),
            t.filled("o2", "f1", SELL, "5", "90", fee="1", fill_ts_ns=2),
            t.filled("o3", "f1", BUY, "3", "80", fee="0.3", fill_ts_ns=3),
        ]
    )
    first, second = p.trades()
    assert first.side == "long"
    assert (first.entry_ts_ns, first.exit_ts_ns) == (1, 2)
    assert first.gross_pnl == D(-20)
    assert first.fees == D("0.6")  # 0.2 + 2/5 of the flip fee
    assert first.exit_price == D(90)
    assert second.side == "short"
    assert (second.entry_ts_ns, second.exit_ts_ns) == (2, 3)
    assert second.max_quantity == D(3)
    assert second.entry_price == D(90)
    assert second.exit_price == D(80)
    assert second.gross_pnl == D(30)
    assert second.fees == D("0.9")  # 3/5 of the flip fee + 0.3
    summary = p.state()["summary"]
    assert summary == {
        "count": 2,
        "open": 0,
        "wins": 1,
        "losses": 1,
        "gross_pnl": "10",
        "fees": "1.5",
        "net_pnl": "8.5",
    }


def test_trades_are_per_strategy_and_open_trade_is_reported() -> None:
    t = Tape()
    p = TradesProjection()
    p.fold(
        [
            t.filled("o1", "f1", BUY, "1", "100", strategy="a"),
            t.filled("o2", "f1", SELL, "1", "100", strategy="b"),
            t.filled("o3", "f1", SELL, "1", "110", strategy="a"),
            t.filled("o3", "f1", SELL, "1", "110", strategy="a"),  # duplicate: ignored
        ]
    )
    [closed] = p.trades()
    assert closed.strategy == "a"
    assert closed.gross_pnl == D(10)
    state = p.state()
    assert list(state["open"]) == ["b/paper/BTC-USDT"]
    assert state["open"]["b/paper/BTC-USDT"]["side"] == "short"
    assert state["open"]["b/paper/BTC-USDT"]["exit_ts_ns"] is None
