"""Reconciliation as a pure function: each kind of difference becomes the right events, a fill
listed twice or out of order counts once, and reconciling the result again changes nothing."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.events import (
    Event,
    EventMeta,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    order_stream,
)
from domain.events.venue import OrderDiscovered, PositionDiscrepancy, ReconciliationCompleted
from domain.execution.outcome import Resolution, after_lookup
from domain.execution.reconcile import reconcile
from domain.execution.reports import (
    FillReport,
    OrderReport,
    PositionReport,
    ReportedStatus,
    VenueSnapshot,
)
from domain.orders import Order
from domain.values import OrderType, Side

BTC = "BTC-USDT"
META = EventMeta(ts_ns=10**18, source="gateway.v")


def submitted(coid: str, qty: str = "1", accepted_as: str | None = None) -> Order:
    env = EventMeta(ts_ns=1, source="t").envelope(order_stream(coid), 1)
    event: Event = OrderSubmitted(
        **env,
        client_order_id=coid,
        intent_event_id=uuid4(),
        strategy="s",
        venue="v",
        instrument=BTC,
        side=Side.BUY,
        quantity=Decimal(qty),
        order_type=OrderType.LIMIT,
        limit_price=Decimal(100),
    )
    order = Order(client_order_id=coid).apply(event)
    if accepted_as:
        env = EventMeta(ts_ns=2, source="t").envelope(order_stream(coid), 2)
        order = order.apply(OrderAccepted(**env, client_order_id=coid, venue_order_id=accepted_as))
    return order


def report(coid: str, vid: str, status: str = "open", filled: str = "0", qty: str = "1"):  # type: ignore[no-untyped-def]
    return OrderReport(
        client_order_id=coid,
        venue_order_id=vid,
        instrument=BTC,
        side=Side.BUY,
        quantity=Decimal(qty),
        filled_quantity=Decimal(filled),
        average_price=Decimal(100) if Decimal(filled) else None,
        status=ReportedStatus(status),
    )


def fill(fid: str, vid: str, qty: str = "0.5", coid: str | None = None) -> FillReport:
    return FillReport(
        fill_id=fid,
        client_order_id=coid,
        venue_order_id=vid,
        instrument=BTC,
        side=Side.BUY,
        quantity=Decimal(qty),
        price=Decimal(100),
        ts_ns=int(fid.split("-")[-1]) if fid[-1].isdigit() else 5,
    )


def run(orders: dict[str, Order], snapshot: VenueSnapshot, window: int = 10**12):  # type: ignore[no-untyped-def]
    return reconcile(
        orders,
        snapshot,
        venue="v",
        meta=META,
        venue_version=0,
        submitted_ns={c: META.ts_ns - 5 for c in orders},
        resend_window_ns=window,
        trigger="test",
    )


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events if not isinstance(e, ReconciliationCompleted)]


def fold(orders: dict[str, Order], events: list[Event]) -> dict[str, Order]:
    out = dict(orders)
    for e in events:
        coid = getattr(e, "client_order_id", None)
        if coid is None or isinstance(e, OrderDiscovered):
            continue
        out[coid] = out.get(coid, Order(client_order_id=coid)).apply(e)
    return out


def test_unknown_outcome_order_found_open_is_accepted() -> None:
    orders = {"a": submitted("a")}
    out = run(orders, VenueSnapshot(open_orders=[report("a", "9")]))
    assert kinds(out.events) == ["OrderAccepted"]
    assert out.events[0].venue_order_id == "9"  # type: ignore[attr-defined]


def test_missed_fills_and_a_venue_cancel() -> None:
    orders = {"a": submitted("a", accepted_as="9")}
    snap = VenueSnapshot(
        lookups={"a": report("a", "9", "canceled", filled="0.5")},
        fills=[fill("f-1", "9")],
    )
    out = run(orders, snap)
    assert kinds(out.events) == ["OrderFilled", "OrderCanceled"]


def test_filled_quantity_without_its_fills_is_recorded_once() -> None:
    orders = {"a": submitted("a", accepted_as="9")}
    snap = VenueSnapshot(lookups={"a": report("a", "9", "filled", filled="1")})
    out = run(orders, snap)
    assert kinds(out.events) == ["OrderFilled"]
    again = run(fold(orders, out.events), snap)
    assert kinds(again.events) == []


def test_order_the_venue_never_received_is_resent_while_fresh_else_rejected() -> None:
    orders = {"a": submitted("a")}
    snap = VenueSnapshot(lookups={"a": None})
    assert run(orders, snap).resend == ["a"]
    stale = run(orders, snap, window=1)
    assert stale.resend == [] and kinds(stale.events) == ["OrderRejected"]


def test_accepted_order_unknown_at_the_venue_is_canceled() -> None:
    out = run({"a": submitted("a", accepted_as="9")}, VenueSnapshot(lookups={"a": None}))
    assert kinds(out.events) == ["OrderCanceled"]


def test_orders_we_did_not_place_are_discovered() -> None:
    snap = VenueSnapshot(
        open_orders=[report("web_1", "77", filled="0.5")],
        fills=[fill("f-1", "77"), fill("f-2", "88", qty="2")],
    )
    out = run({}, snap)
    names = kinds(out.events)
    assert names.count("OrderDiscovered") == 2
    state = fold({}, out.events)
    assert state["web_1"].status.value == "partially_filled"
    assert state["v-88"].status.value == "filled" and state["v-88"].quantity == 2
    assert kinds(run(state, snap).events) == []  # known by venue id from now on


def test_position_discrepancy_recorded_once_per_change() -> None:
    snap = VenueSnapshot(positions=[PositionReport(instrument=BTC, quantity=Decimal(2))])
    out = run({}, snap)
    [d] = [e for e in out.events if isinstance(e, PositionDiscrepancy)]
    assert d.venue_quantity == 2 and d.tape_quantity == 0
    again = reconcile(
        {},
        snap,
        venue="v",
        meta=META,
        venue_version=2,
        submitted_ns={},
        resend_window_ns=1,
        trigger="t",
        known_discrepancies={BTC: (Decimal(0), Decimal(2))},
    )
    assert kinds(again.events) == []


@given(st.permutations(["f-1", "f-2", "f-3", "f-2", "f-1"]), st.booleans())
def test_fills_twice_or_out_of_order_fold_once(order_of_ids: list[str], accepted: bool) -> None:
    orders = {"a": submitted("a", qty="1.5", accepted_as="9" if accepted else None)}
    snap = VenueSnapshot(
        open_orders=[report("a", "9", filled="1.5", qty="1.5")],
        fills=[fill(fid, "9") for fid in order_of_ids],
    )
    out = run(orders, snap)
    state = fold(orders, out.events)
    assert state["a"].filled_quantity == Decimal("1.5") and state["a"].status.value == "filled"
    assert sum(isinstance(e, OrderFilled) for e in out.events) == 3
    assert not any(isinstance(e, OrderRejected | OrderCanceled) for e in out.events)
    assert kinds(run(state, snap).events) == []


def test_after_lookup_decisions() -> None:
    found = report("a", "9")
    assert after_lookup(found, submitted_ns=0, now_ns=5, resend_window_ns=1).resolution is (
        Resolution.PLACED
    )
    assert after_lookup(None, submitted_ns=0, now_ns=5, resend_window_ns=10).resolution is (
        Resolution.RESEND
    )
    assert after_lookup(None, submitted_ns=0, now_ns=50, resend_window_ns=10).resolution is (
        Resolution.ABANDON
    )
    rejected = report("a", "9", "rejected")
    assert after_lookup(rejected, submitted_ns=0, now_ns=5, resend_window_ns=1).resolution is (
        Resolution.REFUSED
    )
