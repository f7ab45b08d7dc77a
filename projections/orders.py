"""Every order's current state, folded through the domain order state machine.

The fold never stops on a bad event: a transition the state machine refuses is kept in
``anomalies`` (which event, and why) and the order stays as it was. A repeated fill is a no-op
in the state machine itself, so it is counted once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from domain.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
)
from domain.orders import Order, OrderStateError, OrderStatus
from projections.base import FoldProjection, Handler, dec, dec_or_none

ORDER_EVENTS: tuple[type[Event], ...] = (
    OrderSubmitted,
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderCanceled,
    OrderExpired,
    OrderStatusUnknown,
)


class OrdersProjection(FoldProjection):
    """``orders`` by client order id, the open ones, counts by status, and refused events."""

    name: ClassVar[str] = "orders"
    topics: ClassVar[frozenset[str]] = frozenset(cls.__name__ for cls in ORDER_EVENTS)

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.anomalies: list[dict[str, Any]] = []
        self.duplicate_fills = 0
        super().__init__()

    def handlers(self) -> dict[type[Event], Handler]:
        return dict.fromkeys(ORDER_EVENTS, self.on_order_event)

    def on_order_event(self, event: Any) -> None:
        cid: str = event.client_order_id
        order = self.orders.get(cid)
        if order is None:
            order = Order(client_order_id=cid)
        if order.is_duplicate(event):
            self.duplicate_fills += 1
        try:
            self.orders[cid] = order.apply(event)
        except OrderStateError as exc:
            self.anomalies.append(
                {
                    "client_order_id": cid,
                    "stream": event.stream,
                    "version": event.version,
                    "event_id": str(event.event_id),
                    "topic": type(event).__name__,
                    "status": order.status.value,
                    "reason": str(exc),
                }
            )

    # reading ------------------------------------------------------------------------------------

    def get(self, client_order_id: str) -> Order | None:
        return self.orders.get(client_order_id)

    def open_orders(self) -> list[Order]:
        return [o for _, o in sorted(self.orders.items()) if o.status.is_open]

    def counts(self) -> dict[str, int]:
        counts = Counter(o.status.value for o in self.orders.values())
        return {status.value: counts.get(status.value, 0) for status in OrderStatus}

    def state(self) -> dict[str, Any]:
        return {
            "orders": {cid: order_state(o) for cid, o in sorted(self.orders.items())},
            "open": [o.client_order_id for o in self.open_orders()],
            "counts": self.counts(),
            "anomalies": list(self.anomalies),
            "duplicate_fills": self.duplicate_fills,
        }


def order_state(order: Order) -> dict[str, Any]:
    return {
        "status": order.status.value,
        "venue": order.venue,
        "instrument": order.instrument,
        "strategy": order.strategy,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "quantity": dec(order.quantity),
        "limit_price": dec_or_none(order.limit_price),
        "stop_price": dec_or_none(order.stop_price),
        "reduce_only": order.reduce_only,
        "venue_order_id": order.venue_order_id,
        "filled_quantity": dec(order.filled_quantity),
        "average_price": dec_or_none(order.average_price),
        "fees": dec(order.fees),
        "fill_ids": sorted(order.fill_ids),
        "status_unknown": order.status_unknown,
        "reason": order.reason,
        "version": order.version,
    }
