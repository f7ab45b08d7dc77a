"""The Kraken and Coinbase adapters through their fakes, with real ccxt in between."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from tests.venues.cases import CASES, VenueCase
from venues.base import OrderRefused, VenueOrderStatus
from venues.ccxt_common import CcxtSpotAdapter, CredentialsRejected, PermissionsTooBroad
from venues.fakes import FakeVenueHandle, start_fake

pytestmark = pytest.mark.anyio


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request: pytest.FixtureRequest) -> VenueCase:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def fake(case: VenueCase) -> Iterator[FakeVenueHandle]:
    with start_fake(case.name) as handle:
        yield handle


@pytest.fixture
async def adapter(case: VenueCase, fake: FakeVenueHandle) -> AsyncIterator[CcxtSpotAdapter]:
    adapter = case.adapter(fake, timeout_s=1.0)
    yield adapter
    await adapter.close()


async def test_instruments(case: VenueCase, adapter: CcxtSpotAdapter) -> None:
    btc = {s.instrument: s for s in await adapter.instruments()}["BTC-USD"]
    assert btc.venue_symbol == case.venue_symbol
    assert (btc.lot_size, btc.tick_size) == (case.lot, case.tick)
    assert (btc.min_quantity, btc.min_notional) == (case.min_qty, case.min_notional)


async def test_market_order_and_balances(case: VenueCase, adapter: CcxtSpotAdapter) -> None:
    order = await adapter.place(case.order("m-1"))
    assert (order.client_order_id, order.status) == ("m-1", VenueOrderStatus.FILLED)
    assert order.filled_quantity == Decimal("0.01")
    assert order.average_price == Decimal(60000)
    balances = await adapter.balances()
    assert balances["BTC"] == Decimal("2.01")
    assert balances[case.quote] == Decimal("99399.4")


async def test_limit_order_lookup_and_cancel(case: VenueCase, adapter: CcxtSpotAdapter) -> None:
    placed = await adapter.place(case.order("l-1", price=case.resting_price))
    assert placed.status is VenueOrderStatus.OPEN
    found = await adapter.order_by_client_id("l-1", "BTC-USD")
    assert found is not None and found.venue_order_id == placed.venue_order_id
    assert found.client_order_id == "l-1"
    assert [o.venue_order_id for o in await adapter.open_orders("BTC-USD")] == [
        placed.venue_order_id
    ]
    assert len(await adapter.open_orders()) == 1
    cancelled = await adapter.cancel("l-1", "BTC-USD")
    assert cancelled is not None and cancelled.status is VenueOrderStatus.CANCELED
    assert await adapter.open_orders() == []


async def test_resting_limit_fills_when_the_mark_crosses(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter
) -> None:
    await adapter.place(case.order("l-2", qty="0.02", price=case.crossing_price))
    fake.engine.set_mark(case.engine_symbol, Decimal("58900"))
    order = await adapter.order_by_client_id("l-2", "BTC-USD")
    assert order is not None and order.status is VenueOrderStatus.FILLED
    fills = await adapter.fills_since(0, "BTC-USD")
    assert [(f.quantity, f.price, f.liquidity) for f in fills] == [
        (Decimal("0.02"), Decimal(59000), "maker")
    ]
    assert fills[0].venue_order_id == order.venue_order_id
    assert await adapter.fills_since(0) == fills


async def test_cancel_of_a_filled_or_unknown_order(
    case: VenueCase, adapter: CcxtSpotAdapter
) -> None:
    await adapter.place(case.order("done"))
    done = await adapter.cancel("done", "BTC-USD")
    assert done is not None and done.status is VenueOrderStatus.FILLED
    assert await adapter.cancel("never-sent", "BTC-USD") is None
    assert await adapter.order_by_client_id("never-sent", "BTC-USD") is None


async def test_a_second_order_with_the_same_client_id_is_never_created(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter
) -> None:
    first = await adapter.place(case.order("dup", price=case.resting_price))
    try:
        again = await adapter.place(case.order("dup", price=case.resting_price))
        assert again.venue_order_id == first.venue_order_id  # Coinbase returns the first
    except OrderRefused as refused:
        assert refused.code == "EOrder:Duplicate order"  # Kraken refuses it
    assert len(fake.engine.all_orders()) == 1


async def test_coinbase_can_refuse_a_duplicate_instead() -> None:
    from tests.venues.cases import COINBASE

    with start_fake("coinbase", duplicate_returns_existing=False) as fake:
        adapter = COINBASE.adapter(fake)
        try:
            await adapter.place(COINBASE.order("dup"))
            with pytest.raises(OrderRefused) as refused:
                await adapter.place(COINBASE.order("dup"))
            assert refused.value.code == "INVALID_REQUEST"
        finally:
            await adapter.close()
        assert len(fake.engine.all_orders()) == 1


async def test_refusals_keep_venue_codes(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter
) -> None:
    with pytest.raises(OrderRefused) as tiny:
        await adapter.place(case.order("tiny", qty=case.tiny_qty))
    assert tiny.value.code == case.tiny_code
    with pytest.raises(OrderRefused) as broke:
        await adapter.place(case.order("broke", qty="5"))
    assert broke.value.code == case.broke_code
    with pytest.raises(OrderRefused) as off_lot:
        await adapter.place(case.order("lot", qty="0.000000015"))
    assert off_lot.value.code == "lot_size"
    assert fake.engine.all_orders() == []


async def test_wrong_credentials_are_refused(case: VenueCase, fake: FakeVenueHandle) -> None:
    bad_secret = case.adapter(fake, secret=case.bad_secret())
    unknown_key = case.adapter(fake, api_key=case.unknown_key())
    try:
        with pytest.raises(CredentialsRejected) as sig:
            await bad_secret.balances()
        assert sig.value.code == case.bad_credentials_code
        with pytest.raises(OrderRefused) as sig_write:
            await bad_secret.place(case.order("badsig"))
        assert sig_write.value.code == case.bad_credentials_code
        with pytest.raises(CredentialsRejected) as key:
            await unknown_key.open_orders()
        assert key.value.code == case.unknown_key_code
        for error in (sig.value, sig_write.value, key.value):
            assert fake.secret not in str(error) and fake.api_key not in str(error)
    finally:
        await bad_secret.close()
        await unknown_key.close()
    assert fake.engine.all_orders() == []


async def test_verify_permissions(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter
) -> None:
    report = await adapter.verify_permissions()
    assert not report.can_withdraw and not report.can_transfer and report.findings == []
    key, secret = fake.fake.add_key(**case.risky_permissions)  # type: ignore[attr-defined]
    risky = case.adapter(fake, api_key=key, secret=secret)
    overridden = case.adapter(fake, api_key=key, secret=secret, allow_withdrawal_keys=True)
    try:
        with pytest.raises(PermissionsTooBroad) as too_broad:
            await risky.verify_permissions()
        assert too_broad.value.findings and secret not in str(too_broad.value)
        assert (await overridden.verify_permissions()).can_withdraw
    finally:
        await risky.close()
        await overridden.close()


def test_secrets_stay_out_of_reprs(case: VenueCase, fake: FakeVenueHandle) -> None:
    adapter = case.adapter(fake)
    assert fake.secret not in repr(adapter) and fake.api_key not in repr(adapter)
    assert fake.secret not in repr(fake)
