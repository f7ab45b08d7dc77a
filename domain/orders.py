"""The order state machine: one explicit table of legal transitions, folded from order events.

States: new -> submitted -> accepted -> partially_filled -> filled, or canceled / rejected /
expired. A fill whose id was already seen is counted once; a fill that would exceed the order's
quantity is refused. Fills that arrive after a cancel or expiry (a real venue race) still count:
the money moved, so the order records it, and becomes filled if that completes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

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
from domain.values import OrderType, Side, TimeInForce


class OrderStatus(StrEnum):
    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)

S = OrderStatus
TRANSITIONS: dict[type[Event], frozenset[OrderStatus]] = {
    OrderSubmitted: frozenset({S.NEW}),
    OrderAccepted: frozenset({S.SUBMITTED}),
    OrderRejected: frozenset({S.NEW, S.SUBMITTED}),
    OrderFilled: frozenset({S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.CANCELED, S.EXPIRED}),
    OrderCanceled: frozenset({S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED}),
    OrderExpired: frozenset({S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED}),
    OrderStatusUnknown: frozenset({S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED}),
}
"""For each event type, the states it may be applied in."""


class OrderStateError(ValueError):
    """An event that the order's current state does not allow."""


@dataclass(frozen=True, slots=True)
class Order:
    client_order_id: str
    status: OrderStatus = OrderStatus.NEW
    venue: str = ""
    instrument: str = ""
    strategy: str = ""
    side: Side = Side.BUY
    order_type: OrderType = OrderType.MARKET
    quantity: Decimal = Decimal(0)
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    reduce_only: bool = False
    post_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    venue_order_id: str | None = None
    filled_quantity: Decimal = Decimal(0)
    notional_filled: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    fill_ids: frozenset[str] = field(default_factory=frozenset)
    status_unknown: bool = False
    reason: str | None = None
    version: int = 0

    @property
    def leaves_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def average_price(self) -> Decimal | None:
        if not self.filled_quantity:
            return None
        return self.notional_filled / self.filled_quantity

    def can_apply(self, event: Event) -> bool:
        allowed = TRANSITIONS.get(type(event))
        return allowed is not None and self.status in allowed

    def is_duplicate(self, event: Event) -> bool:
        return isinstance(event, OrderFilled) and event.fill_id in self.fill_ids

    def apply(self, event: Event) -> Order:
        """The order after ``event``. A repeated fill is a no-op; anything illegal raises."""
        if self.is_duplicate(event):
            return replace(self, version=max(self.version, event.version))
        allowed = TRANSITIONS.get(type(event))
        if allowed is None:
            raise OrderStateError(f"{type(event).__name__} is not an order event")
        if self.status not in allowed:
            raise OrderStateError(
                f"order {self.client_order_id}: {type(event).__name__} not allowed "
                f"in state {self.status.value}"
            )
        version = max(self.version, event.version)
        match event:
            case OrderSubmitted():
                return replace(
                    self,
                    status=S.SUBMITTED,
                    venue=event.venue,
                    instrument=event.instrument,
                    strategy=event.strategy,
                    side=event.side,
                    order_type=event.order_type,
                    quantity=event.quantity,
                    limit_price=event.limit_price,
                    stop_price=event.stop_price,
                    reduce_only=event.reduce_only,
                    post_only=event.post_only,
                    time_in_force=event.time_in_force,
                    version=version,
                )
            case OrderAccepted():
                return replace(
                    self,
                    status=S.ACCEPTED,
                    venue_order_id=event.venue_order_id,
                    status_unknown=False,
                    version=version,
                )
            case OrderRejected():
                return replace(self, status=S.REJECTED, reason=event.reason, version=version)
            case OrderFilled():
                return self._fill(event, version)
            case OrderCanceled():
                return replace(self, status=S.CANCELED, reason=event.reason, version=version)
            case OrderExpired():
                return replace(self, status=S.EXPIRED, reason=event.reason, version=version)
            case OrderStatusUnknown():
                return replace(self, status_unknown=True, reason=event.reason, version=version)
        raise OrderStateError(f"unhandled event {type(event).__name__}")  # pragma: no cover

    def _fill(self, event: OrderFilled, version: int) -> Order:
        if event.side is not self.side or event.instrument != self.instrument:
            raise OrderStateError(
                f"order {self.client_order_id}: fill {event.fill_id} does not match the order"
            )
        filled = self.filled_quantity + event.quantity
        if filled > self.quantity:
            raise OrderStateError(
                f"order {self.client_order_id}: fill {event.fill_id} of {event.quantity} "
                f"overfills ({filled} > {self.quantity})"
            )
        if filled == self.quantity:
            status = S.FILLED
        elif self.status in (S.CANCELED, S.EXPIRED):
            status = self.status
        else:
            status = S.PARTIALLY_FILLED
        return replace(
            self,
            status=status,
            filled_quantity=filled,
            notional_filled=self.notional_filled + event.quantity * event.price,
            fees=self.fees + event.fee,
            fill_ids=self.fill_ids | {event.fill_id},
            status_unknown=False,
            version=version,
        )


def fold_order(events: list[Event] | tuple[Event, ...], client_order_id: str) -> Order:
    order = Order(client_order_id=client_order_id)
    for event in events:
        order = order.apply(event)
    return order
