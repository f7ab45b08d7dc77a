"""The order state machine: legal paths, refused transitions, fills counted once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events import (
    Event,
    EventMeta,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    derive_id,
    order_stream,
)
from domain.orders import TERMINAL, Order, OrderStateError, OrderStatus, fold_order
from domain.values import OrderType, Side

COID = "c1"
QTY = Decimal("1.0")


def env(version: int) -> dict:
    return EventMeta(ts_ns=version, source="t").envelope(order_stream(COID), version)


def submitted(v: int = 1) -> OrderSubmitted:
    return OrderSubmitted(
        **env(v),
        client_order_id=COID,
        intent_event_id=derive_id("i"),
        strategy="s",
        venue="paper",
        instrument="BTC-USDT",
        side=Side.BUY,
        quantity=QTY,
        order_type=OrderType.MARKET,
    )


def filled(v: int, fill_id: str, qty: str, price: str = "100") -> OrderFilled:
    return OrderFilled(
        **env(v),
        client_order_id=COID,
        fill_id=fill_id,
        strategy="s",
        venue="paper",
        instrument="BTC-USDT",
        side=Side.BUY,
        quantity=Decimal(qty),
        price=Decimal(price),
        fee=Decimal("0.01"),
        fill_ts_ns=v,
    )


def test_happy_path_with_partial_fills() -> None:
    order = fold_order(
        [
            submitted(),
            OrderAccepted(**env(2), client_order_id=COID, venue_order_id="v1"),
            filled(3, "f1", "0.4", "100"),
            filled(4, "f2", "0.6", "110"),
        ],
        COID,
    )
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == QTY
    assert order.average_price == Decimal("106")
    assert order.fees == Decimal("0.02")


def test_same_fill_twice_counts_once() -> None:
    order = fold_order([submitted(), filled(2, "f1", "0.4"), filled(3, "f1", "0.4")], COID)
    assert order.filled_quantity == Decimal("0.4")
    assert order.status is OrderStatus.PARTIALLY_FILLED


@pytest.mark.parametrize(
    "events",
    [
        [OrderAccepted(**env(1), client_order_id=COID, venue_order_id="v")],  # not submitted
        [submitted(1), submitted(2)],
        [
            submitted(1),
            OrderCanceled(**env(2), client_order_id=COID),
            OrderAccepted(**env(3), client_order_id=COID, venue_order_id="v"),
        ],
        [submitted(1), filled(2, "f1", "1.0"), OrderCanceled(**env(3), client_order_id=COID)],
        [submitted(1), filled(2, "f1", "0.7"), filled(3, "f2", "0.7")],  # overfill
    ],
)
def test_illegal_transitions_are_refused(events: list[Event]) -> None:
    with pytest.raises(OrderStateError):
        fold_order(events, COID)


def test_late_fill_after_cancel_counts_and_can_complete() -> None:
    base = [submitted(1), filled(2, "f1", "0.5"), OrderCanceled(**env(3), client_order_id=COID)]
    late = fold_order([*base, filled(4, "f2", "0.2")], COID)
    assert late.status is OrderStatus.CANCELED and late.filled_quantity == Decimal("0.7")
    done = fold_order([*base, filled(4, "f2", "0.5")], COID)
    assert done.status is OrderStatus.FILLED


def _event(kind: str, v: int, fill_id: str, qty: str) -> Event:
    match kind:
        case "submit":
            return submitted(v)
        case "accept":
            return OrderAccepted(**env(v), client_order_id=COID, venue_order_id="v")
        case "reject":
            return OrderRejected(**env(v), client_order_id=COID, reason="no")
        case "fill":
            return filled(v, fill_id, qty)
        case "cancel":
            return OrderCanceled(**env(v), client_order_id=COID)
        case "expire":
            return OrderExpired(**env(v), client_order_id=COID)
    return OrderStatusUnknown(**env(v), client_order_id=COID, reason="timeout")


steps = st.lists(
    st.tuples(
        st.sampled_from(["submit", "accept", "reject", "fill", "cancel", "expire", "unknown"]),
        st.sampled_from(["f1", "f2", "f3", "f4"]),
        st.sampled_from(["0.1", "0.25", "0.5", "1.0"]),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(steps)
def test_no_sequence_breaks_the_state_machine(seq: list[tuple[str, str, str]]) -> None:
    """Any sequence: each event is either applied or refused; invariants always hold."""
    order = Order(client_order_id=COID)
    for v, (kind, fill_id, qty) in enumerate(seq, start=1):
        event = _event(kind, v, fill_id, qty)
        before = order
        try:
            order = order.apply(event)
        except OrderStateError:
            assert order is before  # a refused event changes nothing
            continue
        assert Decimal(0) <= order.filled_quantity <= order.quantity or order.quantity == 0
        assert len(order.fill_ids) <= 4
        if before.status in TERMINAL and kind != "fill":
            pytest.fail(f"{kind} applied to terminal {before.status}")
        if order.status is OrderStatus.FILLED:
            assert order.filled_quantity == order.quantity
        if before.status is OrderStatus.NEW:
            assert kind in ("submit", "reject")
