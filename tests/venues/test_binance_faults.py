"""Every fault on the fake Binance's switch ends in the right adapter error, and never in a
second order: after an unknown outcome the order is looked up by client id first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import aiohttp
import pytest

from domain.values import OrderType, Side
from venues.base import (
    OrderRefused,
    OrderRequest,
    OutcomeUnknown,
    RateLimited,
    VenueOrderStatus,
    VenueUnavailable,
)
from venues.binance import BinanceAdapter
from venues.fakes import FakeVenueHandle, start_fake

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeVenueHandle]:
    with start_fake("binance") as handle:
        yield handle


@pytest.fixture
async def adapter(fake: FakeVenueHandle) -> AsyncIterator[BinanceAdapter]:
    adapter = BinanceAdapter(fake.api_key, fake.secret, base_url=fake.base_url, timeout_s=0.5)
    yield adapter
    await adapter.close()


def order(cid: str, qty: str = "0.01", price: str | None = None) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        instrument="BTC-USDT",
        side=Side.BUY,
        quantity=Decimal(qty),
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        limit_price=Decimal(price) if price else None,
    )


async def recover(adapter: BinanceAdapter, request: OrderRequest) -> str:
    """What a gateway does after an unknown outcome: look up first, resend only if unknown.

    Binance keeps client ids unique among *open* orders only, so resending the id of a filled
    order would create a second order: the lookup is what prevents the duplicate."""
    found = await adapter.order_by_client_id(request.client_order_id, request.instrument)
    if found is not None:
        return found.venue_order_id
    return (await adapter.place(request)).venue_order_id


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "response_lost", "drop": True},
        {"kind": "response_lost", "drop": False},
        {"kind": "timeout", "placed": True, "hang_s": 1.5},
    ],
)
async def test_lost_reply_after_placement_is_unknown_then_found(
    fake: FakeVenueHandle, adapter: BinanceAdapter, fault: dict[str, object]
) -> None:
    fake.faults.add(on="place", **fault)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknown):
        await adapter.place(order("f-lost"))
    found = await adapter.order_by_client_id("f-lost", "BTC-USDT")
    assert found is not None and found.status is VenueOrderStatus.FILLED
    assert await recover(adapter, order("f-lost")) == found.venue_order_id
    assert len(fake.engine.all_orders()) == 1


@pytest.mark.parametrize(
    "fault",
    [{"kind": "server_error", "status": 503}, {"kind": "timeout", "placed": False, "hang_s": 1.5}],
)
async def test_failure_before_placement_is_unknown_then_resent_once(
    fake: FakeVenueHandle, adapter: BinanceAdapter, fault: dict[str, object]
) -> None:
    fake.faults.add(on="place", **fault)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknown):
        await adapter.place(order("f-5xx"))
    venue_id = await recover(adapter, order("f-5xx"))
    orders = fake.engine.all_orders()
    assert [(o.order_id, o.client_order_id) for o in orders] == [(venue_id, "f-5xx")]


async def test_reads_that_fail_transiently_are_unavailable(
    fake: FakeVenueHandle, adapter: BinanceAdapter
) -> None:
    await adapter.instruments()
    fake.faults.add("server_error", on="read", status=502)
    with pytest.raises(VenueUnavailable):
        await adapter.open_orders()
    fake.faults.add("timeout", on="balance", hang_s=1.5)
    with pytest.raises(VenueUnavailable):
        await adapter.balances()
    fake.faults.add("response_lost", on="query", times=2)  # aiohttp retries a GET once
    with pytest.raises(VenueUnavailable):
        await adapter.order_by_client_id("nothing", "BTC-USDT")
    assert await adapter.open_orders() == []


@pytest.mark.parametrize("kind", ["rate_limit", "banned"])
async def test_429_and_418_carry_retry_after(
    fake: FakeVenueHandle, adapter: BinanceAdapter, kind: str
) -> None:
    await adapter.instruments()
    fake.faults.add(kind, on="place", retry_after_s=7)
    with pytest.raises(RateLimited) as limited:
        await adapter.place(order("f-429"))
    assert limited.value.retry_after_s == 7
    fake.faults.add(kind, on="read", retry_after_s=3)
    with pytest.raises(RateLimited):
        await adapter.open_orders()
    assert fake.engine.all_orders() == []


async def test_partial_fill_of_a_market_order_expires_the_rest(
    fake: FakeVenueHandle, adapter: BinanceAdapter
) -> None:
    fake.faults.add("partial_fill", on="place", fill_ratio=Decimal("0.4"))
    placed = await adapter.place(order("f-part", qty="0.05"))
    assert placed.status is VenueOrderStatus.EXPIRED
    assert placed.filled_quantity == Decimal("0.02")


async def test_partial_fill_of_a_limit_order_stays_open(
    fake: FakeVenueHandle, adapter: BinanceAdapter
) -> None:
    fake.faults.add("partial_fill", on="place", fill_ratio=Decimal("0.5"))
    placed = await adapter.place(order("f-part-lim", qty="0.04", price="61000.00"))
    assert placed.status is VenueOrderStatus.OPEN and placed.filled_quantity == Decimal("0.02")
    fake.engine.set_mark("BTCUSDT", Decimal("60500"))
    done = await adapter.order_by_client_id("f-part-lim", "BTC-USDT")
    assert done is not None and done.status is VenueOrderStatus.FILLED
    assert done.filled_quantity == Decimal("0.04")


async def test_fills_listed_twice_or_out_of_order_are_deduplicated_and_sorted(
    fake: FakeVenueHandle, adapter: BinanceAdapter
) -> None:
    for i in range(3):
        await adapter.place(order(f"f-fill-{i}"))
    fake.faults.add("duplicate_fills", on="fills")
    fake.faults.add("fills_out_of_order", on="fills")
    fills = await adapter.fills_since(0, "BTC-USDT")
    assert len(fills) == 3 and len({f.fill_id for f in fills}) == 3
    assert [f.ts_ns for f in fills] == sorted(f.ts_ns for f in fills)


async def test_rejection_and_latency(fake: FakeVenueHandle, adapter: BinanceAdapter) -> None:
    fake.faults.add("reject", on="place")
    with pytest.raises(OrderRefused) as refused:
        await adapter.place(order("f-rej"))
    assert refused.value.code == "-2010"
    fake.faults.add("latency", on="any", latency_s=0.05, times=2)
    assert (await adapter.place(order("f-slow"))).status is VenueOrderStatus.FILLED


async def test_faults_are_armed_over_the_admin_endpoint(
    fake: FakeVenueHandle, adapter: BinanceAdapter
) -> None:
    async with aiohttp.ClientSession(fake.base_url) as http:
        armed = await http.post("/__admin/faults", json={"kind": "rate_limit", "on": "place"})
        assert armed.status == 200
        assert [f["kind"] for f in await (await http.get("/__admin/faults")).json()] == [
            "rate_limit"
        ]
        with pytest.raises(RateLimited):
            await adapter.place(order("f-admin"))
        await adapter.place(order("f-admin"))
        await http.post("/__admin/mark", json={"symbol": "BTCUSDT", "price": "61000"})
        await adapter.place(order("f-admin-2"))
        orders = await (await http.get("/__admin/orders")).json()
        assert [o["client_order_id"] for o in orders] == ["f-admin", "f-admin-2"]
        await http.post("/__admin/faults", json={"kind": "server_error", "times": None})
        await http.delete("/__admin/faults")
        assert await (await http.get("/__admin/faults")).json() == []
    fills = await adapter.fills_since(0, "BTC-USDT")
    assert [f.price for f in fills] == [Decimal(60000), Decimal(61000)]
