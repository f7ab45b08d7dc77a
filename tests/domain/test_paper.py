"""Paper matching engine: hand-computed fills for every order type, and fill invariants."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.bars import Bar
from domain.paper import PaperEngine, PaperOrderStatus
from domain.values import OrderType, Side, TimeInForce
from venues.base import OrderRequest, VenueFill, VenueOrder, VenueOrderStatus

MIN = 60 * 1_000_000_000
BTC = "BTC-USDT"


def engine(**kw: object) -> PaperEngine:
    args: dict[str, object] = {
        "fee_rate_taker": D("0.001"),
        "fee_rate_maker": D("0.0002"),
        "slippage_bps": D(10),
        "max_volume_participation": D("0.5"),
    }
    args.update(kw)
    return PaperEngine(**args)  # type: ignore[arg-type]


def bar(o: str, h: str, lo: str, c: str, v: str = "1000", t: int = 0, inst: str = BTC) -> Bar:
    return Bar("paper", inst, t * MIN, 60, D(o), D(h), D(lo), D(c), D(v))


def req(coid: str, side: str, qty: str, **kw: object) -> OrderRequest:
    for key in ("limit_price", "stop_price"):
        if key in kw:
            kw[key] = D(str(kw[key]))
    return OrderRequest(client_order_id=coid, instrument=BTC, side=side, quantity=D(qty), **kw)  # type: ignore[arg-type]


def submit(e: PaperEngine, *requests: OrderRequest) -> None:
    for r in requests:
        assert e.submit(r).accepted


# market ------------------------------------------------------------------------------------------


def test_market_orders_fill_at_next_open_with_slippage_against_the_taker() -> None:
    e = engine()
    submit(e, req("b", "buy", "1"), req("s", "sell", "2"))
    buy, sell = e.on_bar(bar("100", "101", "99", "100.5", t=1))
    assert (buy.fill_id, buy.price, buy.quantity, buy.fee) == ("b-1", D("100.1"), 1, D("0.1001"))
    assert (sell.fill_id, sell.price, sell.quantity) == ("s-1", D("99.9"), 2)
    assert sell.fee == D("99.9") * 2 * D("0.001")
    assert buy.liquidity == sell.liquidity == "taker"
    assert buy.fee_currency == "USDT"
    assert buy.ts_ns == 1 * MIN
    assert e.open_orders() == []
    assert e.order("b").status is PaperOrderStatus.FILLED  # type: ignore[union-attr]
    assert e.positions() == {BTC: D(-1)}


def test_slippage_is_clamped_to_the_bar_range() -> None:
    e = engine()
    submit(e, req("b", "buy", "1"), req("s", "sell", "1"))
    buy, sell = e.on_bar(bar("100", "100", "100", "100"))
    assert buy.price == sell.price == D(100)


def test_orders_wait_for_the_next_bar_of_their_instrument() -> None:
    e = engine()
    assert e.submit(req("b", "buy", "1"), ts_ns=5 * MIN).accepted
    assert e.on_bar(bar("100", "101", "99", "100", t=4)) == []  # opened before the order
    assert e.on_bar(bar("10", "11", "9", "10", t=5, inst="ETH-USDT")) == []  # other instrument
    (fill,) = e.on_bar(bar("100", "101", "99", "100", t=5))
    assert fill.ts_ns == 5 * MIN


# limit -------------------------------------------------------------------------------------------


def test_resting_limit_buy_fills_at_its_price_as_maker() -> None:
    e = engine()
    submit(e, req("l", "buy", "1", order_type="limit", limit_price="94"))
    assert e.on_bar(bar("100", "101", "95", "96", t=1)) == []
    (fill,) = e.on_bar(bar("96", "97", "93", "95", t=2))
    assert (fill.price, fill.liquidity, fill.fee) == (D(94), "maker", D("0.0188"))


def test_resting_limit_buy_gapped_through_fills_at_the_open() -> None:
    e = engine()
    submit(e, req("l", "buy", "1", order_type="limit", limit_price="94"))
    assert e.on_bar(bar("100", "101", "95", "96", t=1)) == []
    (fill,) = e.on_bar(bar("93", "93.5", "92", "93", t=2))
    assert (fill.price, fill.liquidity) == (D(93), "maker")


def test_resting_limit_sell_fills_when_high_reaches_it() -> None:
    e = engine()
    submit(e, req("l", "sell", "1", order_type="limit", limit_price="105"))
    assert e.on_bar(bar("100", "104.99", "99", "100", t=1)) == []
    (fill,) = e.on_bar(bar("100", "105", "99", "100", t=2))
    assert (fill.price, fill.liquidity) == (D(105), "maker")


def test_limit_marketable_on_arrival_takes_with_slippage_capped_at_the_limit() -> None:
    e = engine()
    submit(
        e,
        req("a", "buy", "1", order_type="limit", limit_price="94"),
        req("b", "buy", "1", order_type="limit", limit_price="94"),
    )
    fills = e.on_bar(bar("93", "95", "92", "94"))
    assert [(f.price, f.liquidity) for f in fills] == [(D("93.093"), "taker")] * 2
    e2 = engine()
    submit(e2, req("c", "buy", "1", order_type="limit", limit_price="94"))
    (fill,) = e2.on_bar(bar("93.95", "95", "92", "94"))
    assert fill.price == D(94)  # 93.95 * 1.001 = 94.04395 is above the limit


def test_post_only_never_takes() -> None:
    e = engine()
    submit(e, req("p", "buy", "1", order_type="limit", limit_price="94", post_only=True))
    assert e.on_bar(bar("93", "95", "92", "94")) == []
    (expired,) = e.take_updates()
    assert (expired.client_order_id, expired.status) == ("p", PaperOrderStatus.EXPIRED)
    assert e.take_updates() == []
    submit(e, req("q", "buy", "1", order_type="limit", limit_price="94", post_only=True))
    assert e.on_bar(bar("95", "96", "94.5", "95", t=1)) == []
    (fill,) = e.on_bar(bar("95", "96", "93", "95", t=2))
    assert (fill.price, fill.liquidity) == (D(94), "maker")


# stops -------------------------------------------------------------------------------------------


def test_stop_market_triggers_when_the_bar_trades_through() -> None:
    e = engine()
    submit(
        e,
        req("up", "buy", "1", order_type="stop_market", stop_price="105"),
        req("dn", "sell", "1", order_type="stop_market", stop_price="95"),
    )
    assert e.on_bar(bar("100", "104", "96", "100", t=1)) == []
    fills = e.on_bar(bar("100", "106", "94", "100", t=2))
    assert [(f.fill_id, f.price, f.liquidity) for f in fills] == [
        ("up-1", D("105.105"), "taker"),
        ("dn-1", D("94.905"), "taker"),
    ]


def test_stop_market_gap_fills_at_the_open_clamped_to_the_bar() -> None:
    e = engine()
    submit(e, req("up", "buy", "1", order_type="stop_market", stop_price="105"))
    (fill,) = e.on_bar(bar("107", "107.05", "106", "107"))
    assert fill.price == D("107.05")  # 107 * 1.001 = 107.107, clamped to the high


def test_stop_limit_fills_on_trigger_or_rests_as_a_limit() -> None:
    e = engine()
    submit(
        e,
        req("ok", "buy", "1", order_type="stop_limit", stop_price="105", limit_price="106"),
        req("rest", "buy", "1", order_type="stop_limit", stop_price="105", limit_price="104"),
    )
    (fill,) = e.on_bar(bar("100", "108", "99", "107", t=1))
    assert (fill.fill_id, fill.price, fill.liquidity) == ("ok-1", D("105.105"), "taker")
    assert [o.client_order_id for o in e.open_orders()] == ["rest"]
    assert e.on_bar(bar("107", "109", "104.5", "108", t=2)) == []
    (fill,) = e.on_bar(bar("106", "107", "103", "104", t=3))
    assert (fill.fill_id, fill.price, fill.liquidity) == ("rest-1", D(104), "maker")


# volume, time in force ---------------------------------------------------------------------------


def test_partial_fills_across_bars_are_capped_by_participation() -> None:
    e = engine()
    submit(e, req("big", "buy", "10"))
    volumes = ["4", "6", "100"]
    fills = [e.on_bar(bar("100", "100", "100", "100", v, t=i))[0] for i, v in enumerate(volumes)]
    assert [(f.fill_id, f.quantity) for f in fills] == [("big-1", 2), ("big-2", 3), ("big-3", 5)]
    order = e.order("big")
    assert order is not None
    assert (order.status, order.filled_quantity, order.average_price) == (
        PaperOrderStatus.FILLED,
        10,
        D(100),
    )


def test_orders_on_one_bar_share_its_volume_in_submission_order() -> None:
    e = engine()
    submit(e, req("a", "buy", "3"), req("b", "sell", "3"))
    (fill,) = e.on_bar(bar("100", "100", "100", "100", "4"))
    assert (fill.fill_id, fill.quantity) == ("a-1", 2)
    assert [(o.client_order_id, o.filled_quantity) for o in e.open_orders()] == [("a", 2), ("b", 0)]


def test_zero_volume_bar_fills_nothing() -> None:
    e = engine()
    submit(e, req("a", "buy", "1"))
    assert e.on_bar(bar("100", "100", "100", "100", "0")) == []
    assert e.open_orders()[0].status is PaperOrderStatus.OPEN


def test_ioc_fills_what_it_can_and_expires_the_rest() -> None:
    e = engine()
    submit(
        e,
        req("i", "buy", "10", time_in_force="ioc"),
        req("j", "buy", "1", order_type="limit", limit_price="90", time_in_force="ioc"),
    )
    (fill,) = e.on_bar(bar("100", "100", "100", "100", "4"))
    assert (fill.fill_id, fill.quantity) == ("i-1", 2)
    assert [(o.client_order_id, o.status, o.filled_quantity) for o in e.take_updates()] == [
        ("i", PaperOrderStatus.EXPIRED, 2),
        ("j", PaperOrderStatus.EXPIRED, 0),
    ]
    assert e.open_orders() == []


def test_fok_is_all_or_nothing() -> None:
    e = engine()
    submit(e, req("f", "buy", "10", time_in_force="fok"))
    assert e.on_bar(bar("100", "100", "100", "100", "4")) == []
    assert e.order("f").status is PaperOrderStatus.EXPIRED  # type: ignore[union-attr]
    submit(e, req("g", "buy", "10", time_in_force="fok"))
    (fill,) = e.on_bar(bar("100", "100", "100", "100", "20", t=1))
    assert fill.quantity == 10


def test_ioc_stop_waits_for_its_trigger() -> None:
    e = engine()
    submit(
        e, req("s", "buy", "10", order_type="stop_market", stop_price="105", time_in_force="ioc")
    )
    assert e.on_bar(bar("100", "101", "99", "100", t=1)) == []
    assert e.open_orders()[0].client_order_id == "s"
    (fill,) = e.on_bar(bar("100", "106", "99", "100", "4", t=2))
    assert fill.quantity == 2
    assert e.order("s").status is PaperOrderStatus.EXPIRED  # type: ignore[union-attr]


def test_reduce_only_is_capped_by_the_position() -> None:
    e = engine()
    submit(e, req("r", "sell", "1", reduce_only=True))
    assert e.on_bar(bar("100", "100", "100", "100", t=0)) == []
    assert e.order("r").status is PaperOrderStatus.EXPIRED  # type: ignore[union-attr]
    submit(e, req("b", "buy", "2"))
    e.on_bar(bar("100", "100", "100", "100", t=1))
    submit(e, req("x", "sell", "5", reduce_only=True))
    (fill,) = e.on_bar(bar("100", "100", "100", "100", t=2))
    assert fill.quantity == 2
    assert e.positions() == {}


def test_fees_follow_the_configured_rates_including_rebates() -> None:
    e = engine(fee_rate_maker=D("-0.0001"), slippage_bps=D(0))
    submit(e, req("l", "sell", "2", order_type="limit", limit_price="105"), req("m", "buy", "1"))
    e.on_bar(bar("100", "101", "99", "100", t=0))
    maker = e.on_bar(bar("100", "106", "99", "100", t=1))[0]
    assert maker.fee == D("-0.0210")
    assert e.order("m").average_price == D(100)  # type: ignore[union-attr]


# lifecycle ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"order_type": "limit"}, "limit order needs a positive limit_price"),
        ({"order_type": "stop_market"}, "stop_market order needs a positive stop_price"),
        ({"order_type": "stop_limit", "stop_price": "1"}, "needs a positive limit_price"),
        ({"order_type": "limit", "limit_price": "0"}, "needs a positive limit_price"),
        ({"post_only": True}, "post_only needs a GTC limit order"),
        (
            {"order_type": "limit", "limit_price": "1", "post_only": True, "time_in_force": "ioc"},
            "post_only needs a GTC limit order",
        ),
    ],
)
def test_invalid_orders_are_rejected(kw: dict[str, object], reason: str) -> None:
    result = engine().submit(req("x", "buy", "1", **kw))
    assert not result.accepted
    assert reason in (result.reason or "")
    assert result.order.status is PaperOrderStatus.REJECTED


def test_duplicate_client_order_id_is_rejected() -> None:
    e = engine()
    submit(e, req("a", "buy", "1"))
    assert e.submit(req("a", "buy", "1")).reason == "duplicate client_order_id"
    e.on_bar(bar("100", "100", "100", "100"))
    assert not e.submit(req("a", "buy", "1")).accepted


def test_cancel() -> None:
    e = engine()
    submit(e, req("a", "buy", "1", order_type="limit", limit_price="90"), req("m", "buy", "1"))
    canceled = e.cancel("a")
    assert canceled is not None and canceled.status is PaperOrderStatus.CANCELED
    (fill,) = e.on_bar(bar("91", "92", "80", "85"))
    assert fill.client_order_id == "m"
    assert e.cancel("m").status is PaperOrderStatus.FILLED  # type: ignore[union-attr]
    assert e.cancel("nope") is None
    assert e.take_updates() == []


def test_restore_resumes_open_orders_without_doubling_fills() -> None:
    e = engine()
    submit(e, req("big", "buy", "10"))
    first = e.on_bar(bar("100", "100", "100", "100", "4", t=0))
    restored = engine()
    restored.restore([(req("big", "buy", "10"), D(2), 1, D(100))], positions={BTC: D(2)})
    assert restored.open_orders() == e.open_orders()
    again = restored.on_bar(bar("100", "100", "100", "100", "100", t=1))
    assert [f.fill_id for f in first + again] == ["big-1", "big-2"]
    assert restored.order("big").filled_quantity == 10  # type: ignore[union-attr]
    assert restored.positions() == {BTC: D(10)}


def test_restore_without_fill_count_uses_bar_time_ids() -> None:
    e = engine()
    e.restore([(req("a", "buy", "3"), D(1)), (req("done", "buy", "1"), D(1))])
    assert [(o.client_order_id, o.average_price) for o in e.open_orders()] == [("a", None)]
    (fill,) = e.on_bar(bar("100", "100", "100", "100", t=7))
    assert (fill.fill_id, fill.quantity) == (f"a-t{7 * MIN}", 2)
    # positions were not handed over: reduce-only is not enforced
    submit(e, req("r", "sell", "1", reduce_only=True))
    assert e.on_bar(bar("100", "100", "100", "100", t=8))[0].quantity == 1


def test_outputs_convert_to_the_venue_types() -> None:
    e = engine()
    submit(e, req("a", "buy", "10"))
    (fill,) = e.on_bar(bar("100", "100", "100", "100", "4"))
    assert VenueFill(**fill.model_dump()).fill_id == "a-1"
    order = VenueOrder(**e.open_orders()[0].model_dump())
    assert (order.status, order.venue_order_id) == (VenueOrderStatus.OPEN, "paper:a")


# properties --------------------------------------------------------------------------------------

prices = st.integers(min_value=1, max_value=400)


@st.composite
def bars_and_orders(draw: st.DrawFn) -> tuple[list[Bar], list[OrderRequest]]:
    bars = []
    for t in range(draw(st.integers(1, 6))):
        pts = sorted(draw(st.lists(prices, min_size=4, max_size=4)))
        lo, hi = pts[0], pts[-1]
        o, c = draw(st.sampled_from([(pts[1], pts[2]), (pts[2], pts[1])]))
        v = draw(st.integers(0, 50))
        bars.append(bar(str(o), str(hi), str(lo), str(c), str(v), t=t))
    orders = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(list(OrderType)))
        kw: dict[str, object] = {
            "order_type": kind,
            "time_in_force": draw(st.sampled_from(list(TimeInForce))),
            "reduce_only": draw(st.booleans()),
        }
        if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            kw["limit_price"] = draw(prices)
        if kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            kw["stop_price"] = draw(prices)
        qty = str(draw(st.integers(1, 40)))
        orders.append(req(f"o{i}", draw(st.sampled_from(list(Side))).value, qty, **kw))
    return bars, orders


@settings(max_examples=150, deadline=None)
@given(case=bars_and_orders(), slip=st.integers(0, 500), part=st.sampled_from(["0.1", "1"]))
def test_fills_stay_within_quantity_and_bar_range(
    case: tuple[list[Bar], list[OrderRequest]], slip: int, part: str
) -> None:
    bars, orders = case
    e = engine(slippage_bps=D(slip), max_volume_participation=D(part))
    for r in orders:
        e.submit(r)
    filled: dict[str, D] = {}
    ids: set[str] = set()
    all_fills = []
    for b in bars:
        total = D(0)
        fills = e.on_bar(b)
        all_fills += fills
        for f in fills:
            assert b.low <= f.price <= b.high
            assert f.quantity > 0
            assert f.fill_id not in ids
            ids.add(f.fill_id)
            total += f.quantity
            filled[f.client_order_id or ""] = filled.get(f.client_order_id or "", D(0)) + f.quantity
        assert total <= D(part) * b.volume
    for r in orders:
        view = e.order(r.client_order_id)
        assert view is not None
        assert filled.get(r.client_order_id, D(0)) == view.filled_quantity <= r.quantity
        if r.time_in_force is TimeInForce.FOK:
            assert view.filled_quantity in (0, r.quantity)
    # the same inputs always give the same fills
    again = engine(slippage_bps=D(slip), max_volume_participation=D(part))
    for r in orders:
        again.submit(r)
    assert [f for b in bars for f in again.on_bar(b)] == all_fills
