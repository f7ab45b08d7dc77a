"""An order's life on its own stream ``order.<client_order_id>``.

``OrderSubmitted`` is the stream's first event and is durable before the venue is called: a
second attempt to submit the same intent collides on version 1 and can never become a second
order.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from domain.events.base import Event
from domain.values import (
    InstrumentId,
    Money,
    OrderType,
    Price,
    Quantity,
    Side,
    TimeInForce,
    VenueId,
)


def order_stream(client_order_id: str) -> str:
    return f"order.{client_order_id}"


class OrderSubmitted(Event):
    client_order_id: str
    intent_event_id: UUID
    strategy: str
    venue: VenueId
    instrument: InstrumentId
    side: Side
    quantity: Quantity
    order_type: OrderType
    limit_price: Price | None = None
    stop_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False


class OrderAccepted(Event):
    client_order_id: str
    venue_order_id: str


class OrderRejected(Event):
    client_order_id: str
    reason: str


class OrderFilled(Event):
    """One execution. Denormalised (venue, instrument, side) so folds need no join."""

    client_order_id: str
    fill_id: str = Field(min_length=1)
    strategy: str
    venue: VenueId
    instrument: InstrumentId
    side: Side
    quantity: Quantity
    price: Price
    fee: Money = Field(description="in quote currency; negative for a rebate")
    liquidity: str = Field(default="taker", pattern="^(maker|taker)$")
    fill_ts_ns: int = Field(ge=0, description="market time of the execution")
    fee_asset: str | None = Field(default=None, description="the asset the venue charged")
    fee_charged: Money | None = Field(
        default=None, description="the fee as charged, in fee_asset (when the venue said)"
    )


class OrderCanceled(Event):
    client_order_id: str
    reason: str = "requested"


class OrderExpired(Event):
    client_order_id: str
    reason: str = "time in force"


class OrderStatusUnknown(Event):
    """A write whose outcome we could not see (timeout, 5xx, dropped connection)."""

    client_order_id: str
    reason: str
