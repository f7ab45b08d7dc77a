"""Spot balances through the real gateway and a fake venue: trading records no balance
discrepancy, a deposit made behind the system's back records exactly one (also across a restart),
and it is not repeated afterwards."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from actors.gateway import Gateway
from domain.events.venue import BalanceDiscrepancy, ReconciliationCompleted
from domain.execution.reports import FillReport, OrderReport
from domain.values import OrderType, Side
from store import Tape, open_tape
from venues.base import InstrumentSpec
from venues.registry import BuiltVenue

from .conftest import World, approval, available, make_world

pytestmark = pytest.mark.anyio

SPOT_KINDS = [k for k in ("binance", "kraken", "coinbase") if available(k)]
QUOTE = {"binance": ("USDT", "USDT"), "kraken": ("ZUSD", "USD"), "coinbase": ("USD", "USD")}
"""The quote asset as the fake engine keys it, and as the gateway sees it."""


def balance_events(tape: Tape) -> list[BalanceDiscrepancy]:
    topics = ("BalanceDiscrepancy",)
    return [r.event for r in tape.iter_all(topics=topics)]  # type: ignore[misc]


def completed(tape: Tape) -> list[ReconciliationCompleted]:
    return [r.event for r in tape.iter_all(topics=("ReconciliationCompleted",))]  # type: ignore[misc]


def deposit(world: World, amount: Decimal) -> None:
    """Money arrives at the venue without the system having done anything."""
    engine = world.venue.engine
    with engine.lock:
        engine.balance_of(QUOTE[world.kind][0]).free += amount


async def trade(gateway: Gateway, world: World, first: int) -> None:
    """Market buys, a sell, and a resting buy that a counterparty later takes."""
    for n in range(first, first + 2):
        await gateway.submit(approval(n, world, order_type=OrderType.MARKET))
    sell = approval(first + 2, world, order_type=OrderType.MARKET)
    sell = sell.model_copy(update={"side": Side.SELL})
    await gateway.submit(sell)
    assert await gateway.submit(approval(first + 3, world)) == "accepted"
    world.fill_resting()
    await gateway.reconcile()


def _gateway(world: World, tmp_path: Path) -> tuple[Gateway, Tape]:
    tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
    return Gateway(world.cfg, tape), tape


@pytest.mark.parametrize("kind", SPOT_KINDS)
async def test_trading_records_no_balance_discrepancy(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch) as world:
        gateway, tape = _gateway(world, tmp_path)
        await gateway.start()
        await trade(gateway, world, 1)
        await gateway.reconcile()
        assert all(o.status.value == "filled" for o in gateway.orders.values())
        assert len(gateway.orders) == 4
        assert balance_events(tape) == []
        assert len(completed(tape)) >= 3
        await gateway.close()


@pytest.mark.parametrize("kind", SPOT_KINDS)
async def test_a_deposit_records_one_discrepancy_and_is_not_repeated(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch) as world:
        gateway, tape = _gateway(world, tmp_path)
        await gateway.start()
        deposit(world, Decimal(500))
        await trade(gateway, world, 1)  # trading in the same window changes nothing
        await gateway.reconcile()
        (found,) = balance_events(tape)
        assert (found.asset, found.difference, found.venue) == (QUOTE[kind][1], 500, kind)
        assert found.since_ns < found.until_ns
        assert found.observed == Decimal(completed(tape)[-1].balances[QUOTE[kind][1]])
        await gateway.close()


@pytest.mark.parametrize("kind", SPOT_KINDS)
async def test_a_deposit_while_the_gateway_was_down_is_found_at_start(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch) as world:
        gateway, _ = _gateway(world, tmp_path)
        await gateway.start()
        await trade(gateway, world, 1)
        assert await gateway.submit(approval(9, world)) == "accepted"  # rests at the venue
        await gateway.close()

        deposit(world, Decimal(-250))  # a withdrawal, in fact
        world.fill_resting()  # and a fill, while no gateway is running

        restarted, tape = _gateway(world, tmp_path)
        await restarted.start()
        (found,) = balance_events(tape)
        assert (found.asset, found.difference) == (QUOTE[kind][1], -250)
        await restarted.reconcile()
        assert len(balance_events(tape)) == 1
        await restarted.close()


class RacingVenue:
    """A scripted spot venue: a fill executes while the gateway reads the snapshot, after the
    fill list and before the balances, so the first snapshot disagrees with itself."""

    def __init__(self) -> None:
        self.balances_now = {"USDT": Decimal(1000)}
        self.fills: list[FillReport] = []
        self.racing: FillReport | None = None

    async def open_orders(self, instrument: str | None = None) -> list[OrderReport]:
        return []

    async def fills_since(self, since_ns: int, instrument: str | None = None) -> list[FillReport]:
        return list(self.fills)

    async def order_by_client_id(self, coid: str, instrument: str) -> OrderReport | None:
        return None

    async def balances(self) -> dict[str, Decimal]:
        if self.racing is not None:
            fill, self.racing = self.racing, None
            self.fills.append(fill)
            self.balances_now = {
                "USDT": self.balances_now["USDT"] - fill.quantity * fill.price - fill.fee,
                "BTC": fill.quantity,
            }
        return dict(self.balances_now)

    async def positions(self) -> list[object]:
        return []

    async def instruments(self) -> list[InstrumentSpec]:
        spec = InstrumentSpec(
            instrument="BTC-USDT", venue_symbol="BTCUSDT", lot_size="0.001", tick_size="0.01"
        )
        return [spec]

    async def close(self) -> None:
        return None


async def test_a_fill_racing_the_snapshot_is_not_taken_for_a_discrepancy(tmp_path: Path) -> None:
    venue = RacingVenue()
    tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
    cfg = {"name": "racing", "kind": "racing", "seed": 1}
    gateway = Gateway(cfg, tape, BuiltVenue(adapter=venue, limits=None, key_id=None))  # type: ignore[arg-type]
    await gateway.start()
    venue.racing = FillReport(
        fill_id="t1",
        client_order_id=None,
        venue_order_id="x1",
        instrument="BTC-USDT",
        side=Side.BUY,
        quantity=Decimal(1),
        price=Decimal(100),
        fee=Decimal("0.1"),
        fee_currency="USDT",
        ts_ns=1,
    )
    await gateway.reconcile()
    await gateway.reconcile()
    assert balance_events(tape) == []
    (order,) = gateway.orders.values()  # the fill, recorded once (an order made elsewhere)
    assert order.filled_quantity == 1
    recorded = {k: Decimal(v) for k, v in completed(tape)[-1].balances.items()}
    assert recorded == {"USDT": Decimal("899.9"), "BTC": 1}
