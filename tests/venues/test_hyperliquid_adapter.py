"""The Hyperliquid adapter through the real SDK against the local fake venue: every operation,
and the signature rules (agent wallets, unknown signers, nonces)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hyperliquid.api import API
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action

from venues.base import OrderRefused, OrderRequest, VenueAdapter, VenueOrderStatus
from venues.fakes.hyperliquid import FakeHyperliquid
from venues.hyperliquid.adapter import HyperliquidAdapter
from venues.hyperliquid.errors import UnsafeCredentials
from venues.hyperliquid.symbols import cloid_for

T = TypeVar("T")
BTC = "BTC-USD-PERP"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def limit(cid: str, qty: str, px: str, side: str = "buy", **kw: Any) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        instrument=kw.pop("instrument", BTC),
        side=side,
        quantity=Decimal(qty),
        order_type="limit",
        limit_price=Decimal(px),
        **kw,
    )


def market(cid: str, qty: str, side: str = "buy", **kw: Any) -> OrderRequest:
    return OrderRequest(client_order_id=cid, instrument=BTC, side=side, quantity=Decimal(qty), **kw)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid() as venue:
        yield venue


@pytest.fixture(autouse=True)
def _calm(fake: FakeHyperliquid) -> Iterator[None]:
    fake.faults.clear()
    fake.set_mid("BTC", "60000")
    yield
    fake.faults.clear()


@pytest.fixture
def master(fake: FakeHyperliquid) -> LocalAccount:
    account = Account.create()
    fake.add_user(account.address, "100000")
    return account


@pytest.fixture
def agent_key(fake: FakeHyperliquid, master: LocalAccount) -> str:
    answer, key = Exchange(master, fake.base_url, timeout=5).approve_agent("tapeline")
    assert answer["status"] == "ok"
    return key


def make_adapter(fake: FakeHyperliquid, account: str, key: str, **kw: Any) -> HyperliquidAdapter:
    return HyperliquidAdapter(
        base_url=fake.base_url, account_address=account, agent_key=key, timeout_s=5.0, **kw
    )


@pytest.fixture
def adapter(
    fake: FakeHyperliquid, master: LocalAccount, agent_key: str
) -> Iterator[HyperliquidAdapter]:
    venue = make_adapter(fake, master.address, agent_key)
    run(venue.instruments())  # connect before any fault is armed
    yield venue
    run(venue.close())


def test_speaks_the_venue_protocol(adapter: HyperliquidAdapter) -> None:
    assert isinstance(adapter, VenueAdapter)


def test_instruments_come_from_meta(adapter: HyperliquidAdapter) -> None:
    specs = {s.instrument: s for s in run(adapter.instruments())}
    assert specs[BTC].venue_symbol == "BTC"
    assert specs[BTC].lot_size == Decimal("0.00001")
    assert specs["SOL-USD-PERP"].lot_size == Decimal("0.01")
    assert specs[BTC].min_notional == Decimal(10)


def test_limit_order_rests_with_its_cloid_and_is_found(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    placed = run(adapter.place(limit("sig-1/intent-1", "0.001", "59000.123")))
    assert placed.status is VenueOrderStatus.OPEN
    [on_venue] = fake.orders(master.address)
    assert on_venue["cloid"] == cloid_for("sig-1/intent-1")
    assert on_venue["limitPx"] == "59000.0"  # five significant figures, rounded down for a buy
    found = run(adapter.order_by_client_id("sig-1/intent-1", BTC))
    assert found is not None and found.venue_order_id == placed.venue_order_id
    assert found.quantity == Decimal("0.001") and found.status is VenueOrderStatus.OPEN
    [listed] = run(adapter.open_orders(BTC))
    assert listed.client_order_id == "sig-1/intent-1"
    assert run(adapter.open_orders("ETH-USD-PERP")) == []


def test_market_order_fills_and_moves_position_and_balance(adapter: HyperliquidAdapter) -> None:
    before = run(adapter.balances())["USDC"]
    filled = run(adapter.place(market("m-1", "0.002")))
    assert filled.status is VenueOrderStatus.FILLED
    assert filled.filled_quantity == Decimal("0.002")
    assert filled.average_price == Decimal(60000)
    [fill] = run(adapter.fills_since(0))
    assert (fill.client_order_id, fill.quantity, fill.price) == ("m-1", Decimal("0.002"), 60000)
    assert fill.liquidity == "taker" and fill.fee > 0 and fill.fee_currency == "USDC"
    [position] = run(adapter.positions())
    assert position.instrument == BTC and position.quantity == Decimal("0.002")
    assert run(adapter.balances())["USDC"] == before - fill.fee
    assert run(adapter.fills_since(fill.ts_ns + 1)) == []


def test_resting_order_filled_later_is_a_maker_fill(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid
) -> None:
    run(adapter.place(limit("r-1", "0.001", "58000")))
    fake.fill_resting(cloid=cloid_for("r-1"))
    order = run(adapter.order_by_client_id("r-1", BTC))
    assert order is not None and order.status is VenueOrderStatus.FILLED
    assert order.filled_quantity == Decimal("0.001")
    [fill] = run(adapter.fills_since(0, BTC))
    assert fill.liquidity == "maker" and fill.price == Decimal(58000)


def test_cancel_by_client_id(adapter: HyperliquidAdapter) -> None:
    run(adapter.place(limit("c-1", "0.001", "59000")))
    canceled = run(adapter.cancel("c-1", BTC))
    assert canceled is not None and canceled.status is VenueOrderStatus.CANCELED
    again = run(adapter.cancel("c-1", BTC))  # already gone: its state, not an error
    assert again is not None and again.status is VenueOrderStatus.CANCELED
    assert run(adapter.open_orders()) == []
    assert run(adapter.cancel("never-sent", BTC)) is None
    assert run(adapter.order_by_client_id("never-sent", BTC)) is None


def test_stop_order_rests_as_a_trigger(adapter: HyperliquidAdapter, fake: FakeHyperliquid) -> None:
    request = OrderRequest(
        client_order_id="s-1",
        instrument=BTC,
        side="sell",
        quantity=Decimal("0.001"),
        order_type="stop_market",
        stop_price=Decimal("55000"),
    )
    assert run(adapter.place(request)).status is VenueOrderStatus.OPEN
    [order] = run(adapter.open_orders())
    assert order.client_order_id == "s-1"


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (limit("x-1", "0.0001", "59000"), "minimum value"),
        (limit("x-2", "0.001", "61000", post_only=True), "Post only"),
        (limit("x-3", "0.001", "59000", time_in_force="fok"), "fill-or-kill"),
        (limit("x-4", "1", "59000", instrument="DOGE-USD-PERP"), "not a Hyperliquid"),
        (limit("x-5", "0.000001", "59000"), "lot size"),
        (limit("x-6", "100", "59000"), "Insufficient margin"),
        (market("x-7", "0.001", reduce_only=True), "Reduce only"),
    ],
)
def test_definite_refusals(
    adapter: HyperliquidAdapter, request_: OrderRequest, reason: str
) -> None:
    with pytest.raises(OrderRefused, match=reason):
        run(adapter.place(request_))


def test_concurrent_orders_get_distinct_nonces(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    async def burst() -> list[Any]:
        return await asyncio.gather(
            *(adapter.place(limit(f"b-{i}", "0.001", "59000")) for i in range(12))
        )

    orders = run(burst())
    assert len({o.venue_order_id for o in orders}) == 12
    assert len(fake.orders(master.address)) == 12


def test_agent_trades_for_the_master_that_approved_it(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    check = run(adapter.verify_permissions())
    assert check.via_agent and check.account_address == master.address.lower()
    run(adapter.place(market("a-1", "0.001")))
    assert len(fake.orders(master.address)) == 1
    assert fake.orders(adapter.signer_address) == []


def test_unknown_signer_is_refused(fake: FakeHyperliquid, master: LocalAccount) -> None:
    stranger = Account.create()
    venue = make_adapter(fake, master.address, stranger.key.hex())
    with pytest.raises(OrderRefused, match="does not exist"):
        run(venue.place(market("u-1", "0.001")))
    with pytest.raises(UnsafeCredentials):
        run(venue.verify_permissions())
    assert fake.orders(master.address) == []
    run(venue.close())


def test_agent_approved_by_a_stranger_is_refused(fake: FakeHyperliquid) -> None:
    stranger = Account.create()
    answer, _ = Exchange(stranger, fake.base_url, timeout=5).approve_agent("x")
    assert answer["status"] == "err" and "does not exist" in answer["response"]


def test_replaced_agent_can_no_longer_trade(
    fake: FakeHyperliquid, master: LocalAccount, agent_key: str
) -> None:
    Exchange(master, fake.base_url, timeout=5).approve_agent("tapeline")  # same name: replaces
    venue = make_adapter(fake, master.address, agent_key)
    with pytest.raises(OrderRefused, match="does not exist"):
        run(venue.place(market("old-1", "0.001")))
    run(venue.close())


def test_account_key_is_refused_unless_overridden(
    fake: FakeHyperliquid, master: LocalAccount
) -> None:
    own = make_adapter(fake, master.address, master.key.hex())
    with pytest.raises(UnsafeCredentials, match="agent"):
        run(own.verify_permissions())
    run(own.close())
    allowed = make_adapter(fake, master.address, master.key.hex(), allow_account_key=True)
    assert run(allowed.verify_permissions()).via_agent is False
    assert run(allowed.place(market("own-1", "0.001"))).status is VenueOrderStatus.FILLED
    run(allowed.close())


def _signed(wallet: LocalAccount, nonce: int) -> dict[str, Any]:
    action = {"type": "cancel", "cancels": [{"a": 0, "o": 1}]}
    signature = sign_l1_action(wallet, action, None, nonce, None, False)
    return {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}


def test_reused_and_stale_nonces_are_refused(fake: FakeHyperliquid, master: LocalAccount) -> None:
    api = API(fake.base_url, timeout=5)
    nonce = get_timestamp_ms()
    assert api.post("/exchange", _signed(master, nonce))["status"] == "ok"
    reused = api.post("/exchange", _signed(master, nonce))
    assert reused["status"] == "err" and "duplicate nonce" in reused["response"]
    stale = api.post("/exchange", _signed(master, nonce - 3 * 86_400_000))
    assert stale["status"] == "err" and "Invalid nonce" in stale["response"]


def test_tampered_action_does_not_act_for_the_signer(
    fake: FakeHyperliquid, master: LocalAccount
) -> None:
    payload = _signed(master, get_timestamp_ms())
    payload["action"]["cancels"][0]["o"] = 2  # the signature no longer matches: another signer
    answer = API(fake.base_url, timeout=5).post("/exchange", payload)
    assert answer["status"] == "err" and "does not exist" in answer["response"]


def test_private_key_never_shows(adapter: HyperliquidAdapter, agent_key: str) -> None:
    bare = agent_key.removeprefix("0x")
    assert bare not in repr(adapter) and bare not in str(adapter.__dict__)
    with pytest.raises(ValueError) as bad:
        HyperliquidAdapter(base_url="http://127.0.0.1:1", account_address="0x0", agent_key="0xzz")
    assert "zz" not in str(bad.value)


def test_amend_changes_price_and_size_and_keeps_the_cloid(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    run(adapter.place(limit("am-1", "0.002", "59000")))
    amended = run(adapter.amend("am-1", BTC, quantity=Decimal("0.001"), limit_price=Decimal(58500)))
    assert amended.status is VenueOrderStatus.OPEN
    [resting] = [o for o in fake.orders(master.address) if o["status"] == "open"]
    assert (resting["limitPx"], resting["sz"], resting["cloid"]) == (
        "58500.0",
        "0.001",
        cloid_for("am-1"),
    )
    found = run(adapter.order_by_client_id("am-1", BTC))
    assert found is not None and found.venue_order_id == amended.venue_order_id
    run(adapter.cancel("am-1", BTC))
    with pytest.raises(OrderRefused, match="no resting"):
        run(adapter.amend("am-1", BTC, limit_price=Decimal(58000)))


def test_fake_answers_the_sdk_info_calls(
    adapter: HyperliquidAdapter, fake: FakeHyperliquid, master: LocalAccount
) -> None:
    resting = run(adapter.place(limit("i-1", "0.001", "59000")))
    run(adapter.place(market("i-2", "0.001")))
    info = Info(fake.base_url, skip_ws=True, timeout=5)
    by_oid = info.query_order_by_oid(master.address, int(resting.venue_order_id))
    assert by_oid["status"] == "order" and by_oid["order"]["order"]["cloid"] == cloid_for("i-1")
    assert info.query_order_by_oid(master.address, 999_999) == {"status": "unknownOid"}
    [open_order] = info.open_orders(master.address)
    assert open_order["oid"] == int(resting.venue_order_id) and open_order["side"] == "B"
    [fill] = info.user_fills(master.address)
    assert fill["cloid"] == cloid_for("i-2") and fill["dir"] == "Open Long"
    assert info.all_mids()["BTC"] == "60000.0"
    assert info.user_role(adapter.signer_address)["data"]["user"] == master.address.lower()
    assert info.name_to_asset("ETH") == 1


def test_agent_of_another_account_is_refused(fake: FakeHyperliquid, master: LocalAccount) -> None:
    other = Account.create()
    fake.add_user(other.address)
    _, others_agent = Exchange(other, fake.base_url, timeout=5).approve_agent("bot")
    venue = make_adapter(fake, master.address, others_agent)
    with pytest.raises(UnsafeCredentials, match="not an approved agent"):
        run(venue.verify_permissions())
    run(venue.close())
