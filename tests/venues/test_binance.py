"""The Binance adapter through the fake Binance spot API, with real ccxt in between."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from domain.values import OrderType, Side
from venues.base import (
    OrderRefused,
    OrderRequest,
    VenueOrderStatus,
)
from venues.binance import BinanceAdapter
from venues.ccxt_common import CredentialsRejected, PermissionsTooBroad
from venues.fakes import FakeVenueHandle, start_fake

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeVenueHandle]:
    with start_fake("binance") as handle:
        yield handle


@pytest.fixture
async def adapter(fake: FakeVenueHandle) -> AsyncIterator[BinanceAdapter]:
    adapter = BinanceAdapter(fake.api_key, fake.secret, base_url=fake.base_url, timeout_s=1.0)
    yield adapter
    await adapter.close()


def market(cid: str, qty: str = "0.01", side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid, instrument="BTC-USDT", side=side, quantity=Decimal(qty)
    )


def limit(cid: str, price: str, qty: str = "0.01", side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        instrument="BTC-USDT",
        side=side,
        quantity=Decimal(qty),
        order_type=OrderType.LIMIT,
        limit_price=Decimal(price),
    )


async def test_instruments_carry_binance_filters(adapter: BinanceAdapter) -> None:
    specs = {s.instrument: s for s in await adapter.instruments()}
    btc = specs["BTC-USDT"]
    assert btc.venue_symbol == "BTC/USDT"
    assert (btc.lot_size, btc.tick_size) == (Decimal("0.00001"), Decimal("0.01"))
    assert (btc.min_quantity, btc.min_notional) == (Decimal("0.00001"), Decimal(5))


async def test_market_order_fills_at_the_mark(adapter: BinanceAdapter) -> None:
    order = await adapter.place(market("t-mkt-1"))
    assert order.client_order_id == "t-mkt-1"
    assert order.status is VenueOrderStatus.FILLED
    assert order.filled_quantity == Decimal("0.01")
    assert order.average_price == Decimal(60000)
    balances = await adapter.balances()
    assert balances["BTC"] == Decimal("2.01")
    assert balances["USDT"] == Decimal("99399.4")  # 600 notional + 0.1% fee


async def test_limit_order_rests_is_found_and_cancelled(adapter: BinanceAdapter) -> None:
    placed = await adapter.place(limit("t-lim-1", "50000.00"))
    assert placed.status is VenueOrderStatus.OPEN
    found = await adapter.order_by_client_id("t-lim-1", "BTC-USDT")
    assert found is not None and found.venue_order_id == placed.venue_order_id
    assert [o.client_order_id for o in await adapter.open_orders()] == ["t-lim-1"]
    assert [o.client_order_id for o in await adapter.open_orders("BTC-USDT")] == ["t-lim-1"]
    cancelled = await adapter.cancel("t-lim-1", "BTC-USDT")
    assert cancelled is not None and cancelled.status is VenueOrderStatus.CANCELED
    assert cancelled.client_order_id == "t-lim-1"
    assert await adapter.open_orders() == []


async def test_resting_limit_fills_when_the_mark_crosses(
    fake: FakeVenueHandle, adapter: BinanceAdapter
) -> None:
    await adapter.place(limit("t-lim-2", "59000.00", qty="0.02"))
    fake.engine.set_mark("BTCUSDT", Decimal("58900"))
    order = await adapter.order_by_client_id("t-lim-2", "BTC-USDT")
    assert order is not None and order.status is VenueOrderStatus.FILLED
    fills = await adapter.fills_since(0, "BTC-USDT")
    assert [(f.quantity, f.price, f.liquidity) for f in fills] == [
        (Decimal("0.02"), Decimal(59000), "maker")
    ]
    assert fills[0].venue_order_id == order.venue_order_id
    assert await adapter.fills_since(0) == fills  # every listed market when none is given


async def test_cancel_of_a_filled_or_unknown_order(adapter: BinanceAdapter) -> None:
    await adapter.place(market("t-done"))
    done = await adapter.cancel("t-done", "BTC-USDT")
    assert done is not None and done.status is VenueOrderStatus.FILLED
    assert await adapter.cancel("never-sent", "BTC-USDT") is None
    assert await adapter.order_by_client_id("never-sent", "BTC-USDT") is None


async def test_duplicate_client_id_of_an_open_order_is_refused(
    fake: FakeVenueHandle, adapter: BinanceAdapter
) -> None:
    await adapter.place(limit("t-dup", "50000.00"))
    with pytest.raises(OrderRefused) as refused:
        await adapter.place(limit("t-dup", "50000.00"))
    assert refused.value.code == "-2010"
    assert len(fake.engine.all_orders()) == 1


async def test_refusals_keep_binance_codes(fake: FakeVenueHandle, adapter: BinanceAdapter) -> None:
    with pytest.raises(OrderRefused) as tiny:
        await adapter.place(market("t-tiny", qty="0.00001"))  # 0.6 USDT < NOTIONAL 5
    assert tiny.value.code == "-1013"
    with pytest.raises(OrderRefused) as broke:
        await adapter.place(market("t-broke", qty="5"))
    assert broke.value.code == "-2010"
    with pytest.raises(OrderRefused) as off_lot:
        await adapter.place(market("t-lot", qty="0.000015"))
    assert off_lot.value.code == "lot_size"
    assert fake.engine.all_orders() == []


async def test_wrong_secret_and_unknown_key_are_refused(fake: FakeVenueHandle) -> None:
    bad_secret = BinanceAdapter(fake.api_key, "0" * 64, base_url=fake.base_url)
    unknown_key = BinanceAdapter("f" * 64, fake.secret, base_url=fake.base_url)
    try:
        with pytest.raises(CredentialsRejected) as sig:
            await bad_secret.balances()
        assert sig.value.code == "-1022"
        with pytest.raises(OrderRefused) as sig_write:
            await bad_secret.place(market("t-badsig"))
        assert sig_write.value.code == "-1022"
        with pytest.raises(CredentialsRejected) as key:
            await unknown_key.open_orders()
        assert key.value.code == "-2015"
        assert fake.secret not in str(sig.value) and fake.api_key not in str(key.value)
    finally:
        await bad_secret.close()
        await unknown_key.close()
    assert fake.engine.all_orders() == []


async def test_verify_permissions(fake: FakeVenueHandle, adapter: BinanceAdapter) -> None:
    report = await adapter.verify_permissions()
    assert report.can_trade and not report.can_withdraw and not report.can_transfer
    key, secret = fake.fake.add_key(enable_withdrawals=True, permits_universal_transfer=True)  # type: ignore[attr-defined]
    risky = BinanceAdapter(key, secret, base_url=fake.base_url)
    overridden = BinanceAdapter(key, secret, base_url=fake.base_url, allow_withdrawal_keys=True)
    try:
        with pytest.raises(PermissionsTooBroad) as too_broad:
            await risky.verify_permissions()
        assert set(too_broad.value.findings) == {"enableWithdrawals", "permitsUniversalTransfer"}
        assert secret not in str(too_broad.value)
        assert (await overridden.verify_permissions()).can_withdraw
    finally:
        await risky.close()
        await overridden.close()


def test_secrets_stay_out_of_reprs(fake: FakeVenueHandle) -> None:
    adapter = BinanceAdapter(fake.api_key, fake.secret, base_url=fake.base_url)
    assert fake.secret not in repr(adapter) and fake.api_key not in repr(adapter)
    assert fake.secret not in repr(fake)
