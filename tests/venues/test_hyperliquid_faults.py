"""Every fault of the fake Hyperliquid, mapped to the right adapter error, ending without a
duplicated order: an order whose answer was lost is found again by its Cloid."""
# ruff: noqa: F811  (the fixtures are shared with test_hyperliquid_adapter by import)

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount

from venues.base import (
    OrderRefused,
    OutcomeUnknown,
    RateLimited,
    VenueOrderStatus,
    VenueUnavailable,
)
from venues.fakes.faults import FaultKind
from venues.fakes.hyperliquid import FakeHyperliquid
from venues.hyperliquid.adapter import HyperliquidAdapter

from .test_hyperliquid_adapter import (  # noqa: F401
    BTC,
    _calm,
    adapter,
    agent_key,
    fake,
    limit,
    make_adapter,
    market,
    master,
    run,
)


def place_once_despite_unknown_outcome(adapter: HyperliquidAdapter, cid: str) -> None:
    """What the gateway does: look the order up by client id, resend only if the venue lacks it."""
    if run(adapter.order_by_client_id(cid, BTC)) is None:
        run(adapter.place(limit(cid, "0.001", "59000")))


@pytest.mark.parametrize("drop", [True, False])
def test_response_lost_after_placement(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount, drop: bool
) -> None:
    fake.faults.add(FaultKind.RESPONSE_LOST, on="place", drop=drop)
    with pytest.raises(OutcomeUnknown):
        run(adapter.place(limit("lost-1", "0.001", "59000")))
    found = run(adapter.order_by_client_id("lost-1", BTC))
    assert found is not None and found.status is VenueOrderStatus.OPEN
    place_once_despite_unknown_outcome(adapter, "lost-1")
    assert len(fake.orders(master.address)) == 1


def test_blind_resend_after_lost_response_still_gives_one_order(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    fake.faults.add(FaultKind.RESPONSE_LOST, on="place")
    with pytest.raises(OutcomeUnknown):
        run(adapter.place(limit("lost-2", "0.001", "59000")))
    again = run(adapter.place(limit("lost-2", "0.001", "59000")))  # same id: the same order
    assert again.status is VenueOrderStatus.OPEN
    assert len(fake.orders(master.address)) == 1


def test_timeout_after_placement(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    fake.faults.add(FaultKind.TIMEOUT, on="place", hang_s=1.5, placed=True)
    with pytest.raises(OutcomeUnknown):
        run(adapter.place(limit("slow-1", "0.001", "59000")))
    place_once_despite_unknown_outcome(adapter, "slow-1")
    assert len(fake.orders(master.address)) == 1


def test_timeout_before_placement_then_resend(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    fake.faults.add(FaultKind.TIMEOUT, on="place", hang_s=1.5, placed=False)
    with pytest.raises(OutcomeUnknown):
        run(adapter.place(limit("slow-2", "0.001", "59000")))
    assert run(adapter.order_by_client_id("slow-2", BTC)) is None
    place_once_despite_unknown_outcome(adapter, "slow-2")
    assert len(fake.orders(master.address)) == 1


def test_server_error_on_write_is_unknown_and_on_read_unavailable(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    fake.faults.add(FaultKind.SERVER_ERROR, on="place", status=502)
    with pytest.raises(OutcomeUnknown):
        run(adapter.place(limit("5xx-1", "0.001", "59000")))
    fake.faults.add(FaultKind.SERVER_ERROR, on="cancel")
    with pytest.raises(OutcomeUnknown):
        run(adapter.cancel("5xx-1", BTC))
    for kind in ("query", "fills", "balance"):
        fake.faults.add(FaultKind.SERVER_ERROR, on=kind)
    with pytest.raises(VenueUnavailable):
        run(adapter.open_orders())
    with pytest.raises(VenueUnavailable):
        run(adapter.fills_since(0))
    with pytest.raises(VenueUnavailable):
        run(adapter.positions())
    place_once_despite_unknown_outcome(adapter, "5xx-1")
    assert len(fake.orders(master.address)) == 1


@pytest.mark.parametrize("kind", [FaultKind.RATE_LIMIT, FaultKind.BANNED])
def test_rate_limits_carry_retry_after(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount, kind: FaultKind
) -> None:
    fake.faults.add(kind, on="place", retry_after_s=3)
    with pytest.raises(RateLimited) as limited:
        run(adapter.place(limit("429-1", "0.001", "59000")))
    assert limited.value.retry_after_s == 3
    assert fake.orders(master.address) == []
    fake.faults.add(kind, on="query", retry_after_s=2)
    with pytest.raises(RateLimited):
        run(adapter.order_by_client_id("429-1", BTC))


def test_latency_only_slows(adapter: HyperliquidAdapter, fake: FakeHyperliquid) -> None:
    fake.faults.add(FaultKind.LATENCY, on="any", latency_s=0.05, times=3)
    assert run(adapter.place(market("slow-ok", "0.001"))).status is VenueOrderStatus.FILLED


def test_rejection_is_a_definite_refusal(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid
) -> None:
    fake.faults.add(FaultKind.REJECT, on="place", reason="Insufficient margin to place order.")
    with pytest.raises(OrderRefused, match="Insufficient margin"):
        run(adapter.place(limit("rej-1", "0.001", "59000")))
    assert run(adapter.order_by_client_id("rej-1", BTC)) is None


def test_partial_fill_of_an_immediate_order(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid
) -> None:
    fake.faults.add(FaultKind.PARTIAL_FILL, on="place", fill_ratio=Decimal("0.5"))
    order = run(adapter.place(market("part-1", "0.002")))
    assert order.status is VenueOrderStatus.CANCELED  # IOC: the rest is canceled
    assert order.filled_quantity == Decimal("0.001")
    assert sum(f.quantity for f in run(adapter.fills_since(0))) == Decimal("0.001")


def test_partial_fill_of_a_resting_order(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid
) -> None:
    fake.faults.add(FaultKind.PARTIAL_FILL, on="place", fill_ratio=Decimal("0.25"))
    run(adapter.place(limit("part-2", "0.004", "61000")))
    order = run(adapter.order_by_client_id("part-2", BTC))
    assert order is not None and order.status is VenueOrderStatus.OPEN
    assert order.filled_quantity == Decimal("0.001")
    [resting] = run(adapter.open_orders())
    assert resting.filled_quantity == Decimal("0.001")


def test_fills_twice_and_out_of_order_are_deduplicated_and_sorted(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid
) -> None:
    for i in range(5):
        run(adapter.place(market(f"f-{i}", "0.001")))
    clean = run(adapter.fills_since(0))
    fake.faults.add(FaultKind.DUPLICATE_FILLS, on="fills")
    fake.faults.add(FaultKind.FILLS_OUT_OF_ORDER, on="fills")
    assert run(adapter.fills_since(0)) == clean
    assert [f.client_order_id for f in clean] == [f"f-{i}" for i in range(5)]


def test_venue_gone_write_is_unknown_read_unavailable(master: LocalAccount) -> None:
    venue = FakeHyperliquid()
    venue.start()
    venue.add_user(master.address)
    adapter_ = make_adapter(venue, master.address, master.key.hex(), allow_account_key=True)
    run(adapter_.instruments())
    venue.stop()
    with pytest.raises(OutcomeUnknown):
        run(adapter_.place(limit("gone-1", "0.001", "59000")))
    with pytest.raises(VenueUnavailable):
        run(adapter_.open_orders())
    run(adapter_.close())


def test_unreachable_venue_at_start_is_unavailable() -> None:
    adapter_ = HyperliquidAdapter(
        base_url="http://127.0.0.1:9", account_address="0x0", agent_key="0x" + "11" * 32
    )
    with pytest.raises(VenueUnavailable):
        run(adapter_.instruments())
    run(adapter_.close())
