"""Brackets end to end without Ray: the real gateway on the paper venue, the risk manager, a tape
on SQLite, the risk profile wired as ``tapeline up`` wires it (``cluster.topology.desired``).

Native: both children rest at the paper venue as a stop-market and a limit order, the first to
fill cancels the other. Emulated: nothing rests; the bar that touches a level fires a reduce-only
market exit, which fills at the NEXT bar's open (``domain.paper``: orders wait for the next bar).
So both end flat, and at the same exit price when the bar after the touch opens at the level
(slippage zero here); otherwise the emulated exit takes that open, the native one its level.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest

from actors.gateway import Gateway
from actors.risk_manager import RiskManager
from actors.tape_access import StreamWriter
from cluster.config import TapelineConfig, VenueConfig
from cluster.topology import desired
from domain.bars import Bar, bar_to_event_fields
from domain.events import (
    BarClosed,
    OrderCanceled,
    OrderFilled,
    OrderIntentApproved,
    OrderSubmitted,
    bar_stream,
)
from domain.orders import OrderStatus
from domain.values import OrderType, Side
from store import Tape, open_tape
from tests.actors.risk_fakes import Desk

INSTRUMENT = "BTC-USDT"
Mode = Literal["auto", "native", "emulated"]
ENTRY = [("100", "100", "100", "100"), ("100", "101", "99", "100")]  # decided, then filled at 100
TAKE_PROFIT = [("105", "112", "104", "111"), ("110", "111", "109", "110")]  # touches 110
STOP_LOSS = [("97", "98", "94", "96"), ("95", "96", "94", "95")]  # touches 95


class InProcess:
    """The system around one risk profile, as ``tapeline up`` builds it but in one process: each
    bar is recorded, the paper gateway fills against it, then the risk manager acts (the order
    market data keeps)."""

    def __init__(self, tape: Tape, brackets: Mode) -> None:
        venue = VenueConfig(name="paper", slippage_bps=Decimal(0), brackets=brackets)
        cfg = TapelineConfig(venues=[venue], strategies=[])
        specs = desired(cfg)
        self.gateway = Gateway(specs["gateway.paper"].params, tape)
        p = specs["risk.main"].params
        self.native = p["native_bracket_venues"]
        self.risk = RiskManager(
            "main",
            {},
            tape,
            p["venues"],
            p["default_venue"],
            lambda venue: self.gateway,
            native_bracket_venues=p["native_bracket_venues"],
        )
        self.desk = Desk(tape, INSTRUMENT)
        self.writer = StreamWriter(tape, "market_data")
        self.n = 0

    def bar(self, o: str, h: str, low: str, c: str) -> None:
        self.n += 1
        bar = Bar("paper", INSTRUMENT, self.n * 60_000_000_000, 60, *map(Decimal, (o, h, low, c)),
                  Decimal(1_000_000))  # fmt: skip
        stream = bar_stream("paper", INSTRUMENT)
        envelope = self.writer.meta().envelope(stream, self.writer.next_version(stream))
        self.writer.append([BarClosed(**envelope, **bar_to_event_fields(bar))])
        asyncio.run(self._after_bar(bar))

    async def _after_bar(self, bar: Bar) -> None:
        await self.gateway.on_bars([bar])
        await self.risk.step()

    def enter(self, **levels: str) -> OrderIntentApproved:
        signal = self.desk.signal(notional="1000", venue="paper", **levels)
        assert asyncio.run(self.risk.on_signal(signal)) == "approved"
        (entry,) = self.desk.events(OrderIntentApproved)
        return entry

    def resting(self) -> dict[str, Any]:
        """The orders resting at the paper venue, as the gateway sent them."""
        engine = self.gateway.adapter.engine
        return {
            o.client_order_id: self.gateway.orders[o.client_order_id] for o in engine.open_orders()
        }

    def exit_fill(self, entry: OrderIntentApproved) -> OrderFilled:
        (fill,) = [
            f for f in self.desk.events(OrderFilled) if f.client_order_id != entry.client_order_id
        ]
        return fill


@pytest.fixture
def tape(tmp_path: Path) -> Iterator[Tape]:
    t = open_tape(f"sqlite:///{tmp_path}/tape.sqlite")
    yield t
    t.close()


def test_native_children_rest_at_the_paper_venue_and_the_take_profit_cancels_the_stop(
    tape: Tape,
) -> None:
    sys = InProcess(tape, "auto")
    assert sys.native == ["paper"]
    sys.bar(*ENTRY[0])
    entry = sys.enter(stop_loss="95", take_profit="110")
    sys.bar(*ENTRY[1])

    resting = sys.resting()
    by_type = {o.order_type: o for o in resting.values()}
    assert set(by_type) == {OrderType.STOP_MARKET, OrderType.LIMIT}
    stop, take = by_type[OrderType.STOP_MARKET], by_type[OrderType.LIMIT]
    assert (stop.stop_price, take.limit_price) == (Decimal(95), Decimal(110))
    for child in (stop, take):
        assert (child.side, child.quantity, child.reduce_only) == (Side.SELL, Decimal(10), True)
    submitted = {e.client_order_id: e for e in sys.desk.events(OrderSubmitted)}
    assert submitted[stop.client_order_id].order_type is OrderType.STOP_MARKET

    sys.bar(*TAKE_PROFIT[0])
    assert sys.resting() == {}
    fill = sys.exit_fill(entry)
    assert (fill.client_order_id, fill.price, fill.quantity) == (
        take.client_order_id,
        Decimal(110),
        Decimal(10),
    )
    assert sys.gateway.orders[stop.client_order_id].status is OrderStatus.CANCELED
    (canceled,) = sys.desk.events(OrderCanceled)
    assert canceled.client_order_id == stop.client_order_id
    assert sys.risk.view.position(INSTRUMENT).quantity == 0
    assert sys.gateway.adapter.engine.positions() == {}
    assert sys.risk.book.brackets == {}


def test_an_emulated_bracket_rests_nothing_and_fires_a_reduce_only_market_exit(
    tape: Tape,
) -> None:
    sys = InProcess(tape, "emulated")
    assert sys.native == []
    sys.bar(*ENTRY[0])
    sys.enter(stop_loss="95", take_profit="110")
    sys.bar(*ENTRY[1])
    assert sys.resting() == {}
    sys.bar(*TAKE_PROFIT[0])
    (exit_,) = sys.resting().values()
    assert (exit_.order_type, exit_.reduce_only, exit_.side) == (OrderType.MARKET, True, Side.SELL)
    sys.bar(*TAKE_PROFIT[1])
    assert sys.resting() == {}


@pytest.mark.parametrize(("name", "bars"), [("take_profit", TAKE_PROFIT), ("stop_loss", STOP_LOSS)])
def test_native_and_emulated_end_at_the_same_position_and_exit_price(
    tmp_path: Path, name: str, bars: list[tuple[str, str, str, str]]
) -> None:
    outcomes = {}
    modes: tuple[Mode, ...] = ("auto", "emulated")
    for mode in modes:
        with open_tape(f"sqlite:///{tmp_path}/{mode}.sqlite") as tape:
            sys = InProcess(tape, mode)
            sys.bar(*ENTRY[0])
            entry = sys.enter(stop_loss="95", take_profit="110")
            for bar in [ENTRY[1], *bars, bars[-1]]:
                sys.bar(*bar)
            fill = sys.exit_fill(entry)
            outcomes[mode] = (
                sys.risk.view.position(INSTRUMENT).quantity,
                sys.gateway.adapter.engine.positions(),
                fill.price,
                fill.quantity,
                sys.resting(),
            )
    expected_price = Decimal(110) if name == "take_profit" else Decimal(95)
    assert outcomes["auto"] == outcomes["emulated"] == (0, {}, expected_price, Decimal(10), {})


def test_a_bracket_routed_to_a_native_default_venue_is_native(tape: Tape) -> None:
    sys = InProcess(tape, "auto")
    sys.bar(*ENTRY[0])
    signal = sys.desk.signal(notional="1000", stop_loss="95", take_profit="110")  # no venue
    assert asyncio.run(sys.risk.on_signal(signal)) == "approved"
    sys.bar(*ENTRY[1])
    kinds = {o.order_type for o in sys.resting().values()}
    assert kinds == {OrderType.STOP_MARKET, OrderType.LIMIT}
