"""Orders: every order's state through the domain state machine, anomalies kept, fold unbroken."""

from __future__ import annotations

from decimal import Decimal as D

from domain.orders import OrderStatus
from domain.values import Side
from projections.orders import OrdersProjection
from tests.projections.builders import Tape

BUY, SELL = Side.BUY, Side.SELL


def test_lifecycle_open_orders_and_counts() -> None:
    t = Tape()
    p = OrdersProjection()
    p.fold(
        [
            t.submitted("a", BUY, "2", limit="100"),
            t.accepted("a"),
            t.filled("a", "f1", BUY, "0.5", "100", fee="0.05"),
            t.submitted("b", SELL, "1"),
            t.rejected("b", "insufficient balance"),
            t.submitted("c", BUY, "1"),
            t.accepted("c"),
            t.filled("c", "f1", BUY, "1", "99"),
            t.submitted("d", BUY, "1"),
            t.canceled("d"),
        ]
    )
    a = p.get("a")
    assert a is not None
    assert a.status is OrderStatus.PARTIALLY_FILLED
    assert a.filled_quantity == D("0.5")
    assert a.venue_order_id == "v-a"
    assert [o.client_order_id for o in p.open_orders()] == ["a"]
    counts = p.counts()
    assert counts["partially_filled"] == 1
    assert counts["rejected"] == 1
    assert counts["filled"] == 1
    assert counts["canceled"] == 1
    assert counts["new"] == 0
    state = p.state()
    assert state["open"] == ["a"]
    assert state["orders"]["a"]["filled_quantity"] == "0.5"
    assert state["orders"]["c"]["average_price"] == "99"
    assert state["anomalies"] == []


def test_duplicate_fill_counted_once() -> None:
    t = Tape()
    p = OrdersProjection()
    fill = t.filled("a", "f1", BUY, "1", "100")
    p.fold([t.submitted("a", BUY, "2"), fill, fill])
    order = p.get("a")
    assert order is not None
    assert order.filled_quantity == D(1)
    assert p.state()["duplicate_fills"] == 1
    assert p.anomalies == []


def test_illegal_events_are_collected_not_raised() -> None:
    t = Tape()
    p = OrdersProjection()
    p.fold(
        [
            t.filled("ghost", "f1", BUY, "1", "100"),  # no OrderSubmitted
            t.submitted("a", BUY, "1"),
            t.filled("a", "f1", BUY, "1", "100"),
            t.canceled("a"),  # already filled
            t.filled("a", "f2", BUY, "1", "100"),  # would overfill
            t.submitted("a", BUY, "1"),  # submitted twice
        ]
    )
    order = p.get("a")
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == D(1)
    anomalies = p.anomalies
    assert [(x["client_order_id"], x["topic"]) for x in anomalies] == [
        ("ghost", "OrderFilled"),
        ("a", "OrderCanceled"),
        ("a", "OrderFilled"),
        ("a", "OrderSubmitted"),
    ]
    assert anomalies[1]["stream"] == "order.a"
    assert anomalies[1]["version"] == 3
    assert anomalies[1]["status"] == "filled"
    assert "not allowed" in anomalies[1]["reason"]
    # the refused ghost fill did not create an order
    assert p.get("ghost") is None


def test_fill_after_cancel_counts_and_unknown_status_is_kept() -> None:
    t = Tape()
    p = OrdersProjection()
    p.fold(
        [
            t.submitted("a", SELL, "2"),
            t.unknown("a"),
            t.accepted("a"),
            t.canceled("a"),
            t.filled("a", "f1", SELL, "1", "100"),
            t.submitted("b", BUY, "1"),
            t.unknown("b"),
            t.expired("b"),
        ]
    )
    a, b = p.get("a"), p.get("b")
    assert a is not None and b is not None
    assert a.status is OrderStatus.CANCELED
    assert a.filled_quantity == D(1)
    assert b.status is OrderStatus.EXPIRED
    assert p.open_orders() == []
    assert p.anomalies == []
