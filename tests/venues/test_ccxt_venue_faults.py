"""Every fault on the Kraken and Coinbase fakes ends in the right adapter error and never in a
second order: after an unknown outcome the order is looked up by client id before any resend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from tests.venues.cases import CASES, VenueCase
from venues.base import (
    OrderRefused,
    OrderRequest,
    OutcomeUnknown,
    RateLimited,
    VenueOrderStatus,
    VenueUnavailable,
)
from venues.ccxt_common import CcxtSpotAdapter
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
    adapter = case.adapter(fake, timeout_s=0.5)
    await adapter.instruments()
    yield adapter
    await adapter.close()


async def recover(adapter: CcxtSpotAdapter, request: OrderRequest) -> str:
    """The gateway's rule after an unknown outcome: look up first, resend only if unknown."""
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
    ids=["dropped", "500", "timeout"],
)
async def test_lost_reply_after_placement(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter, fault: dict[str, object]
) -> None:
    fake.faults.add(on="place", **fault)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknown):
        await adapter.place(case.order("lost"))
    found = await adapter.order_by_client_id("lost", "BTC-USD")
    assert found is not None and found.status is VenueOrderStatus.FILLED
    assert await recover(adapter, case.order("lost")) == found.venue_order_id
    assert len(fake.engine.all_orders()) == 1


@pytest.mark.parametrize(
    "fault",
    [{"kind": "server_error", "status": 502}, {"kind": "timeout", "placed": False, "hang_s": 1.5}],
    ids=["5xx", "timeout"],
)
async def test_failure_before_placement(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter, fault: dict[str, object]
) -> None:
    fake.faults.add(on="place", **fault)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknown):
        await adapter.place(case.order("early"))
    venue_id = await recover(adapter, case.order("early"))
    assert [(o.order_id, o.client_order_id) for o in fake.engine.all_orders()] == [
        (venue_id, "early")
    ]


async def test_transient_read_failures(fake: FakeVenueHandle, adapter: CcxtSpotAdapter) -> None:
    fake.faults.add("server_error", on="query", status=503)
    with pytest.raises(VenueUnavailable):
        await adapter.open_orders()
    fake.faults.add("timeout", on="balance", hang_s=1.5)
    with pytest.raises(VenueUnavailable):
        await adapter.balances()
    fake.faults.add("response_lost", on="fills", times=2)  # aiohttp retries a GET once
    with pytest.raises(VenueUnavailable):
        await adapter.fills_since(0, "BTC-USD")
    fake.faults.clear()
    assert await adapter.open_orders() == []


@pytest.mark.parametrize("kind", ["rate_limit", "banned"])
async def test_429_and_418(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter, kind: str
) -> None:
    fake.faults.add(kind, on="place", retry_after_s=4)
    with pytest.raises(RateLimited) as limited:
        await adapter.place(case.order("limited"))
    assert limited.value.retry_after_s == 4
    fake.faults.add(kind, on="query")
    with pytest.raises(RateLimited):
        await adapter.open_orders()
    assert fake.engine.all_orders() == []


async def test_partial_fill(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter
) -> None:
    fake.faults.add("partial_fill", on="place", fill_ratio=Decimal("0.4"))
    placed = await adapter.place(case.order("part", qty="0.05"))
    assert placed.filled_quantity == Decimal("0.02")
    assert placed.status in (VenueOrderStatus.EXPIRED, VenueOrderStatus.CANCELED)
    fake.faults.add("partial_fill", on="place", fill_ratio=Decimal("0.5"))
    resting = await adapter.place(case.order("part-lim", qty="0.04", price="61000"))
    assert resting.status is VenueOrderStatus.OPEN
    assert resting.filled_quantity == Decimal("0.02")


async def test_fills_twice_and_out_of_order(
    case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter
) -> None:
    for i in range(3):
        await adapter.place(case.order(f"fill-{i}"))
    fake.faults.add("duplicate_fills", on="fills")
    fake.faults.add("fills_out_of_order", on="fills")
    fills = await adapter.fills_since(0, "BTC-USD")
    assert len(fills) == 3 and len({f.fill_id for f in fills}) == 3
    assert [f.ts_ns for f in fills] == sorted(f.ts_ns for f in fills)


async def test_rejection(case: VenueCase, fake: FakeVenueHandle, adapter: CcxtSpotAdapter) -> None:
    fake.faults.add("reject", on="place")
    with pytest.raises(OrderRefused) as refused:
        await adapter.place(case.order("rejected"))
    assert refused.value.code == case.reject_code
    fake.faults.add("latency", on="any", latency_s=0.05, times=3)
    assert (await adapter.place(case.order("slow"))).status is VenueOrderStatus.FILLED
