"""Pre-trade decisions: an intent approved (sized, with its client order id) or rejected."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from domain.events.base import Event
from domain.risk.config import RiskConfig, TradingState
from domain.values import (
    InstrumentId,
    OrderType,
    Price,
    Quantity,
    Side,
    TimeInForce,
    VenueId,
)


def decision_stream(risk_name: str) -> str:
    return f"risk.{risk_name}"


class OrderIntentApproved(Event):
    """Authorises exactly one order. Its client order id is derived from this event's id."""

    signal_event_id: UUID | None
    strategy: str
    client_order_id: str
    instrument: InstrumentId
    side: Side
    quantity: Quantity
    order_type: OrderType = OrderType.MARKET
    limit_price: Price | None = None
    stop_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    venue: VenueId | None = None
    reference_price: Price | None = None
    stop_loss: Price | None = None
    take_profit: Price | None = None
    bracket: str | None = Field(
        default=None,
        pattern="^(native|emulated)$",
        description="how the stop-loss/take-profit are held, decided once at approval",
    )


class OrderIntentRejected(Event):
    """A signal that did not become an order, with the rule, its limit and the observed value."""

    signal_event_id: UUID | None
    strategy: str
    instrument: InstrumentId
    rule: str
    limit: str | None = None
    observed: str | None = None
    reason: str = Field(min_length=1)


class RiskLimitBreached(Event):
    rule: str
    limit: str
    observed: str
    action: str


class TradingStateChanged(Event):
    """ACTIVE / REDUCING / HALTED changed, by hand (halt, resume) or by a breached limit.

    ``cancel_client_order_ids`` lists the open orders to cancel (a halt that cancels all).
    """

    state: TradingState
    previous: TradingState
    reason: str = Field(min_length=1)
    cancel_client_order_ids: list[str] = Field(default_factory=list)


class RiskConfigApplied(Event):
    """A new risk configuration took effect; replaying the tape rebuilds it."""

    config: RiskConfig
    digest: str = ""
